//! A job's progress while a command waits for it: a bar (indicatif) when a person watches a
//! terminal, plain lines otherwise (a pipe, a file, a CI log), each printed once when it
//! changes. The bar is drawn on stderr, so stdout holds the same lines whatever the terminal;
//! it has no colours, so `NO_COLOR` has nothing to turn off.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use robodeploy_core::engine::JobReport;
use robodeploy_core::model::RobotStatus;

use super::output::{count, line};

/// How a job's progress is shown.
pub(crate) enum JobProgress {
    /// A bar on the terminal: robots done out of the fleet.
    Bar(ProgressBar),
    /// One line per change.
    Lines(Option<String>),
    /// Nothing (JSON or YAML output: the value at the end says it all).
    Quiet,
}

impl JobProgress {
    /// A bar when `table` output goes to a terminal, lines for any other table output,
    /// nothing for JSON or YAML.
    pub(crate) fn new(table: bool) -> JobProgress {
        if !table {
            JobProgress::Quiet
        } else if std::io::stderr().is_terminal() && std::io::stdout().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} robots done  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            JobProgress::Bar(bar)
        } else {
            JobProgress::Lines(None)
        }
    }

    /// Shows `r`.
    pub(crate) fn update(&mut self, r: &JobReport) {
        match self {
            JobProgress::Bar(bar) => {
                let done = r.robots.iter().filter(|x| x.status.is_terminal()).count();
                bar.set_length(r.robots.len() as u64);
                bar.set_position(done as u64);
                bar.set_message(summary(r));
            }
            JobProgress::Lines(last) => {
                let now = describe(r);
                if last.as_ref() != Some(&now) {
                    line(&now);
                    *last = Some(now);
                }
            }
            JobProgress::Quiet => {}
        }
    }

    /// Ends the display: the bar is replaced by the last state as a plain line.
    pub(crate) fn finish(self, r: &JobReport) {
        match self {
            JobProgress::Bar(bar) => {
                bar.finish_and_clear();
                line(describe(r));
            }
            JobProgress::Lines(last) => {
                let now = describe(r);
                if last.as_ref() != Some(&now) {
                    line(now);
                }
            }
            JobProgress::Quiet => {}
        }
    }
}

/// One line of a job's progress.
pub(crate) fn describe(r: &JobReport) -> String {
    format!(
        "job {}: {:?}, {} of {} in sync, {} failed (halts at {}), {} in flight",
        r.id,
        r.status,
        r.count(RobotStatus::InSync),
        count(r.robots.len(), "robot", "robots"),
        r.count(RobotStatus::Failed),
        r.failure_threshold,
        r.count(RobotStatus::Deploying)
    )
}

/// The bar's message: the status and the counts that matter.
fn summary(r: &JobReport) -> String {
    format!(
        "{:?}: {} in sync, {} failed (halts at {}), {} in flight",
        r.status,
        r.count(RobotStatus::InSync),
        r.count(RobotStatus::Failed),
        r.failure_threshold,
        r.count(RobotStatus::Deploying)
    )
}
