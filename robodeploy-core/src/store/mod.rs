//! Where the engine keeps what it decided: the [`Store`] trait and the in-memory store.
//!
//! The store is a small transactional key-value space with a fixed set of [`Table`]s; values are
//! the serde JSON of the model's records. The engine writes a decision before it acts on it
//! (write-ahead), in one [`WriteBatch`] that either lands whole or not at all, so a crash between
//! "decided" and "done" is resolved on restart by reconciling the store with the runtimes.
//!
//! ```
//! use robodeploy_core::store::{MemoryStore, Store, Table, WriteBatch};
//! let store = MemoryStore::new();
//! let mut batch = WriteBatch::default();
//! batch.put(Table::Packages, "demo@1", b"{}".to_vec());
//! store.write(batch).unwrap();
//! assert_eq!(store.get(Table::Packages, "demo@1").unwrap(), Some(b"{}".to_vec()));
//! ```

#[cfg(test)]
mod conformance;
mod identity;
mod memory;
mod migrate;
mod redb_errors;
mod redb_store;
mod retention;

use std::fmt;
use std::path::PathBuf;

pub use identity::{STORE_ID_KEY, store_id};
pub use memory::MemoryStore;
pub use migrate::SCHEMA_VERSION;
pub use redb_store::RedbStore;
pub use retention::{Sweep, sweep};

/// The tables of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Table {
    /// Packages of the catalog, keyed `name@version`.
    Packages,
    /// Registered devices, keyed by name.
    Devices,
    /// Fleets, keyed by name.
    Fleets,
    /// Deployments, keyed by id.
    Deployments,
    /// Deployment jobs, keyed by id.
    Jobs,
    /// Client request tokens, keyed by token, valued by the id they created.
    Tokens,
    /// Store metadata (schema version, the store's id).
    Meta,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 7] = [
        Table::Packages,
        Table::Devices,
        Table::Fleets,
        Table::Deployments,
        Table::Jobs,
        Table::Tokens,
        Table::Meta,
    ];

    /// The table's name in a durable store.
    pub fn name(self) -> &'static str {
        match self {
            Table::Packages => "packages",
            Table::Devices => "devices",
            Table::Fleets => "fleets",
            Table::Deployments => "deployments",
            Table::Jobs => "jobs",
            Table::Tokens => "tokens",
            Table::Meta => "meta",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Insert or replace a value.
    Put {
        /// Table.
        table: Table,
        /// Key.
        key: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Delete a key (absent keys are fine).
    Delete {
        /// Table.
        table: Table,
        /// Key.
        key: String,
    },
    /// Delete every key of a table that starts with a prefix (the empty prefix empties the
    /// table).
    DeletePrefix {
        /// Table.
        table: Table,
        /// Prefix.
        prefix: String,
    },
}

impl Write {
    /// The table the change applies to.
    pub fn table(&self) -> Table {
        match self {
            Write::Put { table, .. }
            | Write::Delete { table, .. }
            | Write::DeletePrefix { table, .. } => *table,
        }
    }
}

/// Changes applied atomically by [`Store::write`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// The changes, applied in order.
    pub writes: Vec<Write>,
}

impl WriteBatch {
    /// Adds a put.
    pub fn put(&mut self, table: Table, key: impl Into<String>, value: Vec<u8>) -> &mut Self {
        self.writes.push(Write::Put {
            table,
            key: key.into(),
            value,
        });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, table: Table, key: impl Into<String>) -> &mut Self {
        self.writes.push(Write::Delete {
            table,
            key: key.into(),
        });
        self
    }

    /// Adds a delete of every key of `table` starting with `prefix`, for instance every robot
    /// record `job-7/` of one job. Puts earlier in the batch under the prefix are deleted too;
    /// later ones are kept.
    pub fn delete_prefix(&mut self, table: Table, prefix: impl Into<String>) -> &mut Self {
        self.writes.push(Write::DeletePrefix {
            table,
            prefix: prefix.into(),
        });
        self
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Why a store operation failed. Nothing is half-written when it does: the store keeps its last
/// committed state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The underlying file or database failed (disk full, read-only file system, I/O error).
    #[error("store I/O failed: {message}")]
    Io {
        /// What failed: the operation, the file and the system's reason, e.g.
        /// `commit /var/lib/rd/state.redb: No space left on device (os error 28)`.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The store file is damaged (truncated, overwritten, checksum mismatch, not a store at
    /// all). It is left as it is for an operator to inspect or restore: never reset.
    #[error("store {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The store was written by a newer robodeploy.
    #[error("store schema version {found} is newer than this robodeploy supports ({supported})")]
    TooNew {
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// Migrating an older store to this build's schema failed; the store is left at the version
    /// it had.
    #[error("store schema migration from version {from} failed: {reason}")]
    Migration {
        /// The version found in the store.
        from: u32,
        /// Why it failed (no step from that version, or the step's error).
        reason: String,
    },
    /// A stored value does not decode.
    #[error("stored {table} record {key:?} does not decode: {source}")]
    Decode {
        /// Table.
        table: Table,
        /// Key.
        key: String,
        /// The decode error.
        #[source]
        source: serde_json::Error,
    },
}

/// A transactional key-value store with fixed tables. Implementations are thread-safe.
pub trait Store: Send + Sync + 'static {
    /// Applies every change of `batch` atomically (all or nothing), durably for durable stores.
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// One value.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every key and value of a table, in key order: [`scan_prefix`](Store::scan_prefix) with
    /// the empty prefix, unless the store has a better way.
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.scan_prefix(table, "")
    }

    /// Every key and value of a table whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, table: Table, prefix: &str)
    -> Result<Vec<(String, Vec<u8>)>, StoreError>;
}

/// The smallest string greater than every string starting with `prefix`, or `None` when there is
/// none (the prefix is empty or all `char::MAX`): the exclusive end of a prefix range.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value after `last`, skipping the surrogate gap.
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_exactly_the_prefixed_keys() {
        assert_eq!(prefix_end("job-7/").as_deref(), Some("job-70"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        let end = prefix_end("ab").unwrap();
        for key in ["ab", "ab\u{10FFFF}\u{10FFFF}", "abz"] {
            assert!(key.starts_with("ab") && key < end.as_str(), "{key}");
        }
        assert!("ac" >= end.as_str());
    }
}
