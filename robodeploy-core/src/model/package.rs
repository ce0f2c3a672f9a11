//! Packages: a numbered version of a set of components, each with executables.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Limits, RestartPolicy};

/// The version string that means "whatever is newest"; refused wherever a deployment or job needs
/// a fixed version, as RoboMaker refuses it for deployment jobs.
pub const LATEST: &str = "$LATEST";

/// A package version as written by its author (`"1"`, `"1.2.0"`, `"v2.0.1-rc1"`).
///
/// Validation requires it to be *numbered*: an optional `v`, then a digit, then digits, dots and
/// an optional `-pre`/`+build` suffix. `$LATEST` is never accepted.
///
/// ```
/// use robodeploy_core::model::Version;
/// assert!(Version::new("1.2.0").is_numbered());
/// assert!(!Version::new("$LATEST").is_numbered());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Version(String);

impl Version {
    /// Wraps a version string as written; [`Version::is_numbered`] says whether it is acceptable.
    pub fn new(v: impl Into<String>) -> Self {
        Version(v.into())
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `$LATEST`.
    pub fn is_latest(&self) -> bool {
        self.0 == LATEST
    }

    /// Whether the version is numbered: `v?DIGIT[0-9.]*([-+][0-9A-Za-z.-]+)?`, at most 255 bytes.
    pub fn is_numbered(&self) -> bool {
        let s = self.0.strip_prefix('v').unwrap_or(&self.0);
        if self.0.len() > 255 || !s.starts_with(|c: char| c.is_ascii_digit()) {
            return false;
        }
        let (core, suffix) = match s.find(['-', '+']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let core_ok = core.chars().all(|c| c.is_ascii_digit() || c == '.')
            && !core.ends_with('.')
            && !core.contains("..");
        let suffix_ok = suffix.is_none_or(|x| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        });
        core_ok && suffix_ok
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CPU architecture a component is built for and a device runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Architecture {
    /// x86-64.
    Amd64,
    /// 32-bit ARM v7 (Raspberry Pi 2/3 class).
    Arm32v7,
    /// 64-bit ARM v8 (Jetson, Raspberry Pi 4/5 class).
    Arm64v8,
}

impl Architecture {
    /// The architecture of the machine this code runs on, when it is one robodeploy knows.
    pub fn host() -> Option<Self> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Architecture::Amd64),
            "aarch64" => Some(Architecture::Arm64v8),
            "arm" => Some(Architecture::Arm32v7),
            _ => None,
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Architecture::Amd64 => "amd64",
            Architecture::Arm32v7 => "arm32v7",
            Architecture::Arm64v8 => "arm64v8",
        })
    }
}

/// How a device runs executables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DeviceRuntime {
    /// Executables are containers on the device's Docker engine.
    Docker,
    /// Executables are programs already installed on the device, run as OS processes.
    Preinstalled,
}

impl fmt::Display for DeviceRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceRuntime::Docker => "docker",
            DeviceRuntime::Preinstalled => "preinstalled",
        })
    }
}

/// A ROS distribution.
///
/// Kept as a lower-case name (`noetic`, `humble`, `jazzy`, …) rather than a closed enum: new
/// distributions appear every year and the rule that matters is only that device and package agree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct RosDistro(pub String);

impl fmt::Display for RosDistro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ROS settings of a component (`Is ROS` in the seed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ros {
    /// The distribution the component is built for; must match the device's.
    pub distro: RosDistro,
}

/// Where a component runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Placement {
    /// In the cloud (a Docker engine robodeploy is given for cloud components). Cloud components
    /// always restart, whatever the restart policy says.
    Cloud,
    /// On a device chosen at deployment time, which must match this architecture and runtime.
    Device {
        /// The device runtime the component needs.
        runtime: DeviceRuntime,
        /// The CPU architecture the component's executables are built for.
        architecture: Architecture,
    },
}

impl Placement {
    /// Whether the component runs on a device.
    pub fn is_device(&self) -> bool {
        matches!(self, Placement::Device { .. })
    }
}

/// A volume mounted into an executable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mount {
    /// A named volume (Docker) or a host path (binds, processes); absolute paths are binds.
    pub source: String,
    /// Where it appears inside the executable (a container path; ignored by process runtimes,
    /// which see `source` directly).
    pub target: String,
    /// Mounted read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// A port an executable exposes (cloud and Docker executables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Port {
    /// The port inside the executable.
    pub container: u16,
    /// The port published on the host; none means not published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<u16>,
}

/// One program of a component: a container image on Docker, a command on a preinstalled device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Executable {
    /// Name, unique within its component.
    pub name: String,
    /// Container image (required on Docker and in the cloud, refused on preinstalled devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// argv: the program and its arguments (required on preinstalled devices; on Docker it
    /// overrides the image's command). Executed as given, never through a shell, unless
    /// [`Executable::shell`] is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Run `command` joined by spaces through `/bin/sh -c` (explicit opt-in).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shell: bool,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Ports exposed (Docker and cloud).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Volumes mounted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// CPU and memory limits, devices, host network, user, read-only root, capabilities,
    /// privileged ([`Limits`]); nothing set by default.
    #[serde(default, skip_serializing_if = "Limits::is_empty")]
    pub limits: Limits,
}

/// A part of a package that runs in one place (the cloud or one device).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// Name, unique within its package.
    pub name: String,
    /// Cloud or device (with its runtime and architecture).
    pub placement: Placement,
    /// ROS settings, when the component is a ROS component (`Is ROS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ros: Option<Ros>,
    /// The restart policy for a device component, as written (`None`: not set); a deployment
    /// may override it. Not set and not overridden, a device component does not restart
    /// ([`RestartPolicy::Never`], the seed's default: "Unlike deployments running on the cloud,
    /// which automatically restart if stopped due to an error, deployments that are running on
    /// devices do not automatically restart if exited due to an error or when devices are
    /// rebooted."). Ignored for cloud components, which always restart. See
    /// [`Component::effective_restart_policy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// Marks a component shared between deployments on one device (the ROS master): the first
    /// deployment's restart policy stays in force for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// The executables; at least one.
    pub executables: Vec<Executable>,
}

impl Component {
    /// The policy its executables run under, given a deployment's override (`None`: none):
    /// [`RestartPolicy::Always`] in the cloud; on a device the override, else its own policy,
    /// else the seed's default, [`RestartPolicy::Never`].
    ///
    /// ```
    /// use robodeploy_core::model::{Component, RestartPolicy};
    /// let c: Component = serde_json::from_str(r#"{"name": "main",
    ///     "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
    ///     "executables": [{"name": "main", "command": ["/usr/bin/app"]}]}"#).unwrap();
    /// assert_eq!(c.restart_policy, None);
    /// assert_eq!(c.effective_restart_policy(None), RestartPolicy::Never);
    /// assert_eq!(c.effective_restart_policy(Some(RestartPolicy::Always)), RestartPolicy::Always);
    /// // What the user wrote round-trips: no policy stays no policy.
    /// assert!(!serde_json::to_string(&c).unwrap().contains("restartPolicy"));
    /// ```
    pub fn effective_restart_policy(
        &self,
        deployment_override: Option<RestartPolicy>,
    ) -> RestartPolicy {
        match self.placement {
            Placement::Cloud => RestartPolicy::Always,
            _ => deployment_override
                .or(self.restart_policy)
                .unwrap_or_default(),
        }
    }
}

/// A numbered version of a set of components.
///
/// ```
/// use robodeploy_core::model::Package;
/// let yaml = r#"
/// name: hello
/// version: "1.0.0"
/// components:
///   - name: main
///     placement: {kind: device, runtime: preinstalled, architecture: amd64}
///     executables:
///       - name: hello
///         command: ["sleep", "60"]
/// "#;
/// let p: Package = serde_saphyr::from_str(yaml).unwrap();
/// assert_eq!(p.components[0].executables[0].command[0], "sleep");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Package {
    /// Name, unique in a catalog.
    pub name: String,
    /// The numbered version; a (name, version) pair is immutable once added to a catalog.
    pub version: Version,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels for users' own bookkeeping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The components; at least one.
    pub components: Vec<Component>,
}

impl Package {
    /// The component with this name.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }
}
