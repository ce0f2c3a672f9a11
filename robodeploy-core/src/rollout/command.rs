//! What the rollout asks its driver to do ([`Command`]) and what it tells observers happened by
//! its own decision ([`RolloutEvent`]). Both are plain data, cheap to copy.

use serde::{Deserialize, Serialize};

use super::RobotIndex;
use crate::model::{FailureCode, JobStatus};

/// Something the driver must do. Drained with [`Rollout::poll_command`](super::Rollout::poll_command).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Command {
    /// Check the fleet and the application, then report
    /// [`Input::Prepared`](super::Input::Prepared) or
    /// [`Input::PrepareFailed`](super::Input::PrepareFailed).
    Prepare,
    /// Deploy the job's version to this robot (from Validating; again after an interrupted
    /// attempt) through a new robot [`Pipeline`](super::Pipeline), and report its progress,
    /// success or failure.
    DeployRobot {
        /// The robot.
        robot: RobotIndex,
    },
    /// Stop whatever this robot is doing for the job (its robot timeout passed, or the job was
    /// canceled). The rollout already counts it as failed; no report is expected.
    AbortRobot {
        /// The robot.
        robot: RobotIndex,
    },
    /// Return this robot to its previous version
    /// ([`Rollout::previous_version`](super::Rollout::previous_version); none means remove the
    /// application) and report success or failure.
    RollbackRobot {
        /// The robot.
        robot: RobotIndex,
    },
}

/// Why the job stopped starting robots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HaltReason {
    /// The failed share of the fleet (or of the current wave) reached the threshold.
    FailureThresholdBreached,
    /// A user canceled the job.
    Canceled,
    /// Preparing the job failed.
    PrepareFailed,
    /// A user asked for the job to be rolled back ([`Input::Rollback`](super::Input::Rollback)).
    RollbackRequested,
}

/// A decision the rollout made on its own, for observers (the engine's event stream, the
/// simulator's timeline). Drained with [`Rollout::poll_event`](super::Rollout::poll_event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum RolloutEvent {
    /// The job's status changed.
    StatusChanged {
        /// The new status.
        status: JobStatus,
    },
    /// A wave began.
    WaveStarted {
        /// Its position among the planned waves.
        wave: u32,
    },
    /// Every robot of a wave reached an outcome.
    WaveCompleted {
        /// Its position among the planned waves.
        wave: u32,
        /// Its robots that failed.
        failed: u32,
    },
    /// A robot's turn came (or its attempt was cut) while it was offline: it waits for it to
    /// return without holding a slot.
    RobotDeferred {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot did not finish within the robot deployment timeout.
    RobotTimedOut {
        /// The robot.
        robot: RobotIndex,
    },
    /// A robot stayed offline past its deadline (RobotDeploymentNoResponse).
    RobotNoResponse {
        /// The robot.
        robot: RobotIndex,
    },
    /// The job stopped starting robots; robots in flight finish (or were aborted on cancel).
    Halted {
        /// Why.
        reason: HaltReason,
        /// The failure code the job ends with.
        code: FailureCode,
        /// Robots that will not be deployed because of the halt.
        skipped: u32,
    },
    /// Updated robots are being returned to their previous version.
    RollbackStarted {
        /// Why.
        reason: HaltReason,
        /// Robots to roll back.
        robots: u32,
    },
    /// The rollback ended.
    RollbackFinished {
        /// Robots back on their previous version.
        rolled_back: u32,
        /// Robots whose rollback failed or that stayed offline.
        failed: u32,
    },
}
