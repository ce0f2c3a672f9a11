//! `apply` of a deployment job: created in the engine, followed robot by robot until it ends.
//! The engine's store keeps the job and each robot's deployment, so later commands find them by
//! the job's id.

use std::collections::BTreeSet;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError, EngineEvent, JobReport, RobotReport};
use robodeploy_core::model::{DeploymentJobRequest, RobotStatus};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::CliError;

/// How long a job canceled at the deadline gets to wind down.
const CANCEL_GRACE: Duration = Duration::from_secs(30);

/// The robots whose end was printed.
struct Follow {
    json: bool,
    printed: BTreeSet<String>,
}

/// Runs a job to its end (canceling it at the deadline) and returns its final report.
pub(crate) async fn run_job(
    engine: &Engine,
    job: DeploymentJobRequest,
    deadline: Instant,
    json: bool,
) -> Result<JobReport, CliError> {
    let mut events = engine.subscribe();
    let title = format!(
        "{} {} to fleet {}",
        job.application, job.application_version, job.fleet
    );
    let id = engine.create_job(job, None).await?;
    if !json {
        println!("job {id}: {title}");
    }
    let mut follow = Follow {
        json,
        printed: BTreeSet::new(),
    };
    let mut until = deadline;
    let mut canceled = false;
    loop {
        match tokio::time::timeout_at(until, events.recv()).await {
            Err(_) if !canceled => {
                eprintln!("job {id}: not finished before the timeout; canceling it");
                engine.cancel_job(id).await?;
                canceled = true;
                until = Instant::now() + CANCEL_GRACE;
            }
            Err(_) => break,
            Ok(Ok(EngineEvent::Robot { job, report })) if job == id => {
                follow.note(&report);
            }
            Ok(Ok(EngineEvent::Job { job, status })) if job == id && status.is_terminal() => break,
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(_))) => {
                let report = engine.job(id).await?;
                for robot in &report.robots {
                    follow.note(robot);
                }
                if report.status.is_terminal() {
                    break;
                }
            }
            Ok(Err(RecvError::Closed)) => return Err(EngineError::Shutdown.into()),
        }
    }
    let report = engine.job(id).await?;
    for robot in &report.robots {
        follow.note(robot);
    }
    if !json {
        let in_sync = report.count(RobotStatus::InSync);
        let failed = report.count(RobotStatus::Failed) + report.count(RobotStatus::NoResponse);
        println!(
            "job {id}: {:?}{}: {in_sync} in sync, {failed} failed, {} not deployed",
            report.status,
            report
                .failure
                .map(|f| format!(" ({f})"))
                .unwrap_or_default(),
            report.robots.len() - in_sync - failed
        );
    }
    Ok(report)
}

impl Follow {
    /// Prints a robot's end, once.
    fn note(&mut self, robot: &RobotReport) {
        if robot.status.is_terminal() && self.printed.insert(robot.robot.clone()) && !self.json {
            let detail = match (&robot.failure, &robot.failure_detail) {
                (Some(code), Some(d)) => format!("  {code}: {}", d.trim()),
                (Some(code), None) => format!("  {code}"),
                _ => String::new(),
            };
            println!("  {:<12} {:?}{detail}", robot.robot, robot.status);
        }
    }
}
