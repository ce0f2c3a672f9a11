//! Knowing when an instance exits: from its shim's report, from `exit.json` for instances a
//! previous runtime started, and waiting for it in `stop`.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::RuntimeEventKind;
use robodeploy_core::time::Time;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::UNKNOWN_EXIT_CODE;
use crate::layout::{InstanceDir, instances_dir, validate_name};
use crate::procfs;
use crate::runtime::{Inner, Live};
use crate::state::{ExitRecord, ProcessRecord, read_json, write_json};

/// How often an instance without a shim report is checked.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Reads `exit.json` until it appears. When the shim and the executable are both gone without
/// one (a device reboot, a killed shim), the exit is lost: it is recorded as
/// [`UNKNOWN_EXIT_CODE`] so every reader agrees. `None` when the runtime was dropped first.
pub(crate) async fn poll_exit(
    inner: &Inner,
    dir: &InstanceDir,
    process: &ProcessRecord,
) -> Option<ExitRecord> {
    loop {
        if inner.is_closed() {
            return None;
        }
        if let Ok(Some(exit)) = read_json(&dir.exit_file()) {
            return Some(exit);
        }
        let shim_alive = procfs::is_alive(process.shim_pid, process.shim_start_ticks);
        if !shim_alive && !procfs::is_alive(process.pid, process.start_ticks) {
            // The shim writes exit.json just before it exits: look once more.
            if let Ok(Some(exit)) = read_json(&dir.exit_file()) {
                return Some(exit);
            }
            let lost = ExitRecord {
                exit_code: UNKNOWN_EXIT_CODE,
                finished_at: None,
                stopped_manually: false,
            };
            // Best effort: if the directory went away, the instance was removed meanwhile.
            let _ = write_json(&dir.exit_file(), &lost, 0o600);
            return Some(lost);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Records an exit and tells every subscriber.
pub(crate) fn finish(inner: &Inner, name: &str, exit: ExitRecord) {
    if let Some(live) = inner.live().get(name) {
        live.exit.send_replace(Some(exit));
    }
    inner.events.emit(
        name,
        exit.finished_at.unwrap_or_else(Time::now),
        RuntimeEventKind::Exited {
            exit_code: exit.exit_code,
            oom_killed: false,
            stopped_manually: exit.stopped_manually,
        },
    );
}

/// Tracks `process` of instance `name` in memory; returns whether it was not tracked before.
pub(crate) fn track(inner: &Inner, name: &str, process: ProcessRecord) -> bool {
    let (exit, _) = watch::channel(None);
    inner
        .live()
        .insert(name.to_owned(), Live { process, exit })
        .is_none()
}

/// Adopts the instances a previous runtime left running under this root: each is polled until
/// it exits, and its exit is reported as an event like any other.
pub(crate) fn adopt_all(inner: &Arc<Inner>) {
    let Ok(entries) = std::fs::read_dir(instances_dir(&inner.root)) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if validate_name(&name).is_err() {
            continue;
        }
        let dir = inner.dir(&name);
        if dir.exit_file().exists() {
            continue;
        }
        let Ok(Some(process)) = read_json::<ProcessRecord>(&dir.process_file()) else {
            continue;
        };
        track(inner, &name, process);
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            if let Some(exit) = poll_exit(&inner, &dir, &process).await {
                finish(&inner, &name, exit);
            }
        });
    }
}

/// Waits until the instance has exited, at most until `deadline`.
pub(crate) async fn wait_exit(
    inner: &Inner,
    name: &str,
    dir: &InstanceDir,
    process: &ProcessRecord,
    deadline: Instant,
) -> Option<ExitRecord> {
    let tracked = inner.live().get(name).map(|l| l.exit.subscribe());
    let wait = async {
        if let Some(mut rx) = tracked
            && let Ok(exit) = rx.wait_for(Option::is_some).await
        {
            return *exit;
        }
        // Not tracked (started by another runtime on this root) or untracked meanwhile.
        poll_exit(inner, dir, process).await
    };
    tokio::time::timeout_at(deadline, wait).await.ok().flatten()
}
