//! A deployment's phase and its executables' statuses, as the seed names them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// Where a deployment is in its lifecycle.
///
/// | phase | meaning |
/// |---|---|
/// | InProgress | request accepted, deployment process started |
/// | Provisioning | images pulled / instances created for each executable |
/// | Succeeded | every executable of every component started |
/// | FailedToStart | an error happened before Succeeded |
/// | PartiallyDeprovisioned | deprovisioned, at least one component could not be stopped |
/// | DeploymentStopped | deprovisioned, every component stopped |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Phase {
    /// Request accepted; the deployment process started.
    InProgress,
    /// Images being pulled and instances created.
    Provisioning,
    /// Every executable of every component started.
    Succeeded,
    /// An error happened before Succeeded.
    FailedToStart,
    /// Deprovisioned, but at least one component could not be stopped.
    PartiallyDeprovisioned,
    /// Deprovisioned; every component stopped.
    DeploymentStopped,
}

impl Phase {
    /// Every phase, in the seed's order.
    pub const ALL: [Phase; 6] = [
        Phase::InProgress,
        Phase::Provisioning,
        Phase::Succeeded,
        Phase::FailedToStart,
        Phase::PartiallyDeprovisioned,
        Phase::DeploymentStopped,
    ];

    /// Phases no event leaves.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Phase::DeploymentStopped | Phase::PartiallyDeprovisioned
        )
    }

    /// The seed's display name ("In progress", "Failed to start", …).
    pub fn display_name(self) -> &'static str {
        match self {
            Phase::InProgress => "In progress",
            Phase::Provisioning => "Provisioning",
            Phase::Succeeded => "Succeeded",
            Phase::FailedToStart => "Failed to start",
            Phase::PartiallyDeprovisioned => "Partially deprovisioned",
            Phase::DeploymentStopped => "Deployment stopped",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// The cause of a Pending or Error status (the seed's Reason field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Reason {
    /// The image is being pulled or the binary located.
    Preparing,
    /// The instance is being created and started.
    Starting,
    /// Waiting for a restart after an exit; `attempt` counts from 1.
    BackingOff {
        /// Which restart this will be.
        attempt: u32,
        /// The delay before it, in milliseconds.
        delay_ms: u64,
    },
    /// Waiting for a dependency to be Running.
    WaitingForDependency {
        /// The dependency's name.
        dependency: String,
    },
    /// Exited before the minimum uptime.
    ExitedEarly {
        /// Exit code (a signal `n` shows as `128 + n`).
        exit_code: i32,
    },
    /// Exited with a non-zero code after the minimum uptime.
    Failed {
        /// Exit code (a signal `n` shows as `128 + n`).
        exit_code: i32,
    },
    /// Exited with code zero and the policy does not restart it.
    Completed,
    /// Early exits repeated past the crash-loop threshold.
    CrashLoop {
        /// Early exits counted in the window.
        early_exits: u32,
    },
    /// The image or binary does not exist (not retried).
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The image could not be pulled.
    PullFailed {
        /// What the runtime said.
        message: String,
    },
    /// Device and package disagree (architecture, ROS distro) or images are missing.
    Validation {
        /// What disagrees.
        message: String,
    },
    /// The device is offline or unreachable.
    DeviceOffline,
    /// Stopped by hand: not restarted until the device reboots.
    StoppedManually,
    /// A dependency is in error.
    DependencyInError {
        /// The dependency's name.
        dependency: String,
    },
    /// The runtime failed internally.
    Internal {
        /// What the runtime said.
        message: String,
    },
    /// The device rebooted and the policy does not start the executable again.
    DeviceRebooted,
    /// Being stopped by a deprovision.
    Stopping,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Preparing => f.write_str("pulling image or locating binary"),
            Reason::Starting => f.write_str("creating and starting"),
            Reason::BackingOff { attempt, delay_ms } => {
                write!(f, "restart {attempt} in {delay_ms} ms")
            }
            Reason::WaitingForDependency { dependency } => {
                write!(f, "waiting for dependency {dependency} to be Running")
            }
            Reason::ExitedEarly { exit_code } => {
                write!(f, "exited too early with code {exit_code}")
            }
            Reason::Failed { exit_code } => write!(f, "failed with exit code {exit_code}"),
            Reason::Completed => f.write_str("completed with exit code 0"),
            Reason::CrashLoop { early_exits } => {
                write!(f, "crash loop: {early_exits} early exits")
            }
            Reason::NotFound { what } => write!(f, "not found: {what}"),
            Reason::PullFailed { message } => write!(f, "pull failed: {message}"),
            Reason::Validation { message } => write!(f, "validation: {message}"),
            Reason::DeviceOffline => f.write_str("device offline or unreachable"),
            Reason::StoppedManually => f.write_str("stopped manually"),
            Reason::DependencyInError { dependency } => {
                write!(f, "dependency {dependency} is in error")
            }
            Reason::Internal { message } => write!(f, "internal error: {message}"),
            Reason::DeviceRebooted => f.write_str("device rebooted; not restarted by the policy"),
            Reason::Stopping => f.write_str("stopping"),
        }
    }
}

/// The status of one executable.
///
/// ```
/// use robodeploy_core::model::{ExecutableStatus, Reason};
/// let s = ExecutableStatus::Error { reason: Reason::Failed { exit_code: 2 } };
/// let json = serde_json::to_string(&s).unwrap();
/// assert_eq!(json, r#"{"status":"Error","reason":{"kind":"failed","exitCode":2}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status")]
#[non_exhaustive]
pub enum ExecutableStatus {
    /// Being prepared, started or restarted.
    Pending {
        /// Why.
        reason: Reason,
    },
    /// Running.
    Running,
    /// Failed.
    Error {
        /// Why.
        reason: Reason,
    },
    /// Not known (device offline, no news).
    Unknown,
    /// Stopped by a deprovision.
    Stopped,
}

impl ExecutableStatus {
    /// The reason, for Pending and Error.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            ExecutableStatus::Pending { reason } | ExecutableStatus::Error { reason } => {
                Some(reason)
            }
            _ => None,
        }
    }

    /// The kind of status, without its reason.
    pub fn kind(&self) -> StatusKind {
        match self {
            ExecutableStatus::Pending { .. } => StatusKind::Pending,
            ExecutableStatus::Running => StatusKind::Running,
            ExecutableStatus::Error { .. } => StatusKind::Error,
            ExecutableStatus::Unknown => StatusKind::Unknown,
            ExecutableStatus::Stopped => StatusKind::Stopped,
        }
    }
}

/// A status without its reason; also a deployment's aggregate status.
///
/// The aggregate of a deployment's executables is, in priority order: Error if any is in Error;
/// else Unknown if any is Unknown; else Pending if any is Pending; else Stopped if any is Stopped;
/// else Running (see [`StatusKind::aggregate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum StatusKind {
    /// Running.
    Running,
    /// Pending.
    Pending,
    /// Error.
    Error,
    /// Unknown.
    Unknown,
    /// Stopped.
    Stopped,
}

impl StatusKind {
    /// The aggregate status of a set of executables; `Pending` for an empty set.
    ///
    /// ```
    /// use robodeploy_core::model::StatusKind::*;
    /// use robodeploy_core::model::StatusKind;
    /// assert_eq!(StatusKind::aggregate([Running, Pending, Running]), Pending);
    /// assert_eq!(StatusKind::aggregate([Running, Error, Unknown]), Error);
    /// assert_eq!(StatusKind::aggregate([Running, Running]), Running);
    /// ```
    pub fn aggregate(kinds: impl IntoIterator<Item = StatusKind>) -> StatusKind {
        let (mut any, mut err, mut unk, mut pend, mut stop) = (false, false, false, false, false);
        for k in kinds {
            any = true;
            match k {
                StatusKind::Error => err = true,
                StatusKind::Unknown => unk = true,
                StatusKind::Pending => pend = true,
                StatusKind::Stopped => stop = true,
                StatusKind::Running => {}
            }
        }
        if err {
            StatusKind::Error
        } else if unk {
            StatusKind::Unknown
        } else if pend || !any {
            StatusKind::Pending
        } else if stop {
            StatusKind::Stopped
        } else {
            StatusKind::Running
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An error code with the seed's text, as shown for a deployment in Error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// The code.
    pub code: ErrorCode,
    /// The component concerned, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The executable concerned, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// Details beyond the code's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
