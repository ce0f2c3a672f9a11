//! What a runtime is asked to run: an instance spec, its id and its labels.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{DeploymentId, Limits, Mount, Port, RestartPolicy};

/// Label keys robodeploy puts on every instance, so a runtime can list what it holds after the
/// engine restarts (containers carry them as Docker labels, processes in their state file).
pub mod labels {
    /// The deployment id.
    pub const DEPLOYMENT: &str = "io.robodeploy.deployment";
    /// The component name.
    pub const COMPONENT: &str = "io.robodeploy.component";
    /// The executable name.
    pub const EXECUTABLE: &str = "io.robodeploy.executable";
    /// The package name.
    pub const PACKAGE: &str = "io.robodeploy.package";
    /// The package version.
    pub const VERSION: &str = "io.robodeploy.version";
    /// Marks every instance robodeploy created (value `"true"`).
    pub const MANAGED: &str = "io.robodeploy.managed";
    /// The id of the store of the engine that started the instance
    /// ([`store_id`](crate::store::store_id)); set by the engine.
    pub const STORE: &str = "io.robodeploy.store";
    /// The name of the deployment (not set on a shared component's instance, which serves
    /// several); set by the engine.
    pub const DEPLOYMENT_NAME: &str = "io.robodeploy.deployment-name";
}

/// A runtime's handle for one instance (a container id, a process runtime's instance name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceId(pub String);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything a runtime needs to prepare and start one executable.
///
/// ```
/// use robodeploy_core::runtime::InstanceSpec;
/// use robodeploy_core::model::DeploymentId;
/// let spec = InstanceSpec::new(DeploymentId::from_u128(1), "talker", "talker", "demo", "1");
/// assert_eq!(spec.name, "rd-00000000000000000000000000000001-talker-talker");
/// assert_eq!(spec.labels["io.robodeploy.component"], "talker");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSpec {
    /// Deterministic instance name: `rd-<deployment id, simple form>-<component>-<executable>`.
    /// Starting the same name twice is refused by the runtime, which is how "nothing is started
    /// twice" holds across engine restarts.
    pub name: String,
    /// The deployment this instance belongs to.
    pub deployment: DeploymentId,
    /// Component name.
    pub component: String,
    /// Executable name.
    pub executable: String,
    /// Container image (Docker runtimes).
    pub image: Option<String>,
    /// argv (program and arguments), executed without a shell unless `shell` is set.
    pub command: Vec<String>,
    /// Run `command` joined by spaces through `/bin/sh -c`.
    pub shell: bool,
    /// Working directory.
    pub working_dir: Option<String>,
    /// Environment. Values are secrets as far as logs go: never log them.
    pub env: BTreeMap<String, String>,
    /// Volumes.
    pub mounts: Vec<Mount>,
    /// Ports.
    pub ports: Vec<Port>,
    /// Network to join (a routed network), if any.
    pub network: Option<String>,
    /// Use the host's network (only when the manifest asks).
    pub host_network: bool,
    /// The policy a runtime that enforces restarts natively should apply.
    pub restart_policy: RestartPolicy,
    /// Labels (always including the [`labels`] keys).
    pub labels: BTreeMap<String, String>,
    /// The executable's limits as the manifest gives them (validated): CPU, memory, devices,
    /// user, read-only root, capabilities, privileged. A runtime applies them or refuses the
    /// instance with [`RuntimeError::InvalidSpec`](super::RuntimeError::InvalidSpec) naming the
    /// field it cannot apply. `limits.host_network` is also in [`InstanceSpec::host_network`].
    #[serde(default, skip_serializing_if = "Limits::is_empty")]
    pub limits: Limits,
}

impl InstanceSpec {
    /// A spec with the deterministic name and robodeploy's labels set, and nothing to run yet.
    pub fn new(
        deployment: DeploymentId,
        component: &str,
        executable: &str,
        package: &str,
        version: &str,
    ) -> Self {
        let mut l = BTreeMap::new();
        l.insert(labels::DEPLOYMENT.to_owned(), deployment.to_string());
        l.insert(labels::COMPONENT.to_owned(), component.to_owned());
        l.insert(labels::EXECUTABLE.to_owned(), executable.to_owned());
        l.insert(labels::PACKAGE.to_owned(), package.to_owned());
        l.insert(labels::VERSION.to_owned(), version.to_owned());
        l.insert(labels::MANAGED.to_owned(), "true".to_owned());
        InstanceSpec {
            name: instance_name(deployment, component, executable),
            deployment,
            component: component.to_owned(),
            executable: executable.to_owned(),
            image: None,
            command: Vec::new(),
            shell: false,
            working_dir: None,
            env: BTreeMap::new(),
            mounts: Vec::new(),
            ports: Vec::new(),
            network: None,
            host_network: false,
            restart_policy: RestartPolicy::Never,
            labels: l,
            limits: Limits::default(),
        }
    }
}

/// The deterministic instance name of an executable of a deployment.
pub fn instance_name(deployment: DeploymentId, component: &str, executable: &str) -> String {
    format!(
        "rd-{}-{component}-{executable}",
        deployment.as_uuid().simple()
    )
}

/// A one-shot command run to completion on a device: a job's download condition, pre-launch and
/// post-launch scripts, or a debug command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSpec {
    /// argv.
    pub command: Vec<String>,
    /// Run `command` joined by spaces through `/bin/sh -c`.
    pub shell: bool,
    /// Environment (never logged).
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// Image to run it in (Docker runtimes); none runs it on the host (process runtimes).
    pub image: Option<String>,
    /// Killed after this long.
    pub timeout: Duration,
}

/// The outcome of a command run to completion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExecOutput {
    /// Exit code (a signal `n` is reported as `128 + n`).
    pub exit_code: i32,
    /// Captured standard output (bounded by the runtime; documented there).
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
}
