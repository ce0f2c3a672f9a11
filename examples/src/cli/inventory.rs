//! What runs now under a state directory: every device's process runtime asked for the
//! instances it holds, grouped by their deployment label, and joined with apply's records.

use std::collections::BTreeMap;
use std::sync::Arc;

use robodeploy_core::model::{DeploymentId, JobId};
use robodeploy_core::runtime::{InstanceInfo, InstanceState, Runtime, labels};
use robodeploy_process::ProcessRuntime;
use serde::Serialize;

use super::CliError;
use super::state::{Record, Records, StateDir};

/// One instance and the device it runs on.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Instance {
    pub(crate) device: String,
    #[serde(flatten)]
    pub(crate) info: InstanceInfo,
}

impl Instance {
    /// Its component and executable, from its labels.
    pub(crate) fn executable(&self) -> (&str, &str) {
        let label = |k| self.info.labels.get(k).map_or("?", String::as_str);
        (label(labels::COMPONENT), label(labels::EXECUTABLE))
    }
}

/// A deployment found by name, id or job: its record when apply wrote one.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) name: Option<String>,
    pub(crate) id: DeploymentId,
    pub(crate) record: Option<Record>,
}

impl Target {
    /// The name, or the id when it has no record.
    pub(crate) fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
    }
}

/// Every device's runtime and instances, and the records.
pub(crate) struct Inventory {
    pub(crate) runtimes: BTreeMap<String, Arc<ProcessRuntime>>,
    by_deployment: BTreeMap<DeploymentId, Vec<Instance>>,
    pub(crate) records: Records,
}

impl Inventory {
    /// Opens a runtime on every device root and lists what each holds.
    pub(crate) async fn take(state: &StateDir) -> Result<Inventory, CliError> {
        let mut runtimes = BTreeMap::new();
        let mut by_deployment: BTreeMap<DeploymentId, Vec<Instance>> = BTreeMap::new();
        for device in state.devices()? {
            let runtime = state.runtime(&device)?;
            for info in runtime.list(&BTreeMap::new()).await? {
                let id = info
                    .labels
                    .get(labels::DEPLOYMENT)
                    .and_then(|s| s.parse().ok());
                // Instances without robodeploy's deployment label are not ours to show.
                if let Some(id) = id {
                    by_deployment.entry(id).or_default().push(Instance {
                        device: device.clone(),
                        info,
                    });
                }
            }
            runtimes.insert(device, runtime);
        }
        Ok(Inventory {
            runtimes,
            by_deployment,
            records: state.records()?,
        })
    }

    /// The instances of a deployment, on every device.
    pub(crate) fn instances(&self, id: DeploymentId) -> &[Instance] {
        self.by_deployment.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Every recorded deployment, then every deployment found running without a record (an
    /// apply interrupted before it wrote one).
    pub(crate) fn all(&self) -> Vec<Target> {
        let mut targets: Vec<Target> = self
            .records
            .deployments
            .iter()
            .map(|(name, r)| Target {
                name: Some(name.clone()),
                id: r.id,
                record: Some(r.clone()),
            })
            .collect();
        for &id in self.by_deployment.keys() {
            if !targets.iter().any(|t| t.id == id) {
                targets.push(Target {
                    name: None,
                    id,
                    record: None,
                });
            }
        }
        targets
    }

    /// The deployments `name` means: a deployment's name or id, or every deployment of a job.
    pub(crate) fn resolve(&self, name: &str) -> Result<Vec<Target>, CliError> {
        let all = self.all();
        let by_name: Vec<Target> = all
            .iter()
            .filter(|t| t.name.as_deref() == Some(name))
            .cloned()
            .collect();
        if !by_name.is_empty() {
            return Ok(by_name);
        }
        // Deployment and job ids are both UUIDs: a deployment's id first, then a job's.
        let id = name.parse::<DeploymentId>().ok();
        let job = name.parse::<JobId>().ok();
        let mut matching: Vec<Target> = all.iter().filter(|t| Some(t.id) == id).cloned().collect();
        if matching.is_empty() && job.is_some() {
            matching = all
                .into_iter()
                .filter(|t| t.record.as_ref().and_then(|r| r.job) == job)
                .collect();
        }
        if matching.is_empty() {
            return Err(CliError::Refused(format!(
                "no deployment, deployment id or job id {name:?} was applied here (see `robodeploy status`)"
            )));
        }
        Ok(matching)
    }
}

/// A deployment's state summed up from its instances.
pub(crate) fn summary(instances: &[Instance]) -> &'static str {
    let running = instances
        .iter()
        .filter(|i| matches!(i.info.state, InstanceState::Running { .. }))
        .count();
    match (running, instances.len()) {
        (_, 0) => "Missing",
        (r, n) if r == n => "Running",
        (0, _) => "Exited",
        _ => "Partial",
    }
}
