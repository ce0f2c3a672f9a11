//! `deprovision`: stop a deployment's executables (SIGTERM to each group, SIGKILL after the
//! grace period), remove their instances, and forget the record.

use std::path::Path;
use std::time::Duration;

use robodeploy_core::model::DeploymentId;
use robodeploy_core::runtime::{Runtime, RuntimeError};
use serde::Serialize;

use super::inventory::{Instance, Inventory};
use super::state::StateDir;
use super::{Outcome, print_json};

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
    let state = StateDir::open(state_dir, false)?;
    let inventory = Inventory::take(&state).await?;
    let targets = inventory.resolve(name)?;
    let mut records = inventory.records.clone();
    let mut done = Vec::new();
    let mut first_error = None;
    for target in &targets {
        let mut removed = Vec::new();
        let mut failed = false;
        for instance in inventory.instances(target.id) {
            match stop_and_remove(&inventory, instance, grace).await {
                Ok(()) => removed.push(instance.info.name.clone()),
                Err(e) => {
                    eprintln!(
                        "{}: {} on {}: {e}",
                        target.label(),
                        instance.info.name,
                        instance.device
                    );
                    failed = true;
                    first_error.get_or_insert(e);
                }
            }
        }
        if failed {
            continue;
        }
        if let Some(n) = &target.name {
            records.deployments.remove(n);
        }
        if !json {
            println!(
                "deprovisioned {} ({}): {} executables stopped and removed",
                target.label(),
                target.id,
                removed.len()
            );
        }
        done.push(Deprovisioned {
            name: target.label(),
            id: target.id,
            instances: removed,
        });
    }
    state.save(&records)?;
    if json {
        print_json(&done)?;
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(true),
    }
}

async fn stop_and_remove(
    inventory: &Inventory,
    instance: &Instance,
    grace: Duration,
) -> Result<(), RuntimeError> {
    let runtime = inventory
        .runtimes
        .get(&instance.device)
        .ok_or_else(|| RuntimeError::internal(format!("no runtime for {}", instance.device)))?;
    runtime.stop(&instance.info.id, grace).await?;
    runtime.remove(&instance.info.id).await
}
