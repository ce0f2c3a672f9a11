//! `jobs wait|cancel|resume|rollback`.

use tokio::time::Instant;

use super::apply::print_job_failures;
use super::args::{Format, JobAction, JobsArgs};
use super::config::Settings;
use super::error::Outcome;
use super::get::job_id;
use super::output::{self, line, printable};
use super::progress::JobProgress;
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
            let mut shown = JobProgress::new(table);
            let report = wait::job(&client, id, deadline, |r| shown.update(r)).await?;
            shown.finish(&report);
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
                let failed = report
                    .robots
                    .iter()
                    .filter(|r| r.status == RobotStatus::Failed)
                    .count();
                if failed == 0 {
                    line(format!("job {}: succeeded", report.id));
                } else {
                    print_job_failures(&report);
                    line(format!(
                        "job {}: succeeded within its failure threshold ({} failed)",
                        report.id,
                        super::output::count(failed, "robot", "robots")
                    ));
                }
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
        JobAction::Rollback { id, wait, timeout } => {
            let id = job_id(id)?;
            let report = client.rollback_job(id).await?;
            if table {
                let robots = report.rollback.map_or(0, |r| r.robots);
                if report.rollback.is_some() {
                    line(format!(
                        "job {id}: rolling back {}",
                        output::count(robots as usize, "robot", "robots")
                    ));
                } else {
                    line(format!(
                        "job {id}: stopping; its robots roll back once none is in flight"
                    ));
                }
            }
            if !wait {
                if !table {
                    output::value(settings.output, &report)?;
                }
                return Ok(true);
            }
            let deadline = Instant::now() + *timeout;
            let report = wait::job(&client, id, deadline, |_| {}).await?;
            let rollback = report.rollback;
            let ok = report.status.is_terminal()
                && rollback.is_none_or(|r| r.ended_at.is_some() && r.failed == 0);
            if !table {
                output::value(settings.output, &report)?;
            } else if !report.status.is_terminal() {
                line(format!("job {id}: not ended before the timeout"));
            } else {
                let (back, failed) = rollback.map_or((0, 0), |r| (r.rolled_back, r.failed));
                line(format!(
                    "job {id}: {:?}; {} back on their previous version, {} failed",
                    report.status,
                    output::count(back as usize, "robot", "robots"),
                    failed
                ));
            }
            Ok(ok)
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
