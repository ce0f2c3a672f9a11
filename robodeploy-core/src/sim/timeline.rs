//! The simulation's output: a timeline of what happened when, and the final report.

use serde::{Deserialize, Serialize};

use crate::model::{FailureCode, ProgressStep};
use crate::rollout::{Command, RobotIndex, RolloutEvent, RolloutReport};
use crate::time::Time;

/// How much the timeline records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum TimelineDetail {
    /// Nothing (large fleets, benchmarks).
    Off,
    /// Job-level events: status changes, waves, halts, rollback, user actions.
    #[default]
    Job,
    /// Everything: every command, every robot's steps, outcomes and connectivity.
    Full,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Happening {
    /// The rollout decided something.
    Rollout(RolloutEvent),
    /// The rollout asked the (simulated) fleet to do something.
    Command(Command),
    /// The job's preparation finished.
    Prepared,
    /// The simulated user resumed the job.
    Resumed,
    /// The simulated user canceled the job.
    Canceled,
    /// A robot moved on to a step.
    RobotStep {
        /// The robot.
        robot: RobotIndex,
        /// The step it started.
        step: ProgressStep,
    },
    /// A robot's deployment succeeded.
    RobotSucceeded {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot's deployment failed.
    RobotFailed {
        /// The robot.
        robot: RobotIndex,
        /// Why.
        code: FailureCode,
    },
    /// A robot dropped offline.
    RobotOffline {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot came back online.
    RobotOnline {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot's rollback succeeded.
    RollbackSucceeded {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot's rollback failed.
    RollbackFailed {
        /// The robot.
        robot: RobotIndex,
        /// Why.
        code: FailureCode,
    },
}

impl Happening {
    /// Whether the [`TimelineDetail::Job`] level records it.
    pub fn is_job_level(&self) -> bool {
        match self {
            Happening::Rollout(e) => !matches!(
                e,
                RolloutEvent::RobotDeferred { .. }
                    | RolloutEvent::RobotTimedOut { .. }
                    | RolloutEvent::RobotNoResponse { .. }
            ),
            Happening::Command(c) => matches!(c, Command::Prepare),
            Happening::Prepared | Happening::Resumed | Happening::Canceled => true,
            _ => false,
        }
    }
}

/// One line of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// When, on the virtual clock.
    pub at: Time,
    /// What.
    pub what: Happening,
}

/// Figures of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    /// From the first wave's start to the job's end, in ms.
    pub makespan_ms: u64,
    /// Robot time: the sum over every deployment attempt of its time in flight, in ms.
    pub busy_ms: u64,
    /// The longest single attempt, in ms.
    pub longest_attempt_ms: u64,
    /// Slots the rollout had.
    pub slots: u32,
    /// Events the simulator processed (its own and the rollout's timer wake-ups).
    pub events: u64,
    /// Whether the job reached a terminal status (false: it waits for a resume nobody gives).
    pub finished: bool,
}

impl SimStats {
    /// The lower bound of any schedule's makespan: `max(busy / slots, longest)`.
    pub fn lower_bound_ms(&self) -> u64 {
        self.busy_ms
            .div_ceil(u64::from(self.slots.max(1)))
            .max(self.longest_attempt_ms)
    }

    /// Graham's bound for a work-conserving schedule: `busy / slots + longest`.
    pub fn graham_bound_ms(&self) -> u64 {
        self.busy_ms / u64::from(self.slots.max(1)) + self.longest_attempt_ms
    }
}

/// Everything a simulation produced; serialisable, and identical for identical inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimReport {
    /// The seed it ran with.
    pub seed: u64,
    /// The job's report.
    pub report: RolloutReport,
    /// Figures.
    pub stats: SimStats,
    /// What happened, in order.
    pub timeline: Vec<TimelineEntry>,
}
