//! The live deployments and jobs, as the engine's state tracks them: each machine with what
//! the engine keeps beside it (instances, in-flight calls, what was last published and stored),
//! and the reports made of them.

use crate::lifecycle::{DependencyState, Deployment as Machine, DeploymentRecord, Host};
use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, FailureCode, JobId, JobStatus, Package,
    Phase, ProgressStep, RobotStatus, StatusKind,
};
use crate::rollout::{HaltReason, Pipeline, PipelinePlan, RobotIndex, WaveState};
use crate::runtime::{InstanceId, InstanceSpec};

use super::journal::Journaled;
use super::message::RuntimeKey;
use super::{DeploymentStatus, ExecutableReport, JobReport, JobRollback, JobWave, RobotReport};

/// A live deployment.
pub(crate) struct DeploymentEntry {
    pub(crate) id: DeploymentId,
    pub(crate) request: DeploymentRequest,
    pub(crate) package: Package,
    pub(crate) machine: Machine,
    pub(crate) specs: Vec<InstanceSpec>,
    pub(crate) keys: Vec<RuntimeKey>,
    pub(crate) instances: Vec<Option<InstanceId>>,
    /// Per executable: a start or restart is in flight (its instance is not known yet).
    pub(crate) starting: Vec<bool>,
    /// Per executable: a stop that arrived while a start was in flight, with its grace; carried
    /// out on the instance the start returns, so a deprovision never leaves it running.
    pub(crate) stop_after_start: Vec<Option<std::time::Duration>>,
    /// Per executable: an inspection asked for while a start was in flight (its device came
    /// back while the start was tried again); the start's answer settles it.
    pub(crate) inspect_after_start: Vec<bool>,
    /// The job and robot index that created it.
    pub(crate) job: Option<(JobId, u32)>,
    /// When it was created (as its stored request says).
    pub(crate) created_at: crate::time::Time,
    /// The last status published (to publish changes only).
    pub(crate) last: Option<Fingerprint>,
    /// The dependency state last told to dependents.
    pub(crate) dep_state: DependencyState,
    /// What the store holds of its machine (to write changes only).
    pub(crate) persisted: Option<DeploymentRecord>,
    /// Per executable: its running instance was replaced by one with the same id; the runtime's
    /// events up to that instance's `Removed` are the old one's.
    pub(crate) skip_until_removed: Vec<bool>,
    pub(crate) span: tracing::Span,
}

/// What decides whether a status changed enough to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    phase: Phase,
    status: StatusKind,
    exes: Vec<(crate::model::ExecutableStatus, u32)>,
    errors: Vec<crate::model::ErrorReport>,
    instances: Vec<Option<InstanceId>>,
}

impl DeploymentEntry {
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        let m = &self.machine;
        Fingerprint {
            phase: m.phase(),
            status: m.status(),
            exes: m
                .executables()
                .filter_map(|e| Some((m.executable_status(e)?, m.restart_count(e)?)))
                .collect(),
            errors: m.errors(),
            instances: self.instances.clone(),
        }
    }

    pub(crate) fn status(&self, at: crate::time::Time) -> DeploymentStatus {
        let m = &self.machine;
        DeploymentStatus {
            id: self.id,
            name: self.request.name.clone(),
            package: self.package.name.clone(),
            version: self.package.version.clone(),
            phase: m.phase(),
            status: m.status(),
            errors: m.errors(),
            restart_count: m.total_restart_count(),
            executables: m
                .executables()
                .filter_map(|e| {
                    let spec = m.executable(e)?;
                    Some(ExecutableReport {
                        component: spec.component.clone(),
                        name: spec.name.clone(),
                        device: match &spec.host {
                            Host::Device(d) => Some(d.clone()),
                            _ => None,
                        },
                        status: m.executable_status(e)?,
                        restart_count: m.restart_count(e)?,
                        instance: self.instances[e.get()].as_ref().map(|i| i.0.clone()),
                    })
                })
                .collect(),
            depends_on: self.request.depends_on.clone(),
            job: self.job.map(|(j, _)| j),
            created_at: self.created_at,
            at,
        }
    }

    pub(crate) fn dependency_state(&self) -> DependencyState {
        let m = &self.machine;
        match (m.phase(), m.status()) {
            (_, StatusKind::Error) => DependencyState::Error,
            (Phase::Succeeded, StatusKind::Running) => DependencyState::Running,
            (Phase::FailedToStart, _) => DependencyState::Error,
            _ => DependencyState::Other,
        }
    }
}

/// What the engine is doing for one robot of a job.
#[derive(Default)]
pub(crate) struct RobotRun {
    /// Bumped at every attempt; updates from older attempts are ignored.
    pub(crate) attempt: u32,
    /// A step of the robot's pipeline runs in a task of the driver's.
    pub(crate) task: bool,
    pub(crate) deployment: Option<DeploymentId>,
    /// The deployment's status was acted on (it runs, or it failed to start): later statuses
    /// of the same deployment do not move the robot again.
    pub(crate) post_launch: bool,
    pub(crate) rolling_back: bool,
    pub(crate) detail: Option<String>,
    /// The deployment attempt under way; none while not deploying (or rolling back).
    pub(crate) pipeline: Option<Pipeline>,
    /// What was last published of the robot, to publish only when it moves on.
    pub(crate) published: Option<(RobotStatus, ProgressStep, u8, Option<FailureCode>)>,
}

/// A live job.
pub(crate) struct JobEntry {
    pub(crate) id: JobId,
    /// Shared with the tasks running its robots' steps (one per robot in flight).
    pub(crate) request: std::sync::Arc<DeploymentJobRequest>,
    pub(crate) package: std::sync::Arc<Package>,
    pub(crate) rollout: Journaled,
    pub(crate) robots: Vec<String>,
    pub(crate) runs: Vec<RobotRun>,
    /// The robot steps of the job.
    pub(crate) plan: PipelinePlan,
    pub(crate) last_status: JobStatus,
    pub(crate) span: tracing::Span,
}

impl JobEntry {
    pub(crate) fn report(&self) -> JobReport {
        let r = &self.rollout;
        JobReport {
            id: self.id,
            fleet: self.request.fleet.clone(),
            application: self.request.application.clone(),
            version: self.request.application_version.clone(),
            status: r.status(),
            failure: r.failure_code(),
            in_flight_limit: r.in_flight_limit(),
            failure_threshold: r.failure_threshold(),
            robots: (0..self.robots.len())
                .map(|i| self.robot_report(i))
                .collect(),
            tags: self.request.tags.clone(),
            created_at: r.created_at(),
            expires_at: r.expires_at(),
            rollback: r.rollback().map(|record| {
                let counts = r.counts();
                JobRollback {
                    requested: record.reason == HaltReason::RollbackRequested,
                    robots: record.robots,
                    rolled_back: counts.rolled_back,
                    failed: counts.rollback_failed,
                    ended_at: record.ended_at,
                }
            }),
            waves: (0..r.waves().len() as u32)
                .map(|i| {
                    let record = &r.waves()[i as usize];
                    let state = r.wave_state(i);
                    JobWave {
                        start: record.plan.start,
                        end: record.plan.end,
                        threshold: record.plan.threshold,
                        failed: record.failed,
                        state,
                        soak: record.plan.soak,
                        manual_resume: record.plan.manual_resume,
                        started_at: record.started_at,
                        completed_at: record.completed_at,
                        soak_ends_at: r.soak_until().filter(|_| state == WaveState::Soaking),
                    }
                })
                .collect(),
        }
    }

    pub(crate) fn robot_report(&self, i: usize) -> RobotReport {
        let idx = RobotIndex(i as u32);
        let p = self.rollout.robot_progress(idx).ok();
        RobotReport {
            robot: self.robots[i].clone(),
            status: p.map_or(RobotStatus::PendingNewDeployment, |p| p.status),
            step: p.and_then(|p| p.step).unwrap_or(ProgressStep::Validating),
            percent_done: p.map_or(0, |p| p.percent_done),
            eta: p.and_then(|p| p.eta),
            failure: self.rollout.robot_failure(idx).ok().flatten(),
            failure_detail: self.runs[i].detail.clone(),
            deployment: self.runs[i].deployment,
        }
    }
}
