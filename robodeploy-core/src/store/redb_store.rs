//! The embedded durable store: one redb file, ACID, crash-safe, checked on open.

use std::ops::Bound;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use redb::{Database, ReadableDatabase};

use super::migrate::{self, Schema, definition};
use super::redb_errors::{io_error, needs_reopen, on};
use super::{Store, StoreError, Table, Write, WriteBatch, prefix_end};

/// A [`Store`] in one redb file. Every [`Store::write`] is one durable transaction.
///
/// Opening checks the file: every page's checksum is verified, so a truncated, overwritten or
/// foreign file is reported as [`StoreError::Corrupt`] (it is never reset), a store of an older
/// schema is migrated and one of a newer schema refused (see [`SCHEMA_VERSION`](super::SCHEMA_VERSION)).
/// A new store is created beside its path and moved into place once initialized, so an empty
/// file at the path is always damage.
///
/// The store holds every environment value, so its file is owner-only: created with mode 0600
/// from the start (opened with that mode, never widened by the umask or changed afterwards),
/// and a store an older version left readable by others is set to 0600 when opened. The
/// directory holding it is the caller's to create (0700 is advised).
///
/// When the file system fails a write (full, read-only, I/O error), the operation returns
/// [`StoreError::Io`] naming the operation and the file, the file keeps its last committed
/// state, and the next operation reopens the file before it runs, so the store works again once
/// the cause is gone.
///
/// ```
/// use robodeploy_core::store::{RedbStore, Store, Table, WriteBatch};
/// let dir = std::env::temp_dir().join(format!("rd-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("state.redb");
/// {
///     let store = RedbStore::open(&path).unwrap();
///     let mut b = WriteBatch::default();
///     b.put(Table::Devices, "robot-1", b"{}".to_vec());
///     store.write(b).unwrap();
/// }
/// let store = RedbStore::open(&path).unwrap();
/// assert_eq!(store.get(Table::Devices, "robot-1").unwrap(), Some(b"{}".to_vec()));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct RedbStore {
    path: PathBuf,
    /// `None` after a reopen failed; the next operation tries again.
    db: RwLock<Option<Database>>,
    /// Set when an operation failed on I/O: redb then refuses further use of the handle until
    /// the database is reopened.
    reopen: AtomicBool,
}

impl RedbStore {
    /// Opens (or creates) the store at `path`, checking its integrity and migrating its schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path.as_ref(), &migrate::CURRENT)
    }

    /// [`RedbStore::open`] with another schema (tests of the migration machinery).
    pub(crate) fn open_with(path: &Path, schema: &Schema<'_>) -> Result<Self, StoreError> {
        let db = open_database(path, schema)?;
        Ok(RedbStore {
            path: path.to_path_buf(),
            db: RwLock::new(Some(db)),
            reopen: AtomicBool::new(false),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `op` on the open database, reopening it first if an earlier I/O failure requires it.
    fn with_db<T>(
        &self,
        op: impl FnOnce(&Database, &Path) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.reopen.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let guard = self.read_guard();
        let Some(db) = guard.as_ref() else {
            drop(guard);
            // A reopen raced with this call and failed; try once more here.
            self.reopen()?;
            return self.with_db(op);
        };
        let result = op(db, &self.path);
        if let Err(e) = &result
            && needs_reopen(e)
        {
            self.reopen.store(true, Ordering::Release);
        }
        result
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, Option<Database>> {
        // The lock guards no invariant a panic could break: the slot holds a database or not.
        self.db.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the database and opens it again (which repairs and checks it).
    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self.db.write().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() && !self.reopen.load(Ordering::Acquire) {
            return Ok(()); // another thread reopened it meanwhile
        }
        // The old handle must be closed (its file lock released) before the file is reopened.
        if let Some(old) = slot.take() {
            let _ = old.close();
        }
        *slot = Some(open_database(&self.path, &migrate::CURRENT)?);
        self.reopen.store(false, Ordering::Release);
        Ok(())
    }
}

/// The mode of a store file: read and write for its owner only.
const OWNER_ONLY: u32 = 0o600;

/// Opens the database at `path`, creating it if absent, verifying it, bringing it to `schema`.
fn open_database(path: &Path, schema: &Schema<'_>) -> Result<Database, StoreError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, schema)?,
        Err(e) => return Err(io_error(path, "inspect", e)),
        Ok(m) if m.is_dir() => {
            return Err(StoreError::Io {
                message: format!("open {}: is a directory, not a store file", path.display()),
                source: None,
            });
        }
        Ok(m) if m.len() == 0 => {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file is empty (truncated, or not a store)".into(),
            });
        }
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            // Left readable by others (created before stores were owner-only): tightened.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(OWNER_ONLY))
                .map_err(|e| io_error(path, "restrict permissions of", e))?;
        }
        Ok(_) => {}
    }
    let db = redb::Builder::new()
        .set_check_integrity_on_open(true)
        .set_cache_size(CACHE_BYTES)
        .open(path)
        .map_err(on(path, "open"))?;
    migrate::upgrade(&db, path, schema)?;
    Ok(db)
}

/// The most memory the store's page cache takes. redb's own default (1 GiB) lets a long-lived
/// server's resident memory climb with every page it ever touched; under its retentions the
/// store of a 100-robot fleet stays near 2.6 MiB (BENCHMARKS.md, soak), so 32 MiB keeps a fleet
/// ten times larger cached while bounding what churn can add.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Creates a store at `path`: initialized in a sibling file, then linked into place, so that the
/// path holds either nothing or a complete store.
fn create(path: &Path, schema: &Schema<'_>) -> Result<(), StoreError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".creating");
    let staging = path.with_file_name(name);
    // A staging file left by a creation that crashed was never the store: start over.
    if std::fs::symlink_metadata(&staging).is_ok() {
        std::fs::remove_file(&staging).map_err(|e| io_error(&staging, "remove stale", e))?;
    }
    // Errors name the store's path, not the staging file's: that is the file the caller knows.
    let result = (|| {
        // Owner-only from the first instant: the mode is given to open, not set afterwards.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(OWNER_ONLY)
            .open(&staging)
            .map_err(|e| io_error(path, "create", e))?;
        // The umask can only take bits away; one that took the owner's is put right.
        file.set_permissions(std::fs::Permissions::from_mode(OWNER_ONLY))
            .map_err(|e| io_error(path, "create", e))?;
        let backend = redb::backends::FileBackend::new(file).map_err(on(path, "create"))?;
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(backend)
            .map_err(on(path, "create"))?;
        migrate::initialize(&db, path, schema)?;
        db.close().map_err(on(path, "create"))?;
        // A hard link never replaces a store another process created meanwhile; file systems
        // without hard links get a rename.
        match std::fs::hard_link(&staging, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(_) => std::fs::rename(&staging, path).map_err(|e| io_error(path, "create", e))?,
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(parent, "sync directory", e))
    })();
    let _ = std::fs::remove_file(&staging);
    result
}

/// The key range of `prefix` (everything from it up to [`prefix_end`]).
fn prefix_range<'a>(prefix: &'a str, end: &'a Option<String>) -> (Bound<&'a str>, Bound<&'a str>) {
    let upper = match end {
        Some(e) => Bound::Excluded(e.as_str()),
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix), upper)
}

impl Store for RedbStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.with_db(|db, path| {
            let txn = db.begin_write().map_err(on(path, "begin write"))?;
            {
                // Consecutive writes to one table share its handle; order is kept.
                let mut open: Option<(Table, redb::Table<'_, &str, &[u8]>)> = None;
                for w in &batch.writes {
                    let table = w.table();
                    let t = match &mut open {
                        Some((at, t)) if *at == table => t,
                        slot => {
                            *slot = None; // one table handle at a time
                            let t = txn
                                .open_table(definition(table.name()))
                                .map_err(on(path, "open table"))?;
                            &mut slot.insert((table, t)).1
                        }
                    };
                    match w {
                        Write::Put { key, value, .. } => {
                            t.insert(key.as_str(), value.as_slice())
                                .map_err(on(path, "insert"))?;
                        }
                        Write::Delete { key, .. } => {
                            t.remove(key.as_str()).map_err(on(path, "remove"))?;
                        }
                        Write::DeletePrefix { prefix, .. } => {
                            let end = prefix_end(prefix);
                            t.retain_in::<&str, _>(prefix_range(prefix, &end), |_, _| false)
                                .map_err(on(path, "delete prefix"))?;
                        }
                    }
                }
            }
            txn.commit().map_err(on(path, "commit"))
        })
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_db(|db, path| {
            let txn = db.begin_read().map_err(on(path, "begin read"))?;
            let t = match txn.open_table(definition(table.name())) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(on(path, "open table")(e)),
            };
            Ok(t.get(key)
                .map_err(on(path, "get"))?
                .map(|v| v.value().to_vec()))
        })
    }

    fn scan_prefix(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.with_db(|db, path| {
            let txn = db.begin_read().map_err(on(path, "begin read"))?;
            let t = match txn.open_table(definition(table.name())) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(on(path, "open table")(e)),
            };
            let end = prefix_end(prefix);
            let mut out = Vec::new();
            for entry in t
                .range::<&str>(prefix_range(prefix, &end))
                .map_err(on(path, "scan"))?
            {
                let (k, v) = entry.map_err(on(path, "scan"))?;
                out.push((k.value().to_owned(), v.value().to_vec()));
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SCHEMA_VERSION;
    use crate::store::migrate::SCHEMA_KEY;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rd-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.redb")
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_as_it_is() {
        let path = temp("newer");
        {
            let s = RedbStore::open(&path).unwrap();
            let mut b = WriteBatch::default();
            b.put(Table::Meta, SCHEMA_KEY, b"99".to_vec())
                .put(Table::Jobs, "j", vec![1]);
            s.write(b).unwrap();
        }
        for _ in 0..2 {
            match RedbStore::open(&path) {
                Err(StoreError::TooNew { found, supported }) => {
                    assert_eq!((found, supported), (99, SCHEMA_VERSION));
                }
                other => panic!("expected TooNew, got {other:?}"),
            }
        }
        let db = Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(definition("meta")).unwrap();
        assert_eq!(meta.get(SCHEMA_KEY).unwrap().unwrap().value(), b"99");
    }

    #[test]
    fn a_new_store_records_the_version_and_leaves_no_staging_file() {
        let path = temp("fresh");
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(
            s.get(Table::Meta, SCHEMA_KEY).unwrap(),
            Some(SCHEMA_VERSION.to_string().into_bytes())
        );
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["state.redb"]);
    }

    #[test]
    fn opening_twice_is_an_io_error_naming_the_file() {
        let path = temp("twice");
        let _first = RedbStore::open(&path).unwrap();
        match RedbStore::open(&path) {
            Err(StoreError::Io { message, .. }) => {
                assert!(message.starts_with("open "), "{message}");
                assert!(message.contains(&*path.to_string_lossy()), "{message}");
                assert!(message.contains("already open"), "{message}");
            }
            other => panic!("expected Io, got {other:?}"),
        }
    }

    #[test]
    fn batches_survive_reopen_and_deletes_apply() {
        let path = temp("reopen");
        {
            let s = RedbStore::open(&path).unwrap();
            let mut b = WriteBatch::default();
            b.put(Table::Jobs, "j1", vec![1])
                .put(Table::Deployments, "d1", vec![5])
                .put(Table::Jobs, "j2", vec![2]);
            s.write(b).unwrap();
            let mut d = WriteBatch::default();
            d.delete(Table::Jobs, "j1");
            s.write(d).unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(
            s.scan(Table::Jobs).unwrap(),
            vec![("j2".to_owned(), vec![2])]
        );
        assert_eq!(
            s.scan(Table::Deployments).unwrap(),
            vec![("d1".to_owned(), vec![5])]
        );
        assert_eq!(s.scan(Table::Packages).unwrap(), vec![]);
    }

    #[test]
    fn prefix_operations() {
        let path = temp("prefix");
        crate::store::conformance::prefix_operations(&RedbStore::open(&path).unwrap());
        // And they were durable.
        let s = RedbStore::open(&path).unwrap();
        assert!(s.scan(Table::Jobs).unwrap().is_empty());
        assert_eq!(s.scan(Table::Devices).unwrap().len(), 1);
    }

    #[test]
    fn a_versionless_file_is_initialized_only_when_empty() {
        let empty = temp("versionless-empty");
        Database::create(&empty).unwrap();
        let s = RedbStore::open(&empty).unwrap();
        assert_eq!(
            s.get(Table::Meta, SCHEMA_KEY).unwrap(),
            Some(SCHEMA_VERSION.to_string().into_bytes())
        );

        let full = temp("versionless-full");
        {
            let db = Database::create(&full).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(definition("jobs"))
                .unwrap()
                .insert("j", b"x".as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        match RedbStore::open(&full) {
            Err(StoreError::Corrupt { path, reason }) => {
                assert_eq!(path, full);
                assert!(reason.contains("no schema version"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
