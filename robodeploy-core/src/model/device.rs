//! Devices (robots) and fleets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Architecture, DeviceId, DeviceRuntime, RosDistro, Version};

/// A machine that runs device components: a robot, an edge box.
///
/// ```
/// use robodeploy_core::model::{Device, Architecture, DeviceRuntime};
/// let d = Device::new("robot-001", Architecture::Amd64, DeviceRuntime::Preinstalled);
/// assert!(d.online);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Device {
    /// Stable id; generated when a manifest leaves it out.
    #[serde(default = "DeviceId::new_random")]
    // The default is a fresh random id, not a value a schema could name.
    #[cfg_attr(feature = "schema", schemars(transform = without_default))]
    pub id: DeviceId,
    /// Name, unique in a fleet and a registry; what manifests refer to.
    pub name: String,
    /// Its CPU architecture.
    pub architecture: Architecture,
    /// How it runs executables.
    pub runtime: DeviceRuntime,
    /// The ROS distribution installed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ros_distro: Option<RosDistro>,
    /// Whether it is reachable now (the registry keeps this up to date from health checks).
    #[serde(default = "default_true")]
    pub online: bool,
    /// How to reach its runtime: a Docker endpoint (`unix:///…`, `tcp://…`) or a directory for a
    /// process runtime. None means the engine's default for that runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// How the engine reaches the device's runtime. None: directly (a local process runtime, a
    /// Docker endpoint); `{agent: <robot>}`: through the device agent that serves it under
    /// that name (the `robodeploy-zenoh` crate's `robodeploy-agent`), for robots that connect
    /// out to the control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// Labels (site, model, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The application versions currently installed on it (application name → version): the
    /// fleet state a job's rollback returns to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub installed: BTreeMap<String, Version>,
}

fn default_true() -> bool {
    true
}

#[cfg(feature = "schema")]
fn without_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

impl Device {
    /// An online device with a fresh id and nothing else set.
    pub fn new(
        name: impl Into<String>,
        architecture: Architecture,
        runtime: DeviceRuntime,
    ) -> Self {
        Device {
            id: DeviceId::new_random(),
            name: name.into(),
            architecture,
            runtime,
            ros_distro: None,
            online: true,
            endpoint: None,
            connection: None,
            labels: BTreeMap::new(),
            installed: BTreeMap::new(),
        }
    }
}

/// How the engine reaches a device's runtime when not directly.
///
/// ```
/// use robodeploy_core::model::{Connection, Device};
/// let d: Device = serde_json::from_str(
///     r#"{"name": "r1", "architecture": "arm64v8", "runtime": "docker", "connection": {"agent": "r1"}}"#,
/// ).unwrap();
/// assert_eq!(d.connection, Some(Connection::Agent("r1".into())));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Connection {
    /// Through the device agent serving under this name (a DNS label, usually the robot's
    /// name): its keys are `robodeploy/<name>/…`.
    Agent(String),
}

impl Connection {
    /// The agent's name, for a connection through an agent.
    pub fn agent(&self) -> Option<&str> {
        match self {
            Connection::Agent(name) => Some(name),
        }
    }
}

/// A named set of robots that deployment jobs target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fleet {
    /// Name, unique in a registry.
    pub name: String,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Its robots.
    pub robots: Vec<Device>,
}
