//! The validation errors and warnings: one variant per rule, each naming the field path, the
//! offending value and the rule.

use std::fmt;
use std::time::Duration;

use super::FieldPath;
use super::limits::*;
use crate::model::{Architecture, DeviceRuntime, ErrorCode, RosDistro, Version};

/// A rule a document breaks. Every variant names where ([`ValidationError::path`]), the value,
/// and the rule in its message.
///
/// ```
/// use robodeploy_core::validate::{FieldPath, ValidationError};
/// let e = ValidationError::ReservedEnvName {
///     path: FieldPath::spec().field("env").key("AWS_REGION"),
///     name: "AWS_REGION".into(),
/// };
/// assert_eq!(e.path().to_string(), "spec.env.AWS_REGION");
/// assert!(e.to_string().contains("reserved"));
/// assert_eq!(e.error_code(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A name (package, component, executable, device, fleet, deployment, network) breaks the
    /// DNS-label rule.
    #[error(
        "{path}: name {value:?} must be 1..={MAX_NAME_LEN} characters of a-z, 0-9 and '-', starting and ending with a letter or digit"
    )]
    InvalidName {
        /// Where.
        path: FieldPath,
        /// The name.
        value: String,
    },
    /// A label key breaks the Kubernetes-style key rule.
    #[error(
        "{path}: label key {key:?} must be an optional DNS-subdomain prefix (at most {MAX_LABEL_PREFIX_LEN} characters) and '/', then 1..={MAX_LABEL_NAME_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit"
    )]
    InvalidLabelKey {
        /// Where.
        path: FieldPath,
        /// The key.
        key: String,
    },
    /// A label value breaks the Kubernetes-style value rule.
    #[error(
        "{path}: label value {value:?} must be empty or 1..={MAX_LABEL_NAME_LEN} characters of A-Z, a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit"
    )]
    InvalidLabelValue {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A tag key breaks RoboMaker's tag rule or uses the reserved `aws:` prefix.
    #[error(
        "{path}: tag key {key:?} must be 1..={MAX_TAG_KEY_LEN} characters of letters, digits, spaces and _ . : / = + - @, not starting with \"aws:\""
    )]
    InvalidTagKey {
        /// Where.
        path: FieldPath,
        /// The key.
        key: String,
    },
    /// A tag value breaks RoboMaker's tag rule.
    #[error(
        "{path}: tag value {value:?} must be at most {MAX_TAG_VALUE_LEN} characters of letters, digits, spaces and _ . : / = + - @"
    )]
    InvalidTagValue {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A list or map holds more entries than its documented bound.
    #[error("{path}: {count} entries, at most {max} allowed")]
    TooMany {
        /// Where.
        path: FieldPath,
        /// How many there are.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A list or a string that must not be empty is.
    #[error("{path}: must not be empty")]
    Empty {
        /// Where.
        path: FieldPath,
    },
    /// An environment variable name is not `[A-Z_][A-Z0-9_]*`.
    #[error(
        "{path}: environment variable name {name:?} must start with A-Z or '_' and consist of A-Z, 0-9 and '_'"
    )]
    InvalidEnvName {
        /// Where.
        path: FieldPath,
        /// The name.
        name: String,
    },
    /// An environment variable name starts with the reserved `AWS` prefix.
    #[error(
        "{path}: environment variable name {name:?} is reserved: names beginning with \"AWS\" are"
    )]
    ReservedEnvName {
        /// Where.
        path: FieldPath,
        /// The name.
        name: String,
    },
    /// An environment variable value is empty or longer than 1024 characters.
    #[error(
        "{path}: environment variable value is {length} characters long; it must be 1..={MAX_ENV_VALUE_LEN}"
    )]
    EnvValueLength {
        /// Where.
        path: FieldPath,
        /// Its length in characters.
        length: usize,
    },
    /// `$LATEST` where a fixed version is needed.
    #[error("{path}: \"$LATEST\" is not accepted; give a numbered version such as \"1.2.0\"")]
    LatestVersion {
        /// Where.
        path: FieldPath,
    },
    /// A version that is not numbered.
    #[error(
        "{path}: version {version:?} is not numbered: expected an optional 'v', digits and dots, and an optional -pre or +build suffix (at most 255 characters)"
    )]
    VersionNotNumbered {
        /// Where.
        path: FieldPath,
        /// The version.
        version: Version,
    },
    /// A launch config package name or launch file outside RoboMaker's character set or length.
    #[error(
        "{path}: {value:?} must be 1..={MAX_ROBOMAKER_NAME_LEN} characters of a-z, A-Z, 0-9, '_', '.' and '-'"
    )]
    InvalidRoboMakerName {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A script or file path (pre/post-launch file, download condition file) is empty, too
    /// long, or holds control characters.
    #[error(
        "{path}: file {value:?} must be 1..={MAX_FILE_PATH_LEN} characters without control characters"
    )]
    InvalidFilePath {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A path that must be absolute (mount target, working directory, volume mount path) is not.
    #[error(
        "{path}: {value:?} must be an absolute path (starting with '/', at most {MAX_FILE_PATH_LEN} characters, no control characters)"
    )]
    NotAbsolutePath {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A percentage outside 1..=100.
    #[error("{path}: {value} % is not a percentage from 1 to 100")]
    PercentageOutOfRange {
        /// Where.
        path: FieldPath,
        /// The value.
        value: u8,
    },
    /// A duration outside its range.
    #[error("{path}: {} is not between {} and {}", Span(*value), Span(*min), Span(*max))]
    DurationOutOfRange {
        /// Where.
        path: FieldPath,
        /// The value.
        value: Duration,
        /// The shortest accepted.
        min: Duration,
        /// The longest accepted.
        max: Duration,
    },
    /// A wave of zero robots.
    #[error("{path}: a wave must cover at least one robot")]
    EmptyWave {
        /// Where.
        path: FieldPath,
    },
    /// A download condition digest that is not `sha256:` and 64 lower-case hex digits.
    #[error("{path}: digest {value:?} must be \"sha256:\" followed by 64 lower-case hex digits")]
    InvalidDigest {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// A ROS distro name that is not 1..=32 characters of a-z, 0-9, '_' and '-' starting with a
    /// letter.
    #[error(
        "{path}: ROS distro {value:?} must be 1..={MAX_ROS_DISTRO_LEN} characters of a-z, 0-9, '_' and '-', starting with a letter"
    )]
    InvalidRosDistro {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// An image reference that is empty, too long or holds whitespace or control characters.
    #[error(
        "{path}: image {value:?} must be 1..={MAX_IMAGE_LEN} characters without whitespace or control characters"
    )]
    InvalidImage {
        /// Where.
        path: FieldPath,
        /// The value.
        value: String,
    },
    /// An executable of a docker or cloud component without an image.
    #[error("{path}: an executable of a {runtime} component needs an image")]
    MissingImage {
        /// Where.
        path: FieldPath,
        /// `docker` or `cloud`.
        runtime: &'static str,
    },
    /// A mount of the host's root filesystem or a container engine's socket, refused by an
    /// engine whose configuration does not allow host-takeover mounts (the validator alone
    /// only warns: [`ValidationWarning::HostTakeoverMount`](super::ValidationWarning)).
    #[error(
        "{path}: mounting {mount:?} ({what}) is refused: it gives the executable control of the host, and this engine's configuration does not allow host-takeover mounts (allow_host_takeover_mounts)"
    )]
    HostTakeoverMountRefused {
        /// Where (the mount's `source`).
        path: FieldPath,
        /// The mount's source as written.
        mount: String,
        /// What it is: "the host's root filesystem" or "a container engine's socket".
        what: &'static str,
    },
    /// A CPU limit that is not a positive number of CPUs or millicores within bounds.
    #[error("{path}: CPU limit {value:?} must be {rule}")]
    InvalidCpuLimit {
        /// Where (`limits.cpu`).
        path: FieldPath,
        /// The value as written.
        value: String,
        /// The rule ([`CPU_RULE`](crate::model::CPU_RULE)).
        rule: &'static str,
    },
    /// A memory limit that is not a whole number of bytes within bounds.
    #[error("{path}: memory limit {value:?} must be {rule}")]
    InvalidMemoryLimit {
        /// Where (`limits.memory`).
        path: FieldPath,
        /// The value as written.
        value: String,
        /// The rule ([`MEMORY_RULE`](crate::model::MEMORY_RULE)).
        rule: &'static str,
    },
    /// A device mapping whose host path is not a device under `/dev` (or whose container path
    /// is not absolute).
    #[error("{path}: device path {value:?} must be {rule}")]
    InvalidDevicePath {
        /// Where (`limits.devices[i]`, `.host` or `.container`).
        path: FieldPath,
        /// The path as written.
        value: String,
        /// The rule.
        rule: &'static str,
    },
    /// A capability that is not a Linux capability name.
    #[error(
        "{path}: capability {value:?} is not a Linux capability name (upper case, e.g. SYS_NICE or CAP_NET_ADMIN; for every capability use privileged)"
    )]
    UnknownCapability {
        /// Where (`limits.capabilities[i]`).
        path: FieldPath,
        /// The name as written.
        value: String,
    },
    /// A user that is not a name, a uid or uid:gid.
    #[error("{path}: user {value:?} must be {rule}")]
    InvalidUser {
        /// Where (`limits.user`).
        path: FieldPath,
        /// The value as written.
        value: String,
        /// The rule ([`USER_RULE`](crate::model::USER_RULE)).
        rule: &'static str,
    },
    /// A setting only a container can apply, on an executable of a preinstalled component (a
    /// process): device mappings, capabilities, a read-only root filesystem, privileged.
    #[error(
        "{path}: {field} cannot be applied to a process (an executable of a preinstalled component); only containers (docker and cloud components) apply it"
    )]
    ContainerOnlyLimit {
        /// Where (`limits.<field>`).
        path: FieldPath,
        /// The field's manifest name.
        field: &'static str,
    },
    /// A privileged executable, refused by an engine whose configuration does not allow
    /// privileged containers (the validator alone only warns:
    /// [`ValidationWarning::Privileged`](super::ValidationWarning)).
    #[error(
        "{path}: privileged: true is refused: a privileged container has every device and capability of its host, and this engine's configuration does not allow privileged executables (allow_privileged)"
    )]
    PrivilegedRefused {
        /// Where (`limits.privileged`).
        path: FieldPath,
    },
    /// An executable of a preinstalled component with an image.
    #[error(
        "{path}: image {image:?} given for an executable of a preinstalled component, which runs a command"
    )]
    ImageOnPreinstalled {
        /// Where.
        path: FieldPath,
        /// The image.
        image: String,
    },
    /// An executable of a preinstalled component without a command (or with an empty program).
    #[error(
        "{path}: an executable of a preinstalled component needs a command whose first word is a program"
    )]
    MissingCommand {
        /// Where.
        path: FieldPath,
    },
    /// Port 0.
    #[error("{path}: port 0 is not a port")]
    InvalidPort {
        /// Where.
        path: FieldPath,
    },
    /// A name, id or entry that must be unique appears twice.
    #[error("{path}: {value:?} is already used at {first}")]
    Duplicate {
        /// Where the second one is.
        path: FieldPath,
        /// The repeated value.
        value: String,
        /// Where the first one is (`document N: …` when in another document).
        first: String,
    },
    /// A deployment names a package version nobody knows.
    #[error("{path}: package {package:?} version {version} is not known")]
    UnknownPackage {
        /// Where.
        path: FieldPath,
        /// The package name.
        package: String,
        /// The version.
        version: Version,
    },
    /// A job names a fleet nobody knows.
    #[error("{path}: fleet {fleet:?} is not known")]
    UnknownFleet {
        /// Where.
        path: FieldPath,
        /// The fleet.
        fleet: String,
    },
    /// A deployment names a device nobody knows.
    #[error("{path}: device {device:?} is not known")]
    UnknownDevice {
        /// Where.
        path: FieldPath,
        /// The device.
        device: String,
    },
    /// A deployment names a component its package does not have.
    #[error("{path}: package {package:?} has no component {component:?}")]
    UnknownComponent {
        /// Where.
        path: FieldPath,
        /// The component.
        component: String,
        /// The package.
        package: String,
    },
    /// A dependency or volume deployment nobody knows.
    #[error("{path}: deployment {deployment:?} is not known")]
    UnknownDeployment {
        /// Where.
        path: FieldPath,
        /// The deployment.
        deployment: String,
    },
    /// A device component with no device chosen for it.
    #[error("{path}: component {component:?} runs on a device; choose one for it")]
    MissingDevice {
        /// Where (the deployment's `devices`).
        path: FieldPath,
        /// The component.
        component: String,
    },
    /// A device chosen for a cloud component.
    #[error("{path}: component {component:?} runs in the cloud; it takes no device")]
    DeviceForCloudComponent {
        /// Where.
        path: FieldPath,
        /// The component.
        component: String,
    },
    /// The chosen device's architecture is not the component's (DEP_E162).
    #[error(
        "{path}: device {device:?} is {device_architecture} but the component is built for {component_architecture}"
    )]
    ArchitectureMismatch {
        /// Where.
        path: FieldPath,
        /// The device.
        device: String,
        /// The device's architecture.
        device_architecture: Architecture,
        /// The component's.
        component_architecture: Architecture,
    },
    /// The chosen device's runtime is not the component's.
    #[error(
        "{path}: device {device:?} runs {device_runtime} executables but the component needs {component_runtime}"
    )]
    RuntimeMismatch {
        /// Where.
        path: FieldPath,
        /// The device.
        device: String,
        /// The device's runtime.
        device_runtime: DeviceRuntime,
        /// The component's.
        component_runtime: DeviceRuntime,
    },
    /// The chosen device's ROS distro is not the component's (DEP_E162).
    #[error(
        "{path}: device {device:?} has ROS distro {} but the component needs {component_distro}",
        device_distro.as_ref().map_or("none".to_owned(), |d| format!("{d:?}"))
    )]
    RosDistroMismatch {
        /// Where.
        path: FieldPath,
        /// The device.
        device: String,
        /// The device's distro, if it has ROS.
        device_distro: Option<RosDistro>,
        /// The component's.
        component_distro: RosDistro,
    },
    /// A package with a ROS component deployed without a routed network.
    #[error(
        "{path}: component {component:?} is a ROS component; the deployment needs a routed network"
    )]
    RoutedNetworkRequired {
        /// Where (the deployment's `routedNetwork`).
        path: FieldPath,
        /// The first ROS component.
        component: String,
    },
    /// A package with a cloud component deployed on a device routed network.
    #[error(
        "{path}: package has the cloud component {component:?}; only a cloud routed network may be used, not {network:?}"
    )]
    CloudRoutedNetworkRequired {
        /// Where.
        path: FieldPath,
        /// The network.
        network: String,
        /// The first cloud component.
        component: String,
    },
    /// The routed network a deployment names is no live deployment (checked by the engine at
    /// deploy time: a routed network is provided by a deployment of that name). The seed: "If
    /// there are no Routed Network successfully running, you would not be able to deploy the
    /// package. Please create a Routed Network first."
    #[error(
        "{path}: routed network {network:?} does not exist; deploy it first (a deployment named {network:?} that is Running)"
    )]
    RoutedNetworkNotFound {
        /// Where (`spec.routedNetwork.name`).
        path: FieldPath,
        /// The network.
        network: String,
    },
    /// The routed network a deployment names exists but is not running (checked by the engine
    /// at deploy time).
    #[error(
        "{path}: routed network {network:?} is not running (phase {phase}, status {status}); only a running routed network can be joined"
    )]
    RoutedNetworkNotRunning {
        /// Where (`spec.routedNetwork.name`).
        path: FieldPath,
        /// The network.
        network: String,
        /// The network deployment's phase.
        phase: crate::model::Phase,
        /// The network deployment's aggregate status.
        status: crate::model::StatusKind,
    },
    /// A volume's deployment exists but is not running (checked by the engine at deploy time).
    /// The seed: "Ensure that a running volume deployment is available before you add one."
    #[error(
        "{path}: volume deployment {deployment:?} is not running (phase {phase}, status {status}); only a running volume deployment can be attached"
    )]
    VolumeDeploymentNotRunning {
        /// Where (`spec.volumes[i].deployment`).
        path: FieldPath,
        /// The volume deployment.
        deployment: String,
        /// Its phase.
        phase: crate::model::Phase,
        /// Its aggregate status.
        status: crate::model::StatusKind,
    },
    /// A deployment that depends on (or mounts a volume of) itself.
    #[error("{path}: deployment {deployment:?} cannot depend on itself")]
    SelfDependency {
        /// Where.
        path: FieldPath,
        /// The deployment.
        deployment: String,
    },
    /// Deployments that depend on each other in a circle.
    #[error("{path}: dependency cycle {}", cycle.join(" -> "))]
    DependencyCycle {
        /// Where the cycle is entered.
        path: FieldPath,
        /// The deployments, first repeated at the end: `a -> b -> a`.
        cycle: Vec<String>,
    },
}

impl ValidationError {
    /// Where in the document the problem is.
    pub fn path(&self) -> &FieldPath {
        use ValidationError::*;
        match self {
            InvalidName { path, .. }
            | InvalidLabelKey { path, .. }
            | InvalidLabelValue { path, .. }
            | InvalidTagKey { path, .. }
            | InvalidTagValue { path, .. }
            | TooMany { path, .. }
            | Empty { path }
            | InvalidEnvName { path, .. }
            | ReservedEnvName { path, .. }
            | EnvValueLength { path, .. }
            | LatestVersion { path }
            | VersionNotNumbered { path, .. }
            | InvalidRoboMakerName { path, .. }
            | InvalidFilePath { path, .. }
            | NotAbsolutePath { path, .. }
            | PercentageOutOfRange { path, .. }
            | DurationOutOfRange { path, .. }
            | EmptyWave { path }
            | InvalidDigest { path, .. }
            | InvalidRosDistro { path, .. }
            | InvalidImage { path, .. }
            | MissingImage { path, .. }
            | ImageOnPreinstalled { path, .. }
            | HostTakeoverMountRefused { path, .. }
            | InvalidCpuLimit { path, .. }
            | InvalidMemoryLimit { path, .. }
            | InvalidDevicePath { path, .. }
            | UnknownCapability { path, .. }
            | InvalidUser { path, .. }
            | ContainerOnlyLimit { path, .. }
            | PrivilegedRefused { path }
            | MissingCommand { path }
            | InvalidPort { path }
            | Duplicate { path, .. }
            | UnknownPackage { path, .. }
            | UnknownFleet { path, .. }
            | UnknownDevice { path, .. }
            | UnknownComponent { path, .. }
            | UnknownDeployment { path, .. }
            | MissingDevice { path, .. }
            | DeviceForCloudComponent { path, .. }
            | ArchitectureMismatch { path, .. }
            | RuntimeMismatch { path, .. }
            | RosDistroMismatch { path, .. }
            | RoutedNetworkRequired { path, .. }
            | CloudRoutedNetworkRequired { path, .. }
            | RoutedNetworkNotFound { path, .. }
            | RoutedNetworkNotRunning { path, .. }
            | VolumeDeploymentNotRunning { path, .. }
            | SelfDependency { path, .. }
            | DependencyCycle { path, .. } => path,
        }
    }

    /// The seed's error code a deployment shows when this problem reaches it, where one applies:
    /// DEP_E162 ("inconsistent values of ROS distro and CPU architecture variables for the device
    /// and package") for [`ValidationError::ArchitectureMismatch`] and
    /// [`ValidationError::RosDistroMismatch`]. A runtime mismatch has none: the seed filters the
    /// device list by runtime, so it never reaches a deployment.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            ValidationError::ArchitectureMismatch { .. }
            | ValidationError::RosDistroMismatch { .. } => Some(ErrorCode::Validation),
            _ => None,
        }
    }
}

/// A duration as a friendly span (`5h`, `1m 30s`) in messages.
struct Span(Duration);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::SignedDuration::try_from(self.0) {
            Ok(sd) => write!(f, "{sd:#}"),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}
