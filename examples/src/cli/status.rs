//! `status`: every live deployment (or the ones NAME means) as the engine reports it once it has
//! reconciled its store with the runtimes (and restarted per policy, within a few seconds, what
//! it found exited), with each executable's instance as its runtime sees it.

use std::path::Path;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, EngineConfig};
use robodeploy_core::runtime::{InstanceId, Runtime, RuntimeError};
use serde::Serialize;

use super::report::{Instance, print_deployment};
use super::session::Session;
use super::state::StateDir;
use super::{CliError, Outcome, print_json};

/// One deployment as `--json` prints it: the engine's status and the runtimes' instances.
#[derive(Serialize)]
pub(crate) struct StatusView {
    #[serde(flatten)]
    deployment: DeploymentStatus,
    /// Each executable's instance, where its runtime still holds one.
    instances: Vec<Instance>,
}

/// `status [NAME]`.
pub(crate) async fn status(state_dir: &Path, name: Option<&str>, json: bool) -> Outcome {
    let Some(state) = StateDir::existing(state_dir)? else {
        if let Some(name) = name {
            return Err(nothing_applied(state_dir, name));
        }
        print_views(&[], state_dir, json)?;
        return Ok(true);
    };
    let session = Session::open(state, EngineConfig::default()).await?;
    let views = views(&session, name).await;
    let views = session.finish(views).await?;
    print_views(&views, state_dir, json)?;
    Ok(true)
}

/// The refusal of a command naming a deployment where nothing was applied.
pub(crate) fn nothing_applied(state_dir: &Path, name: &str) -> CliError {
    CliError::Refused(format!(
        "{name}: nothing was applied under {} (see --state-dir)",
        state_dir.display()
    ))
}

/// How long `status` waits for restarts the engine scheduled on finding executables exited.
const RESTART_SETTLE: Duration = Duration::from_secs(5);

async fn views(session: &Session, name: Option<&str>) -> Result<Vec<StatusView>, CliError> {
    session.settle_pending(RESTART_SETTLE).await?;
    let deployments = match name {
        Some(name) => session.resolve(name).await?,
        None => session.deployments().await?,
    };
    let mut views = Vec::with_capacity(deployments.len());
    for deployment in deployments {
        let instances = instances(session, &deployment).await?;
        views.push(StatusView {
            deployment,
            instances,
        });
    }
    Ok(views)
}

/// Each executable's instance, asked of its device's runtime.
async fn instances(
    session: &Session,
    deployment: &DeploymentStatus,
) -> Result<Vec<Instance>, CliError> {
    let mut found = Vec::new();
    for e in &deployment.executables {
        let (Some(device), Some(instance)) = (&e.device, &e.instance) else {
            continue;
        };
        let Some(runtime) = session.runtime(device) else {
            continue;
        };
        match runtime.inspect(&InstanceId(instance.clone())).await {
            Ok(info) => found.push(Instance {
                device: device.clone(),
                info,
            }),
            Err(RuntimeError::NoSuchInstance(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(found)
}

fn print_views(views: &[StatusView], state_dir: &Path, json: bool) -> Result<(), CliError> {
    if json {
        print_json(&views)?;
    } else if views.is_empty() {
        println!("nothing applied under {}", state_dir.display());
    } else {
        for v in views {
            print_deployment(&v.deployment, &v.instances);
        }
    }
    Ok(())
}
