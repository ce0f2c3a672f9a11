//! `deprovision`: the engine stops a deployment's executables (SIGTERM to each group, SIGKILL
//! after the grace period), removes their instances and records the deployment as stopped;
//! the command waits for that, then detaches, leaving every other deployment running.

use std::path::Path;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, EngineConfig, Until};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::{DeploymentId, Phase};
use serde::Serialize;

use super::session::Session;
use super::state::StateDir;
use super::status::nothing_applied;
use super::{CliError, Outcome, print_json};

/// One deployment as `--json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Deprovisioned {
    name: String,
    id: DeploymentId,
    /// The instances stopped and removed.
    instances: Vec<String>,
}

/// `deprovision NAME [--grace SECONDS]`.
pub(crate) async fn deprovision(
    state_dir: &Path,
    name: &str,
    grace: Duration,
    json: bool,
) -> Outcome {
    let Some(state) = StateDir::existing(state_dir)? else {
        return Err(nothing_applied(state_dir, name));
    };
    let lifecycle = LifecycleConfig {
        stop_grace: grace,
        ..LifecycleConfig::default()
    };
    // A stop unanswered after the grace period and this margin counts as failed.
    let wait = grace + lifecycle.stop_answer_margin + Duration::from_secs(5);
    let config = EngineConfig::default().with_lifecycle(lifecycle);
    let session = Session::open(state, config).await?;
    let done = stop_all(&session, name, wait, json).await;
    let (done, incomplete) = session.finish(done).await?;
    if json {
        print_json(&done)?;
    }
    if incomplete.is_empty() {
        Ok(true)
    } else {
        Err(CliError::Incomplete(format!(
            "not every executable of {} could be stopped",
            incomplete.join(", ")
        )))
    }
}

/// Deprovisions every live deployment NAME means (all at once), then waits for each to stop.
/// Returns those stopped, and the names of those some executable of which could not be.
async fn stop_all(
    session: &Session,
    name: &str,
    wait: Duration,
    json: bool,
) -> Result<(Vec<Deprovisioned>, Vec<String>), CliError> {
    let live: Vec<DeploymentStatus> = session
        .resolve(name)
        .await?
        .into_iter()
        .filter(|d| !d.phase.is_terminal())
        .collect();
    if live.is_empty() {
        return Err(CliError::Refused(format!(
            "{name} is deprovisioned already (see `robodeploy status {name}`)"
        )));
    }
    for d in &live {
        session.engine.deprovision(d.id).await?;
    }
    let mut done = Vec::with_capacity(live.len());
    let mut incomplete = Vec::new();
    for d in live {
        let end = session.engine.wait_for(d.id, Until::Stopped, wait).await?;
        let instances: Vec<String> = d
            .executables
            .iter()
            .filter_map(|e| e.instance.clone())
            .collect();
        if end.phase != Phase::DeploymentStopped {
            eprintln!(
                "{} ({}): {}; {} executables could not be stopped",
                d.name,
                d.id,
                end.phase,
                end.executables
                    .iter()
                    .filter(|e| e.instance.is_some())
                    .count()
            );
            incomplete.push(d.name);
            continue;
        }
        if !json {
            println!(
                "deprovisioned {} ({}): {} executables stopped and removed",
                d.name,
                d.id,
                instances.len()
            );
        }
        done.push(Deprovisioned {
            name: d.name,
            id: d.id,
            instances,
        });
    }
    Ok((done, incomplete))
}
