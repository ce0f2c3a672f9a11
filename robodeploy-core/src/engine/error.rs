//! Errors of the engine's API.

use crate::lifecycle::SpecError;
use crate::model::{DeploymentId, JobId};
use crate::runtime::RuntimeError;
use crate::store::StoreError;
use crate::validate::Report;

use super::{CatalogError, DeviceError};

/// Why an engine call was refused or failed. Nothing is half-done when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The request does not validate; every problem is listed.
    #[error("invalid request: {0}")]
    Invalid(#[from] Report),
    /// The package catalog refused.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The device registry refused.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The deployment could not be resolved into a machine.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// No such deployment.
    #[error("no deployment {0}")]
    NoSuchDeployment(String),
    /// No such fleet.
    #[error("no fleet {0:?}")]
    NoSuchFleet(String),
    /// The job's configuration was refused by the rollout scheduler.
    #[error(transparent)]
    Rollout(crate::rollout::RolloutError),
    /// The package version has no component of this name.
    #[error("package {package}@{version} has no component {component:?}")]
    NoSuchComponent {
        /// Package name.
        package: String,
        /// Package version.
        version: crate::model::Version,
        /// The component asked for.
        component: String,
    },
    /// No such job.
    #[error("no deployment job {0}")]
    NoSuchJob(JobId),
    /// A rollback was asked of a job with nothing to roll back: it rolled back already, or none
    /// of its robots runs its version.
    #[error(
        "job {0} has nothing to roll back: it rolled back already, or none of its robots runs \
         its version"
    )]
    NothingToRollBack(JobId),
    /// A deployment with this name is live already.
    #[error("a deployment named {name:?} already exists ({id})")]
    DuplicateName {
        /// The name.
        name: String,
        /// The live deployment's id.
        id: DeploymentId,
    },
    /// No runtime serves this device (or the cloud).
    #[error("no runtime for {0}")]
    NoRuntime(String),
    /// The operation needs a running instance and there is none.
    #[error(
        "executable {component}/{executable} of deployment {deployment} has no running instance"
    )]
    NotRunning {
        /// The deployment.
        deployment: DeploymentId,
        /// Component.
        component: String,
        /// Executable.
        executable: String,
    },
    /// The runtime failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A wait ran out of time.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The engine has shut down.
    #[error("the engine has shut down")]
    Shutdown,
}
