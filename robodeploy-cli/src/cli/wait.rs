//! Waiting until what a command started has settled, so that its exit code tells the truth: a
//! deployment counts as up only once it has stayed Running, without a restart, for the minimum
//! uptime; a job only once it succeeded and its robots' deployments stayed up too.

use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, JobReport};
use robodeploy_core::model::{DeploymentId, JobId, Phase, StatusKind};
use tokio::time::Instant;

use super::error::CliError;
use crate::client::Client;

/// How often the server is asked.
const POLL: Duration = Duration::from_millis(200);

/// How a deployment ended up.
#[derive(Debug)]
pub(crate) enum Settled {
    /// Running, without a restart, for the whole minimum uptime.
    Up(DeploymentStatus),
    /// Failed: why, and its status then.
    Failed(String, DeploymentStatus),
    /// Not up when the time ran out.
    TimedOut(DeploymentStatus),
}

impl Settled {
    pub(crate) fn is_up(&self) -> bool {
        matches!(self, Settled::Up(_))
    }

    pub(crate) fn status(&self) -> &DeploymentStatus {
        match self {
            Settled::Up(s) | Settled::Failed(_, s) | Settled::TimedOut(s) => s,
        }
    }
}

/// Waits until a deployment has stayed up for `min_uptime`, fails, or `deadline` passes.
///
/// Failing means: phase Failed to start, status Error, the deployment ended, or a restart
/// while it was being watched (an executable that exits a second after it started and is
/// restarted by its policy is not "applied").
pub(crate) async fn deployment(
    client: &Client,
    id: DeploymentId,
    min_uptime: Duration,
    deadline: Instant,
) -> Result<Settled, CliError> {
    let name = id.to_string();
    let mut first = client.deployment(&name).await?;
    let restarts_at_start = first.restart_count;
    let mut up_since: Option<Instant> = None;
    loop {
        let s = first;
        if s.phase == Phase::FailedToStart {
            return Ok(Settled::Failed("failed to start".to_owned(), s));
        }
        if s.phase.is_terminal() {
            return Ok(Settled::Failed(format!("ended ({})", s.phase), s));
        }
        if s.status == StatusKind::Error {
            return Ok(Settled::Failed("an executable is in error".to_owned(), s));
        }
        if s.restart_count > restarts_at_start {
            let n = s.restart_count - restarts_at_start;
            return Ok(Settled::Failed(
                format!(
                    "restarted {} while it was watched (it does not stay up)",
                    if n == 1 {
                        "once".to_owned()
                    } else {
                        format!("{n} times")
                    }
                ),
                s,
            ));
        }
        let now = Instant::now();
        if s.is_running() {
            let since = *up_since.get_or_insert(now);
            if now.duration_since(since) >= min_uptime {
                return Ok(Settled::Up(s));
            }
        } else {
            up_since = None;
        }
        if now >= deadline {
            return Ok(Settled::TimedOut(s));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(now))).await;
        first = client.deployment(&name).await?;
    }
}

/// Waits until a job ends or `deadline` passes; its last report.
pub(crate) async fn job(
    client: &Client,
    id: JobId,
    deadline: Instant,
    mut progress: impl FnMut(&JobReport),
) -> Result<JobReport, CliError> {
    loop {
        let report = client.job(id).await?;
        progress(&report);
        if report.status.is_terminal() || Instant::now() >= deadline {
            return Ok(report);
        }
        tokio::time::sleep(POLL).await;
    }
}
