//! The durable store holds every environment value: its file is owner-only (0600) from the
//! moment it exists, whatever the umask, and a store an older version left readable by others
//! is tightened when opened.
//!
//! The umask is the process's, so each case runs this test binary again in a child under the
//! umask wanted (`sh -c 'umask …; exec …'`): the parent process's umask is never changed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use robodeploy_core::store::{RedbStore, Store, Table, WriteBatch};

/// Set in the child: the directory to create a store in.
const CHILD_DIR: &str = "ROBODEPLOY_STORE_MODES_DIR";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rd-store-modes-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The child's part: creates a store and writes a secret into it (a no-op in a normal run).
#[test]
fn child_creates_a_store() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let store = RedbStore::open(Path::new(&dir).join("state.redb")).unwrap();
    let mut batch = WriteBatch::default();
    batch.put(
        Table::Devices,
        "robot-1",
        b"{\"env\":{\"TOKEN\":\"secret\"}}".to_vec(),
    );
    store.write(batch).unwrap();
}

#[test]
fn a_new_store_is_owner_only_whatever_the_umask() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for umask in ["000", "022", "077"] {
        let dir = temp(umask);
        let out = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "umask {umask} && exec \"$0\" --exact child_creates_a_store --test-threads 1"
                ),
            ])
            .arg(&exe)
            .env(CHILD_DIR, &dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "umask {umask}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let path = dir.join("state.redb");
        assert_eq!(mode(&path), 0o600, "umask {umask}");
        // Nothing else was left beside it (the staging file is gone).
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.redb"], "umask {umask}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_store_readable_by_others_is_tightened_when_opened() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let dir = temp("old");
    let path = dir.join("state.redb");
    drop(RedbStore::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.get(Table::Devices, "x").unwrap(), None);
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}
