//! `status`: what runs now, per deployment and executable, as the process runtimes report it.

use std::path::Path;

use robodeploy_core::model::{DeploymentId, JobId, Version};
use robodeploy_core::runtime::InstanceState;
use serde::Serialize;

use super::inventory::{Instance, Inventory, Target, summary};
use super::state::StateDir;
use super::{Outcome, print_json};

/// One deployment as `--json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusView<'a> {
    /// None: found running without a record.
    name: Option<&'a str>,
    id: DeploymentId,
    package: Option<&'a str>,
    version: Option<&'a Version>,
    job: Option<JobId>,
    /// Running, Partial, Exited or Missing.
    state: &'static str,
    instances: &'a [Instance],
}

/// `status [NAME]`.
pub(crate) async fn status(state_dir: &Path, name: Option<&str>, json: bool) -> Outcome {
    if name.is_none() && !state_dir.is_dir() {
        if json {
            print_json(&Vec::<()>::new())?;
        } else {
            println!("nothing applied under {}", state_dir.display());
        }
        return Ok(true);
    }
    let state = StateDir::open(state_dir, false)?;
    let inventory = Inventory::take(&state).await?;
    let targets = match name {
        Some(name) => inventory.resolve(name)?,
        None => inventory.all(),
    };
    let views: Vec<StatusView<'_>> = targets.iter().map(|t| view(&inventory, t)).collect();
    if json {
        print_json(&views)?;
    } else if views.is_empty() {
        println!("nothing applied under {}", state_dir.display());
    } else {
        for v in &views {
            print_view(v);
        }
    }
    Ok(true)
}

fn view<'a>(inventory: &'a Inventory, t: &'a Target) -> StatusView<'a> {
    let instances = inventory.instances(t.id);
    StatusView {
        name: t.name.as_deref(),
        id: t.id,
        package: t.record.as_ref().map(|r| r.package.as_str()),
        version: t.record.as_ref().map(|r| &r.version),
        job: t.record.as_ref().and_then(|r| r.job),
        state: summary(instances),
        instances,
    }
}

fn print_view(v: &StatusView<'_>) {
    let package = match (v.package, v.version) {
        (Some(p), Some(ver)) => format!("{p} {ver}, "),
        _ => "no record, ".to_owned(),
    };
    println!(
        "{}: {} ({package}id {})",
        v.name.unwrap_or("(unnamed)"),
        v.state,
        v.id
    );
    for i in v.instances {
        let (component, executable) = i.executable();
        let state = match &i.info.state {
            InstanceState::Running { started_at, pid } => format!(
                "Running  pid {}  since {started_at}",
                pid.map_or("?".to_owned(), |p| p.to_string())
            ),
            InstanceState::Exited {
                exit_code,
                finished_at,
            } => format!(
                "Exited  code {exit_code}{}",
                finished_at.map(|t| format!("  at {t}")).unwrap_or_default()
            ),
            InstanceState::Created => "Created".to_owned(),
            other => format!("{other:?}"),
        };
        println!("  {:<12} {component}/{executable}  {state}", i.device);
    }
}
