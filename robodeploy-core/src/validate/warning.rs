//! Warnings: legal, but probably not what was meant.

use super::FieldPath;

/// Something legal but probably not what was meant.
///
/// ```
/// use robodeploy_core::validate::{FieldPath, ValidationWarning};
/// let w = ValidationWarning::ThresholdBelowConcurrency {
///     path: FieldPath::spec().field("deploymentConfig").field("failureThresholdPercentage"),
///     threshold: 5,
///     concurrency: 10,
/// };
/// assert!(w.to_string().contains("exceed it by up to the concurrency"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationWarning {
    /// The failure threshold is below the concurrency: robots already in flight finish when the
    /// threshold is reached, so failures can exceed it by up to the concurrency (the seed's own
    /// warning).
    #[error(
        "{path}: failure threshold {threshold} % is below the concurrency {concurrency} %: the job halts at the threshold but robots already in flight finish, so failures can exceed it by up to the concurrency"
    )]
    ThresholdBelowConcurrency {
        /// Where.
        path: FieldPath,
        /// Failure threshold percentage.
        threshold: u8,
        /// Concurrent deployment percentage.
        concurrency: u8,
    },
    /// A mount of the host's root filesystem or of a container engine's socket: whatever runs
    /// with it controls the host. Engines refuse it unless their configuration allows it
    /// (`EngineConfig::allow_host_takeover_mounts`).
    #[error(
        "{path}: mounting {mount:?} ({what}) gives the executable control of the host; an engine refuses it unless its configuration allows host-takeover mounts"
    )]
    HostTakeoverMount {
        /// Where (the mount's `source`).
        path: FieldPath,
        /// The mount's source as written.
        mount: String,
        /// What it is: "the host's root filesystem" or "a container engine's socket".
        what: &'static str,
    },
    /// A privileged executable: it has every device and capability of its host. Engines refuse
    /// it unless their configuration allows it (`EngineConfig::allow_privileged`).
    #[error(
        "{path}: privileged: true gives the container every device and capability of its host; an engine refuses it unless its configuration allows privileged executables"
    )]
    Privileged {
        /// Where (`limits.privileged`).
        path: FieldPath,
    },
    /// The chosen device is offline now: the deployment fails with DEP_E151 unless it comes back.
    #[error("{path}: device {device:?} is offline")]
    DeviceOffline {
        /// Where.
        path: FieldPath,
        /// The device.
        device: String,
    },
}

impl ValidationWarning {
    /// Where in the document the problem is.
    pub fn path(&self) -> &FieldPath {
        match self {
            ValidationWarning::ThresholdBelowConcurrency { path, .. }
            | ValidationWarning::HostTakeoverMount { path, .. }
            | ValidationWarning::Privileged { path }
            | ValidationWarning::DeviceOffline { path, .. } => path,
        }
    }
}
