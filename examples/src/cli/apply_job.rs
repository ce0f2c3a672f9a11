//! `apply` of a deployment job: created in the engine, followed robot by robot until it ends,
//! each robot's deployment recorded as soon as it exists.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError, EngineEvent, JobReport, RobotReport};
use robodeploy_core::model::{DeploymentId, DeploymentJobRequest, JobId, RobotStatus};
use robodeploy_core::time::Time;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::CliError;
use super::state::{Record, StateDir};

/// How long a job canceled at the deadline gets to wind down.
const CANCEL_GRACE: Duration = Duration::from_secs(30);

/// What the job's followers have seen so far.
struct Follow<'a> {
    engine: &'a Engine,
    state: &'a StateDir,
    job: JobId,
    manifest: &'a Path,
    json: bool,
    recorded: Vec<(String, DeploymentId)>,
    printed: BTreeSet<String>,
}

/// Runs a job to its end (canceling it at the deadline) and returns its final report.
pub(crate) async fn run_job(
    engine: &Engine,
    state: &StateDir,
    job: DeploymentJobRequest,
    manifest: &Path,
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
        engine,
        state,
        job: id,
        manifest,
        json,
        recorded: Vec::new(),
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
                follow.note(&report).await?;
            }
            Ok(Ok(EngineEvent::Job { job, status })) if job == id && status.is_terminal() => break,
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(_))) => {
                let report = engine.job(id).await?;
                for robot in &report.robots {
                    follow.note(robot).await?;
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
        follow.note(robot).await?;
    }
    follow.forget_stopped().await?;
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

impl Follow<'_> {
    /// Records a robot's deployment the first time it shows, and prints the robot's end.
    async fn note(&mut self, robot: &RobotReport) -> Result<(), CliError> {
        if let Some(dep) = robot.deployment
            && !self.recorded.iter().any(|(_, d)| *d == dep)
        {
            let status = self.engine.status(dep).await?;
            let record = Record {
                id: dep,
                package: status.package.clone(),
                version: status.version.clone(),
                devices: vec![robot.robot.clone()],
                job: Some(self.job),
                manifest: self.manifest.to_owned(),
                applied_at: Time::now(),
            };
            self.state.record(&status.name, record)?;
            self.recorded.push((status.name, dep));
        }
        if robot.status.is_terminal() && self.printed.insert(robot.robot.clone()) && !self.json {
            let detail = match (&robot.failure, &robot.failure_detail) {
                (Some(code), Some(d)) => format!("  {code}: {}", d.trim()),
                (Some(code), None) => format!("  {code}"),
                _ => String::new(),
            };
            println!("  {:<12} {:?}{detail}", robot.robot, robot.status);
        }
        Ok(())
    }

    /// Forgets the deployments the job itself stopped (a failed robot's, a rolled-back one).
    async fn forget_stopped(&self) -> Result<(), CliError> {
        for (name, dep) in &self.recorded {
            if self.engine.status(*dep).await?.phase.is_terminal() {
                self.state.forget(name)?;
            }
        }
        Ok(())
    }
}
