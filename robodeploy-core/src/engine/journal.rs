//! A job's journal: every input the engine fed its [`Rollout`], in order, with its time.
//!
//! The rollout machine is deterministic, so replaying the journal into a machine built from the
//! same request and fleet gives back the same machine: every robot's status, step, failure, the
//! waves, the failure count and the rollback state. That is how a restarted engine carries a
//! job on ([`replay`]). The engine feeds the machine only through [`Journaled::apply`], so what
//! it journals is exactly what it fed, and writes the ops of a round before it acts on the
//! commands they produced.

use serde::{Deserialize, Serialize};

use crate::model::{FailureCode, ProgressStep};
use crate::rollout::{Command, RobotIndex, Rollout};
use crate::time::Time;

/// One input of a rollout machine. Compact on purpose: a 100,000-robot job journals about six
/// per robot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum JobOp {
    /// `start`.
    #[serde(rename = "b")]
    Start(i64),
    /// `handle_prepared`.
    #[serde(rename = "p")]
    Prepared(i64),
    /// `handle_robot_progress`.
    #[serde(rename = "g")]
    Progress(i64, u32, ProgressStep, u8),
    /// `handle_robot_succeeded`.
    #[serde(rename = "s")]
    Succeeded(i64, u32),
    /// `handle_robot_failed`, with the failure's detail for reports.
    #[serde(rename = "f")]
    Failed(i64, u32, FailureCode, Option<String>),
    /// `handle_robot_offline`.
    #[serde(rename = "x")]
    Offline(i64, u32),
    /// `handle_robot_online`.
    #[serde(rename = "o")]
    Online(i64, u32),
    /// `handle_cancel`.
    #[serde(rename = "c")]
    Cancel(i64),
    /// `handle_resume`.
    #[serde(rename = "r")]
    Resume(i64),
    /// `handle_timeout`.
    #[serde(rename = "t")]
    Timeout(i64),
}

impl JobOp {
    /// Feeds the op into `rollout`. Robot ops for unknown robots change nothing.
    pub(crate) fn apply_to(&self, rollout: &mut Rollout) {
        let t = Time::from_millis;
        match *self {
            JobOp::Start(at) => rollout.start(t(at)),
            JobOp::Prepared(at) => rollout.handle_prepared(t(at)),
            JobOp::Progress(at, r, step, pct) => {
                let _ = rollout.handle_robot_progress(RobotIndex(r), step, pct, t(at));
            }
            JobOp::Succeeded(at, r) => {
                let _ = rollout.handle_robot_succeeded(RobotIndex(r), t(at));
            }
            JobOp::Failed(at, r, code, _) => {
                let _ = rollout.handle_robot_failed(RobotIndex(r), code, t(at));
            }
            JobOp::Offline(at, r) => {
                let _ = rollout.handle_robot_offline(RobotIndex(r), t(at));
            }
            JobOp::Online(at, r) => {
                let _ = rollout.handle_robot_online(RobotIndex(r), t(at));
            }
            JobOp::Cancel(at) => rollout.handle_cancel(t(at)),
            JobOp::Resume(at) => rollout.handle_resume(t(at)),
            JobOp::Timeout(at) => rollout.handle_timeout(t(at)),
        }
    }
}

/// A rollout machine and the ops fed to it that are not stored yet.
pub(crate) struct Journaled {
    pub(crate) rollout: Rollout,
    /// Ops applied since the last write.
    pub(crate) pending: Vec<JobOp>,
    /// The sequence number of the next journal chunk.
    pub(crate) next_chunk: u64,
}

impl Journaled {
    pub(crate) fn new(rollout: Rollout) -> Self {
        Journaled {
            rollout,
            pending: Vec::new(),
            next_chunk: 0,
        }
    }

    /// Applies `op` and journals it.
    pub(crate) fn apply(&mut self, op: JobOp) {
        op.apply_to(&mut self.rollout);
        self.pending.push(op);
    }
}

/// What a replay left in flight: per robot, the last command the machine gave about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LastCommand {
    Deploy,
    Rollback,
    Abort,
}

/// What a replay says of each robot beyond the machine's state.
pub(crate) struct Replayed {
    /// The last command given about it.
    pub(crate) last: Vec<Option<LastCommand>>,
    /// The detail of its last failure.
    pub(crate) details: Vec<Option<String>>,
}

/// Replays `ops` into `rollout`, discarding the commands (they were carried out before).
pub(crate) fn replay(
    rollout: &mut Rollout,
    ops: impl IntoIterator<Item = JobOp>,
    robots: usize,
) -> Replayed {
    let mut last = vec![None; robots];
    let mut details = vec![None; robots];
    let drain = |rollout: &mut Rollout, last: &mut Vec<Option<LastCommand>>| {
        while let Some(c) = rollout.poll_command() {
            let (robot, what) = match c {
                Command::DeployRobot { robot } => (robot, LastCommand::Deploy),
                Command::RollbackRobot { robot } => (robot, LastCommand::Rollback),
                Command::AbortRobot { robot } => (robot, LastCommand::Abort),
                _ => continue,
            };
            if let Some(slot) = last.get_mut(robot.get()) {
                *slot = Some(what);
            }
        }
        while rollout.poll_event().is_some() {}
    };
    drain(rollout, &mut last);
    for op in ops {
        op.apply_to(rollout);
        if let JobOp::Failed(_, r, _, detail) = op
            && let Some(slot) = details.get_mut(r as usize)
        {
            *slot = detail;
        }
        drain(rollout, &mut last);
    }
    Replayed { last, details }
}

impl std::ops::Deref for Journaled {
    type Target = Rollout;

    /// Reading the machine needs no journal; feeding it goes through [`Journaled::apply`].
    fn deref(&self) -> &Rollout {
        &self.rollout
    }
}

impl Journaled {
    /// `handle_robot_progress`, journaled.
    pub(crate) fn handle_robot_progress(
        &mut self,
        robot: RobotIndex,
        step: ProgressStep,
        percent_done: u8,
        now: Time,
    ) {
        self.apply(JobOp::Progress(
            now.as_millis(),
            robot.0,
            step,
            percent_done,
        ));
    }

    /// `handle_robot_succeeded`, journaled.
    pub(crate) fn handle_robot_succeeded(&mut self, robot: RobotIndex, now: Time) {
        self.apply(JobOp::Succeeded(now.as_millis(), robot.0));
    }

    /// `handle_robot_failed`, journaled with the failure's detail.
    pub(crate) fn handle_robot_failed(
        &mut self,
        robot: RobotIndex,
        code: FailureCode,
        now: Time,
        detail: Option<String>,
    ) {
        self.apply(JobOp::Failed(now.as_millis(), robot.0, code, detail));
    }

    /// `handle_robot_online`, journaled.
    pub(crate) fn handle_robot_online(&mut self, robot: RobotIndex, now: Time) {
        self.apply(JobOp::Online(now.as_millis(), robot.0));
    }

    /// `handle_robot_offline`, journaled.
    pub(crate) fn handle_robot_offline(&mut self, robot: RobotIndex, now: Time) {
        self.apply(JobOp::Offline(now.as_millis(), robot.0));
    }
}
