//! Automatic rollback: once a halted job has nothing in flight, every robot the new version
//! reached goes back to the version it ran before the job, under the same in-flight limit, with
//! the same robot timeout and the same treatment of offline robots.

use super::machine::{RollbackRecord, RolloutPhase};
use super::robot::Phase;
use super::{Command, HaltReason, RobotIndex, Rollout, RolloutEvent};

impl Rollout {
    /// Begins the rollback; false when no robot needs one.
    pub(super) fn start_rollback(&mut self, reason: HaltReason) -> bool {
        let robots = self.robots.iter().filter(|r| r.needs_rollback()).count() as u32;
        if robots == 0 {
            return false;
        }
        self.rollback = Some(RollbackRecord {
            reason,
            started_at: self.now,
            ended_at: None,
            robots,
        });
        self.rollback_cursor = 0;
        self.ready.clear();
        self.stage = RolloutPhase::RollingBack;
        self.events
            .push_back(RolloutEvent::RollbackStarted { reason, robots });
        true
    }

    /// Starts rollbacks until the slots are full: robots back online first, then the robots that
    /// need one in fleet order, deferring the offline ones.
    pub(super) fn fill_rollback(&mut self) {
        while self.in_flight() < self.plan.limit {
            if let Some(r) = self.next_ready(Phase::RollbackReady) {
                self.start_rollback_robot(r);
                continue;
            }
            let mut started = false;
            while self.rollback_cursor < self.plan.fleet {
                let r = self.rollback_cursor;
                self.rollback_cursor += 1;
                let robot = &self.robots[r as usize];
                if !robot.needs_rollback() {
                    continue;
                }
                if robot.online {
                    self.start_rollback_robot(r);
                    started = true;
                    break;
                }
                self.defer(r, Phase::RollbackDeferred);
            }
            if !started {
                break;
            }
        }
    }

    fn start_rollback_robot(&mut self, r: u32) {
        self.robots[r as usize].since = self.now;
        self.set_phase(r, Phase::RollingBack);
        self.timeouts
            .push(self.now.plus_millis(self.plan.timeout_ms), r);
        self.commands.push_back(Command::RollbackRobot {
            robot: RobotIndex(r),
        });
    }

    pub(super) fn rollback_complete(&self) -> bool {
        self.rollback_cursor >= self.plan.fleet
            && self.count(Phase::RollbackReady) == 0
            && self.count(Phase::RollbackDeferred) == 0
            && self.count(Phase::RollingBack) == 0
    }

    pub(super) fn finish_rollback(&mut self) {
        if let Some(record) = &mut self.rollback {
            record.ended_at = Some(self.now);
        }
        let rolled_back = self.count(Phase::RolledBack);
        let failed = self.count(Phase::RollbackFailed) + self.count(Phase::RollbackNoResponse);
        self.events.push_back(RolloutEvent::RollbackFinished {
            rolled_back,
            failed,
        });
    }
}
