//! What the store held when the engine started and is not brought back yet: deployments
//! waiting for their runtimes' inventories, job robots that were in flight, device records
//! waiting to be registered again ([`super::recover`] brings them back).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::lifecycle::DeploymentRecord;
use crate::model::{DeploymentId, JobId};
use crate::runtime::InstanceInfo;

use super::journal::LastCommand;
use super::message::RuntimeKey;
use super::persist::{StoredDeployment, StoredDevice};

/// A deployment loaded from the store, not restored yet.
pub(crate) struct Stored {
    pub(crate) stored: StoredDeployment,
    /// `None` when the engine stopped before the machine's first decision was written.
    pub(crate) record: Option<DeploymentRecord>,
}

/// What the store held at start and is not brought back yet.
#[derive(Default)]
pub(crate) struct Recovery {
    /// Deployments waiting for the inventories of their runtimes.
    pub(crate) deployments: BTreeMap<DeploymentId, Stored>,
    /// The waiting deployments by the runtimes they wait for.
    pub(crate) waiting: HashMap<RuntimeKey, Vec<DeploymentId>>,
    /// Restored deployments of job robots, by (job, robot index).
    pub(crate) job_deployments: HashMap<(JobId, u32), DeploymentId>,
    /// Deployments the store holds as deprovisioned: instances of theirs are orphans.
    pub(crate) retired: HashSet<DeploymentId>,
    /// Inventories received, per runtime.
    pub(crate) inventories: HashMap<RuntimeKey, Vec<InstanceInfo>>,
    /// Runtimes being listed.
    pub(crate) listing: HashSet<RuntimeKey>,
    /// Job robots that were in flight, by robot name.
    pub(crate) robots: HashMap<String, Vec<(JobId, u32, LastCommand)>>,
    /// Device records, by name: merged into the device when it is registered again.
    pub(crate) devices: HashMap<String, StoredDevice>,
}
