//! The scheduling core: firing timers, filling slots, moving between waves, halting and ending.
//! Every input ([`Rollout::handle`]) ends in [`Rollout::settle`], which applies the rules of the module
//! docs until nothing more can happen at this instant.

use super::machine::RolloutPhase;
use super::robot::{Phase, RobotState};
use super::timer::Timer;
use super::{Command, HaltReason, RobotIndex, Rollout, RolloutEvent};
use crate::model::{FailureCode, JobStatus, ProgressStep};
use crate::time::Time;

impl Rollout {
    pub(super) fn set_phase(&mut self, r: u32, phase: Phase) {
        let robot = &mut self.robots[r as usize];
        self.phase_counts[robot.phase as usize] -= 1;
        self.phase_counts[phase as usize] += 1;
        robot.phase = phase;
    }

    /// Clamps time (it never goes backwards) and fires every timer due by then, each at its own
    /// deadline, earliest first.
    /// Returns whether a timer fired.
    #[inline]
    pub(super) fn advance(&mut self, now: Time) -> bool {
        self.now = self.now.max(now);
        // Every handler ends with the timer queues pruned, so their fronts are live deadlines:
        // when none is due, nothing fires and there is nothing to prune. That test is all most
        // inputs need, so it is inlined into each handler and the firing kept out of line.
        if self.next_deadline().is_none_or(|d| d > self.now) {
            return false;
        }
        self.fire_timers()
    }

    /// Fires every timer due by `self.now`, earliest first; whether one fired.
    #[inline(never)]
    fn fire_timers(&mut self) -> bool {
        let mut fired = false;
        loop {
            self.prune_timers();
            let due = [
                (self.timeouts.front().map(|(d, _)| d), Timer::RobotTimeout),
                (self.offline.front().map(|(d, _)| d), Timer::OfflineDeadline),
                (self.soak_until, Timer::Soak),
            ]
            .into_iter()
            .filter_map(|(d, t)| d.filter(|&d| d <= self.now).map(|d| (d, t)))
            .min();
            fired |= due.is_some();
            match due {
                None => break,
                Some((at, Timer::RobotTimeout)) => {
                    if let Some((_, r)) = self.timeouts.pop() {
                        self.robot_timed_out(r, at);
                    }
                }
                Some((at, Timer::OfflineDeadline)) => {
                    if let Some((_, r)) = self.offline.pop() {
                        self.robot_no_response(r, at);
                    }
                }
                Some((_, Timer::Soak)) => self.soak_until = None,
            }
        }
        fired
    }

    /// Drops timer entries of robots that left the phase they were armed for.
    pub(super) fn prune_timers(&mut self) {
        let (robots, timeout, offline) = (&self.robots, self.plan.timeout_ms, self.plan.offline_ms);
        let live = |phases: [Phase; 2], span: i64| {
            move |d: Time, r: u32| {
                let robot: &RobotState = &robots[r as usize];
                phases.contains(&robot.phase) && robot.since.plus_millis(span) == d
            }
        };
        self.timeouts
            .prune(live([Phase::Deploying, Phase::RollingBack], timeout));
        self.offline
            .prune(live([Phase::Deferred, Phase::RollbackDeferred], offline));
    }

    fn robot_timed_out(&mut self, r: u32, at: Time) {
        let robot = RobotIndex(r);
        match self.robots[r as usize].phase {
            Phase::Deploying => self.fail_robot(r, FailureCode::RobotDeploymentTimeout, at),
            Phase::RollingBack => {
                self.records[r as usize].rollback_code = Some(FailureCode::RobotDeploymentTimeout);
                self.set_phase(r, Phase::RollbackFailed);
            }
            _ => return,
        }
        self.commands.push_back(Command::AbortRobot { robot });
        self.events.push_back(RolloutEvent::RobotTimedOut { robot });
    }

    fn robot_no_response(&mut self, r: u32, at: Time) {
        match self.robots[r as usize].phase {
            Phase::Deferred => {
                let record = &mut self.records[r as usize];
                record.code = Some(FailureCode::RobotDeploymentNoResponse);
                record.ended = Some(at);
                self.set_phase(r, Phase::NoResponse);
                self.count_failure(r);
            }
            Phase::RollbackDeferred => {
                self.records[r as usize].rollback_code =
                    Some(FailureCode::RobotDeploymentNoResponse);
                self.set_phase(r, Phase::RollbackNoResponse);
            }
            _ => return,
        }
        self.events.push_back(RolloutEvent::RobotNoResponse {
            robot: RobotIndex(r),
        });
    }

    /// A deployment in flight failed at `at`.
    pub(super) fn fail_robot(&mut self, r: u32, code: FailureCode, at: Time) {
        let record = &mut self.records[r as usize];
        record.code = Some(code);
        record.ended = Some(at);
        self.set_phase(r, Phase::Failed);
        self.count_failure(r);
    }

    /// Counts a deployment failure and halts the job the moment the fleet's or the wave's
    /// threshold is reached.
    fn count_failure(&mut self, r: u32) {
        self.failed_total += 1;
        let wave = &mut self.waves[self.wave as usize];
        if wave.plan.contains(r) {
            wave.failed += 1;
        }
        let wave_breached = wave.failed >= wave.plan.threshold;
        if self.halt.is_none() && (self.failed_total >= self.plan.threshold || wave_breached) {
            self.halt(
                HaltReason::FailureThresholdBreached,
                FailureCode::FailureThresholdBreached,
            );
        }
    }

    /// Stops starting robots: every robot not yet in flight is marked not deployed with `code`.
    pub(super) fn halt(&mut self, reason: HaltReason, code: FailureCode) {
        self.halt = Some(reason);
        if reason != HaltReason::Canceled {
            self.failure_code = Some(code);
        }
        let from = self.waves[self.wave as usize].plan.start;
        let mut skipped = 0;
        for r in from..self.plan.fleet {
            if matches!(
                self.robots[r as usize].phase,
                Phase::Waiting | Phase::Ready | Phase::Deferred
            ) {
                let record = &mut self.records[r as usize];
                record.code = Some(code);
                record.ended = Some(self.now);
                self.set_phase(r, Phase::NotDeployed);
                skipped += 1;
            }
        }
        self.cursor = self.plan.fleet;
        self.ready.clear();
        self.soak_until = None;
        if !matches!(self.stage, RolloutPhase::Pending | RolloutPhase::Preparing) {
            self.stage = RolloutPhase::Draining;
        }
        self.events.push_back(RolloutEvent::Halted {
            reason,
            code,
            skipped,
        });
    }

    /// Applies the rules until nothing more can happen at this instant.
    pub(super) fn settle(&mut self) {
        loop {
            match self.stage {
                RolloutPhase::Deploying => {
                    self.fill();
                    if !self.wave_complete() {
                        break;
                    }
                    self.complete_wave();
                }
                RolloutPhase::BetweenWaves => {
                    let manual = self.waves[self.wave as usize].plan.manual_resume;
                    if self.soak_until.is_some() || (manual && !self.resume_requested) {
                        break;
                    }
                    self.start_wave(self.wave + 1);
                }
                RolloutPhase::Draining => {
                    if self.in_flight() > 0 {
                        break;
                    }
                    let mut reason = self.halt.unwrap_or(HaltReason::Canceled);
                    if self.rollback_requested {
                        reason = HaltReason::RollbackRequested;
                    }
                    let wants_rollback = (self.plan.auto_rollback || self.rollback_requested)
                        && reason != HaltReason::PrepareFailed;
                    if !(wants_rollback && self.start_rollback(reason)) {
                        self.finish();
                    }
                }
                RolloutPhase::RollingBack => {
                    self.fill_rollback();
                    if !self.rollback_complete() {
                        break;
                    }
                    self.finish_rollback();
                    self.finish();
                }
                RolloutPhase::Pending | RolloutPhase::Preparing | RolloutPhase::Done => break,
            }
        }
        self.prune_timers();
        self.due = self.armed_deadline();
    }

    /// Starts robots until the slots are full or no robot of the wave is eligible: robots back
    /// online first, then the wave's robots in fleet order, deferring the offline ones.
    fn fill(&mut self) {
        let end = self.waves[self.wave as usize].plan.end;
        while self.in_flight() < self.plan.limit {
            if let Some(r) = self.next_ready(Phase::Ready) {
                self.start_robot(r);
                continue;
            }
            let mut started = false;
            while self.cursor < end {
                let r = self.cursor;
                self.cursor += 1;
                if self.robots[r as usize].online {
                    self.start_robot(r);
                    started = true;
                    break;
                }
                self.defer(r, Phase::Deferred);
            }
            if !started {
                break;
            }
        }
    }

    pub(super) fn next_ready(&mut self, phase: Phase) -> Option<u32> {
        while let Some(r) = self.ready.pop_front() {
            // Entries of robots that went offline again (or were started by a duplicate entry)
            // are stale; the phase says which are live.
            if self.robots[r as usize].phase == phase {
                return Some(r);
            }
        }
        None
    }

    fn start_robot(&mut self, r: u32) {
        let now = self.now;
        let robot = &mut self.robots[r as usize];
        robot.since = now;
        robot.step = Some(ProgressStep::Validating);
        robot.set_step_started(now);
        robot.percent = 0;
        let record = &mut self.records[r as usize];
        record.attempts = record.attempts.saturating_add(1);
        record.first_started.get_or_insert(now);
        self.set_phase(r, Phase::Deploying);
        self.timeouts.push(now.plus_millis(self.plan.timeout_ms), r);
        self.commands.push_back(Command::DeployRobot {
            robot: RobotIndex(r),
        });
    }

    /// Parks an offline robot without a slot; its no-response deadline starts now.
    pub(super) fn defer(&mut self, r: u32, phase: Phase) {
        self.robots[r as usize].since = self.now;
        self.set_phase(r, phase);
        self.offline
            .push(self.now.plus_millis(self.plan.offline_ms), r);
        self.events.push_back(RolloutEvent::RobotDeferred {
            robot: RobotIndex(r),
        });
    }

    fn wave_complete(&self) -> bool {
        self.cursor >= self.waves[self.wave as usize].plan.end
            && self.count(Phase::Ready) == 0
            && self.count(Phase::Deferred) == 0
            && self.count(Phase::Deploying) == 0
    }

    fn complete_wave(&mut self) {
        let now = self.now;
        let record = &mut self.waves[self.wave as usize];
        record.completed_at = Some(now);
        let (failed, soak) = (record.failed, record.plan.soak);
        self.events.push_back(RolloutEvent::WaveCompleted {
            wave: self.wave,
            failed,
        });
        if self.wave as usize + 1 == self.waves.len() {
            self.finish();
        } else {
            self.stage = RolloutPhase::BetweenWaves;
            self.resume_requested = false;
            self.soak_until = soak.map(|d| now + d);
        }
    }

    pub(super) fn start_wave(&mut self, wave: u32) {
        self.wave = wave;
        let record = &mut self.waves[wave as usize];
        record.started_at = Some(self.now);
        self.cursor = record.plan.start;
        self.stage = RolloutPhase::Deploying;
        self.events.push_back(RolloutEvent::WaveStarted { wave });
    }

    /// Ends the job; the status follows the first halt reason.
    pub(super) fn finish(&mut self) {
        self.status = match self.halt {
            None => JobStatus::Succeeded,
            Some(HaltReason::Canceled) => JobStatus::Canceled,
            Some(_) => JobStatus::Failed,
        };
        self.stage = RolloutPhase::Done;
        self.ended = Some(self.now);
        self.timeouts.clear();
        self.offline.clear();
        self.due = self.armed_deadline();
        self.ready = Default::default();
        self.events.push_back(RolloutEvent::StatusChanged {
            status: self.status,
        });
    }
}
