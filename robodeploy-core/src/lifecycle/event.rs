//! What the engine feeds into a [`Deployment`](super::Deployment): runtime observations, device
//! health, dependency status and user requests.

use crate::model::{ErrorCode, Reason};

use super::{DependencyIndex, DeviceIndex, ExecutableIndex};

/// One thing that happened, fed in with [`Deployment::handle`](super::Deployment::handle).
///
/// Runtime events name an executable by index. An event that does not fit the executable's state
/// (a second `Started`, an `Exited` for something never started, anything about an executable on
/// a device reported offline) is ignored: the machine trusts only what fits what it commanded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The user (or engine) starts the deployment process: leaves InProgress, emits `Prepare`s.
    Deploy,
    /// The image is present or the binary found; the machine answers with `Start`.
    Prepared(ExecutableIndex),
    /// Preparing failed; not retried.
    PrepareFailed(ExecutableIndex, Failure),
    /// The executable is running (after `Start`, `Restart`, or an `Inspect` that found it running).
    Started(ExecutableIndex),
    /// The executable exited on its own with this code (a signal `n` as `128 + n`).
    Exited(ExecutableIndex, i32),
    /// `Start` or `Restart` failed; not retried in a loop.
    StartFailed(ExecutableIndex, Failure),
    /// Someone stopped the executable by hand (e.g. `docker stop`): Always and OnFailure are
    /// suspended for it until its device reboots.
    StoppedManually(ExecutableIndex),
    /// The runtime restarted the executable by itself and it runs again; `count` is the runtime's
    /// own restart counter (Docker's `RestartCount`). The machine adds the increase since the last
    /// count it saw; a count below it means the runtime's counter started over and adds `count`.
    RestartObserved(ExecutableIndex, u32),
    /// A `Stop` completed.
    StopDone(ExecutableIndex),
    /// A `Stop` failed; the message says why.
    StopFailed(ExecutableIndex, String),
    /// The device is offline or unreachable.
    DeviceOffline(DeviceIndex),
    /// The device is reachable again; its executables' state is unknown until `Inspect` answers.
    DeviceOnline(DeviceIndex),
    /// The device rebooted (and is reachable): everything on it was killed.
    DeviceRebooted(DeviceIndex),
    /// A dependency's status changed.
    Dependency(DependencyIndex, DependencyState),
    /// The user asked to deprovision: stop everything.
    Deprovision,
}

impl Event {
    /// The executable a runtime event is about; `None` for events about the deployment, a
    /// device or a dependency.
    pub fn executable(&self) -> Option<ExecutableIndex> {
        match self {
            Event::Prepared(i)
            | Event::PrepareFailed(i, _)
            | Event::Started(i)
            | Event::Exited(i, _)
            | Event::StartFailed(i, _)
            | Event::StoppedManually(i)
            | Event::RestartObserved(i, _)
            | Event::StopDone(i)
            | Event::StopFailed(i, _) => Some(*i),
            _ => None,
        }
    }
}

/// What a dependency's status means for its dependents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DependencyState {
    /// Running: dependents may reach Succeeded.
    Running,
    /// In error: dependents show `DEP_E156`.
    Error,
    /// Anything else (pending, unknown, stopped): dependents wait.
    #[default]
    Other,
}

/// Why preparing or starting an executable failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The image does not exist where the runtime looked for it (device: `DEP_E161`, cloud:
    /// `DEP_E153`).
    ImageNotFound {
        /// The image reference.
        image: String,
    },
    /// The image could not be pulled or built: on a device, the image is not present there
    /// (`DEP_E162`, "docker images not present on docker device"); in the cloud `DEP_E153`.
    PullFailed {
        /// What the runtime said.
        message: String,
    },
    /// The runtime could not be reached while acting on the executable (device: `DEP_E151`,
    /// the device offline or unreachable; cloud: `DEP_E201`).
    Unreachable {
        /// What the transport said.
        message: String,
    },
    /// The program is not in `$PATH` or not executable (device: `DEP_E161`, cloud: `DEP_E155`).
    BinaryNotFound {
        /// The program looked for.
        program: String,
    },
    /// Device and package disagree (architecture, ROS distro) or images are missing on a docker
    /// device (`DEP_E162`).
    Validation {
        /// What disagrees.
        message: String,
    },
    /// The runtime failed internally: `DEP_E2xx` in the cloud, `DEP_E3xx` on a device, where `xx`
    /// is `detail` (see [`internal`](self::internal) for the numbers robodeploy uses).
    Internal {
        /// 0..=99, the last two digits of the code.
        detail: u8,
        /// What the runtime said.
        message: String,
    },
    /// robodeploy itself failed (not the runtime): `DEP_E4xx`.
    Engine {
        /// 0..=99, the last two digits of the code.
        detail: u8,
        /// What failed.
        message: String,
    },
}

/// The `detail` numbers robodeploy's own runtimes use in [`Failure::Internal`].
pub mod internal {
    /// Unspecified.
    pub const UNSPECIFIED: u8 = 0;
    /// The runtime could not be reached.
    pub const UNREACHABLE: u8 = 1;
    /// Creating the instance failed.
    pub const CREATE_FAILED: u8 = 2;
    /// Starting the instance failed.
    pub const START_FAILED: u8 = 3;
    /// Stopping the instance failed (also used when a stop goes unanswered).
    pub const STOP_FAILED: u8 = 4;
}

impl Failure {
    /// The reason and error code for this failure of an executable in the cloud or on a device.
    pub(crate) fn classify(self, cloud: bool) -> (Reason, ErrorCode) {
        let not_found = if cloud {
            ErrorCode::CloudImageUnavailable
        } else {
            ErrorCode::DeviceImageNotFound
        };
        match self {
            Failure::ImageNotFound { image } => (Reason::NotFound { what: image }, not_found),
            Failure::PullFailed { message } => (
                Reason::PullFailed { message },
                if cloud {
                    ErrorCode::CloudImageUnavailable
                } else {
                    ErrorCode::Validation
                },
            ),
            Failure::Unreachable { message } => {
                if cloud {
                    (
                        Reason::Internal { message },
                        internal_code(true, internal::UNREACHABLE),
                    )
                } else {
                    (Reason::DeviceOffline, ErrorCode::DeviceOffline)
                }
            }
            Failure::BinaryNotFound { program } => (
                Reason::NotFound { what: program },
                if cloud {
                    ErrorCode::CloudExecutableFailed
                } else {
                    ErrorCode::DeviceImageNotFound
                },
            ),
            Failure::Validation { message } => {
                (Reason::Validation { message }, ErrorCode::Validation)
            }
            Failure::Internal { detail, message } => {
                (Reason::Internal { message }, internal_code(cloud, detail))
            }
            Failure::Engine { detail, message } => (
                Reason::Internal { message },
                ErrorCode::Internal(400 + u16::from(detail.min(99))),
            ),
        }
    }
}

/// `DEP_E2xx` in the cloud, `DEP_E3xx` on a device.
pub(crate) fn internal_code(cloud: bool, detail: u8) -> ErrorCode {
    let n = u16::from(detail.min(99));
    if cloud {
        ErrorCode::InternalCloud(200 + n)
    } else {
        ErrorCode::InternalDevice(300 + n)
    }
}

/// An event naming something the deployment does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// No executable with this index.
    #[error("executable index {index} out of range: the deployment has {count} executables")]
    UnknownExecutable {
        /// The index given.
        index: u16,
        /// How many executables there are.
        count: usize,
    },
    /// No device with this index.
    #[error("device index {index} out of range: the deployment uses {count} devices")]
    UnknownDevice {
        /// The index given.
        index: u16,
        /// How many devices there are.
        count: usize,
    },
    /// No dependency with this index.
    #[error("dependency index {index} out of range: the deployment has {count} dependencies")]
    UnknownDependency {
        /// The index given.
        index: u16,
        /// How many dependencies there are.
        count: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_the_seed_codes_by_placement() {
        let nf = || Failure::ImageNotFound { image: "x".into() };
        assert_eq!(nf().classify(false).1, ErrorCode::DeviceImageNotFound);
        assert_eq!(nf().classify(true).1, ErrorCode::CloudImageUnavailable);
        let internal = || Failure::Internal {
            detail: 7,
            message: "boom".into(),
        };
        assert_eq!(internal().classify(true).1.to_string(), "DEP_E207");
        assert_eq!(internal().classify(false).1.to_string(), "DEP_E307");
        let engine = Failure::Engine {
            detail: 250,
            message: "store".into(),
        };
        assert_eq!(engine.classify(false).1.to_string(), "DEP_E499");
    }
}
