//! Everything a process runtime writes under its root (instance records holding the
//! environment, state files, logs, the supervisor's socket, lock and log) is owner-only: the
//! directories 0700, the files 0600, whatever the umask.
//!
//! This binary holds this one test, so changing the process's umask affects nothing else.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::{TempRoot, builder, next_event, next_exit, spec};
use robodeploy_core::runtime::Runtime;
use rustix::fs::Mode;

/// Every entry under `dir` (itself included) whose mode is not owner-only.
fn too_open(dir: &Path, found: &mut Vec<String>) {
    let meta = std::fs::symlink_metadata(dir).unwrap();
    let mode = meta.permissions().mode() & 0o7777;
    if mode != 0o700 {
        found.push(format!("{} {mode:o}", dir.display()));
    }
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            too_open(&entry.path(), found);
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        let kind = if meta.file_type().is_socket() {
            "socket"
        } else {
            "file"
        };
        if mode != 0o600 {
            found.push(format!("{kind} {} {mode:o}", entry.path().display()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_under_the_root_is_owner_only_whatever_the_umask() {
    for umask in [0o000, 0o022] {
        let old = rustix::process::umask(Mode::from_bits_truncate(umask));
        let root = TempRoot::new("modes");
        let rt = builder(&root).kill_on_drop(true).build().unwrap();
        let mut events = rt.events().await.unwrap();
        let mut s = spec("c", "e", &["sh", "-c", "echo $TOKEN; sleep 30"]);
        s.env.insert("TOKEN".into(), "secret".into());
        let id = rt.start(&s).await.unwrap();
        next_event(&mut events, &id, Duration::from_secs(5)).await;
        let log = rt.instance_dir(&id).join("output.log");
        assert!(
            common::eventually(Duration::from_secs(5), || std::fs::read_to_string(&log)
                .is_ok_and(|t| t.ends_with(" o secret\n")))
            .await
        );
        rt.health().await.unwrap();

        // While running: socket, lock, log, records.
        let mut found = Vec::new();
        too_open(root.path(), &mut found);
        assert!(root.path().join("supervisor.sock").exists());
        assert_eq!(found, Vec::<String>::new(), "umask {umask:03o}, running");

        // After the exit: exit.json, markers.
        rt.stop(&id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(next_exit(&mut events, &id).await.0, 143);
        let mut found = Vec::new();
        too_open(root.path(), &mut found);
        assert!(rt.instance_dir(&id).join("exit.json").exists());
        assert_eq!(found, Vec::<String>::new(), "umask {umask:03o}, exited");
        drop(rt);
        rustix::process::umask(old);
    }
}
