//! What a driver feeds a [`Rollout`](super::Rollout): one [`Input`] at a time, with the time it
//! happened, through [`Rollout::handle`](super::Rollout::handle).
//!
//! Inputs are plain data, so a driver can journal them: the engine stores every `(Time, Input)`
//! it fed a job and a restarted engine replays them into a machine built the same way.

use serde::{Deserialize, Serialize};

use super::RobotIndex;
use crate::model::{FailureCode, ProgressStep};

/// One input of a rollout. Robot inputs name the robot by its [`RobotIndex`].
///
/// Serialised as an object tagged by `input` (`{"input":"robotFailed","robot":3,
/// "code":"PreLaunchFileFailure"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "input")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Input {
    /// Start a Pending job: it becomes Preparing and asks the driver to
    /// [`Prepare`](super::Command::Prepare). Ignored in any other phase.
    Start,
    /// The fleet and application checked out: the job is InProgress and its first wave starts.
    Prepared,
    /// Preparing failed (for example MissingRobotArchitecture): the job fails with `code` and no
    /// robot is deployed.
    PrepareFailed {
        /// The job's failure code.
        code: FailureCode,
    },
    /// A robot in flight reached `step`, `percent_done` (0..=100, clamped) through it. Steps
    /// only move forward within an attempt; an earlier step is ignored.
    RobotProgress {
        /// The robot.
        robot: RobotIndex,
        /// The step it is at.
        step: ProgressStep,
        /// Percent done with that step.
        percent_done: u8,
    },
    /// A robot finished what it was asked: its deployment (it is InSync) or its rollback.
    RobotSucceeded {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot's deployment (or rollback) failed with `code`, for example PreLaunchFileFailure.
    /// A deployment failure counts toward the threshold and halts the job the moment the
    /// threshold is reached.
    RobotFailed {
        /// The robot.
        robot: RobotIndex,
        /// Why.
        code: FailureCode,
    },
    /// A robot became unreachable. If it held a slot, the slot is freed and the attempt
    /// abandoned; if its turn had come, it is deferred and its no-response deadline starts.
    RobotOffline {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot is reachable again. A deferred robot becomes eligible and takes the next free
    /// slot ahead of robots not yet tried.
    RobotOnline {
        /// The robot.
        robot: RobotIndex,
    },
    /// Cancel the job: no robot starts any more, robots in flight are aborted
    /// (RobotDeploymentAborted) and, with automatic rollback, updated robots are rolled back.
    /// Ignored once the job ended or while it rolls back (an interrupted rollback would leave
    /// the fleet mixed).
    Cancel,
    /// Roll the job back by hand, whether or not it asked for automatic rollback: a job still
    /// running stops as on [`Cancel`](Input::Cancel) and, once nothing is in flight, every robot
    /// the new version reached returns to the version it ran before the job. A job that has
    /// ended is rolled back the same way: it is InProgress again while its robots return, then
    /// ends Canceled (Failed if it had failed). The rollback's reason is
    /// [`RollbackRequested`](super::HaltReason::RollbackRequested). Ignored while the job rolls
    /// back, once it has rolled back, and when no robot needs it.
    Rollback,
    /// Resume a job waiting for a manual resume between waves. Ignored otherwise (a resume is
    /// not remembered for a wave that has not completed yet).
    Resume,
    /// Fire the timers due by now. Safe at any time, early or late.
    Timeout,
}

impl Input {
    /// The robot a robot input names.
    pub fn robot(&self) -> Option<RobotIndex> {
        match *self {
            Input::RobotProgress { robot, .. }
            | Input::RobotSucceeded { robot }
            | Input::RobotFailed { robot, .. }
            | Input::RobotOffline { robot }
            | Input::RobotOnline { robot } => Some(robot),
            Input::Start
            | Input::Prepared
            | Input::PrepareFailed { .. }
            | Input::Cancel
            | Input::Rollback
            | Input::Resume
            | Input::Timeout => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_as_tagged_json() {
        let input = Input::RobotFailed {
            robot: RobotIndex(3),
            code: FailureCode::PreLaunchFileFailure,
        };
        let json = serde_json::to_string(&input).unwrap();
        assert_eq!(
            json,
            r#"{"input":"robotFailed","robot":3,"code":"PreLaunchFileFailure"}"#
        );
        assert_eq!(serde_json::from_str::<Input>(&json).unwrap(), input);
        let progress = Input::RobotProgress {
            robot: RobotIndex(0),
            step: ProgressStep::Validating,
            percent_done: 5,
        };
        let json = serde_json::to_string(&progress).unwrap();
        assert!(json.contains(r#""percentDone":5"#), "{json}");
        assert_eq!(serde_json::from_str::<Input>(&json).unwrap(), progress);
        assert_eq!(
            serde_json::to_string(&Input::Start).unwrap(),
            r#"{"input":"start"}"#
        );
    }
}
