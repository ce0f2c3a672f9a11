//! What the engine writes to its [`Store`](crate::store::Store), and the keys it writes it under.
//!
//! | table | key | value |
//! |---|---|---|
//! | packages | `name@version` | the [`Package`] |
//! | devices | `name` | [`StoredDevice`]: the device and its runtime's endpoint |
//! | fleets | `name` | the [`Fleet`] |
//! | deployments | `id` | [`StoredDeployment`]: the request and what it was resolved with |
//! | deployments | `id/machine` | [`MachineHeader`]: phase, deployed, deprovisioning |
//! | deployments | `id/exe/NNNN` | the [`ExecutableRecord`](crate::lifecycle::ExecutableRecord) of executable `NNNN` |
//! | deployments | `id/final` | the last [`DeploymentStatus`](super::DeploymentStatus) of a deprovisioned deployment |
//! | deployments | `id/ended` | when it ended: milliseconds since the epoch, ASCII decimal (its retention counts from then) |
//! | jobs | `id` | [`StoredJob`]: the request and the fleet as the job saw it |
//! | jobs | `id/log/NNNNNNNNNN` | a chunk of the job's journal (`(time, input)` entries, in order; see `journal.rs`) |
//! | tokens | the token | `deployment/ID` or `job/ID` |
//!
//! Deployment executables are written one key each, and only when they change, so a status
//! change of one executable of a large deployment writes a few bytes, not the whole deployment.
//! Values are JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lifecycle::DeploymentRecord;
use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, Device, JobId, Phase, Version,
};
use crate::time::Time;

#[cfg(doc)]
use crate::model::{Fleet, Package};

/// A registered device and the runtime that served it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredDevice {
    pub(crate) device: Device,
    /// The runtime's name (its endpoint), for reports.
    pub(crate) runtime: String,
}

/// A deployment as created: enough to resolve it again after a restart.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredDeployment {
    pub(crate) request: DeploymentRequest,
    pub(crate) package: String,
    pub(crate) version: Version,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) extra_env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) launch: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) job: Option<(JobId, u32)>,
    pub(crate) created_at: Time,
}

/// The deployment-wide part of a machine record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MachineHeader {
    pub(crate) phase: Phase,
    pub(crate) deployed: bool,
    pub(crate) deprovisioning: bool,
    pub(crate) executables: u32,
}

impl MachineHeader {
    pub(crate) fn of(record: &DeploymentRecord) -> Self {
        MachineHeader {
            phase: record.phase,
            deployed: record.deployed,
            deprovisioning: record.deprovisioning,
            executables: record.executables.len() as u32,
        }
    }
}

/// A job as created.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredJob {
    pub(crate) request: DeploymentJobRequest,
    pub(crate) robots: Vec<String>,
    /// Per robot: online when the job was created.
    pub(crate) online: Vec<bool>,
    /// Per robot: the application version it ran when the job was created.
    pub(crate) previous: Vec<Option<Version>>,
    pub(crate) created_at: Time,
}

pub(crate) fn deployment_key(id: DeploymentId) -> String {
    id.to_string()
}

pub(crate) fn machine_key(id: DeploymentId) -> String {
    format!("{id}/machine")
}

pub(crate) fn exe_key(id: DeploymentId, exe: usize) -> String {
    format!("{id}/exe/{exe:04}")
}

pub(crate) fn final_key(id: DeploymentId) -> String {
    format!("{id}/final")
}

pub(crate) fn ended_key(id: DeploymentId) -> String {
    format!("{id}/ended")
}

/// The value of an `id/ended` row.
pub(crate) fn ended_value(at: Time) -> Vec<u8> {
    at.as_millis().to_string().into_bytes()
}

pub(crate) fn job_key(id: JobId) -> String {
    id.to_string()
}

pub(crate) fn job_log_key(id: JobId, seq: u64) -> String {
    format!("{id}/log/{seq:010}")
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // The engine's records hold strings, numbers and maps with string keys: they always encode.
    serde_json::to_vec(value).unwrap_or_default()
}
