//! `apply`: a manifest's deployments and jobs run for real on local process runtimes, one per
//! device under the state directory, by an engine whose store is the state directory's; then
//! the engine detaches and the executables keep running. What was applied before is reconciled
//! first, and a deployment applied and still live is refused rather than started twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, EngineConfig, JobReport};
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, DeviceRuntime, JobStatus, Phase,
    StatusKind,
};
use serde::Serialize;
use tokio::time::Instant;

use super::apply_job::run_job;
use super::manifest::load_valid;
use super::report::print_deployment;
use super::session::Session;
use super::state::StateDir;
use super::{CliError, Outcome, print_json};

/// What `apply --json` prints: the engine's own reports.
#[derive(Serialize)]
struct ApplyView {
    deployments: Vec<DeploymentStatus>,
    jobs: Vec<JobReport>,
}

/// `apply FILE [--timeout DURATION]`.
pub(crate) async fn apply(file: &Path, state_dir: &Path, timeout: Duration, json: bool) -> Outcome {
    let Some(manifest) = load_valid(file, json)? else {
        return Ok(false);
    };
    let manifest_path = std::fs::canonicalize(file).map_err(|source| CliError::State {
        path: file.to_owned(),
        source,
    })?;
    let deployments = in_dependency_order(manifest.deployments().cloned().collect());
    let jobs: Vec<DeploymentJobRequest> = manifest
        .jobs()
        .cloned()
        .map(|mut job| {
            if let Some(dir) = manifest_path.parent() {
                job.resolve_paths(dir);
            }
            job
        })
        .collect();
    if deployments.is_empty() && jobs.is_empty() {
        return Err(CliError::Refused(format!(
            "{}: nothing to apply: the file holds no Deployment or DeploymentJob",
            file.display()
        )));
    }
    refuse_other_runtimes(&manifest)?;
    let deadline = Instant::now() + timeout;
    let state = StateDir::create(state_dir)?;
    let mut session = Session::open(state, EngineConfig::default()).await?;
    let applied = run(&mut session, &manifest, deployments, jobs, deadline, json).await;
    // Detach (waited for) leaves everything running.
    let (statuses, reports) = session.finish(applied).await?;
    let ok = statuses.iter().all(DeploymentStatus::is_running)
        && reports.iter().all(|r| r.status == JobStatus::Succeeded);
    if json {
        print_json(&ApplyView {
            deployments: statuses,
            jobs: reports,
        })?;
    } else if ok {
        println!(
            "applied; left running under {} (see `robodeploy status`)",
            state_dir.display()
        );
    }
    Ok(ok)
}

/// Registers, deploys and runs the jobs on the engine; the deployments' statuses once they run
/// (or failed, or the deadline passed) and the jobs' final reports.
async fn run(
    session: &mut Session,
    manifest: &Manifest,
    deployments: Vec<DeploymentRequest>,
    jobs: Vec<DeploymentJobRequest>,
    deadline: Instant,
    json: bool,
) -> Result<(Vec<DeploymentStatus>, Vec<JobReport>), CliError> {
    check_conflicts(session, &deployments, &jobs, manifest).await?;
    register(session, manifest).await?;
    let engine = &session.engine;
    let mut ids: Vec<DeploymentId> = Vec::new();
    let mut by_name: BTreeMap<String, DeploymentId> = BTreeMap::new();
    for req in deployments {
        // A routed network or volume deployment must run before a deployment using it is
        // created: wait for the ones this apply deployed (the engine refuses otherwise).
        for name in req.must_be_running() {
            if let Some(&id) = by_name.get(name) {
                settle(engine, id, deadline).await?;
            }
        }
        let name = req.name.clone();
        let id = engine.deploy(req, None).await?;
        by_name.insert(name, id);
        ids.push(id);
    }
    let mut statuses = Vec::new();
    for id in ids {
        let status = settle(engine, id, deadline).await?;
        if !json {
            print_deployment(&status, &[]);
        }
        statuses.push(status);
    }
    let mut reports = Vec::new();
    for job in jobs {
        reports.push(run_job(engine, job, deadline, json).await?);
    }
    Ok((statuses, reports))
}

/// Every robot of every fleet becomes a device with its own process runtime (one the store
/// already knows is kept as registered), then the fleets and packages.
async fn register(session: &mut Session, manifest: &Manifest) -> Result<(), CliError> {
    for device in manifest.fleets().flat_map(|f| &f.robots) {
        session.add_device(device.clone()).await?;
    }
    let registered: BTreeMap<String, _> = session
        .engine
        .devices()
        .await?
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    for fleet in manifest.fleets() {
        let mut fleet = fleet.clone();
        for robot in &mut fleet.robots {
            if let Some(d) = registered.get(&robot.name) {
                *robot = d.clone();
            }
        }
        session.engine.add_fleet(fleet).await?;
    }
    for package in manifest.packages() {
        session.engine.add_package(package.clone()).await?;
    }
    Ok(())
}

/// Refuses a device this CLI cannot run (before anything is created).
fn refuse_other_runtimes(manifest: &Manifest) -> Result<(), CliError> {
    for device in manifest.fleets().flat_map(|f| &f.robots) {
        if device.runtime != DeviceRuntime::Preinstalled {
            return Err(CliError::Refused(format!(
                "device {} has runtime {}: this CLI runs preinstalled devices as local \
                 process runtimes (the Docker backend is not available yet)",
                device.name, device.runtime
            )));
        }
    }
    Ok(())
}

/// Refuses what would run twice: a deployment name the engine holds live, a job's application
/// already deployed on one of its robots.
async fn check_conflicts(
    session: &Session,
    deployments: &[DeploymentRequest],
    jobs: &[DeploymentJobRequest],
    manifest: &Manifest,
) -> Result<(), CliError> {
    let live = session.deployments().await?;
    for req in deployments {
        if let Some(d) = live.iter().find(|d| d.name == req.name) {
            return Err(CliError::Refused(format!(
                "deployment {} is already applied ({}, {}, {}); deprovision it first",
                req.name, d.id, d.phase, d.status
            )));
        }
    }
    for job in jobs {
        let robots: BTreeSet<&str> = manifest
            .fleets()
            .filter(|f| f.name == job.fleet)
            .flat_map(|f| f.robots.iter().map(|d| d.name.as_str()))
            .collect();
        let clash = live.iter().find(|d| {
            d.package == job.application
                && d.executables
                    .iter()
                    .any(|e| e.device.as_deref().is_some_and(|r| robots.contains(r)))
        });
        if let Some(d) = clash {
            return Err(CliError::Refused(format!(
                "{} is already deployed on fleet {} by {} ({}); deprovision {} first",
                job.application,
                job.fleet,
                d.name,
                d.id,
                d.job.map_or(d.name.clone(), |j| j.to_string())
            )));
        }
    }
    Ok(())
}

/// Deployments ordered so each comes after those it depends on (validation has ruled out
/// cycles and unknown names; the order within the file is kept otherwise).
fn in_dependency_order(mut pending: Vec<DeploymentRequest>) -> Vec<DeploymentRequest> {
    let mut ordered: Vec<DeploymentRequest> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let placed: BTreeSet<String> = ordered.iter().map(|d| d.name.clone()).collect();
        let ready = pending.iter().position(|d| {
            d.prerequisites()
                .all(|dep| placed.contains(dep) || !pending.iter().any(|p| p.name == dep))
        });
        // No ready one means a cycle, which validation refused; keep the rest as written.
        let i = ready.unwrap_or(0);
        ordered.push(pending.remove(i));
    }
    ordered
}

/// Waits until a deployment runs, fails, or the deadline passes; returns its status then.
async fn settle(
    engine: &Engine,
    id: DeploymentId,
    deadline: Instant,
) -> Result<DeploymentStatus, CliError> {
    let mut watch = engine.watch(id);
    let mut status = engine.status(id).await?;
    loop {
        let failed = status.phase == Phase::FailedToStart || status.status == StatusKind::Error;
        if status.is_running() || failed || status.phase.is_terminal() {
            return Ok(status);
        }
        match tokio::time::timeout_at(deadline, watch.next()).await {
            Ok(Some(next)) => status = next,
            Ok(None) => return Err(robodeploy_core::engine::EngineError::Shutdown.into()),
            Err(_) => {
                eprintln!("{}: not running before the timeout", status.name);
                return Ok(engine.status(id).await?);
            }
        }
    }
}
