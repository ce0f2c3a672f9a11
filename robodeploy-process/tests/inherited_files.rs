//! Files the engine's process holds open (without close-on-exec) reach neither the root's
//! supervisor nor the executables: only stdin, stdout and stderr cross. A lock a wrapper of the
//! engine holds is released when the wrapper lets go of it, not when the last executable ends.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{SHIM, next_event, runtime};
use robodeploy_core::runtime::{InstanceState, Runtime};
use rustix::fs::{FlockOperation, Mode, OFlags};

/// Where the open files of process `pid` point.
fn open_files(pid: u32) -> Vec<(u32, std::path::PathBuf)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        let fd = entry.file_name().to_str().unwrap().parse().unwrap();
        if let Ok(target) = std::fs::read_link(entry.path()) {
            files.push((fd, target));
        }
    }
    files
}

/// Whether `path` can be locked now (by a new open file description).
fn lockable(path: &Path) -> bool {
    let file = std::fs::File::open(path).unwrap();
    file.try_lock().is_ok()
}

#[tokio::test]
async fn the_callers_open_files_reach_neither_the_supervisor_nor_executables() {
    let (rt, root) = runtime("inherited");
    // A file the caller opened without close-on-exec, and locked, as a wrapper script does
    // with `flock`.
    let path = root.path().with_extension("held");
    let held = rustix::fs::open(
        &path,
        OFlags::RDWR | OFlags::CREATE,
        Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    assert!(
        !rustix::io::fcntl_getfd(&held)
            .unwrap()
            .contains(rustix::io::FdFlags::CLOEXEC)
    );
    rustix::fs::flock(&held, FlockOperation::LockExclusive).unwrap();
    assert!(!lockable(&path));

    let mut events = rt.events().await.unwrap();
    let id = rt
        .start(&common::spec("c", "e", &["sleep", "30"]))
        .await
        .unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let InstanceState::Running { pid: Some(exe), .. } = rt.inspect(&id).await.unwrap().state else {
        panic!("not running");
    };
    let process: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rt.instance_dir(&id).join("process.json")).unwrap())
            .unwrap();
    let supervisor = u32::try_from(process["shimPid"].as_u64().unwrap()).unwrap();
    assert!(
        std::fs::read_link(format!("/proc/{supervisor}/exe"))
            .is_ok_and(|exe| exe == std::fs::canonicalize(SHIM).unwrap())
    );

    for (who, pid) in [("supervisor", supervisor), ("executable", exe)] {
        let files = open_files(pid);
        assert!(
            files.iter().all(|(_, target)| target != &path),
            "the {who} holds the caller's file: {files:?}"
        );
    }
    // The executable has stdin, stdout and stderr, nothing more. Right after exec the dynamic
    // loader holds the libraries it maps open for a moment, so the set is awaited (with a
    // deadline): an inherited file would stay open for good.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let files = open_files(exe);
        let fds: Vec<u32> = files.iter().map(|(fd, _)| *fd).collect();
        if fds == [0, 1, 2] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the executable holds more than stdin, stdout and stderr: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The caller lets go of its lock: it is free at once, though the instance still runs.
    drop(held);
    assert!(lockable(&path), "the lock is still held by a child");
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    let _ = std::fs::remove_file(path);
}
