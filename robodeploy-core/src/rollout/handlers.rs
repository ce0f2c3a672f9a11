//! The events a driver feeds in. Each takes `now`; time that goes backwards is clamped to the
//! latest seen, and timers due by `now` fire (each at its own deadline) before the event applies.
//! Robot events that no longer apply (a success reported after the robot timed out, progress of a
//! robot that was aborted) are ignored: such races are normal for a driver.

use super::machine::RolloutPhase;
use super::robot::Phase;
use super::{Command, HaltReason, RobotIndex, Rollout, RolloutError, RolloutEvent};
use crate::model::{FailureCode, JobStatus, ProgressStep};
use crate::time::Time;

impl Rollout {
    /// Starts a Pending job: it becomes Preparing and asks the driver to
    /// [`Command::Prepare`]. Ignored in any other phase.
    pub fn start(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Pending {
            self.stage = RolloutPhase::Preparing;
            self.set_status(JobStatus::Preparing);
            self.commands.push_back(Command::Prepare);
        }
        self.settle();
    }

    /// The fleet and application checked out: the job is InProgress and its first wave starts.
    pub fn handle_prepared(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Preparing {
            self.started = self.now;
            self.set_status(JobStatus::InProgress);
            self.start_wave(0);
        }
        self.settle();
    }

    /// Preparing failed (for example MissingRobotArchitecture): the job fails with `code` and no
    /// robot is deployed.
    pub fn handle_prepare_failed(&mut self, code: FailureCode, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Preparing {
            self.halt(HaltReason::PrepareFailed, code);
            self.finish();
        }
        self.settle();
    }

    /// A robot in flight reached `step`, `percent_done` (0..=100, clamped) through it. Steps
    /// only move forward within an attempt; an earlier step is ignored.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn handle_robot_progress(
        &mut self,
        robot: RobotIndex,
        step: ProgressStep,
        percent_done: u8,
        now: Time,
    ) -> Result<(), RolloutError> {
        self.robot(robot)?;
        // Progress changes no slot; only timers that fired on the way can.
        if self.advance(now) {
            self.settle();
        }
        let now = self.now;
        let r = &mut self.robots[robot.get()];
        if r.phase == Phase::Deploying && Some(step) >= r.step {
            if Some(step) > r.step {
                r.step = Some(step);
                r.step_started = now;
            }
            r.percent = percent_done.min(100);
        }
        Ok(())
    }

    /// A robot finished what it was asked: its deployment (it is InSync) or its rollback.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn handle_robot_succeeded(
        &mut self,
        robot: RobotIndex,
        now: Time,
    ) -> Result<(), RolloutError> {
        self.robot(robot)?;
        self.advance(now);
        let (r, now) = (robot.0, self.now);
        match self.robots[robot.get()].phase {
            Phase::Deploying => {
                let state = &mut self.robots[robot.get()];
                state.step = Some(ProgressStep::Finished);
                state.percent = 100;
                state.ended = now;
                self.in_sync_ms += now.saturating_sub(state.since).max(0) as u64;
                self.in_sync_n += 1;
                self.set_phase(r, Phase::InSync);
            }
            Phase::RollingBack => self.set_phase(r, Phase::RolledBack),
            _ => {}
        }
        self.settle();
        Ok(())
    }

    /// A robot's deployment (or rollback) failed with `code`, for example PreLaunchFileFailure.
    /// A deployment failure counts toward the threshold and halts the job the moment the
    /// threshold is reached.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn handle_robot_failed(
        &mut self,
        robot: RobotIndex,
        code: FailureCode,
        now: Time,
    ) -> Result<(), RolloutError> {
        self.robot(robot)?;
        self.advance(now);
        let r = robot.0;
        match self.robots[robot.get()].phase {
            Phase::Deploying => self.fail_robot(r, code, self.now),
            Phase::RollingBack => {
                self.robots[robot.get()].rollback_code = Some(code);
                self.set_phase(r, Phase::RollbackFailed);
            }
            _ => {}
        }
        self.settle();
        Ok(())
    }

    /// A robot became unreachable. If it held a slot, the slot is freed and the attempt
    /// abandoned; if its turn had come, it is deferred and its no-response deadline starts.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn handle_robot_offline(
        &mut self,
        robot: RobotIndex,
        now: Time,
    ) -> Result<(), RolloutError> {
        self.robot(robot)?;
        self.advance(now);
        let r = robot.0;
        self.robots[robot.get()].online = false;
        let halt_code = self
            .halt
            .and(self.failure_code)
            .unwrap_or(FailureCode::RobotDeploymentAborted);
        match self.robots[robot.get()].phase {
            // Halted: an abandoned attempt is not retried.
            Phase::Deploying if self.halt.is_some() => {
                let state = &mut self.robots[robot.get()];
                state.code = Some(halt_code);
                state.ended = self.now;
                self.set_phase(r, Phase::NotDeployed);
            }
            Phase::Ready | Phase::Deploying => self.defer(r, Phase::Deferred),
            Phase::RollbackReady | Phase::RollingBack => self.defer(r, Phase::RollbackDeferred),
            _ => {}
        }
        self.settle();
        Ok(())
    }

    /// A robot is reachable again. A deferred robot becomes eligible and takes the next free
    /// slot ahead of robots not yet tried.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when the index is out of range.
    pub fn handle_robot_online(
        &mut self,
        robot: RobotIndex,
        now: Time,
    ) -> Result<(), RolloutError> {
        self.robot(robot)?;
        self.advance(now);
        let r = robot.0;
        self.robots[robot.get()].online = true;
        let ready = match self.robots[robot.get()].phase {
            Phase::Deferred => Some(Phase::Ready),
            Phase::RollbackDeferred => Some(Phase::RollbackReady),
            _ => None,
        };
        if let Some(ready) = ready {
            self.set_phase(r, ready);
            self.ready.push_back(r);
        }
        self.settle();
        Ok(())
    }

    /// Cancels the job: no robot starts any more, robots in flight are aborted
    /// (RobotDeploymentAborted) and, with automatic rollback, updated robots are rolled back.
    /// Ignored once the job ended or while it rolls back (an interrupted rollback would leave
    /// the fleet mixed).
    pub fn handle_cancel(&mut self, now: Time) {
        self.advance(now);
        if matches!(self.stage, RolloutPhase::Done | RolloutPhase::RollingBack) {
            self.settle();
            return;
        }
        let before_start = matches!(self.stage, RolloutPhase::Pending | RolloutPhase::Preparing);
        if self.halt.is_none() {
            self.halt(HaltReason::Canceled, FailureCode::RobotDeploymentAborted);
        }
        if before_start {
            self.finish();
            return;
        }
        let wave = self.waves[self.wave as usize].plan;
        for r in wave.start..wave.end {
            if self.robots[r as usize].phase == Phase::Deploying {
                let state = &mut self.robots[r as usize];
                state.code = Some(FailureCode::RobotDeploymentAborted);
                state.ended = self.now;
                self.set_phase(r, Phase::Failed);
                self.failed_total += 1;
                self.waves[self.wave as usize].failed += 1;
                self.commands.push_back(Command::AbortRobot {
                    robot: RobotIndex(r),
                });
            }
        }
        self.settle();
    }

    /// Resumes a job waiting for a manual resume between waves. Ignored otherwise (a resume is
    /// not remembered for a wave that has not completed yet).
    pub fn handle_resume(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::BetweenWaves
            && self.waves[self.wave as usize].plan.manual_resume
        {
            self.resume_requested = true;
        }
        self.settle();
    }

    /// Fires the timers due by `now`. Safe to call at any time, early or late.
    pub fn handle_timeout(&mut self, now: Time) {
        self.advance(now);
        self.settle();
    }

    fn set_status(&mut self, status: JobStatus) {
        self.status = status;
        self.events
            .push_back(RolloutEvent::StatusChanged { status });
    }
}
