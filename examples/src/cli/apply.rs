//! `apply`: a manifest's deployments and jobs run for real on local process runtimes, one per
//! device under the state directory; then the engine detaches and the executables keep running.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, JobReport};
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::{
    DeploymentJobRequest, DeploymentRequest, DeviceRuntime, ExecutableStatus, JobStatus, Phase,
    StatusKind,
};
use robodeploy_core::runtime::Runtime;
use robodeploy_core::time::Time;
use serde::Serialize;
use tokio::time::Instant;

use super::apply_job::run_job;
use super::inventory::{Inventory, summary};
use super::manifest::load_valid;
use super::state::{Record, StateDir};
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
    let state = StateDir::open(state_dir, true)?;
    let inventory = Inventory::take(&state).await?;
    check_conflicts(&inventory, &deployments, &jobs, &manifest)?;

    let deadline = Instant::now() + timeout;
    let engine = Engine::builder().start();
    register(&engine, &state, inventory, &manifest).await?;
    let mut ok = true;
    let mut ids = Vec::new();
    for req in &deployments {
        let id = engine.deploy(req.clone(), None).await?;
        // Recorded before waiting, so an interrupted apply still leaves a name to find.
        let record = Record {
            id,
            package: req.package.clone(),
            version: req.version.clone(),
            devices: req
                .devices
                .values()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            job: None,
            manifest: manifest_path.clone(),
            applied_at: Time::now(),
        };
        state.record(&req.name, record)?;
        ids.push(id);
    }
    let mut statuses = Vec::new();
    for id in ids {
        let status = settle(&engine, id, deadline).await?;
        ok &= status.is_running();
        if !json {
            print_deployment(&status);
        }
        statuses.push(status);
    }
    let mut reports = Vec::new();
    for job in jobs {
        let report = run_job(&engine, &state, job, &manifest_path, deadline, json).await?;
        ok &= report.status == JobStatus::Succeeded;
        reports.push(report);
    }
    if json {
        print_json(&ApplyView {
            deployments: statuses,
            jobs: reports,
        })?;
    }
    // Dropping the engine would deprovision everything: detach leaves it running.
    engine.detach().await?;
    if !json && ok {
        println!(
            "applied; left running under {} (see `robodeploy status`)",
            state_dir.display()
        );
    }
    Ok(ok)
}

/// Every robot of every fleet becomes a device with its own process runtime (the ones the
/// inventory opened are reused: one runtime per root), then the fleets and packages.
async fn register(
    engine: &Engine,
    state: &StateDir,
    inventory: Inventory,
    manifest: &Manifest,
) -> Result<(), CliError> {
    let mut runtimes = inventory.runtimes;
    let mut added = BTreeSet::new();
    for fleet in manifest.fleets() {
        for device in &fleet.robots {
            if !added.insert(device.name.clone()) {
                continue;
            }
            let runtime: Arc<dyn Runtime> = match runtimes.remove(&device.name) {
                Some(rt) => rt,
                None => state.runtime(&device.name)?,
            };
            engine.add_device(device.clone(), runtime).await?;
        }
        engine.add_fleet(fleet.clone()).await?;
    }
    for package in manifest.packages() {
        engine.add_package(package.clone()).await?;
    }
    Ok(())
}

/// Refuses what would run twice: a deployment name already applied and still present, a
/// device this CLI cannot run, a job's application already deployed on one of its robots.
fn check_conflicts(
    inventory: &Inventory,
    deployments: &[DeploymentRequest],
    jobs: &[DeploymentJobRequest],
    manifest: &Manifest,
) -> Result<(), CliError> {
    for device in manifest.fleets().flat_map(|f| &f.robots) {
        if device.runtime != DeviceRuntime::Preinstalled {
            return Err(CliError::Refused(format!(
                "device {} has runtime {}: this CLI runs preinstalled devices as local \
                 process runtimes (the Docker backend is not available yet)",
                device.name, device.runtime
            )));
        }
    }
    let live = |id| !inventory.instances(id).is_empty();
    for req in deployments {
        if let Some(r) = inventory.records.deployments.get(&req.name)
            && live(r.id)
        {
            return Err(CliError::Refused(format!(
                "deployment {} is already applied ({}, {}); deprovision it first",
                req.name,
                r.id,
                summary(inventory.instances(r.id))
            )));
        }
    }
    for job in jobs {
        let robots: BTreeSet<&str> = manifest
            .fleets()
            .filter(|f| f.name == job.fleet)
            .flat_map(|f| f.robots.iter().map(|d| d.name.as_str()))
            .collect();
        let clash = inventory.records.deployments.iter().find(|(_, r)| {
            r.package == job.application
                && r.devices.iter().any(|d| robots.contains(d.as_str()))
                && live(r.id)
        });
        if let Some((name, r)) = clash {
            return Err(CliError::Refused(format!(
                "{} is already deployed on fleet {} by {name} ({}); deprovision {} first",
                job.application,
                job.fleet,
                r.id,
                r.job.map_or(name.clone(), |j| j.to_string())
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
            d.depends_on
                .iter()
                .all(|dep| placed.contains(dep) || !pending.iter().any(|p| &p.name == dep))
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
    id: robodeploy_core::model::DeploymentId,
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

fn print_deployment(s: &DeploymentStatus) {
    println!(
        "{}: {}, {} ({} {}, id {})",
        s.name, s.phase, s.status, s.package, s.version, s.id
    );
    for e in &s.executables {
        let status = match &e.status {
            ExecutableStatus::Running => "Running".to_owned(),
            ExecutableStatus::Pending { reason } => format!("Pending ({reason})"),
            ExecutableStatus::Error { reason } => format!("Error ({reason})"),
            other => format!("{other:?}"),
        };
        println!(
            "  {}/{} on {}: {status}, restarts {}",
            e.component,
            e.name,
            e.device.as_deref().unwrap_or("cloud"),
            e.restart_count
        );
    }
    for e in &s.errors {
        let at: Vec<&str> = [e.component.as_deref(), e.executable.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        println!(
            "  {} {}{}",
            e.code,
            at.join("/"),
            e.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
    }
}
