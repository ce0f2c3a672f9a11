//! One robot's place in a rollout, kept compact: a rollout of a million robots holds a million of
//! these, so every field is a small integer or a one-byte enum and nothing is heap-allocated.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{FailureCode, ProgressStep, RobotStatus, Version};
use crate::time::Time;

/// A robot's position in the fleet the rollout was created against (0-based).
///
/// Compact on purpose: commands and events carry it instead of names or ids; the caller keeps
/// the index → device table (the order of the robots it passed in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RobotIndex(pub u32);

impl RobotIndex {
    /// The index as a `usize`, for indexing the caller's own tables.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for RobotIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "robot#{}", self.0)
    }
}

/// What the rollout needs to know of a robot when it is created: whether it is online, and the
/// version of the application it runs now (the version a rollback returns it to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RobotInit<'a> {
    /// Reachable now.
    pub online: bool,
    /// The application version installed before the job; none when it has none.
    pub previous_version: Option<&'a Version>,
}

/// Where a robot is. The deployment phases come first, then the rollback phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Not yet reached by the scheduler (its wave has not come, or the cursor has not got to it).
    Waiting,
    /// Eligible again after coming back online; queued for the next free slot.
    Ready,
    /// Its turn came while it was offline; its no-response deadline runs.
    Deferred,
    /// In flight: holds a slot; its robot timeout runs.
    Deploying,
    /// Runs the job's version.
    InSync,
    /// Its deployment failed (`code` says why).
    Failed,
    /// Stayed offline past its deadline.
    NoResponse,
    /// Never deployed: the job halted, was canceled or failed before reaching it (`code` says why).
    NotDeployed,
    /// Queued for rollback after coming back online.
    RollbackReady,
    /// Its rollback turn came while offline.
    RollbackDeferred,
    /// Being rolled back: holds a slot.
    RollingBack,
    /// Back on its previous version.
    RolledBack,
    /// Its rollback failed (`rollback_code` says why).
    RollbackFailed,
    /// Stayed offline past its deadline during the rollback.
    RollbackNoResponse,
}

impl Phase {
    /// Whether the robot's part of the job (rollback included) has ended.
    pub(crate) fn is_settled(self) -> bool {
        matches!(
            self,
            Phase::InSync
                | Phase::Failed
                | Phase::NoResponse
                | Phase::NotDeployed
                | Phase::RolledBack
                | Phase::RollbackFailed
                | Phase::RollbackNoResponse
        )
    }

    /// The status RoboMaker would show (see the robot status table in the module docs).
    pub(crate) fn status(self) -> RobotStatus {
        match self {
            Phase::Waiting | Phase::Ready | Phase::Deferred => RobotStatus::PendingNewDeployment,
            Phase::Deploying
            | Phase::RollbackReady
            | Phase::RollbackDeferred
            | Phase::RollingBack => RobotStatus::Deploying,
            Phase::InSync => RobotStatus::InSync,
            Phase::Failed | Phase::RollbackFailed => RobotStatus::Failed,
            Phase::NoResponse | Phase::RollbackNoResponse => RobotStatus::NoResponse,
            Phase::NotDeployed | Phase::RolledBack => RobotStatus::Available,
        }
    }
}

/// "No previous version" in `previous`.
pub(crate) const NO_VERSION: u32 = u32::MAX;

/// One robot's state, the part every input about it reads: 16 bytes, so that the table the
/// rollout indexes at random (the robots in flight) is a third of what one 48-byte state per
/// robot made it. What only a robot's start and end write is in its [`RobotRecord`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct RobotState {
    /// Start of its current phase: of the attempt (in flight), of the deferral (deferred); the
    /// job's creation while it waits.
    pub(crate) since: Time,
    /// When the current step began, as milliseconds after `since` (read only in flight, where
    /// `since` is the attempt's start and the robot timeout, at most 7 days, bounds it).
    step_offset: u32,
    pub(crate) phase: Phase,
    /// Step of the current (or last) deployment attempt.
    pub(crate) step: Option<ProgressStep>,
    /// Percent done with `step`, 0..=100.
    pub(crate) percent: u8,
    pub(crate) online: bool,
}

/// What a robot's start and end write, kept apart from its [`RobotState`]: 24 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RobotRecord {
    /// When its first deployment attempt started.
    pub(crate) first_started: Option<Time>,
    /// When its deployment outcome was reached.
    pub(crate) ended: Option<Time>,
    /// Index into the rollout's version table, [`NO_VERSION`] when none.
    pub(crate) previous: u32,
    /// Deployment attempts made (an attempt cut short by going offline counts).
    pub(crate) attempts: u16,
    /// Why its deployment failed or why it was not deployed.
    pub(crate) code: Option<FailureCode>,
    /// Why its rollback failed.
    pub(crate) rollback_code: Option<FailureCode>,
}

impl RobotState {
    pub(crate) fn new(online: bool, created: Time) -> RobotState {
        RobotState {
            since: created,
            step_offset: 0,
            phase: Phase::Waiting,
            step: None,
            percent: 0,
            online,
        }
    }

    /// When the current step began, for the ETA (the job's creation before any step).
    pub(crate) fn step_started(&self) -> Time {
        self.since.plus_millis(i64::from(self.step_offset))
    }

    /// The current step began at `at` (not before `since`).
    pub(crate) fn set_step_started(&mut self, at: Time) {
        let ms = at.as_millis().saturating_sub(self.since.as_millis());
        self.step_offset = ms.clamp(0, i64::from(u32::MAX)) as u32;
    }

    /// Whether the new version was started on the robot, so a rollback has something to undo:
    /// it is in sync, or it failed (or was aborted) once its application was launching.
    pub(crate) fn needs_rollback(&self) -> bool {
        match self.phase {
            Phase::InSync => true,
            Phase::Failed => self.step >= Some(ProgressStep::Launching),
            _ => false,
        }
    }
}

impl RobotRecord {
    pub(crate) fn new(previous: u32) -> RobotRecord {
        RobotRecord {
            first_started: None,
            ended: None,
            previous,
            attempts: 0,
            code: None,
            rollback_code: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_state_stays_small() {
        assert_eq!(std::mem::size_of::<RobotState>(), 16);
        assert_eq!(std::mem::size_of::<RobotRecord>(), 24);
    }

    #[test]
    fn the_step_start_is_kept_after_the_phase_start() {
        let mut r = RobotState::new(true, Time::from_millis(1_000));
        assert_eq!(r.step_started(), Time::from_millis(1_000));
        r.set_step_started(Time::from_millis(61_000));
        assert_eq!(r.step_started(), Time::from_millis(61_000));
    }
}
