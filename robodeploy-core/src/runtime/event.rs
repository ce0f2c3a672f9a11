//! What a runtime reports on its own: instances starting and exiting.

use serde::{Deserialize, Serialize};

use super::InstanceId;
use crate::time::Time;

/// Something that happened to an instance, reported by the runtime as it happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeEvent {
    /// The instance.
    pub instance: InstanceId,
    /// When the runtime saw it.
    pub at: Time,
    /// What happened.
    pub kind: RuntimeEventKind,
}

/// The kinds of [`RuntimeEvent`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum RuntimeEventKind {
    /// The instance started (also after a restart the runtime did by itself).
    Started,
    /// The instance exited on its own or was killed.
    Exited {
        /// Exit code (a signal `n` is `128 + n`).
        exit_code: i32,
        /// Killed for running out of memory.
        oom_killed: bool,
        /// Stopped by someone outside robodeploy (`docker stop` by hand, a `kill` of the process
        /// group by an operator), when the runtime can tell.
        stopped_manually: bool,
    },
    /// The runtime restarted the instance by itself (native restart policies); the count is the
    /// runtime's own restart count for it.
    Restarted {
        /// The runtime's restart count after this restart.
        restart_count: u32,
    },
    /// The instance was removed.
    Removed,
}
