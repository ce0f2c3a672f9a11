//! The job's report: its status, its waves, its rollback, and every robot's own outcome.

use serde::{Deserialize, Serialize};

use super::machine::{RollbackRecord, RolloutCounts, WaveRecord};
use super::robot::{Phase, RobotRecord, RobotState};
use super::{HaltReason, RobotIndex, Rollout};
use crate::model::{FailureCode, JobStatus, ProgressStep, RobotStatus};
use crate::time::Time;

/// How a robot's deployment ended (or where it is, in a report taken mid-job).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
#[non_exhaustive]
pub enum RobotOutcome {
    /// Not started yet.
    Pending,
    /// In flight, or deferred while offline.
    Deploying,
    /// Runs the job's version.
    InSync,
    /// Its deployment failed; RobotDeploymentNoResponse when it stayed offline.
    Failed {
        /// Why.
        code: FailureCode,
    },
    /// Never deployed: FailureThresholdBreached when the job halted first,
    /// RobotDeploymentAborted when it was canceled, the preparation's code when that failed.
    NotDeployed {
        /// Why.
        code: FailureCode,
    },
}

/// How a robot's rollback ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rollback", rename_all = "camelCase")]
#[non_exhaustive]
pub enum RollbackOutcome {
    /// Waiting for its turn, in flight, or deferred while offline.
    Pending,
    /// Back on its previous version.
    RolledBack,
    /// The rollback failed; RobotDeploymentNoResponse when the robot stayed offline.
    Failed {
        /// Why.
        code: FailureCode,
    },
}

/// One robot in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotReport {
    /// The robot.
    pub robot: RobotIndex,
    /// Its status.
    pub status: RobotStatus,
    /// Its deployment's outcome.
    #[serde(flatten)]
    pub outcome: RobotOutcome,
    /// The last step its deployment reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<ProgressStep>,
    /// Deployment attempts (an attempt cut short by going offline counts).
    pub attempts: u16,
    /// When its first attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When its deployment outcome was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Time>,
    /// Its rollback, if the job rolled it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackOutcome>,
}

/// A job's report: what RoboMaker's DescribeDeploymentJob shows, plus waves and rollback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutReport {
    /// The job's status.
    pub status: JobStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<FailureCode>,
    /// Why it stopped starting robots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_reason: Option<HaltReason>,
    /// When it was created.
    pub created_at: Time,
    /// When its first wave started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Time>,
    /// When it expires.
    pub expires_at: Time,
    /// Robots in the fleet.
    pub fleet_size: u32,
    /// Robots deployed at once.
    pub in_flight_limit: u32,
    /// Failed robots that halt the job.
    pub failure_threshold: u32,
    /// Robots by where they are.
    pub counts: RolloutCounts,
    /// Its waves.
    pub waves: Vec<WaveRecord>,
    /// Its rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackRecord>,
    /// Every robot's own outcome, in fleet order.
    pub robots: Vec<RobotReport>,
}

fn robot_report(index: usize, r: &RobotState, record: &RobotRecord) -> RobotReport {
    let deployed = |r: &RobotRecord| match r.code {
        None => RobotOutcome::InSync,
        Some(code) => RobotOutcome::Failed { code },
    };
    let failed_with = |code: Option<FailureCode>| code.unwrap_or(FailureCode::InternalServerError);
    let (outcome, rollback) = match r.phase {
        Phase::Waiting => (RobotOutcome::Pending, None),
        Phase::Ready | Phase::Deferred | Phase::Deploying => (RobotOutcome::Deploying, None),
        Phase::InSync | Phase::Failed | Phase::NoResponse => (deployed(record), None),
        Phase::NotDeployed => (
            RobotOutcome::NotDeployed {
                code: failed_with(record.code),
            },
            None,
        ),
        Phase::RollbackReady | Phase::RollbackDeferred | Phase::RollingBack => {
            (deployed(record), Some(RollbackOutcome::Pending))
        }
        Phase::RolledBack => (deployed(record), Some(RollbackOutcome::RolledBack)),
        Phase::RollbackFailed | Phase::RollbackNoResponse => (
            deployed(record),
            Some(RollbackOutcome::Failed {
                code: failed_with(record.rollback_code),
            }),
        ),
    };
    RobotReport {
        robot: RobotIndex(index as u32),
        status: r.phase.status(),
        outcome,
        step: r.step,
        attempts: record.attempts,
        started_at: record.first_started,
        ended_at: record.ended,
        rollback,
    }
}

impl Rollout {
    /// The job's report as of now: a full report once [`status`](Rollout::status) is terminal.
    pub fn report(&self) -> RolloutReport {
        RolloutReport {
            status: self.status,
            failure_code: self.failure_code,
            halt_reason: self.halt,
            created_at: self.created,
            started_at: self.started,
            ended_at: self.ended,
            expires_at: self.expires,
            fleet_size: self.plan.fleet,
            in_flight_limit: self.plan.limit,
            failure_threshold: self.plan.threshold,
            counts: self.counts(),
            waves: self.waves.clone(),
            rollback: self.rollback,
            robots: self
                .robots
                .iter()
                .zip(&self.records)
                .enumerate()
                .map(|(i, (r, record))| robot_report(i, r, record))
                .collect(),
        }
    }

    /// One robot's line of the report.
    ///
    /// # Errors
    /// [`RolloutError::UnknownRobot`](super::RolloutError::UnknownRobot) when the index is out
    /// of range.
    pub fn robot_report(&self, robot: RobotIndex) -> Result<RobotReport, super::RolloutError> {
        let state = self.robot(robot)?;
        Ok(robot_report(robot.get(), state, &self.records[robot.get()]))
    }
}
