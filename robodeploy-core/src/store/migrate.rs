//! Schema versions of the durable store and the steps that migrate an older store.
//!
//! The store records its schema version in [`Table::Meta`] under `schema_version` (ASCII
//! decimal). Opening a store of an older version applies the registered steps from that version
//! up to [`SCHEMA_VERSION`], each taking the layout of version `N` to `N + 1`, all in one write
//! transaction together with the new version number: a crash or a failing step leaves the store
//! exactly at its old version. A store of a newer version is refused
//! ([`StoreError::TooNew`](super::StoreError::TooNew)).
//!
//! To change the layout: bump [`SCHEMA_VERSION`] and append a [`Migration`] from the previous
//! version to [`CURRENT`]'s steps (the `current_schema_is_a_complete_chain` test checks the
//! chain).

use std::path::Path;

use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition, WriteTransaction};

use super::redb_errors::on;
use super::{StoreError, Table};

/// The schema version this build writes. Stores with a lower version are migrated on open;
/// stores with a higher one are refused ([`StoreError::TooNew`]).
pub const SCHEMA_VERSION: u32 = 1;

/// Where the version is kept, in [`Table::Meta`].
pub(super) const SCHEMA_KEY: &str = "schema_version";

/// The error a migration step returns; it becomes the reason of a
/// [`StoreError::Migration`].
pub(crate) type StepError = Box<dyn std::error::Error + Send + Sync>;

/// One step: rewrites the layout of version `from` into that of `from + 1` inside the open
/// transaction (which it must not commit).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Migration {
    /// The version the step starts from.
    pub from: u32,
    /// What the step changes, for error messages.
    pub what: &'static str,
    /// The step.
    pub apply: fn(&WriteTransaction) -> Result<(), StepError>,
}

/// A schema: its version and the steps that reach it from older versions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schema<'a> {
    /// The version written by this schema.
    pub version: u32,
    /// The steps, one per older version supported.
    pub migrations: &'a [Migration],
}

/// This build's schema. Version 1 is the first, so there are no steps yet.
pub(crate) const CURRENT: Schema<'static> = Schema {
    version: SCHEMA_VERSION,
    migrations: &[],
};

impl Schema<'_> {
    /// Checks that the steps form one chain ending at `version`: each starts from a distinct
    /// version below it, and every version from the oldest step's on has a step.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut froms: Vec<u32> = self.migrations.iter().map(|m| m.from).collect();
        froms.sort_unstable();
        if let Some(w) = froms.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two steps from version {}", w[0]));
        }
        if let Some(&last) = froms.last() {
            if last + 1 != self.version {
                return Err(format!(
                    "the last step starts from {last}, not from {}",
                    self.version.wrapping_sub(1)
                ));
            }
            if let Some(gap) = froms.windows(2).find(|w| w[0] + 1 != w[1]) {
                return Err(format!("no step from version {}", gap[0] + 1));
            }
        }
        Ok(())
    }
}

pub(super) fn definition(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

/// Creates every table of this build's layout (so readers find them) and records `version`.
fn write_current(txn: &WriteTransaction, version: u32, path: &Path) -> Result<(), StoreError> {
    for table in Table::ALL {
        txn.open_table(definition(table.name()))
            .map_err(on(path, "create table"))?;
    }
    txn.open_table(definition(Table::Meta.name()))
        .map_err(on(path, "create table"))?
        .insert(SCHEMA_KEY, version.to_string().as_bytes())
        .map_err(on(path, "record schema version"))?;
    Ok(())
}

/// Initializes an empty database with `schema`'s layout and version, in one transaction.
pub(super) fn initialize(db: &redb::Database, path: &Path, schema: &Schema<'_>) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(on(path, "begin write"))?;
    write_current(&txn, schema.version, path)?;
    txn.commit().map_err(on(path, "commit"))
}

/// The version recorded in the store, `None` when there is none.
fn recorded_version(db: &redb::Database, path: &Path) -> Result<Option<u32>, StoreError> {
    let txn = db.begin_read().map_err(on(path, "begin read"))?;
    let meta = match txn.open_table(definition(Table::Meta.name())) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(on(path, "open meta table")(e)),
    };
    let Some(value) = meta.get(SCHEMA_KEY).map_err(on(path, "read schema version"))? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.value()).into_owned();
    text.trim().parse::<u32>().map(Some).map_err(|_| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("schema version {text:?} is not a number"),
    })
}

/// Whether any table of the database holds an entry.
fn holds_data(db: &redb::Database, path: &Path) -> Result<bool, StoreError> {
    let txn = db.begin_read().map_err(on(path, "begin read"))?;
    for handle in txn.list_tables().map_err(on(path, "list tables"))? {
        let t = txn
            .open_untyped_table(handle)
            .map_err(on(path, "open table"))?;
        if t.len().map_err(on(path, "count table"))? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Brings the store to `schema`'s version: nothing when it is there, the migration steps in one
/// transaction when it is older, [`StoreError::TooNew`] when it is newer. A store without a
/// version is initialized when it holds nothing and refused as corrupt when it holds data.
pub(super) fn upgrade(db: &redb::Database, path: &Path, schema: &Schema<'_>) -> Result<(), StoreError> {
    let found = match recorded_version(db, path)? {
        Some(v) => v,
        None if holds_data(db, path)? => {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file holds data but no schema version".into(),
            });
        }
        None => return initialize(db, path, schema),
    };
    if found > schema.version {
        return Err(StoreError::TooNew {
            found,
            supported: schema.version,
        });
    }
    if found == schema.version {
        return Ok(());
    }
    schema.check().map_err(|reason| StoreError::Migration {
        from: found,
        reason: format!("this build's migration steps are inconsistent: {reason}"),
    })?;
    let txn = db.begin_write().map_err(on(path, "begin write"))?;
    for from in found..schema.version {
        let step = schema
            .migrations
            .iter()
            .find(|m| m.from == from)
            .ok_or_else(|| StoreError::Migration {
                from: found,
                reason: format!("this build has no step from version {from}"),
            })?;
        (step.apply)(&txn).map_err(|e| StoreError::Migration {
            from: found,
            reason: format!("step {from} -> {} ({}): {e}", from + 1, step.what),
        })?;
    }
    write_current(&txn, schema.version, path)?;
    txn.commit().map_err(on(path, "commit migration"))
}
