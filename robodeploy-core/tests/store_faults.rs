//! The durable store on a failing file system: a read-only store directory and a full file
//! system. Operations fail with a clear `StoreError::Io` naming the operation and the file,
//! nothing is half-written, and the store opens (and works) again once the cause is gone.
//!
//! Each test mounts a small tmpfs of its own under the temp directory, which needs root (or
//! CAP_SYS_ADMIN). Where mounting is not permitted the tests say so and pass, unless `CI` or
//! `ROBODEPLOY_REQUIRE_FS_FAULTS=1` is set: then they fail.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use robodeploy_core::store::{RedbStore, Store, StoreError, Table, WriteBatch};

/// Whether a missing facility must fail the test rather than skip it.
fn required() -> bool {
    let set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("CI") || set("ROBODEPLOY_REQUIRE_FS_FAULTS")
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"4m"`) on a fresh directory; `None` (after saying why)
    /// when mounting is not permitted here and not required.
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("rd-faults-{}-{name}", std::process::id()));
        let _ = Command::new("umount").arg(&dir).output();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Tmpfs { dir }),
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let _ = std::fs::remove_dir(&dir);
        assert!(
            !required(),
            "this test needs a small tmpfs of its own (mount -t tmpfs, as root) and cannot \
             mount one: {why}"
        );
        eprintln!(
            "!!!!!!!! SKIPPED: cannot mount a tmpfs here ({why}); run as root, or set \
             ROBODEPLOY_REQUIRE_FS_FAULTS=1 to make this a failure. !!!!!!!!"
        );
        None
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "remount {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).output();
        let _ = std::fs::remove_dir(&self.dir);
    }
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
    let Some(fs) = Tmpfs::mount("read-only", "8m") else {
        return;
    };
    let path = fs.dir.join("state.redb");
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
    let fresh = fs.dir.join("fresh.redb");
    let message = io_message(RedbStore::open(&fresh), "create", &fresh);
    assert!(message.contains("Read-only file system"), "{message}");
    assert_eq!(fs.files(), ["state.redb"]);
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
    let Some(fs) = Tmpfs::mount("full", "4m") else {
        return;
    };
    let path = fs.dir.join("state.redb");
    let s = RedbStore::open(&path).unwrap();
    s.write(put("base", b"kept".to_vec())).unwrap();

    // Fill the file system, then give back a little room for the store to grow into.
    let filler_path = fs.dir.join("filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    let chunk = vec![0xA5u8; 16 * 1024];
    let mut filled = 0u64;
    while filler.write_all(&chunk).is_ok() {
        filled += chunk.len() as u64;
    }
    let _ = filler.flush();
    filler.set_len(filled.saturating_sub(256 * 1024)).unwrap();
    drop(filler);

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
