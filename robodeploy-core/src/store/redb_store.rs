//! The embedded durable store: one redb file, ACID, crash-safe.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{Store, StoreError, Table, Write, WriteBatch};

/// The schema version this build writes. Stores with a lower version are migrated on open;
/// stores with a higher one are refused ([`StoreError::TooNew`]).
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &str = "schema_version";

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn io<E: std::error::Error + Send + Sync + 'static>(what: &str) -> impl FnOnce(E) -> StoreError {
    let what = what.to_owned();
    move |e| {
        let message = format!("{what}: {e}");
        if message.contains("orrupt") {
            StoreError::Corrupt(message)
        } else {
            StoreError::Io {
                message,
                source: Some(Box::new(e)),
            }
        }
    }
}

/// A [`Store`] in one redb file. Every [`Store::write`] is one durable transaction.
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
    db: Database,
    path: PathBuf,
}

impl RedbStore {
    /// Opens (or creates) the store at `path`, checking and migrating its schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = Database::create(&path).map_err(io(&format!("open {}", path.display())))?;
        let store = RedbStore { db, path };
        store.check_schema()?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let found = match self.get(Table::Meta, SCHEMA_KEY)? {
            None => None,
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Some(text.trim().parse::<u32>().map_err(|_| {
                    StoreError::Corrupt(format!("schema version {text:?} is not a number"))
                })?)
            }
        };
        match found {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::TooNew {
                found: v,
                supported: SCHEMA_VERSION,
            }),
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            // A new file, or an older schema: migrate step by step (version 1 is the first, so
            // there are no steps yet), then record the version in the same transaction as the
            // tables are created.
            _ => {
                let mut batch = WriteBatch::default();
                batch.put(
                    Table::Meta,
                    SCHEMA_KEY,
                    SCHEMA_VERSION.to_string().into_bytes(),
                );
                self.write(batch)
            }
        }
    }
}

impl Store for RedbStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(io("begin write"))?;
        {
            // Every table is opened so that it exists for readers after the first write.
            for table in Table::ALL {
                let mut t = txn
                    .open_table(definition(table))
                    .map_err(io("open table"))?;
                for w in &batch.writes {
                    match w {
                        Write::Put {
                            table: wt,
                            key,
                            value,
                        } if *wt == table => {
                            t.insert(key.as_str(), value.as_slice())
                                .map_err(io("insert"))?;
                        }
                        Write::Delete { table: wt, key } if *wt == table => {
                            t.remove(key.as_str()).map_err(io("remove"))?;
                        }
                        _ => {}
                    }
                }
            }
        }
        txn.commit().map_err(io("commit"))
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(io("begin read"))?;
        let t = match txn.open_table(definition(table)) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(io("open table")(e)),
        };
        Ok(t.get(key).map_err(io("get"))?.map(|v| v.value().to_vec()))
    }

    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(io("begin read"))?;
        let t = match txn.open_table(definition(table)) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(io("open table")(e)),
        };
        let mut out = Vec::new();
        for entry in t.iter().map_err(io("scan"))? {
            let (k, v) = entry.map_err(io("scan"))?;
            out.push((k.value().to_owned(), v.value().to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rd-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.redb")
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let path = temp("newer");
        {
            let s = RedbStore::open(&path).unwrap();
            let mut b = WriteBatch::default();
            b.put(Table::Meta, SCHEMA_KEY, b"99".to_vec());
            s.write(b).unwrap();
        }
        match RedbStore::open(&path) {
            Err(StoreError::TooNew { found, supported }) => {
                assert_eq!((found, supported), (99, SCHEMA_VERSION));
            }
            other => panic!("expected TooNew, got {other:?}"),
        }
    }

    #[test]
    fn batches_survive_reopen_and_deletes_apply() {
        let path = temp("reopen");
        {
            let s = RedbStore::open(&path).unwrap();
            let mut b = WriteBatch::default();
            b.put(Table::Jobs, "j1", vec![1])
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
        assert_eq!(s.scan(Table::Deployments).unwrap(), vec![]);
    }
}
