//! The server's state directory: made owner-only, locked while a server runs on it, holding
//! the store, the API token and the endpoint clients read.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use robodeploy_core::store::RedbStore;

use super::ServeError;

/// The store file's name inside the state directory.
pub(crate) const STORE_FILE: &str = "state.redb";
/// The token file's name.
pub(crate) const TOKEN_FILE: &str = "token";
/// The endpoint file's name.
pub(crate) const ENDPOINT_FILE: &str = "endpoint";

/// An open state directory.
pub(crate) struct StateDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::State {
        path: path.to_owned(),
        source,
    }
}

impl StateDir {
    /// Creates (or opens) the state directory, owner-only (0700): it holds every environment
    /// value and command the store keeps. Its path is made absolute (the process supervisors
    /// of the devices' roots keep it).
    pub(crate) fn create(root: &Path) -> Result<StateDir, ServeError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io(root))?;
        fs::set_permissions(root, fs::Permissions::from_mode(0o700)).map_err(io(root))?;
        let root = fs::canonicalize(root).map_err(io(root))?;
        let devices = root.join("devices");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&devices)
            .map_err(io(&devices))?;
        Ok(StateDir { root })
    }

    /// The directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the directory's lock without waiting: a second server on it is refused.
    pub(crate) fn lock(&self) -> Result<fs::File, ServeError> {
        let path = self.root.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(ServeError::Busy {
                path: self.root.clone(),
            }),
            Err(fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    /// The store's file.
    pub(crate) fn store_path(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// Where the preinstalled devices' process runtimes keep their roots.
    pub(crate) fn devices_dir(&self) -> PathBuf {
        self.root.join("devices")
    }

    /// Opens (or creates) the store.
    pub(crate) fn open_store(&self) -> Result<Arc<RedbStore>, ServeError> {
        let path = self.store_path();
        RedbStore::open(&path)
            .map(Arc::new)
            .map_err(|source| ServeError::Store { path, source })
    }

    /// The API token: read from the token file, or made (256 random bits, hex) and written
    /// owner-only the first time. A token file readable by others is tightened to 0600.
    pub(crate) fn token(&self) -> Result<String, ServeError> {
        let path = self.root.join(TOKEN_FILE);
        match fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io(&path))?;
                return Ok(text.trim().to_owned());
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.write_private(TOKEN_FILE, &token)?;
        Ok(token)
    }

    /// Writes the URL the server listens on, for clients on this machine.
    pub(crate) fn write_endpoint(&self, url: &str) -> Result<(), ServeError> {
        self.write_private(ENDPOINT_FILE, url)
    }

    /// Removes the endpoint file (the server stopped); a failure is only logged.
    pub(crate) fn remove_endpoint(&self) {
        let path = self.root.join(ENDPOINT_FILE);
        if let Err(e) = fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }

    /// Writes a file owner-only (0600) in one step: a temporary file renamed over it, so a
    /// reader never sees half of it.
    fn write_private(&self, name: &str, text: &str) -> Result<(), ServeError> {
        let path = self.root.join(name);
        let tmp = self.root.join(format!(".{name}.tmp"));
        let mut file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }
}
