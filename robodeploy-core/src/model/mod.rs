//! The typed model: packages, devices, fleets, deployment and job requests, and the status types
//! of the seed documents.
//!
//! Every type reads and writes JSON and YAML through serde with the same field names as the
//! manifests (`camelCase`); types read from user input refuse unknown fields.

mod builders;
mod deployment;
mod device;
mod error_code;
mod ids;
mod job;
mod job_status;
mod limits;
mod package;
mod percent;
mod restart;
mod status;

pub use deployment::{DeploymentRequest, NetworkPlacement, RoutedNetwork, VolumeAttachment};
pub use device::{Connection, Device, Fleet};
pub use error_code::{ErrorCode, UnknownErrorCode};
pub use ids::{DeploymentId, DeviceId, JobId};
pub use job::{
    DEFAULT_RETENTION, DEFAULT_ROBOT_TIMEOUT, DeploymentConfig, DeploymentJobRequest,
    DownloadCondition, LaunchConfig, MAX_ROBOT_TIMEOUT, MIN_ROBOT_TIMEOUT, Wave, WaveSize,
};
pub use job_status::{FailureCode, JobStatus, ProgressStep, RobotStatus};
pub use limits::{
    CAPABILITIES, CPU_RULE, DeviceMapping, Limits, MAX_CPU_MILLIS, MAX_MEMORY_BYTES, MEMORY_RULE,
    MIN_MEMORY_BYTES, Quantity, USER_RULE, UserSpec, capability_name,
};
pub use package::{
    Architecture, Component, DeviceRuntime, Executable, LATEST, Mount, Package, Placement, Port,
    Ros, RosDistro, Version,
};
pub use restart::RestartPolicy;
pub use status::{ErrorReport, ExecutableStatus, Phase, Reason, StatusKind};
