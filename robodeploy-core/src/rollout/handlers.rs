//! The inputs a driver feeds in, through [`Rollout::handle`]. Each comes with `now`; time that
//! goes backwards is clamped to the latest seen, and timers due by `now` fire (each at its own
//! deadline) before the input applies. Robot inputs that no longer apply (a success reported
//! after the robot timed out, progress of a robot that was aborted) are ignored: such races are
//! normal for a driver.

use super::machine::RolloutPhase;
use super::robot::Phase;
use super::{Command, HaltReason, Input, RobotIndex, Rollout, RolloutError, RolloutEvent};
use crate::model::{FailureCode, JobStatus, ProgressStep};
use crate::time::Time;

impl Rollout {
    /// Feeds one [`Input`] that happened at `now` (see [`Input`] for what each does). Drain
    /// [`poll_command`](Rollout::poll_command) and [`poll_event`](Rollout::poll_event) after it.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`] when a robot input names a robot out of range; the input
    /// is then not applied at all (time does not move either).
    #[inline(always)]
    pub fn handle(&mut self, input: Input, now: Time) -> Result<(), RolloutError> {
        if let Some(robot) = input.robot() {
            self.robot(robot)?;
        }
        match input {
            Input::Start => self.start(now),
            Input::Prepared => self.on_prepared(now),
            Input::PrepareFailed { code } => self.on_prepare_failed(code, now),
            Input::RobotProgress {
                robot,
                step,
                percent_done,
            } => self.on_robot_progress(robot, step, percent_done, now),
            Input::RobotSucceeded { robot } => self.on_robot_succeeded(robot, now),
            Input::RobotFailed { robot, code } => self.on_robot_failed(robot, code, now),
            Input::RobotOffline { robot } => self.on_robot_offline(robot, now),
            Input::RobotOnline { robot } => self.on_robot_online(robot, now),
            Input::Cancel => self.on_cancel(now),
            Input::Rollback => self.on_rollback(now),
            Input::Resume => self.on_resume(now),
            Input::Timeout => self.on_timeout(now),
        }
        Ok(())
    }

    fn start(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Pending {
            self.stage = RolloutPhase::Preparing;
            self.set_status(JobStatus::Preparing);
            self.commands.push_back(Command::Prepare);
        }
        self.settle();
    }

    fn on_prepared(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Preparing {
            self.started = Some(self.now);
            self.set_status(JobStatus::InProgress);
            self.start_wave(0);
        }
        self.settle();
    }

    fn on_prepare_failed(&mut self, code: FailureCode, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::Preparing {
            self.halt(HaltReason::PrepareFailed, code);
            self.finish();
        }
        self.settle();
    }

    #[inline(always)]
    fn on_robot_progress(
        &mut self,
        robot: RobotIndex,
        step: ProgressStep,
        percent_done: u8,
        now: Time,
    ) {
        // Progress changes no slot; only timers that fired on the way can.
        if self.advance(now) {
            self.settle();
        }
        let now = self.now;
        let r = &mut self.robots[robot.get()];
        if r.phase == Phase::Deploying && Some(step) >= r.step {
            if Some(step) > r.step {
                r.step = Some(step);
                r.set_step_started(now);
            }
            r.percent = percent_done.min(100);
        }
    }

    fn on_robot_succeeded(&mut self, robot: RobotIndex, now: Time) {
        self.advance(now);
        let (r, now) = (robot.0, self.now);
        match self.robots[robot.get()].phase {
            Phase::Deploying => {
                let state = &mut self.robots[robot.get()];
                state.step = Some(ProgressStep::Finished);
                state.percent = 100;
                self.in_sync_ms += now.since(state.since).as_millis() as u64;
                self.records[robot.get()].ended = Some(now);
                self.in_sync_n += 1;
                self.set_phase(r, Phase::InSync);
            }
            Phase::RollingBack => self.set_phase(r, Phase::RolledBack),
            _ => {}
        }
        self.settle();
    }

    fn on_robot_failed(&mut self, robot: RobotIndex, code: FailureCode, now: Time) {
        self.advance(now);
        let r = robot.0;
        match self.robots[robot.get()].phase {
            Phase::Deploying => self.fail_robot(r, code, self.now),
            Phase::RollingBack => {
                self.records[robot.get()].rollback_code = Some(code);
                self.set_phase(r, Phase::RollbackFailed);
            }
            _ => {}
        }
        self.settle();
    }

    fn on_robot_offline(&mut self, robot: RobotIndex, now: Time) {
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
                let record = &mut self.records[robot.get()];
                record.code = Some(halt_code);
                record.ended = Some(self.now);
                self.set_phase(r, Phase::NotDeployed);
            }
            Phase::Ready | Phase::Deploying => self.defer(r, Phase::Deferred),
            Phase::RollbackReady | Phase::RollingBack => self.defer(r, Phase::RollbackDeferred),
            _ => {}
        }
        self.settle();
    }

    fn on_robot_online(&mut self, robot: RobotIndex, now: Time) {
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
    }

    fn on_rollback(&mut self, now: Time) {
        match self.stage {
            RolloutPhase::RollingBack => {
                self.advance(now);
            }
            RolloutPhase::Done => {
                self.advance(now);
                if self.rollback.is_none() {
                    let halt = self.halt;
                    // A job that had succeeded ends Canceled once rolled back.
                    self.halt = halt.or(Some(HaltReason::Canceled));
                    if self.start_rollback(HaltReason::RollbackRequested) {
                        self.ended = None;
                        self.set_status(JobStatus::InProgress);
                    } else {
                        self.halt = halt;
                    }
                }
            }
            _ => {
                self.rollback_requested = true;
                return self.on_cancel(now);
            }
        }
        self.settle();
    }

    fn on_cancel(&mut self, now: Time) {
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
                let record = &mut self.records[r as usize];
                record.code = Some(FailureCode::RobotDeploymentAborted);
                record.ended = Some(self.now);
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

    fn on_resume(&mut self, now: Time) {
        self.advance(now);
        if self.stage == RolloutPhase::BetweenWaves
            && self.waves[self.wave as usize].plan.manual_resume
        {
            self.resume_requested = true;
        }
        self.settle();
    }

    fn on_timeout(&mut self, now: Time) {
        self.advance(now);
        self.settle();
    }

    fn set_status(&mut self, status: JobStatus) {
        self.status = status;
        self.events
            .push_back(RolloutEvent::StatusChanged { status });
    }
}
