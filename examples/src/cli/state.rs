//! The state directory: what `apply` leaves for later invocations.
//!
//! ```text
//! <state-dir>/
//!   deployments.json      name → id, package, devices, job: what apply started
//!   devices/<device>/     the root of that device's process runtime (its instances, logs)
//! ```
//!
//! Until the engine's durable store and crash recovery land, this is how `status`, `logs` and
//! `deprovision` find what an earlier `apply` started: the records give names, and the process
//! runtimes' own files (found again by their robodeploy labels) give the truth of what runs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use robodeploy_core::model::{DeploymentId, JobId, Version};
use robodeploy_core::time::Time;
use robodeploy_process::{ProcessRuntime, Shim};
use serde::{Deserialize, Serialize};

use super::CliError;

/// What `apply` started: one record per deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Records {
    /// By deployment name.
    pub(crate) deployments: BTreeMap<String, Record>,
}

/// One deployment `apply` started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    pub(crate) id: DeploymentId,
    pub(crate) package: String,
    pub(crate) version: Version,
    /// The devices its components run on.
    pub(crate) devices: Vec<String>,
    /// The job that created it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) job: Option<JobId>,
    /// The manifest applied.
    pub(crate) manifest: PathBuf,
    pub(crate) applied_at: Time,
}

/// An open state directory.
pub(crate) struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Opens (creating when `create`) the state directory. Its path is made absolute: the
    /// shims of the executables started keep it.
    pub(crate) fn open(root: &Path, create: bool) -> Result<StateDir, CliError> {
        let io = |source| CliError::State {
            path: root.to_owned(),
            source,
        };
        if create {
            fs::create_dir_all(root.join("devices")).map_err(io)?;
        } else if !root.is_dir() {
            return Err(CliError::Refused(format!(
                "no state directory {} (nothing was applied there; see --state-dir)",
                root.display()
            )));
        }
        Ok(StateDir {
            root: fs::canonicalize(root).map_err(io)?,
        })
    }

    fn records_file(&self) -> PathBuf {
        self.root.join("deployments.json")
    }

    /// The root directory of a device's process runtime.
    pub(crate) fn device_root(&self, device: &str) -> PathBuf {
        self.root.join("devices").join(device)
    }

    /// Every device that has a runtime root here.
    pub(crate) fn devices(&self) -> Result<Vec<String>, CliError> {
        let dir = self.root.join("devices");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(CliError::State { path: dir, source }),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// A process runtime on a device's root. Built without `kill_on_drop`: what it runs
    /// outlives this invocation. This program is its own shim.
    pub(crate) fn runtime(&self, device: &str) -> Result<Arc<ProcessRuntime>, CliError> {
        let runtime = ProcessRuntime::builder(self.device_root(device))
            .shim(Shim::CurrentExe)
            .build()?;
        Ok(Arc::new(runtime))
    }

    /// The records (none yet: empty).
    pub(crate) fn records(&self) -> Result<Records, CliError> {
        let path = self.records_file();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CliError::State {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Records::default()),
            Err(source) => Err(CliError::State { path, source }),
        }
    }

    /// Replaces the records: written to a temporary file, then renamed over the old one, so a
    /// reader never sees half a file.
    pub(crate) fn save(&self, records: &Records) -> Result<(), CliError> {
        let path = self.records_file();
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(records).map_err(|e| CliError::State {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|source| CliError::State { path, source })
    }

    /// Adds or replaces one record.
    pub(crate) fn record(&self, name: &str, record: Record) -> Result<(), CliError> {
        let mut records = self.records()?;
        records.deployments.insert(name.to_owned(), record);
        self.save(&records)
    }

    /// Forgets one record.
    pub(crate) fn forget(&self, name: &str) -> Result<(), CliError> {
        let mut records = self.records()?;
        if records.deployments.remove(name).is_some() {
            self.save(&records)?;
        }
        Ok(())
    }
}
