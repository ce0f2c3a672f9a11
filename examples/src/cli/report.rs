//! How `apply` and `status` print a deployment: the engine's status, per executable, with what
//! its process runtime reports of the instance when it was asked.

use robodeploy_core::engine::DeploymentStatus;
use robodeploy_core::model::ExecutableStatus;
use robodeploy_core::runtime::{InstanceInfo, InstanceState};
use serde::Serialize;

/// An executable's instance as its device's runtime reports it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Instance {
    /// The device it runs on.
    pub(crate) device: String,
    #[serde(flatten)]
    pub(crate) info: InstanceInfo,
}

/// Prints a deployment: a header line, a line per executable (with its instance's pid or exit
/// code when `instances` holds it), and the error codes in force.
pub(crate) fn print_deployment(s: &DeploymentStatus, instances: &[Instance]) {
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
        let instance = instances
            .iter()
            .find(|i| Some(&i.info.id.0) == e.instance.as_ref())
            .map(|i| format!(", {}", describe(&i.info.state)))
            .unwrap_or_default();
        println!(
            "  {}/{} on {}: {status}, restarts {}{instance}",
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

/// An instance's state in a few words: its pid and start, or its exit code.
fn describe(state: &InstanceState) -> String {
    match state {
        InstanceState::Running { started_at, pid } => format!(
            "pid {} since {started_at}",
            pid.map_or("?".to_owned(), |p| p.to_string())
        ),
        InstanceState::Exited {
            exit_code,
            finished_at,
            stopped_manually,
        } => format!(
            "{} with code {exit_code}{}",
            if *stopped_manually {
                "stopped by hand"
            } else {
                "exited"
            },
            finished_at.map(|t| format!(" at {t}")).unwrap_or_default()
        ),
        InstanceState::Created => "created, not started".to_owned(),
        other => format!("{other:?}"),
    }
}
