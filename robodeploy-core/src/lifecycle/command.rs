//! What a [`Deployment`](super::Deployment) asks the engine to do, drained with
//! [`Deployment::poll_command`](super::Deployment::poll_command).

use std::time::Duration;

use super::ExecutableIndex;

/// One action for the engine to execute on a runtime. Plain data: the engine maps the index to the
/// executable with [`Deployment::executable`](super::Deployment::executable).
///
/// ```
/// use robodeploy_core::lifecycle::{Command, ExecutableIndex};
/// let c = Command::Start { exe: ExecutableIndex(2) };
/// assert_eq!(c.executable(), ExecutableIndex(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// Pull the image or locate the binary; answer `Prepared` or `PrepareFailed`.
    Prepare {
        /// The executable.
        exe: ExecutableIndex,
    },
    /// Create and start the instance; answer `Started` or `StartFailed`.
    Start {
        /// The executable.
        exe: ExecutableIndex,
    },
    /// Start it again after an exit or a device reboot (engine-enforced restarts only); answer
    /// `Started` or `StartFailed`. Counted in the restart count when emitted.
    Restart {
        /// The executable.
        exe: ExecutableIndex,
        /// Which restart of this executable this is, from 1.
        attempt: u32,
    },
    /// Stop it (deprovision): signal, wait `grace`, then kill; answer `StopDone` or `StopFailed`.
    Stop {
        /// The executable.
        exe: ExecutableIndex,
        /// The grace period before a kill.
        grace: Duration,
    },
    /// Report its current state (after its device came back): answer `Started` if it runs,
    /// `Exited` if it does not.
    Inspect {
        /// The executable.
        exe: ExecutableIndex,
    },
}

impl Command {
    /// The executable the command is about.
    pub fn executable(&self) -> ExecutableIndex {
        match *self {
            Command::Prepare { exe }
            | Command::Start { exe }
            | Command::Restart { exe, .. }
            | Command::Stop { exe, .. }
            | Command::Inspect { exe } => exe,
        }
    }
}
