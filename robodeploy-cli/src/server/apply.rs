//! Declarative apply and delete: a manifest says what should exist; the server compares it
//! with what does, decides everything before changing anything, then changes only what
//! differs.
//!
//! | the file holds | exists already as written | exists with other content | does not exist |
//! |---|---|---|---|
//! | a package version | unchanged | refused (409: versions are immutable) | created |
//! | a robot (device) | unchanged | refused (409, naming the setting) | registered |
//! | a fleet | unchanged | updated (its robots and labels) | created |
//! | a deployment | unchanged | replaced: the old one deprovisioned, the new one deployed | created |
//! | a deployment job | unchanged (the job the same text created, whatever its status) | – | created: it rolls the version out with the file's concurrency and threshold |
//!
//! A deployment job is "the same" when its request, scripts' paths resolved, is the same text:
//! the server tags each job it creates with `robodeploy:apply` = the SHA-256 of that text. A new
//! version in the file is a new job, which replaces the old version robot by robot.
//!
//! An apply that was interrupted (the client killed, the server stopped) is completed by
//! applying the file again: what was created is unchanged, the rest is created.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{CatalogError, EngineError, Until};
use robodeploy_core::lifecycle::DependencyGraph;
use robodeploy_core::manifest::{Document, Manifest};
use robodeploy_core::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, Device, Fleet, JobId, Package,
};
use robodeploy_core::runtime::Runtime;
use robodeploy_core::validate::validate_manifest;
use sha2::{Digest, Sha256};

use super::Ctx;
use super::error::Refusal;
use crate::api::{
    ApplyReport, ApplyRequest, Change, DeploymentChange, ErrorKind, ItemChange, JobChange,
};

/// The tag a job created by apply carries: the SHA-256 of its request.
pub(crate) const APPLY_TAG: &str = "robodeploy:apply";

/// How long apply waits for a deployment another one needs running (its routed network, the
/// deployment owning its volume), and for a replaced deployment to stop.
const SETTLE: Duration = Duration::from_secs(120);

/// A manifest read and checked: what it asks for.
struct Wanted {
    packages: Vec<Package>,
    /// Every robot of every fleet, once each, with the index path of its first mention.
    devices: Vec<(Device, String)>,
    fleets: Vec<Fleet>,
    /// Dependencies first.
    deployments: Vec<DeploymentRequest>,
    /// Each with its digest.
    jobs: Vec<(DeploymentJobRequest, String)>,
    warnings: Vec<String>,
}

/// A robot of the file, what apply does with it, and the runtime made for a new one.
type DeviceDecision = (Device, Change, Option<Arc<dyn Runtime>>);

/// What apply decided, before it changes anything.
struct Decided {
    packages: Vec<(Package, Change)>,
    /// New devices come with the runtime made for them.
    devices: Vec<DeviceDecision>,
    fleets: Vec<(Fleet, Change)>,
    deployments: Vec<(DeploymentRequest, Change, Option<DeploymentId>)>,
    jobs: Vec<(DeploymentJobRequest, String, Change, Option<JobId>)>,
}

/// Parses and validates the manifest, with the same validator as `validate`.
fn read(request: &ApplyRequest, remote: bool) -> Result<Wanted, Refusal> {
    let manifest = Manifest::parse_str(&request.manifest).map_err(|e| Refusal::manifest(&e))?;
    let report = validate_manifest(&manifest);
    if !report.is_ok() {
        return Err(Refusal::report("manifest", &report));
    }
    let base = match &request.base_dir {
        Some(dir) if !Path::new(dir).is_absolute() => {
            return Err(Refusal::invalid(
                "baseDir",
                format!("baseDir {dir:?} must be an absolute path"),
            ));
        }
        Some(dir) => Some(Path::new(dir)),
        None => None,
    };
    let mut devices: Vec<(Device, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (doc, fleet) in manifest
        .documents
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match d {
            Document::Fleet(f) => Some((i, f)),
            _ => None,
        })
    {
        for (r, robot) in fleet.robots.iter().enumerate() {
            if robot.connection.is_some() && !remote {
                return Err(Refusal::invalid(
                    format!("document {}: spec.robots[{r}].connection", doc + 1),
                    format!(
                        "robot {} is reached through the device agent, and this server has no \
                         remote link (start it with --remote FILE)",
                        robot.name
                    ),
                ));
            }
            if seen.insert(robot.name.clone()) {
                devices.push((
                    robot.clone(),
                    format!("document {}: spec.robots[{r}]", doc + 1),
                ));
            }
        }
    }
    let mut graph = DependencyGraph::new();
    for d in manifest.deployments() {
        graph.add(d.name.clone(), d.prerequisites().map(str::to_owned));
    }
    let order = graph
        .start_order()
        .map_err(|e| Refusal::invalid("manifest", format!("deployments: {e}")))?;
    let mut deployments: Vec<DeploymentRequest> = Vec::new();
    for name in order {
        if let Some(d) = manifest.deployments().find(|d| d.name == name) {
            deployments.push(d.clone());
        }
    }
    let jobs = manifest
        .jobs()
        .map(|job| {
            let mut job = job.clone();
            if let Some(dir) = base {
                job.resolve_paths(dir);
            }
            let digest = digest_of(&job);
            (job, digest)
        })
        .collect();
    Ok(Wanted {
        packages: manifest.packages().cloned().collect(),
        devices,
        fleets: manifest.fleets().cloned().collect(),
        deployments,
        jobs,
        warnings: report.warnings.iter().map(|w| w.to_string()).collect(),
    })
}

/// What `POST /v1/apply` decides of a request before it asks the engine anything: the
/// manifest parsed and validated, the paths and robots checked (a server without a remote
/// link). For the fuzz targets.
#[cfg(feature = "fuzzing")]
pub(crate) fn check(request: &ApplyRequest) -> Result<(), Refusal> {
    read(request, false).map(drop)
}

/// The SHA-256 of a job request's JSON, hex.
fn digest_of(job: &DeploymentJobRequest) -> String {
    let bytes = serde_json::to_vec(job).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The settings of a device that must agree with the registered device of that name.
fn device_difference(registered: &Device, wanted: &Device) -> Option<&'static str> {
    if registered.architecture != wanted.architecture {
        Some("architecture")
    } else if registered.runtime != wanted.runtime {
        Some("runtime")
    } else if registered.connection != wanted.connection {
        Some("connection")
    } else if registered.endpoint != wanted.endpoint {
        Some("endpoint")
    } else if registered.ros_distro != wanted.ros_distro {
        Some("rosDistro")
    } else if registered.labels != wanted.labels {
        Some("labels")
    } else {
        None
    }
}

/// Whether a stored fleet is the one the file describes (same labels, same robots in order).
/// `items` keyed by their name.
fn by_name<T>(items: Vec<T>, name: impl Fn(&T) -> &String) -> BTreeMap<String, T> {
    items.into_iter().map(|t| (name(&t).clone(), t)).collect()
}

fn same_fleet(stored: &Fleet, wanted: &Fleet) -> bool {
    stored.labels == wanted.labels
        && stored.robots.len() == wanted.robots.len()
        && stored
            .robots
            .iter()
            .zip(&wanted.robots)
            .all(|(a, b)| a.name == b.name)
}

/// Compares the file with what exists; refuses (changing nothing) what cannot be applied.
async fn decide(ctx: &Ctx, wanted: Wanted) -> Result<(Decided, Vec<String>), Refusal> {
    let engine = &ctx.engine;
    let mut packages = Vec::new();
    for p in wanted.packages {
        let change = match engine.package(&p.name, &p.version).await {
            Ok(existing) if existing == p => Change::Unchanged,
            Ok(_) => {
                return Err(Refusal::new(
                    ErrorKind::Conflict,
                    format!(
                        "package {}@{} exists with other content, and versions are immutable: \
                         give the changed package a new version",
                        p.name, p.version
                    ),
                ));
            }
            Err(EngineError::Catalog(CatalogError::NotFound { .. })) => Change::Created,
            Err(e) => return Err(e.into()),
        };
        packages.push((p, change));
    }
    let registered = by_name(engine.devices().await?, |d| &d.name);
    let mut devices = Vec::new();
    for (device, at) in wanted.devices {
        match registered.get(&device.name) {
            Some(existing) => {
                if let Some(field) = device_difference(existing, &device) {
                    return Err(Refusal::new(
                        ErrorKind::Conflict,
                        format!(
                            "{at}: robot {} is registered with another {field}; remove it \
                             first (DELETE /v1/devices/{}) when nothing runs on it",
                            device.name, device.name
                        ),
                    ));
                }
                devices.push((existing.clone(), Change::Unchanged, None));
            }
            None => {
                let runtime = ctx.runtimes.make(&device).map_err(|e| {
                    Refusal::invalid(format!("{at}.{}", e.field), e.message.clone())
                })?;
                devices.push((device, Change::Created, Some(runtime)));
            }
        }
    }
    let stored = by_name(engine.fleets().await?, |f| &f.name);
    let fleets = wanted
        .fleets
        .into_iter()
        .map(|f| {
            let change = match stored.get(&f.name) {
                Some(s) if same_fleet(s, &f) => Change::Unchanged,
                Some(_) => Change::Updated,
                None => Change::Created,
            };
            (f, change)
        })
        .collect();
    let mut deployments = Vec::new();
    for d in wanted.deployments {
        let (change, id) = match engine.find_deployment(&d.name).await {
            Ok(id) => match engine.deployment_request(id).await {
                Ok(live) if live == d => (Change::Unchanged, Some(id)),
                Ok(_) => (Change::Replaced, Some(id)),
                Err(EngineError::NoSuchDeployment(_)) => (Change::Created, None),
                Err(e) => return Err(e.into()),
            },
            Err(EngineError::NoSuchDeployment(_)) => (Change::Created, None),
            Err(e) => return Err(e.into()),
        };
        deployments.push((d, change, id));
    }
    let existing_jobs = engine.jobs().await?;
    let jobs = wanted
        .jobs
        .into_iter()
        .map(|(job, digest)| {
            let same = existing_jobs
                .iter()
                .filter(|j| j.tags.get(APPLY_TAG) == Some(&digest))
                .max_by_key(|j| j.created_at);
            match same {
                Some(j) => (job, digest, Change::Unchanged, Some(j.id)),
                None => (job, digest, Change::Created, None),
            }
        })
        .collect();
    Ok((
        Decided {
            packages,
            devices,
            fleets,
            deployments,
            jobs,
        },
        wanted.warnings,
    ))
}

/// Applies a manifest (see the [module docs](self)).
pub(crate) async fn apply(ctx: &Ctx, request: ApplyRequest) -> Result<ApplyReport, Refusal> {
    let wanted = read(&request, ctx.runtimes.has_remote())?;
    let _one_at_a_time = ctx.apply_lock.lock().await;
    let (decided, warnings) = decide(ctx, wanted).await?;
    let mut report = ApplyReport {
        dry_run: request.dry_run,
        warnings,
        ..ApplyReport::default()
    };
    let engine = &ctx.engine;
    for (p, change) in decided.packages {
        if change == Change::Created && !request.dry_run {
            engine.add_package(p.clone()).await?;
        }
        report.packages.push(ItemChange {
            name: format!("{}@{}", p.name, p.version),
            change,
        });
    }
    let mut fresh = Vec::new();
    for (device, change, runtime) in decided.devices {
        report.devices.push(ItemChange {
            name: device.name.clone(),
            change,
        });
        if let Some(rt) = runtime {
            fresh.push((device, rt));
        }
    }
    if !fresh.is_empty() && !request.dry_run {
        engine.add_devices(fresh).await?;
    }
    if !request.dry_run && decided.fleets.iter().any(|(_, c)| c.is_change()) {
        let registered = by_name(engine.devices().await?, |d| &d.name);
        for (fleet, change) in &decided.fleets {
            if !change.is_change() {
                continue;
            }
            let mut fleet = fleet.clone();
            for robot in &mut fleet.robots {
                if let Some(d) = registered.get(&robot.name) {
                    *robot = d.clone();
                }
            }
            engine.add_fleet(fleet).await?;
        }
    }
    report.fleets = decided
        .fleets
        .iter()
        .map(|(f, change)| ItemChange {
            name: f.name.clone(),
            change: *change,
        })
        .collect();
    let mut created: BTreeMap<String, DeploymentId> = BTreeMap::new();
    for (d, change, id) in decided.deployments {
        let id = if request.dry_run || change == Change::Unchanged {
            id
        } else {
            if let (Change::Replaced, Some(old)) = (change, id) {
                engine.deprovision(old).await?;
                engine
                    .wait_for(old, Until::Stopped, SETTLE)
                    .await
                    .map_err(|e| {
                        Refusal::new(
                            ErrorKind::Internal,
                            format!("deployment {} (replaced) did not stop: {e}", d.name),
                        )
                    })?;
            }
            for needed in d.must_be_running() {
                if let Some(&nid) = created.get(needed) {
                    engine
                        .wait_for(nid, Until::Running, SETTLE)
                        .await
                        .map_err(|e| {
                            Refusal::new(
                                ErrorKind::Conflict,
                                format!(
                                    "deployment {} needs {needed} running, which it is not \
                                     ({e}); apply again once it runs",
                                    d.name
                                ),
                            )
                        })?;
                }
            }
            let name = d.name.clone();
            let new = engine.deploy(d.clone(), None).await?;
            created.insert(name, new);
            Some(new)
        };
        report.deployments.push(DeploymentChange {
            name: d.name,
            id,
            change,
        });
    }
    for (mut job, digest, change, id) in decided.jobs {
        let id = if request.dry_run || change == Change::Unchanged {
            id
        } else {
            job.tags.insert(APPLY_TAG.to_owned(), digest.clone());
            Some(engine.create_job(job.clone(), Some(&digest)).await?)
        };
        report.jobs.push(JobChange {
            application: job.application,
            version: job.application_version,
            fleet: job.fleet,
            id,
            change,
        });
    }
    Ok(report)
}

/// Deletes what a manifest applied: its deployments are deprovisioned, its jobs (those apply
/// created from the same text) cancelled and their robots' deployments deprovisioned.
/// Packages, robots and fleets stay registered.
pub(crate) async fn delete(ctx: &Ctx, request: ApplyRequest) -> Result<ApplyReport, Refusal> {
    let wanted = read(&request, true)?;
    let _one_at_a_time = ctx.apply_lock.lock().await;
    let engine = &ctx.engine;
    let mut report = ApplyReport {
        dry_run: request.dry_run,
        warnings: wanted.warnings,
        ..ApplyReport::default()
    };
    // Dependents first.
    for d in wanted.deployments.into_iter().rev() {
        let (change, id) = match engine.find_deployment(&d.name).await {
            Ok(id) => {
                if !request.dry_run {
                    engine.deprovision(id).await?;
                }
                (Change::Deleted, Some(id))
            }
            Err(EngineError::NoSuchDeployment(_)) => (Change::Absent, None),
            Err(e) => return Err(e.into()),
        };
        report.deployments.push(DeploymentChange {
            name: d.name,
            id,
            change,
        });
    }
    let jobs = engine.jobs().await?;
    let live = engine.deployments().await?;
    for (job, digest) in wanted.jobs {
        let matching: Vec<JobId> = jobs
            .iter()
            .filter(|j| j.tags.get(APPLY_TAG) == Some(&digest))
            .map(|j| j.id)
            .collect();
        let change = if matching.is_empty() {
            Change::Absent
        } else {
            Change::Deleted
        };
        if !request.dry_run {
            for &id in &matching {
                match engine.cancel_job(id).await {
                    Ok(()) | Err(EngineError::Rollout(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                for d in live.iter().filter(|d| d.job == Some(id)) {
                    match engine.deprovision(d.id).await {
                        Ok(()) | Err(EngineError::NoSuchDeployment(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        report.jobs.push(JobChange {
            application: job.application,
            version: job.application_version,
            fleet: job.fleet,
            id: matching.last().copied(),
            change,
        });
    }
    Ok(report)
}
