//! What the engine reports: deployment and job snapshots, and the events it publishes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{
    DeploymentId, ErrorReport, ExecutableStatus, FailureCode, JobId, JobStatus, Phase,
    ProgressStep, RobotStatus, StatusKind, Version,
};
use crate::rollout::WaveState;
use crate::time::Time;

/// One executable of a deployment, as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExecutableReport {
    /// Component name.
    pub component: String,
    /// Executable name.
    pub name: String,
    /// The device it runs on; none in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Its status, with the reason for Pending and Error.
    pub status: ExecutableStatus,
    /// How often it was restarted.
    pub restart_count: u32,
    /// Its runtime instance, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// A deployment's state at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// Its id.
    pub id: DeploymentId,
    /// Its name.
    pub name: String,
    /// Package name.
    pub package: String,
    /// Package version.
    pub version: Version,
    /// Its phase.
    pub phase: Phase,
    /// The aggregate status of its executables (and dependencies).
    pub status: StatusKind,
    /// The error codes in force now (empty unless something is wrong).
    pub errors: Vec<ErrorReport>,
    /// Restart Count: restarts of its executables.
    pub restart_count: u64,
    /// Its executables.
    pub executables: Vec<ExecutableReport>,
    /// Names of the deployments it depends on.
    pub depends_on: Vec<String>,
    /// The job and robot it belongs to, when a job created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobId>,
    /// When it was created (the epoch in a status stored by a robodeploy before 0.1 kept it).
    #[serde(default)]
    pub created_at: Time,
    /// When this snapshot was taken.
    pub at: Time,
}

impl DeploymentStatus {
    /// Whether the deployment is up: phase Succeeded and status Running.
    pub fn is_running(&self) -> bool {
        self.phase == Phase::Succeeded && self.status == StatusKind::Running
    }

    /// The report of the executable named `name` (the first, if several components have one
    /// of that name).
    pub fn executable(&self, name: &str) -> Option<&ExecutableReport> {
        self.executables.iter().find(|e| e.name == name)
    }
}

/// One robot of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RobotReport {
    /// The robot (device) name.
    pub robot: String,
    /// Its status in the job.
    pub status: RobotStatus,
    /// The step it is at (or ended at).
    pub step: ProgressStep,
    /// Percent done, 0..=100.
    pub percent_done: u8,
    /// Estimated completion, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<Time>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureCode>,
    /// Details of the failure (a script's exit code and output tail, a deployment's error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_detail: Option<String>,
    /// The deployment created on it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentId>,
}

/// A job's state at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    /// Its id.
    pub id: JobId,
    /// Fleet name.
    pub fleet: String,
    /// Application name.
    pub application: String,
    /// Version rolled out.
    pub version: Version,
    /// Job status.
    pub status: JobStatus,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureCode>,
    /// Robots at most in flight at once.
    pub in_flight_limit: u32,
    /// Robots whose failure halts the job.
    pub failure_threshold: u32,
    /// Every robot, in fleet order.
    pub robots: Vec<RobotReport>,
    /// The job's tags (key/value metadata; see [`Engine::tag_job`](super::Engine::tag_job)).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Created at.
    pub created_at: Time,
    /// Expires (is dropped) at.
    pub expires_at: Time,
    /// Its rollback, once one started (on its own, or asked for by a user: `rollback_job`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<JobRollback>,
    /// Its waves in order: one covering the whole fleet when the job names none.
    #[serde(default)]
    pub waves: Vec<JobWave>,
}

/// One wave of a job: which robots it covers, its share of the failure threshold, and where
/// it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobWave {
    /// Its first robot: an index into the report's `robots`, from 0.
    pub start: u32,
    /// One past its last robot.
    pub end: u32,
    /// Failed robots of this wave that halt the job (its share of the job's threshold).
    pub threshold: u32,
    /// Its robots that failed (or did not respond) so far.
    pub failed: u32,
    /// Where it is.
    pub state: WaveState,
    /// Time the job waits after this wave completes, before the next starts.
    #[serde(
        default,
        with = "crate::time::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::time::duration::Span>")
    )]
    pub soak: Option<Duration>,
    /// The next wave waits for a resume after this one (`resume_job`).
    pub manual_resume: bool,
    /// When its robots could start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When its last robot reached an outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Time>,
    /// When its soak ends, while it soaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_ends_at: Option<Time>,
}

/// A job's rollback: robots returning to the version they ran before the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobRollback {
    /// A user asked for it (else the job rolled back on its own: threshold or cancel with
    /// `autoRollback`).
    pub requested: bool,
    /// Robots it covers.
    pub robots: u32,
    /// Robots back on their previous version.
    pub rolled_back: u32,
    /// Robots whose rollback failed or that stayed offline during it.
    pub failed: u32,
    /// When it ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Time>,
}

impl JobReport {
    /// Robots per status.
    pub fn count(&self, status: RobotStatus) -> usize {
        self.robots.iter().filter(|r| r.status == status).count()
    }
}

/// Something the engine publishes to subscribers ([`Engine::subscribe`](super::Engine::subscribe)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "event")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum EngineEvent {
    /// A deployment's phase, status, errors or restart count changed.
    Deployment(Box<DeploymentStatus>),
    /// A job robot moved on (a step, a status).
    Robot {
        /// The job.
        job: JobId,
        /// The robot's report now.
        report: Box<RobotReport>,
    },
    /// A job's status changed.
    Job {
        /// The job.
        job: JobId,
        /// The status now.
        status: JobStatus,
    },
    /// A device went offline or came back.
    Device {
        /// The device.
        device: String,
        /// Online now.
        online: bool,
    },
    /// What the engine did to bring back a deployment or job it found in its store, or to clean
    /// up what an ended deployment left on a robot.
    Recovery(Box<RecoveryAction>),
}

/// One reconciliation a restarted engine made between its store and what a runtime reports
/// ([`EngineEvent::Recovery`]). See the [recovery docs](super#recovery).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "action")]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum RecoveryAction {
    /// The executable's instance still runs: adopted, not restarted.
    Adopted {
        /// The deployment.
        deployment: DeploymentId,
        /// Component name.
        component: String,
        /// Executable name.
        executable: String,
        /// The instance adopted.
        instance: String,
    },
    /// The executable's instance exists but exited: its restart policy decides what follows.
    FoundExited {
        /// The deployment.
        deployment: DeploymentId,
        /// Component name.
        component: String,
        /// Executable name.
        executable: String,
        /// The instance found.
        instance: String,
    },
    /// The executable was meant to run and has no instance: its recorded state and restart
    /// policy decide what follows (a start that was under way is made again).
    Missing {
        /// The deployment.
        deployment: DeploymentId,
        /// Component name.
        component: String,
        /// Executable name.
        executable: String,
    },
    /// An instance of a deployment that was deprovisioned still existed: stopped and removed.
    /// Found when the engine started again, or left on a robot that was offline during the
    /// deprovision (or by a start that answered after it) and stopped once the robot answers.
    StoppedOrphan {
        /// The deployment it belonged to.
        deployment: DeploymentId,
        /// The instance.
        instance: String,
    },
    /// A job robot that was in flight is carried on: its deployment re-checked, or its
    /// pipeline run again from the start when it had not reached its launch.
    RobotResumed {
        /// The job.
        job: JobId,
        /// The robot.
        robot: String,
        /// Its deployment, when one was found.
        deployment: Option<DeploymentId>,
    },
    /// A stored deployment could not be brought back (its package left the catalog, its
    /// record does not fit its package).
    Failed {
        /// The deployment.
        deployment: DeploymentId,
        /// Why.
        message: String,
    },
}
