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

mod memory;
mod redb_store;

use std::fmt;

pub use memory::MemoryStore;
pub use redb_store::{RedbStore, SCHEMA_VERSION};

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
    /// Store metadata (schema version).
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

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Why a store operation failed. Nothing is half-written when it does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The underlying file or database failed (disk full, read-only, I/O error).
    #[error("store I/O failed: {message}")]
    Io {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The store is damaged (truncated, checksum mismatch).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The store was written by a newer robodeploy.
    #[error("store schema version {found} is newer than this robodeploy supports ({supported})")]
    TooNew {
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
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

    /// Every key and value of a table, in key order.
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
}
