//! Messages into the driver: API requests with their reply channels, and completions of the
//! runtime operations the driver started.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::lifecycle::{ExecutableIndex, Failure};
use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, Device, Fleet, JobId, Package, Version,
};
use crate::rollout::StepOutcome;
use crate::runtime::{InstanceId, InstanceInfo, Runtime, RuntimeEvent};

use super::{DeploymentStatus, EngineError, JobReport};

pub(crate) type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

/// Where an instance runs: which runtime.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum RuntimeKey {
    Cloud,
    Device(String),
}

/// API requests.
pub(crate) enum Request {
    AddPackage(Package, Reply<bool>),
    ListPackages(Reply<Vec<Package>>),
    GetPackage(String, Version, Reply<Package>),
    DeletePackage(String, Version, Reply<()>),
    AddDevice(Box<Device>, Arc<dyn Runtime>, Reply<bool>),
    AddDevices(Vec<(Device, Arc<dyn Runtime>)>, Reply<Vec<bool>>),
    SetCloudRuntime(Arc<dyn Runtime>, Reply<()>),
    AddFleet(Fleet, Reply<()>),
    ListFleets(Reply<Vec<Fleet>>),
    RemoveDevice(String, Reply<()>),
    ListDevices(Reply<Vec<Device>>),
    DeviceRebooted(String, Reply<()>),
    Deploy(Box<DeploymentRequest>, Option<String>, Reply<DeploymentId>),
    Deprovision(DeploymentId, Reply<()>),
    Status(DeploymentId, Reply<DeploymentStatus>),
    FindDeployment(String, Reply<DeploymentId>),
    DeployedAs(DeploymentId, Reply<DeploymentRequest>),
    ListDeployments(Reply<Vec<DeploymentStatus>>),
    Instance(
        DeploymentId,
        String,
        String,
        Reply<(Arc<dyn Runtime>, InstanceId)>,
    ),
    CreateJob(Box<DeploymentJobRequest>, Option<String>, Reply<JobId>),
    CancelJob(JobId, Reply<()>),
    RollbackJob(JobId, Reply<()>),
    ResumeJob(JobId, Reply<()>),
    JobReport(JobId, Reply<JobReport>),
    JobTags(JobId, Reply<BTreeMap<String, String>>),
    TagJob(JobId, BTreeMap<String, String>, Reply<()>),
    UntagJob(JobId, Vec<String>, Reply<()>),
    /// Package name, version, component.
    EligibleDevices(String, Version, String, Reply<Vec<Device>>),
    ListJobs(Reply<Vec<JobReport>>),
    Shutdown(Reply<()>),
    Detach(Reply<()>),
}

/// Completions of work the driver handed to tasks.
pub(crate) enum Internal {
    /// A runtime reported something.
    Runtime(RuntimeKey, RuntimeEvent),
    /// A lifecycle command finished.
    Op(DeploymentId, ExecutableIndex, OpResult),
    /// A health check answered.
    Health(RuntimeKey, bool),
    /// A job robot's pipeline moved on (job, robot index, attempt, update).
    Robot(JobId, u32, u32, RobotUpdate),
    /// What a runtime holds, listed by its robodeploy labels (recovery).
    Inventory(RuntimeKey, Vec<InstanceInfo>),
}

/// The outcome of a lifecycle command.
pub(crate) enum OpResult {
    Prepared(Result<(), Failure>),
    /// The instance started (or was adopted); `true` when a running instance of the same id
    /// was replaced, whose last events (up to its `Removed`) are stale.
    Started(Result<InstanceId, Failure>, bool),
    Stopped(Result<(), String>),
    Inspected(Result<InstanceInfo, Failure>),
}

/// What a job robot's task reports.
pub(crate) enum RobotUpdate {
    /// The robot pipeline's current command went this way; the detail explains a failure.
    Outcome(StepOutcome, Option<String>),
    /// A rollback's deployment runs (`Ok`) or did not reach Running (`Err` with the detail).
    RolledBack(Result<(), String>),
}
