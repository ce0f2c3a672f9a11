//! The state directory: the engine's durable store and one process runtime per device.
//!
//! ```text
//! <state-dir>/
//!   state.redb            the engine's store: packages, devices, fleets, deployments, jobs
//!   lock                  held by the command using the store; the next one waits for it
//!   devices/<device>/     the root of that device's process runtime (its instances, logs)
//! ```
//!
//! `apply` creates it; every command takes the lock, opens the store, and
//! [`Session`](super::session::Session) starts the engine over it. The store itself admits one
//! process at a time: the lock turns a second command's failure into a wait.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use robodeploy_core::model::Device;
use robodeploy_core::store::{RedbStore, Store, StoreError, Table};
use robodeploy_process::{ProcessRuntime, Shim};
use serde::Deserialize;

use super::CliError;

/// The store file's name inside the state directory.
const STORE_FILE: &str = "state.redb";

/// An open state directory.
pub(crate) struct StateDir {
    root: PathBuf,
}

/// The part of the engine's device record the CLI reads back: the device as registered (its
/// id, architecture and what jobs installed on it).
#[derive(Deserialize)]
struct DeviceRecord {
    device: Device,
}

impl StateDir {
    /// Creates (or opens) the state directory. Its path is made absolute: the supervisors of
    /// the devices' roots keep it.
    ///
    /// The directory holds every environment value and command the store keeps: it is made
    /// owner-only (0700), created so (no window where another user could open it) and
    /// tightened to 0700 when it already exists.
    pub(crate) fn create(root: &Path) -> Result<StateDir, CliError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CliError::State { path, source }
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io(root))?;
        fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io(root))?;
        let devices = root.join("devices");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&devices)
            .map_err(io(&devices))?;
        Self::at(root)
    }

    /// Opens an existing state directory; `None` when it holds no store (nothing was applied
    /// there, and nothing is created). A store that cannot be looked at (a directory without
    /// permission, an I/O error) is an error, never "nothing applied".
    pub(crate) fn existing(root: &Path) -> Result<Option<StateDir>, CliError> {
        let store = root.join(STORE_FILE);
        match fs::metadata(&store) {
            Ok(meta) if meta.is_file() => Self::at(root).map(Some),
            Ok(_) => Err(CliError::State {
                path: store,
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CliError::State {
                path: store,
                source,
            }),
        }
    }

    fn at(root: &Path) -> Result<StateDir, CliError> {
        let root = fs::canonicalize(root).map_err(|source| CliError::State {
            path: root.to_owned(),
            source,
        })?;
        Ok(StateDir { root })
    }

    /// Takes the state directory's lock, waiting (and saying so) while another command holds
    /// it. Released when the file is dropped (or the process ends).
    pub(crate) fn lock(&self) -> Result<fs::File, CliError> {
        let path = self.root.join("lock");
        let io = |source| CliError::State {
            path: path.clone(),
            source,
        };
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        eprintln!(
            "robodeploy: waiting for another robodeploy command on {}",
            self.root.display()
        );
        file.lock().map_err(io)?;
        Ok(file)
    }

    /// The store's file.
    pub(crate) fn store_path(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// Opens (or creates) the store. A damaged file, one written by a newer robodeploy, or one
    /// another command holds open is an error naming the file.
    pub(crate) fn open_store(&self) -> Result<Arc<RedbStore>, CliError> {
        let path = self.store_path();
        RedbStore::open(&path)
            .map(Arc::new)
            .map_err(|source| CliError::Store { path, source })
    }

    /// Every device the store holds, by name.
    pub(crate) fn stored_devices(&self, store: &RedbStore) -> Result<Vec<Device>, CliError> {
        let path = self.store_path();
        let rows = store
            .scan(Table::Devices)
            .map_err(|source| CliError::Store {
                path: path.clone(),
                source,
            })?;
        rows.into_iter()
            .map(|(key, value)| {
                serde_json::from_slice::<DeviceRecord>(&value)
                    .map(|r| r.device)
                    .map_err(|source| CliError::Store {
                        path: path.clone(),
                        source: StoreError::Decode {
                            table: Table::Devices,
                            key,
                            source,
                        },
                    })
            })
            .collect()
    }

    /// The ids of every deployment the store holds (live or ended): its deployments table is
    /// keyed by id, each deployment's further records under `id/`.
    pub(crate) fn stored_deployments(
        &self,
        store: &RedbStore,
    ) -> Result<Vec<robodeploy_core::model::DeploymentId>, CliError> {
        let rows = store
            .scan(Table::Deployments)
            .map_err(|source| CliError::Store {
                path: self.store_path(),
                source,
            })?;
        let mut ids: Vec<_> = rows
            .iter()
            .filter_map(|(key, _)| key.split('/').next()?.parse().ok())
            .collect();
        ids.dedup();
        Ok(ids)
    }

    /// A process runtime on a device's root. Built without `kill_on_drop`: what it runs
    /// outlives this invocation. This program is also the device root's supervisor (the shim).
    pub(crate) fn runtime(&self, device: &str) -> Result<Arc<ProcessRuntime>, CliError> {
        let runtime = ProcessRuntime::builder(self.root.join("devices").join(device))
            .shim(Shim::CurrentExe)
            .build()?;
        Ok(Arc::new(runtime))
    }
}

/// Process runtimes by device name.
pub(crate) type Runtimes = BTreeMap<String, Arc<ProcessRuntime>>;
