//! `plan`: a dry run of each deployment job of a manifest against its fleet, in the
//! deterministic simulator: the real rollout scheduler on a virtual clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use robodeploy_core::model::{DeploymentJobRequest, Fleet};
use robodeploy_core::rollout::RobotOutcome;
use robodeploy_core::sim::{Dist, FleetModel, SimOptions, SimReport, Simulation, TimelineDetail};
use serde::Serialize;

use super::args::{Format, PlanArgs as PlanFlags};
use super::error::{CliError, Outcome};
use super::output::{self, line};
use super::validate::load_valid;
use crate::timeline::{Chart, svg};

/// One job's plan as `--json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanView<'a> {
    fleet: &'a str,
    application: &'a str,
    version: String,
    /// Robot names, in fleet order: the simulation's robot indices point here.
    robot_names: Vec<&'a str>,
    simulation: SimReport,
}

/// `plan FILE`: simulates every job; fails (exit 1) only when the manifest is invalid or holds
/// no job. A projected job failure is a result, not an error.
pub(crate) fn plan(file: &Path, flags: &PlanFlags, format: Format) -> Outcome {
    let json = format != Format::Table;
    let Some(manifest) = load_valid(file, json)? else {
        return Ok(false);
    };
    let model = fleet_model(flags)?;
    let mut plans = Vec::new();
    for job in manifest.jobs() {
        let fleet = manifest
            .fleets()
            .find(|f| f.name == job.fleet)
            .ok_or_else(|| CliError::Failed(format!("no fleet {:?} in the file", job.fleet)))?;
        let options = SimOptions {
            seed: flags.seed,
            // The picture needs every robot's steps.
            timeline: if flags.svg.is_some() {
                TimelineDetail::Full
            } else {
                TimelineDetail::Job
            },
            ..SimOptions::default()
        };
        let sim = Simulation::for_fleet(job, fleet, model.clone(), options)
            .map_err(|e| CliError::Failed(format!("cannot simulate: {e}")))?;
        let out = sim.run();
        if !json {
            summarise(job, fleet, &out, flags);
        }
        if let Some(path) = &flags.svg {
            let path = numbered(path, plans.len());
            let names: Vec<&str> = fleet.robots.iter().map(|r| r.name.as_str()).collect();
            let title = format!(
                "plan: {} {} to fleet {} (seed {})",
                job.application, job.application_version, fleet.name, flags.seed
            );
            let chart = Chart::from_sim(title, &names, &out);
            std::fs::write(&path, svg(&chart)).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            if !json {
                line(format!("timeline: {}", path.display()));
            }
        }
        plans.push(PlanView {
            fleet: &fleet.name,
            application: &job.application,
            version: job.application_version.to_string(),
            robot_names: fleet.robots.iter().map(|r| r.name.as_str()).collect(),
            simulation: out,
        });
    }
    if plans.is_empty() {
        return Err(CliError::Failed(format!(
            "{}: nothing to plan: the file holds no DeploymentJob",
            file.display()
        )));
    }
    if json {
        output::value(format, &plans)?;
    }
    Ok(true)
}

/// `path` for the first job, `path` with `-N` before its extension for the N-th (N ≥ 2).
fn numbered(path: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    path.with_file_name(name)
}

/// The default fleet model, or the one in `--model`, with the flags' overrides.
fn fleet_model(flags: &PlanFlags) -> Result<FleetModel, CliError> {
    let mut model = match &flags.model {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|e| {
                CliError::Failed(format!("{}: not a fleet model: {e}", path.display()))
            })?
        }
        None => FleetModel::default(),
    };
    if let Some(rate) = flags.failure_rate {
        model = model.with_failure_rate(rate);
    }
    if let Some(p) = flags.offline_rate {
        model.offline_probability = p;
    }
    if let Some(p) = flags.hang_rate {
        model.hang_probability = p;
    }
    if let Some((min, max)) = flags.speed {
        // Dist counts milliseconds elsewhere; for speed the unit is percent.
        model.speed_percent = if min == max {
            Dist::Fixed { ms: min }
        } else {
            Dist::Uniform {
                min_ms: min,
                max_ms: max,
            }
        };
    }
    Ok(model)
}

/// Minutes since the start of the virtual clock.
fn minutes(t: robodeploy_core::time::Time) -> f64 {
    t.as_millis() as f64 / 60_000.0
}

fn summarise(job: &DeploymentJobRequest, fleet: &Fleet, out: &SimReport, flags: &PlanFlags) {
    let r = &out.report;
    line(format!(
        "plan: {} {} to fleet {} ({}), {} at once, halt at {} failed; seed {}",
        job.application,
        job.application_version,
        fleet.name,
        output::count(r.fleet_size as usize, "robot", "robots"),
        r.in_flight_limit,
        r.failure_threshold,
        flags.seed
    ));
    line(format!(
        "projected: {:?}{} after {:.1} min of virtual time",
        r.status,
        r.failure_code
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        out.stats.makespan_ms as f64 / 60_000.0
    ));
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let (mut deployed, mut failed, mut skipped) = (0, 0, 0);
    for robot in &r.robots {
        *by_status.entry(format!("{:?}", robot.status)).or_default() += 1;
        let name = fleet
            .robots
            .get(robot.robot.get())
            .map_or("?", |d| d.name.as_str());
        match robot.outcome {
            RobotOutcome::InSync => deployed += 1,
            RobotOutcome::Failed { code } => {
                failed += 1;
                failures.entry(code.to_string()).or_default().push(name);
            }
            RobotOutcome::NotDeployed { .. } => skipped += 1,
            _ => {}
        }
    }
    let statuses: Vec<String> = by_status.iter().map(|(s, n)| format!("{s} {n}")).collect();
    line(format!("robots by status: {}", statuses.join(", ")));
    line(format!(
        "outcomes: {deployed} deployed, {failed} failed, {skipped} not deployed"
    ));
    for (code, robots) in &failures {
        line(format!("  {code}: {}", robots.join(", ")));
    }
    for (i, w) in r.waves.iter().enumerate() {
        line(format!(
            "wave {}: {}, {} failed{}",
            i + 1,
            output::count(w.plan.len() as usize, "robot", "robots"),
            w.failed,
            match (w.started_at, w.completed_at) {
                (Some(s), Some(e)) => format!(", minute {:.1} to {:.1}", minutes(s), minutes(e)),
                (Some(_), None) => ", not completed".to_owned(),
                _ => ", not started".to_owned(),
            }
        ));
    }
}
