//! `jobs wait|cancel|resume`.

use tokio::time::Instant;

use super::args::{Format, JobAction, JobsArgs};
use super::config::Settings;
use super::error::Outcome;
use super::get::job_id;
use super::output::{self, line, printable};
use super::wait;
use robodeploy_core::model::{JobStatus, RobotStatus};

/// `jobs ACTION ID`.
pub(crate) async fn jobs(args: &JobsArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let table = settings.output == Format::Table;
    match &args.action {
        JobAction::Wait {
            id,
            timeout,
            min_uptime,
        } => {
            let id = job_id(id)?;
            let deadline = Instant::now() + *timeout;
            let mut last = None;
            let report = wait::job(&client, id, deadline, |r| {
                let now = format!(
                    "job {}: {:?}, {}/{} in sync, {} failed",
                    r.id,
                    r.status,
                    r.count(RobotStatus::InSync),
                    r.robots.len(),
                    r.count(RobotStatus::Failed)
                );
                if table && last.as_ref() != Some(&now) {
                    line(&now);
                    last = Some(now);
                }
            })
            .await?;
            let mut ok = report.status == JobStatus::Succeeded;
            if ok {
                for robot in &report.robots {
                    let Some(dep) = robot.deployment else {
                        continue;
                    };
                    // A deployment that ended since (a later job replaced it, it was
                    // deprovisioned) is not this job's to keep up.
                    if client
                        .deployment(&dep.to_string())
                        .await?
                        .phase
                        .is_terminal()
                    {
                        continue;
                    }
                    let settled = wait::deployment(&client, dep, *min_uptime, deadline).await?;
                    if !settled.is_up() {
                        ok = false;
                        if table {
                            line(format!(
                                "robot {}: its deployment does not stay up ({}, {})",
                                printable(&robot.robot),
                                settled.status().phase,
                                settled.status().status
                            ));
                        }
                    }
                }
            } else if !report.status.is_terminal() && table {
                line(format!("job {}: not ended before the timeout", report.id));
            }
            if !table {
                output::value(settings.output, &report)?;
            } else if ok {
                line(format!("job {}: succeeded", report.id));
            } else if let Some(code) = report.failure {
                line(format!("job {}: {:?} ({code})", report.id, report.status));
            }
            Ok(ok)
        }
        JobAction::Cancel { id } => {
            let report = client.cancel_job(job_id(id)?).await?;
            if table {
                line(format!("job {}: {:?}", report.id, report.status));
            } else {
                output::value(settings.output, &report)?;
            }
            Ok(true)
        }
        JobAction::Resume { id } => {
            let report = client.resume_job(job_id(id)?).await?;
            if table {
                line(format!("job {}: {:?}", report.id, report.status));
            } else {
                output::value(settings.output, &report)?;
            }
            Ok(true)
        }
    }
}
