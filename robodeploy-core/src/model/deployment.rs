//! Deployment requests: what a user asks for when deploying a package.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RestartPolicy, Version};

/// Where the routed network of a ROS deployment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NetworkPlacement {
    /// A cloud routed network (the only kind a package with a cloud component may use).
    Cloud,
    /// A routed network on a device.
    Device,
}

/// The routed network a deployment with ROS components joins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutedNetwork {
    /// Network name (a Docker network for Docker runtimes).
    pub name: String,
    /// Cloud or device.
    pub placement: NetworkPlacement,
}

/// A volume a deployment attaches: the volume deployment that provides it, mounted into one
/// component. The volume deployment must be running before it is attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeAttachment {
    /// Name of the deployment that provides the volume.
    pub deployment: String,
    /// The component it is mounted into.
    pub component: String,
    /// The mount path inside that component's executables.
    pub mount_path: String,
}

/// A request to deploy one version of a package.
///
/// ```
/// use robodeploy_core::model::DeploymentRequest;
/// let req: DeploymentRequest = serde_json::from_str(r#"{
///     "name": "talker", "package": "talker-listener", "version": "1.0.0",
///     "devices": {"talker": "robot-001"}
/// }"#).unwrap();
/// assert_eq!(req.devices["talker"], "robot-001");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentRequest {
    /// Deployment name, unique among live deployments.
    pub name: String,
    /// Package name.
    pub package: String,
    /// Numbered package version (`$LATEST` refused).
    pub version: Version,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Device name for every device component (component name → device name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub devices: BTreeMap<String, String>,
    /// Names of deployments this one depends on: they must be Running before it succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Volumes attached from volume deployments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeAttachment>,
    /// Routed network; required when a component is a ROS component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed_network: Option<RoutedNetwork>,
    /// Overrides the package's restart policy for every device component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// Extra environment for every executable (same rules as a job's environment).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}
