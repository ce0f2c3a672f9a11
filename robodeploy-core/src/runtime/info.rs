//! What a runtime says about an instance when asked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::InstanceId;
use crate::time::Time;

/// The state of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum InstanceState {
    /// Created, never started.
    Created,
    /// Running since `started_at`.
    Running {
        /// When it (last) started.
        started_at: Time,
        /// Its OS process id, where the runtime knows it.
        pid: Option<u32>,
    },
    /// Exited.
    Exited {
        /// Exit code (a signal `n` is `128 + n`).
        exit_code: i32,
        /// When it exited, where known.
        finished_at: Option<Time>,
        /// Stopped by someone outside robodeploy (SIGTERM to the process by an operator,
        /// `docker stop` by hand), when the runtime can tell; as in
        /// [`RuntimeEventKind::Exited`](super::RuntimeEventKind::Exited). The engine that finds
        /// such an instance on recovery does not restart it: a manual stop suspends Always and
        /// OnFailure until the device reboots, whether or not an engine was running when it
        /// happened.
        #[serde(default)]
        stopped_manually: bool,
    },
}

/// An instance as a runtime reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    /// Its id.
    pub id: InstanceId,
    /// Its deterministic name.
    pub name: String,
    /// Its labels (robodeploy's among them).
    pub labels: BTreeMap<String, String>,
    /// Its state.
    pub state: InstanceState,
    /// How often the runtime restarted it by itself.
    pub restart_count: u32,
}

/// What a runtime can do natively.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// The runtime applies restart policies itself, across device reboots (Docker). The engine
    /// then observes and counts instead of restarting.
    pub enforces_restart_policy: bool,
    /// Instances keep running when the engine dies, and can be listed again by label.
    pub survives_engine_restart: bool,
    /// Commands can be run inside a running instance's context.
    pub exec: bool,
    /// Images are used (and pulled) by this runtime.
    pub images: bool,
}
