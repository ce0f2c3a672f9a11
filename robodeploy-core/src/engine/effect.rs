//! What the engine's state asks of the world. The engine's state decides and
//! records its decisions as effects, and what they change in the store as the turn's writes;
//! the driver alone carries them out: it writes the store, spawns the runtime calls, publishes
//! events, arms timers. A turn's writes go first, in one transaction, so a decision is stored
//! before anything acts on it.

use std::collections::BTreeMap;

use crate::lifecycle::ExecutableIndex;
use crate::model::{DeploymentId, DeploymentJobRequest, JobId, Package};
use crate::rollout::PipelineCommand;
use crate::runtime::{InstanceId, InstanceSpec};
use crate::time::Time;

use super::message::{Internal, RuntimeKey};
use super::{DeploymentStatus, EngineEvent};

/// The machine a timer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKey {
    Deployment(DeploymentId),
    Job(JobId),
}

/// One decision for the driver to carry out.
pub(crate) enum Effect {
    /// A call on the runtime under this key, in a task of its own; its answer comes back as an
    /// [`Internal`] message.
    Call(RuntimeKey, Call),
    /// Sent to the engine's subscribers.
    Publish(EngineEvent),
    /// A live deployment's settled status for the status board, or its removal once it ended.
    Board(BoardChange),
    /// A machine's timer, re-armed (or cleared with `None`).
    Timer(TimerKey, Option<Time>),
    /// A message back into the driver's own queue, handled on a later turn.
    Notify(Internal),
    /// The task running a job robot's current step is no longer wanted.
    Abort(JobId, u32),
    /// The runtime under this key is let go (its device was removed).
    Release(RuntimeKey),
}

/// A change to the status board.
pub(crate) enum BoardChange {
    Put(Box<DeploymentStatus>),
    Remove(DeploymentId),
}

/// A runtime call, with what its answer is routed back to.
pub(crate) enum Call {
    /// Prepare an executable (pull, download, check).
    Prepare {
        id: DeploymentId,
        exe: ExecutableIndex,
        spec: Box<InstanceSpec>,
    },
    /// Start an executable, replacing `previous`; an instance found under its name is adopted
    /// if it runs.
    Start {
        id: DeploymentId,
        exe: ExecutableIndex,
        spec: Box<InstanceSpec>,
        previous: Option<InstanceId>,
    },
    /// Stop then remove an executable's instance.
    Stop {
        id: DeploymentId,
        exe: ExecutableIndex,
        instance: InstanceId,
        grace: std::time::Duration,
    },
    /// Look at an executable's instance (after a device came back).
    Inspect {
        id: DeploymentId,
        exe: ExecutableIndex,
        instance: Option<InstanceId>,
        spec: Box<InstanceSpec>,
    },
    /// Stop and remove an instance nothing owns (an orphan found at recovery); no answer.
    Discard {
        instance: InstanceId,
        grace: std::time::Duration,
    },
    /// Is the runtime reachable?
    Health,
    /// What the runtime holds under robodeploy's labels (recovery), retried until it answers.
    List {
        /// The runtime's events are streamed first: a stored deployment waits for this
        /// listing, so an instance of ours may run there (one that exits in between is still
        /// heard of). A runtime listed only to find orphans, or to carry on the job robots in
        /// flight on it, is streamed once something is started there.
        events: bool,
    },
    /// One step of a job robot's pipeline that runs on the robot (a script, a download, the
    /// content lock).
    Stage(Box<Stage>),
}

/// What a job robot's step needs.
pub(crate) struct Stage {
    pub(crate) job: JobId,
    pub(crate) robot: u32,
    pub(crate) attempt: u32,
    pub(crate) command: PipelineCommand,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) request: std::sync::Arc<DeploymentJobRequest>,
    pub(crate) package: std::sync::Arc<Package>,
    pub(crate) timeout: std::time::Duration,
}
