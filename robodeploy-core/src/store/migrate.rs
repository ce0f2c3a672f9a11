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

use redb::{
    ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use super::redb_errors::on;
use super::{StoreError, Table};

/// The schema version this build writes. Stores with a lower version are migrated on open;
/// stores with a higher one are refused ([`StoreError::TooNew`]).
///
/// | version | layout |
/// |---|---|
/// | 1 | one table per [`Table`]; job journal chunks hold compact positional ops (`{"f":[ms,robot,code,detail]}`) |
/// | 2 | job journal chunks hold `(time, input)` entries (`{"at":…,"input":{"input":"robotFailed",…}}`) |
pub const SCHEMA_VERSION: u32 = 2;

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

/// This build's schema and its steps from older versions.
pub(crate) const CURRENT: Schema<'static> = Schema {
    version: SCHEMA_VERSION,
    migrations: &[JOURNAL_ENTRIES],
};

/// 1 → 2: the job journal becomes the list of `(time, input)` the rollout machine was fed.
const JOURNAL_ENTRIES: Migration = Migration {
    from: 1,
    what: "job journals as (time, input) entries",
    apply: journal_entries,
};

fn journal_entries(txn: &WriteTransaction) -> Result<(), StepError> {
    let mut jobs = txn.open_table(definition(Table::Jobs.name()))?;
    let mut chunks = Vec::new();
    for entry in jobs.iter()? {
        let (k, v) = entry?;
        if k.value().contains("/log/") {
            chunks.push((k.value().to_owned(), v.value().to_vec()));
        }
    }
    for (key, chunk) in chunks {
        let upgraded = crate::engine::journal::upgrade_v1_chunk(&chunk)
            .map_err(|e| format!("journal chunk {key}: {e}"))?;
        jobs.insert(key.as_str(), upgraded.as_slice())?;
    }
    Ok(())
}

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
pub(super) fn initialize(
    db: &redb::Database,
    path: &Path,
    schema: &Schema<'_>,
) -> Result<(), StoreError> {
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
    let Some(value) = meta
        .get(SCHEMA_KEY)
        .map_err(on(path, "read schema version"))?
    else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.value()).into_owned();
    text.trim()
        .parse::<u32>()
        .map(Some)
        .map_err(|_| StoreError::Corrupt {
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
pub(super) fn upgrade(
    db: &redb::Database,
    path: &Path,
    schema: &Schema<'_>,
) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    //! The machinery on a layout invented for the test: version 0 kept every record in one table
    //! `records`, keyed `<table>/<key>`; version 1 is this build's layout (one table per
    //! [`Table`]); version 2 adds a `migrated` note in the meta table.
    use std::path::PathBuf;

    use redb::{Database, ReadableDatabase, ReadableTable};

    use super::*;
    use crate::store::{RedbStore, Store};

    const RECORDS: &str = "records";

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rd-migrate-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("state.redb")
    }

    /// A version-0 store: two jobs, a deployment, a device.
    fn craft_v0(path: &Path) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(definition("meta")).unwrap();
            meta.insert(SCHEMA_KEY, b"0".as_slice()).unwrap();
            let mut records = txn.open_table(definition(RECORDS)).unwrap();
            for (k, v) in [
                ("jobs/j1", "job one"),
                ("jobs/j2", "job two"),
                ("deployments/d1", "dep"),
                ("devices/robot-1", "dev"),
            ] {
                records.insert(k, v.as_bytes()).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    /// 0 -> 1: splits `records` into one table per [`Table`].
    fn split_records(txn: &WriteTransaction) -> Result<(), StepError> {
        let entries: Vec<(String, Vec<u8>)> = {
            let records = txn.open_table(definition(RECORDS))?;
            let mut out = Vec::new();
            for entry in records.iter()? {
                let (k, v) = entry?;
                out.push((k.value().to_owned(), v.value().to_vec()));
            }
            out
        };
        for (composite, value) in entries {
            let (table, key) = composite
                .split_once('/')
                .ok_or_else(|| format!("record key {composite:?} has no table"))?;
            let table = Table::ALL
                .into_iter()
                .find(|t| t.name() == table)
                .ok_or_else(|| format!("record {composite:?} names no table"))?;
            txn.open_table(definition(table.name()))?
                .insert(key, value.as_slice())?;
        }
        txn.delete_table(definition(RECORDS))?;
        Ok(())
    }

    /// 1 -> 2: appends a note to `meta/migrated`, so a rerun would show.
    fn note(txn: &WriteTransaction) -> Result<(), StepError> {
        let mut meta = txn.open_table(definition(Table::Meta.name()))?;
        let mut notes = meta
            .get("migrated")?
            .map(|v| v.value().to_vec())
            .unwrap_or_default();
        notes.extend_from_slice(b"1->2;");
        meta.insert("migrated", notes.as_slice())?;
        Ok(())
    }

    fn fail(_: &WriteTransaction) -> Result<(), StepError> {
        Err("the step refused".into())
    }

    const SPLIT: Migration = Migration {
        from: 0,
        what: "split records into tables",
        apply: split_records,
    };
    const NOTE: Migration = Migration {
        from: 1,
        what: "note the migration",
        apply: note,
    };

    fn raw_version_and_tables(path: &Path) -> (String, Vec<String>) {
        let db = Database::open(path).unwrap();
        let txn = db.begin_read().unwrap();
        let version = txn
            .open_table(definition("meta"))
            .unwrap()
            .get(SCHEMA_KEY)
            .unwrap()
            .map(|v| String::from_utf8(v.value().to_vec()).unwrap())
            .unwrap();
        let mut tables: Vec<String> = txn
            .list_tables()
            .unwrap()
            .map(|h| redb::TableHandle::name(&h).to_owned())
            .collect();
        tables.sort();
        (version, tables)
    }

    #[test]
    fn an_old_store_is_migrated_through_every_step_once() {
        let path = temp("chain");
        craft_v0(&path);
        let schema = Schema {
            version: 2,
            migrations: &[NOTE, SPLIT],
        };
        {
            let s = RedbStore::open_with(&path, &schema).unwrap();
            assert_eq!(
                s.scan(Table::Jobs).unwrap(),
                vec![
                    ("j1".to_owned(), b"job one".to_vec()),
                    ("j2".to_owned(), b"job two".to_vec())
                ]
            );
            assert_eq!(
                s.get(Table::Deployments, "d1").unwrap(),
                Some(b"dep".to_vec())
            );
            assert_eq!(
                s.get(Table::Devices, "robot-1").unwrap(),
                Some(b"dev".to_vec())
            );
            assert_eq!(
                s.get(Table::Meta, "migrated").unwrap(),
                Some(b"1->2;".to_vec())
            );
        }
        // Opened again: already at version 2, no step runs again.
        let s = RedbStore::open_with(&path, &schema).unwrap();
        assert_eq!(
            s.get(Table::Meta, "migrated").unwrap(),
            Some(b"1->2;".to_vec())
        );
        drop(s);
        let (version, tables) = raw_version_and_tables(&path);
        assert_eq!(version, "2");
        assert!(!tables.contains(&RECORDS.to_owned()), "{tables:?}");
        let mut expected: Vec<String> = Table::ALL.iter().map(|t| t.name().to_owned()).collect();
        expected.sort();
        assert_eq!(tables, expected);
    }

    #[test]
    fn a_failing_step_leaves_the_store_at_its_old_version() {
        let path = temp("failing");
        craft_v0(&path);
        let schema = Schema {
            version: 2,
            migrations: &[
                SPLIT,
                Migration {
                    from: 1,
                    what: "a step that fails",
                    apply: fail,
                },
            ],
        };
        match RedbStore::open_with(&path, &schema) {
            Err(StoreError::Migration { from, reason }) => {
                assert_eq!(from, 0);
                assert!(
                    reason.contains("step 1 -> 2 (a step that fails)"),
                    "{reason}"
                );
                assert!(reason.contains("the step refused"), "{reason}");
            }
            other => panic!("expected Migration, got {other:?}"),
        }
        // The split of the first step was rolled back with the rest.
        assert_eq!(
            raw_version_and_tables(&path),
            ("0".to_owned(), vec!["meta".to_owned(), RECORDS.to_owned()])
        );
        // And the store still migrates with a working chain.
        let s = RedbStore::open_with(
            &path,
            &Schema {
                version: 1,
                migrations: &[SPLIT],
            },
        )
        .unwrap();
        assert_eq!(s.scan(Table::Jobs).unwrap().len(), 2);
    }

    #[test]
    fn this_build_refuses_a_version_it_has_no_step_from() {
        let path = temp("no-step");
        craft_v0(&path);
        match RedbStore::open(&path) {
            Err(StoreError::Migration { from, reason }) => {
                assert_eq!(from, 0);
                assert!(reason.contains("no step from version 0"), "{reason}");
            }
            other => panic!("expected Migration, got {other:?}"),
        }
        assert_eq!(raw_version_and_tables(&path).0, "0");
    }

    /// A store of schema 1 holding a job journal in the old compact format.
    fn craft_v1_with_journal(path: &Path, chunk: &[u8]) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        write_current(&txn, 1, path).unwrap();
        {
            let mut jobs = txn.open_table(definition(Table::Jobs.name())).unwrap();
            jobs.insert("j1", b"{}".as_slice()).unwrap();
            jobs.insert("j1/log/0000000000", chunk).unwrap();
        }
        txn.commit().unwrap();
    }

    #[test]
    fn a_schema_1_journal_is_rewritten_and_still_replays() {
        use crate::engine::journal::{JournalEntry, replay};
        use crate::model::{DeploymentConfig, FailureCode, JobStatus, RobotStatus};
        use crate::rollout::{RobotIndex, RobotInit, Rollout};
        use crate::time::Time;

        let path = temp("journal-v1");
        // Two robots one at a time: robot 0 deploys, robot 1 fails its pre-launch script.
        let v1 = br#"[{"b":0},{"p":10},{"g":[20,0,"Validating",0]},{"s":[30,0]},
            {"f":[40,1,"PreLaunchFileFailure","pre.sh exited with 1"]}]"#;
        craft_v1_with_journal(&path, v1);
        let s = RedbStore::open(&path).unwrap();
        // The job record is left as it was; the chunk is rewritten.
        assert_eq!(s.get(Table::Jobs, "j1").unwrap(), Some(b"{}".to_vec()));
        let chunk = s.get(Table::Jobs, "j1/log/0000000000").unwrap().unwrap();
        let entries: Vec<JournalEntry> = serde_json::from_slice(&chunk).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[1].at, Time::from_millis(10));
        let config = DeploymentConfig {
            concurrent_deployment_percentage: 50,
            failure_threshold_percentage: 100,
            ..DeploymentConfig::default()
        };
        let fleet = [RobotInit {
            online: true,
            previous_version: None,
        }; 2];
        let mut job = Rollout::new(&config, fleet, Time::EPOCH).unwrap();
        let replayed = replay(&mut job, entries, 2);
        // One failure of two does not reach the 100 % threshold: the job succeeds.
        assert_eq!(job.status(), JobStatus::Succeeded);
        assert_eq!(job.robot_status(RobotIndex(0)), Ok(RobotStatus::InSync));
        assert_eq!(
            job.robot_failure(RobotIndex(1)),
            Ok(Some(FailureCode::PreLaunchFileFailure))
        );
        assert_eq!(replayed.details[1].as_deref(), Some("pre.sh exited with 1"));
        drop(s);
        assert_eq!(raw_version_and_tables(&path).0, SCHEMA_VERSION.to_string());
    }

    #[test]
    fn a_schema_1_journal_that_does_not_parse_refuses_the_migration() {
        let path = temp("journal-bad");
        craft_v1_with_journal(&path, b"[{\"zz\":1}]");
        match RedbStore::open(&path) {
            Err(StoreError::Migration { from, reason }) => {
                assert_eq!(from, 1);
                assert!(
                    reason.contains("journal chunk j1/log/0000000000"),
                    "{reason}"
                );
            }
            other => panic!("expected Migration, got {other:?}"),
        }
        assert_eq!(raw_version_and_tables(&path).0, "1");
    }

    #[test]
    fn current_schema_is_a_complete_chain() {
        assert_eq!(CURRENT.version, SCHEMA_VERSION);
        assert_eq!(CURRENT.check(), Ok(()));
        let gap = Schema {
            version: 3,
            migrations: &[SPLIT, Migration { from: 2, ..NOTE }],
        };
        assert_eq!(gap.check(), Err("no step from version 1".to_owned()));
        let short = Schema {
            version: 3,
            migrations: &[SPLIT, NOTE],
        };
        assert_eq!(
            short.check(),
            Err("the last step starts from 1, not from 2".to_owned())
        );
        let twice = Schema {
            version: 1,
            migrations: &[SPLIT, SPLIT],
        };
        assert_eq!(twice.check(), Err("two steps from version 0".to_owned()));
    }
}
