//! Knowing when an instance exits: from the supervisor's `exited` report, from `exit.json` when
//! no supervisor reports it (it died, or it is not the one that started the instance), and
//! waiting for it in `stop`.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::RuntimeEventKind;
use robodeploy_core::time::Time;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::UNKNOWN_EXIT_CODE;
use crate::client::runtime::{Inner, Live};
use crate::os::procfs;
use crate::wire::layout::{InstanceDir, instances_dir, validate_name};
use crate::wire::state::{ExitRecord, ProcessRecord, read_json, write_json};

/// How often an instance without a supervisor report is checked.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Reads `exit.json` until it appears. When the supervisor and the executable are both gone
/// without one (a device reboot, a killed supervisor), the exit is lost: it is recorded as
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
            // The supervisor may have written exit.json just before it died: look once more.
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

/// Records the exit of tracked instance `name` (of the process `pid`, when the caller knows
/// which) and tells every subscriber; an exit already recorded, or of an instance no longer
/// (or never) tracked, is not told twice.
pub(crate) fn finish(inner: &Inner, name: &str, pid: Option<u32>, exit: ExitRecord) {
    let first = inner.live().get(name).is_some_and(|live| {
        pid.is_none_or(|pid| pid == live.process.pid)
            && live.exit.send_if_modified(|known| {
                let first = known.is_none();
                if first {
                    *known = Some(exit);
                }
                first
            })
    });
    if !first {
        return;
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

/// Watches instance `name` by polling its files (no supervisor reports its exit).
pub(crate) fn spawn_poll(inner: &Arc<Inner>, name: String, process: ProcessRecord) {
    let inner = Arc::clone(inner);
    tokio::spawn(async move {
        let dir = inner.dir(&name);
        if let Some(exit) = poll_exit(&inner, &dir, &process).await {
            finish(&inner, &name, Some(process.pid), exit);
        }
    });
}

/// Tracks `process` of instance `name` in memory; returns whether it was not tracked before.
pub(crate) fn track(inner: &Inner, name: &str, process: ProcessRecord) -> bool {
    let (exit, _) = watch::channel(None);
    inner
        .live()
        .insert(name.to_owned(), Live { process, exit })
        .is_none()
}

/// Adopts the instances a previous runtime left running under this root: each is tracked at
/// once, and its exit reported as an event like any other, pushed by the supervisor that
/// started it when that one still runs (the runtime connects and watches them), polled from
/// its files otherwise.
pub(crate) fn adopt_all(inner: &Arc<Inner>) {
    let Ok(entries) = std::fs::read_dir(instances_dir(&inner.root)) else {
        return;
    };
    let mut adopted = Vec::new();
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
        adopted.push((name, process));
    }
    if adopted.is_empty() {
        return;
    }
    let inner = Arc::clone(inner);
    tokio::spawn(async move {
        // Only a running supervisor is of use: a new one could not wait for these processes.
        let link = crate::client::link::get(&inner, false).await.ok().flatten();
        for (name, process) in adopted {
            match &link {
                Some(link) if link.holds(&process) && link.watch(&name, process.pid) => {}
                _ => spawn_poll(&inner, name, process),
            }
        }
    });
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
