//! Deployment requests: what a user asks for when deploying a package.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RestartPolicy, Version};

/// Where the routed network of a ROS deployment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

impl DeploymentRequest {
    /// The deployments this one needs before it is created or while it starts: its
    /// dependencies (`dependsOn`, which may still be starting), its volumes' deployments and its
    /// routed network's deployment (which must be Running when it is created). A tool applying
    /// many deployments deploys these first, and waits for the volume and network ones to run.
    ///
    /// ```
    /// use robodeploy_core::model::{DeploymentRequest, NetworkPlacement, RoutedNetwork};
    /// let mut req = DeploymentRequest::new("listener", "listener", "1");
    /// req.depends_on = vec!["talker".into()];
    /// req.routed_network = Some(RoutedNetwork { name: "lab-net".into(), placement: NetworkPlacement::Device });
    /// assert_eq!(req.prerequisites().collect::<Vec<_>>(), ["talker", "lab-net"]);
    /// assert_eq!(req.must_be_running().collect::<Vec<_>>(), ["lab-net"]);
    /// ```
    pub fn prerequisites(&self) -> impl Iterator<Item = &str> {
        self.depends_on
            .iter()
            .map(String::as_str)
            .chain(self.must_be_running())
    }

    /// The deployments that must be Running when this one is created: its volumes'
    /// deployments and its routed network's.
    pub fn must_be_running(&self) -> impl Iterator<Item = &str> {
        self.volumes
            .iter()
            .map(|v| v.deployment.as_str())
            .chain(self.routed_network.iter().map(|n| n.name.as_str()))
    }
}
