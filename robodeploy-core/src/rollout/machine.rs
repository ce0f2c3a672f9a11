//! The [`Rollout`] itself: its state, how it is created, and its getters.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::plan::{Plan, PlannedWave};
use super::robot::{NO_VERSION, Phase, RobotRecord, RobotState};
use super::timer::DeadlineQueue;
use super::{Command, HaltReason, RobotIndex, RobotInit, RolloutError, RolloutEvent};
use crate::model::{
    DEFAULT_RETENTION, DeploymentConfig, DeploymentJobRequest, FailureCode, Fleet, JobStatus,
    ProgressStep, RobotStatus, Version,
};
use crate::time::Time;

/// Where a job is, finer than its [`JobStatus`] (every middle phase shows as InProgress).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RolloutPhase {
    /// Created; [`Input::Start`](super::Input::Start) not fed yet.
    Pending,
    /// Waiting for the driver to report the fleet and application checked.
    Preparing,
    /// Deploying the robots of the current wave.
    Deploying,
    /// A wave completed; soaking or waiting for a resume before the next.
    BetweenWaves,
    /// Halted: robots in flight finish, nothing new starts.
    Draining,
    /// Returning updated robots to their previous version.
    RollingBack,
    /// Ended; [`Rollout::status`] is terminal.
    Done,
}

/// How many robots are where, right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutCounts {
    /// Not reached yet (a later wave, or not yet picked).
    pub waiting: u32,
    /// Back online after a deferral, queued for a slot.
    pub ready: u32,
    /// Offline when their turn came; waiting for them without holding a slot.
    pub deferred: u32,
    /// Holding a slot: deploying or rolling back.
    pub in_flight: u32,
    /// Running the job's version.
    pub in_sync: u32,
    /// Deployment failed (including timeouts and aborts).
    pub failed: u32,
    /// Offline past their deadline.
    pub no_response: u32,
    /// Never deployed: the job halted or was canceled first.
    pub not_deployed: u32,
    /// Back on their previous version.
    pub rolled_back: u32,
    /// Rollback failed or the robot stayed offline during it.
    pub rollback_failed: u32,
}

/// One robot's progress, as RoboMaker's `ProgressDetail` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotProgress {
    /// Its status.
    pub status: RobotStatus,
    /// The step of its current or last attempt.
    pub step: Option<ProgressStep>,
    /// Percent done with that step.
    pub percent_done: u8,
    /// When the current step should end, extrapolated from its percent done (known once the
    /// driver reported a percentage between 1 and 99).
    pub step_eta: Option<Time>,
    /// When the robot should finish, from the mean time of the robots already in sync (known
    /// once one is).
    pub eta: Option<Time>,
}

/// What happened in one wave, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveRecord {
    /// The wave as planned.
    #[serde(flatten)]
    pub plan: PlannedWave,
    /// When its first robot could start.
    pub started_at: Option<Time>,
    /// When its last robot reached an outcome.
    pub completed_at: Option<Time>,
    /// Its robots that failed (or stayed offline).
    pub failed: u32,
}

/// Where one wave of a job is, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum WaveState {
    /// Not reached yet: an earlier wave is still deploying, soaking or waiting.
    Waiting,
    /// Its robots are being deployed.
    Deploying,
    /// Completed; its soak time runs before the next wave starts.
    Soaking,
    /// Completed and soaked; the next wave starts on a resume (`manualResume`).
    AwaitingResume,
    /// Every robot of it reached an outcome.
    Completed,
    /// The job halted (threshold breached, canceled) while this wave deployed.
    Halted,
    /// The job ended before this wave started.
    Skipped,
}

/// The rollback of a job, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackRecord {
    /// Why it was rolled back.
    pub reason: HaltReason,
    /// When it began.
    pub started_at: Time,
    /// When it ended.
    pub ended_at: Option<Time>,
    /// Robots it covered.
    pub robots: u32,
}

/// One deployment job's scheduler: a pure state machine over a fleet (see the module docs).
#[derive(Clone, Debug)]
pub struct Rollout {
    pub(super) plan: Plan,
    /// What every input about a robot reads, by robot.
    pub(super) robots: Vec<RobotState>,
    /// What a robot's start and end write, by robot.
    pub(super) records: Vec<RobotRecord>,
    pub(super) versions: Vec<Version>,
    pub(super) phase_counts: [u32; 14],
    pub(super) now: Time,
    pub(super) created: Time,
    pub(super) started: Option<Time>,
    pub(super) ended: Option<Time>,
    pub(super) expires: Time,
    pub(super) stage: RolloutPhase,
    pub(super) status: JobStatus,
    pub(super) failure_code: Option<FailureCode>,
    pub(super) halt: Option<HaltReason>,
    /// Deployment failures so far (Failed and NoResponse), for the threshold.
    pub(super) failed_total: u32,
    pub(super) wave: u32,
    pub(super) cursor: u32,
    pub(super) waves: Vec<WaveRecord>,
    pub(super) ready: VecDeque<u32>,
    pub(super) timeouts: DeadlineQueue,
    pub(super) offline: DeadlineQueue,
    pub(super) soak_until: Option<Time>,
    pub(super) resume_requested: bool,
    /// A user asked for a rollback ([`Input::Rollback`](super::Input::Rollback)) while the job
    /// ran: it rolls back once drained, whatever the plan says.
    pub(super) rollback_requested: bool,
    pub(super) rollback: Option<RollbackRecord>,
    pub(super) rollback_cursor: u32,
    pub(super) commands: VecDeque<Command>,
    pub(super) events: VecDeque<RolloutEvent>,
    pub(super) in_sync_ms: u64,
    pub(super) in_sync_n: u64,
    /// The earliest armed deadline, as of the end of the last [`settle`](Rollout::settle) or
    /// [`finish`](Rollout::finish): every input reads it (and the driver after each), so it
    /// is kept rather than computed from the three timers each time.
    pub(super) due: Option<Time>,
}

impl Rollout {
    /// A rollout of `config` over robots described by `robots` (in fleet order: the first is
    /// [`RobotIndex(0)`](RobotIndex)), created at `now`, kept for [`DEFAULT_RETENTION`].
    ///
    /// # Errors
    /// A [`RolloutError`] naming the field when the config breaks a rule, or when the fleet is
    /// empty or larger than [`MAX_FLEET_SIZE`](super::MAX_FLEET_SIZE).
    pub fn new<'a>(
        config: &DeploymentConfig,
        robots: impl IntoIterator<Item = RobotInit<'a>>,
        now: Time,
    ) -> Result<Rollout, RolloutError> {
        let mut versions: Vec<Version> = Vec::new();
        let mut interned: BTreeMap<&'a Version, u32> = BTreeMap::new();
        let (robots, records): (Vec<RobotState>, Vec<RobotRecord>) = robots
            .into_iter()
            .map(|init| {
                let previous = init.previous_version.map_or(NO_VERSION, |v| {
                    *interned.entry(v).or_insert_with(|| {
                        versions.push(v.clone());
                        (versions.len() - 1) as u32
                    })
                });
                (
                    RobotState::new(init.online, now),
                    RobotRecord::new(previous),
                )
            })
            .unzip();
        let plan = Plan::new(config, robots.len())?;
        let n = robots.len();
        let mut phase_counts = [0u32; 14];
        phase_counts[Phase::Waiting as usize] = plan.fleet;
        let waves = plan
            .waves
            .iter()
            .map(|&plan| WaveRecord {
                plan,
                started_at: None,
                completed_at: None,
                failed: 0,
            })
            .collect();
        let slots = plan.limit as usize;
        Ok(Rollout {
            robots,
            records,
            versions,
            phase_counts,
            now,
            created: now,
            started: None,
            ended: None,
            expires: now + DEFAULT_RETENTION,
            stage: RolloutPhase::Pending,
            status: JobStatus::Pending,
            failure_code: None,
            halt: None,
            failed_total: 0,
            wave: 0,
            cursor: 0,
            waves,
            ready: VecDeque::new(),
            timeouts: DeadlineQueue::with_capacity(slots.min(n)),
            offline: DeadlineQueue::default(),
            soak_until: None,
            resume_requested: false,
            rollback_requested: false,
            rollback: None,
            rollback_cursor: 0,
            commands: VecDeque::with_capacity(slots.min(n) + 1),
            events: VecDeque::new(),
            in_sync_ms: 0,
            in_sync_n: 0,
            due: None,
            plan,
        })
    }

    /// A rollout of `job` over `fleet` as the registry sees it now: each robot's `online` flag,
    /// and its installed version of the job's application as the rollback target.
    ///
    /// # Errors
    /// As [`Rollout::new`].
    pub fn for_fleet(
        job: &DeploymentJobRequest,
        fleet: &Fleet,
        now: Time,
    ) -> Result<Rollout, RolloutError> {
        Rollout::new(
            &job.deployment_config,
            fleet.robots.iter().map(|d| RobotInit {
                online: d.online,
                previous_version: d.installed.get(&job.application),
            }),
            now,
        )
    }

    /// Keep the job for `retention` after its creation instead of [`DEFAULT_RETENTION`].
    pub fn with_retention(mut self, retention: Duration) -> Rollout {
        self.expires = self.created + retention;
        self
    }

    /// The job's status.
    pub fn status(&self) -> JobStatus {
        self.status
    }

    /// Where the job is, finer than its status.
    pub fn phase(&self) -> RolloutPhase {
        self.stage
    }

    /// Why the job failed (FailureThresholdBreached, or the code preparing it failed with).
    pub fn failure_code(&self) -> Option<FailureCode> {
        self.failure_code
    }

    /// Why the job stopped starting robots, once it did.
    pub fn halt_reason(&self) -> Option<HaltReason> {
        self.halt
    }

    /// Robots in the fleet.
    pub fn fleet_size(&self) -> u32 {
        self.plan.fleet
    }

    /// Robots deployed (or rolled back) at once: the concurrency percentage of the fleet,
    /// rounded up, at least 1.
    pub fn in_flight_limit(&self) -> u32 {
        self.plan.limit
    }

    /// Failed robots that halt the job: the threshold percentage of the fleet, rounded up.
    pub fn failure_threshold(&self) -> u32 {
        self.plan.threshold
    }

    /// Robots holding a slot now.
    pub fn in_flight(&self) -> u32 {
        self.count(Phase::Deploying) + self.count(Phase::RollingBack)
    }

    /// Robots whose deployment failed so far (timeouts, aborts and no-responses included).
    pub fn failed(&self) -> u32 {
        self.failed_total
    }

    /// How many robots are where.
    pub fn counts(&self) -> RolloutCounts {
        RolloutCounts {
            waiting: self.count(Phase::Waiting),
            ready: self.count(Phase::Ready) + self.count(Phase::RollbackReady),
            deferred: self.count(Phase::Deferred) + self.count(Phase::RollbackDeferred),
            in_flight: self.in_flight(),
            in_sync: self.count(Phase::InSync),
            failed: self.count(Phase::Failed),
            no_response: self.count(Phase::NoResponse),
            not_deployed: self.count(Phase::NotDeployed),
            rolled_back: self.count(Phase::RolledBack),
            rollback_failed: self.count(Phase::RollbackFailed)
                + self.count(Phase::RollbackNoResponse),
        }
    }

    /// The waves as planned and what happened in each so far.
    pub fn waves(&self) -> &[WaveRecord] {
        &self.waves
    }

    /// Where wave `wave` (from 0, as in [`waves`](Self::waves)) is now;
    /// [`WaveState::Skipped`] for a wave past the last.
    pub fn wave_state(&self, wave: u32) -> WaveState {
        let Some(record) = self.waves.get(wave as usize) else {
            return WaveState::Skipped;
        };
        let ended = matches!(
            self.stage,
            RolloutPhase::Draining | RolloutPhase::RollingBack | RolloutPhase::Done
        );
        match (record.started_at, record.completed_at) {
            (None, _) if ended => WaveState::Skipped,
            (None, _) => WaveState::Waiting,
            (Some(_), None) if ended => WaveState::Halted,
            (Some(_), None) => WaveState::Deploying,
            (Some(_), Some(_)) if wave == self.wave && self.stage == RolloutPhase::BetweenWaves => {
                if self.soak_until.is_some() {
                    WaveState::Soaking
                } else {
                    WaveState::AwaitingResume
                }
            }
            (Some(_), Some(_)) => WaveState::Completed,
        }
    }

    /// When the soak of the wave that just completed ends, while it runs.
    pub fn soak_until(&self) -> Option<Time> {
        self.soak_until
    }

    /// The wave being deployed (or last deployed).
    pub fn current_wave(&self) -> u32 {
        self.wave
    }

    /// Whether a user asked for a rollback ([`Input::Rollback`](super::Input::Rollback)) that
    /// has not started yet (the job is still draining) or has started.
    pub fn rollback_requested(&self) -> bool {
        self.rollback_requested
            || self
                .rollback
                .is_some_and(|r| r.reason == HaltReason::RollbackRequested)
    }

    /// The rollback, once one started.
    pub fn rollback(&self) -> Option<&RollbackRecord> {
        self.rollback.as_ref()
    }

    /// A robot's status.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn robot_status(&self, robot: RobotIndex) -> Result<RobotStatus, RolloutError> {
        Ok(self.robot(robot)?.phase.status())
    }

    /// Whether a robot's part of the job has ended (its deployment and any rollback).
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn robot_settled(&self, robot: RobotIndex) -> Result<bool, RolloutError> {
        Ok(self.robot(robot)?.phase.is_settled())
    }

    /// Why a robot failed or was not deployed.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn robot_failure(&self, robot: RobotIndex) -> Result<Option<FailureCode>, RolloutError> {
        self.robot(robot)?;
        Ok(self.records[robot.get()].code)
    }

    /// A robot's progress: step, percent done and ETAs.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn robot_progress(&self, robot: RobotIndex) -> Result<RobotProgress, RolloutError> {
        let r = self.robot(robot)?;
        let in_flight = r.phase == Phase::Deploying;
        let step_eta = (in_flight && (1..100).contains(&r.percent)).then(|| {
            let elapsed = self.now.since(r.step_started()).as_millis() as i64;
            let remaining =
                elapsed.saturating_mul(i64::from(100 - r.percent)) / i64::from(r.percent);
            self.now.plus_millis(remaining)
        });
        let eta = (in_flight && self.in_sync_n > 0).then(|| {
            let mean = (self.in_sync_ms / self.in_sync_n) as i64;
            r.since.plus_millis(mean).max(self.now)
        });
        Ok(RobotProgress {
            status: r.phase.status(),
            step: r.step,
            percent_done: r.percent,
            step_eta,
            eta,
        })
    }

    /// The version a rollback returns this robot to (none: remove the application).
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn previous_version(&self, robot: RobotIndex) -> Result<Option<&Version>, RolloutError> {
        self.robot(robot)?;
        Ok(self
            .versions
            .get(self.records[robot.get()].previous as usize))
    }

    /// When the job was created.
    pub fn created_at(&self) -> Time {
        self.created
    }

    /// When the job expires and a [`JobList`](super::JobList) drops it.
    pub fn expires_at(&self) -> Time {
        self.expires
    }

    /// The latest time the rollout has seen.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The next command for the driver, in the order decided. Drain after every
    /// [`handle`](Rollout::handle).
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The next event for observers. Drain after every [`handle`](Rollout::handle) (undrained
    /// events pile up).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RolloutEvent> {
        self.events.pop_front()
    }

    /// When [`Input::Timeout`](super::Input::Timeout) must next be handled; none when no timer
    /// is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        self.next_deadline()
    }

    /// The earliest armed deadline.
    #[inline]
    pub(super) fn next_deadline(&self) -> Option<Time> {
        debug_assert_eq!(
            self.due,
            self.armed_deadline(),
            "the kept deadline is stale"
        );
        self.due
    }

    /// The earliest armed deadline, from the timers themselves.
    pub(super) fn armed_deadline(&self) -> Option<Time> {
        let at = |q: &DeadlineQueue| q.front().map(|(d, _)| d);
        earliest(
            earliest(at(&self.timeouts), at(&self.offline)),
            self.soak_until,
        )
    }

    /// Bytes this rollout holds on the heap (its own accounting of its tables' capacities).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.robots.capacity() * size_of::<RobotState>()
            + self.records.capacity() * size_of::<RobotRecord>()
            + self.versions.capacity() * size_of::<Version>()
            + self
                .versions
                .iter()
                .map(|v| v.as_str().len())
                .sum::<usize>()
            + self.waves.capacity() * size_of::<WaveRecord>()
            + self.plan.waves.capacity() * size_of::<PlannedWave>()
            + self.ready.capacity() * size_of::<u32>()
            + self.timeouts.heap_bytes()
            + self.offline.heap_bytes()
            + self.commands.capacity() * size_of::<Command>()
            + self.events.capacity() * size_of::<RolloutEvent>()
    }

    pub(super) fn robot(&self, robot: RobotIndex) -> Result<&RobotState, RolloutError> {
        self.robots
            .get(robot.get())
            .ok_or(RolloutError::UnknownRobot {
                index: robot.0,
                fleet_size: self.plan.fleet,
            })
    }

    /// Loads a robot's state and uses nothing of it: a driver that is about to feed an input
    /// about `robot` calls it first, so that the load (a cache miss on a big fleet) runs while
    /// the driver does its own work instead of after it. Changes nothing.
    #[inline(always)]
    pub(crate) fn touch_robot(&self, robot: RobotIndex) {
        if let Some(state) = self.robots.get(robot.get()) {
            std::hint::black_box(state.phase);
        }
    }

    pub(super) fn count(&self, phase: Phase) -> u32 {
        self.phase_counts[phase as usize]
    }
}

/// The earlier of two optional instants; none only when both are none.
#[inline]
fn earliest(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
