//! The durable store on a failing file system: a read-only store directory and a full file
//! system. Operations fail with a clear `StoreError::Io` naming the operation and the file,
//! nothing is half-written, and the store opens (and works) again once the cause is gone.
//!
//! Each test mounts a small tmpfs of its own under the temp directory, which needs root (or
//! CAP_SYS_ADMIN). Where mounting is not permitted the tests say so and pass, unless `CI` or
//! `ROBODEPLOY_REQUIRE_FS_FAULTS=1` is set: then they fail.

use std::path::Path;

use robodeploy_core::store::{RedbStore, Store, StoreError, Table, WriteBatch};
use robodeploy_testkit::tmpfs::{Tmpfs, fill};

/// A tmpfs of `size` for the test `name`.
fn mount(name: &str, size: &str) -> Option<Tmpfs> {
    let dir = std::env::temp_dir().join(format!("rd-faults-{}-{name}", std::process::id()));
    Tmpfs::mount(dir, size, "0755")
}

/// The names in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The `Io` message of `result`, which must be an `Io` error naming `path` and starting with `op`.
fn io_message<T: std::fmt::Debug>(result: Result<T, StoreError>, op: &str, path: &Path) -> String {
    match result {
        Err(StoreError::Io { message, .. }) => {
            assert!(message.starts_with(&format!("{op} ")), "{message}");
            assert!(message.contains(&*path.to_string_lossy()), "{message}");
            message
        }
        other => panic!("expected an Io error of {op}, got {other:?}"),
    }
}

fn put(key: &str, value: Vec<u8>) -> WriteBatch {
    let mut b = WriteBatch::default();
    b.put(Table::Deployments, key, value);
    b
}

#[test]
fn a_read_only_store_directory_fails_clearly_and_recovers() {
    let Some(fs) = mount("read-only", "8m") else {
        return;
    };
    let path = fs.path().join("state.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        s.write(put("d1", b"running".to_vec())).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    fs.remount("ro");

    // The existing store cannot be opened for writing...
    let message = io_message(RedbStore::open(&path), "open", &path);
    assert!(message.contains("Read-only file system"), "{message}");
    // ...and a new one cannot be created; nothing is left behind.
    let fresh = fs.path().join("fresh.redb");
    let message = io_message(RedbStore::open(&fresh), "create", &fresh);
    assert!(message.contains("Read-only file system"), "{message}");
    assert_eq!(files(fs.path()), ["state.redb"]);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    fs.remount("rw");
    let s = RedbStore::open(&path).unwrap();
    assert_eq!(
        s.get(Table::Deployments, "d1").unwrap(),
        Some(b"running".to_vec())
    );
    s.write(put("d2", b"pending".to_vec())).unwrap();
    assert_eq!(s.scan(Table::Deployments).unwrap().len(), 2);
}

#[test]
fn a_full_file_system_fails_clearly_keeps_the_committed_state_and_recovers() {
    let Some(fs) = mount("full", "4m") else {
        return;
    };
    let path = fs.path().join("state.redb");
    let s = RedbStore::open(&path).unwrap();
    s.write(put("base", b"kept".to_vec())).unwrap();

    // Fill the file system, then give back a little room for the store to grow into.
    let filler_path = fs.path().join("filler");
    let filled = fill(&filler_path);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler_path)
        .unwrap()
        .set_len(filled.saturating_sub(256 * 1024))
        .unwrap();

    // Commit two-record batches until the file system refuses one.
    let value = |i: usize| vec![(i % 251) as u8; 24 * 1024];
    let mut committed = 0;
    let failure = loop {
        let mut b = WriteBatch::default();
        b.put(
            Table::Jobs,
            format!("job-{committed:03}/a"),
            value(committed),
        )
        .put(
            Table::Jobs,
            format!("job-{committed:03}/b"),
            value(committed),
        );
        match s.write(b) {
            Ok(()) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 1000, "the file system never filled up");
    };
    eprintln!("full after {committed} batches: {failure}");
    assert!(committed > 0, "no batch fit: {failure}");
    let message = match &failure {
        StoreError::Io { message, .. } => message.clone(),
        other => panic!("expected Io, got {other:?}"),
    };
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert!(message.contains("No space left on device"), "{message}");

    // While full: what is committed stays readable or fails clearly; nothing half-written.
    match s.scan_prefix(Table::Jobs, "job-") {
        Ok(jobs) => {
            eprintln!("while full: reads work");
            assert_eq!(jobs.len(), 2 * committed);
        }
        Err(e) => {
            eprintln!("while full: {e}");
            io_message(Err::<(), _>(e), "open", &path);
        }
    }

    let mut again = WriteBatch::default();
    again.put(Table::Jobs, "job-999/a", value(0));
    again.put(Table::Jobs, "job-999/b", value(0));
    let message = match s.write(again) {
        Err(StoreError::Io { message, .. }) => message,
        other => panic!("a write while full: expected Io, got {other:?}"),
    };
    assert!(message.contains("No space left on device"), "{message}");

    // Room again: the same handle works, with exactly the committed batches.
    std::fs::remove_file(&filler_path).unwrap();
    let check = |s: &RedbStore| {
        let jobs = s.scan(Table::Jobs).unwrap();
        assert_eq!(
            jobs.len(),
            2 * committed,
            "a batch was half-written or lost"
        );
        for (i, pair) in jobs.chunks(2).enumerate() {
            assert_eq!(pair[0].0, format!("job-{i:03}/a"));
            assert_eq!(pair[1].0, format!("job-{i:03}/b"));
            assert!(pair.iter().all(|(_, v)| *v == value(i)));
        }
        assert_eq!(
            s.get(Table::Deployments, "base").unwrap(),
            Some(b"kept".to_vec())
        );
    };
    check(&s);
    s.write(put("after", b"room".to_vec())).unwrap();
    drop(s);

    // And the file opens again.
    let s = RedbStore::open(&path).unwrap();
    check(&s);
    assert_eq!(
        s.get(Table::Deployments, "after").unwrap(),
        Some(b"room".to_vec())
    );
}
