//! Stopping and removing instances.

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::{InstanceId, RuntimeError, RuntimeEventKind};
use robodeploy_core::time::Time;
use rustix::process::Signal;
use tokio::time::Instant;

use crate::client::exits::wait_exit;
use crate::client::inspect::{load_instance, read_record};
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::os::signal::{KILL, TERM, signal_group};
use crate::wire::layout::InstanceDir;
use crate::wire::state::{ExitRecord, ProcessRecord, touch};

/// How long a process group may take to disappear after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// How long `remove` waits for the supervisor to finish writing into the directory it deletes.
const SHIM_WAIT: Duration = Duration::from_secs(5);

/// SIGTERM to the instance's group, SIGKILL after `grace` (at once when `grace` is zero).
pub(crate) async fn stop(
    inner: &Arc<Inner>,
    id: &InstanceId,
    grace: Duration,
) -> Result<(), RuntimeError> {
    let (dir, _) = load_instance(inner, id)?;
    if read_record::<ExitRecord>(&dir.exit_file())?.is_some() {
        return Ok(());
    }
    let Some(process) = read_record::<ProcessRecord>(&dir.process_file())? else {
        // Never got as far as running: nothing to stop.
        return Ok(());
    };
    // Tells the supervisor this exit is ours, not a manual stop.
    touch(&dir.stop_marker()).map_err(|e| RuntimeError::internal_from("writing stop marker", e))?;
    if !grace.is_zero() {
        signal_leader_group(&process, TERM)?;
        let deadline = Instant::now() + grace;
        if wait_exit(inner, &id.0, &dir, &process, deadline)
            .await
            .is_some()
        {
            return Ok(());
        }
    }
    signal_leader_group(&process, KILL)?;
    let deadline = Instant::now() + KILL_WAIT;
    match wait_exit(inner, &id.0, &dir, &process, deadline).await {
        Some(_) => Ok(()),
        None => Err(RuntimeError::internal(format!(
            "{id} still runs {KILL_WAIT:?} after SIGKILL"
        ))),
    }
}

/// Signals the group of `process` while its leader is still the process started (a pid that
/// was reused by an unrelated process is never signalled).
fn signal_leader_group(process: &ProcessRecord, signal: Signal) -> Result<(), RuntimeError> {
    if procfs::stat(process.pid).is_some_and(|s| s.start_ticks == process.start_ticks) {
        signal_group(process.pid, signal)
            .map_err(|e| RuntimeError::internal_from("signalling the process group", e))?;
    }
    Ok(())
}

/// Kills the instance if it still runs, then deletes its directory (state and logs).
pub(crate) async fn remove(inner: &Arc<Inner>, id: &InstanceId) -> Result<(), RuntimeError> {
    let (dir, _) = load_instance(inner, id)?;
    if let Some(process) = read_record::<ProcessRecord>(&dir.process_file())? {
        if !dir.exit_file().exists() {
            stop(inner, id, Duration::ZERO).await?;
        }
        wait_relay_done(&dir, &process).await;
    }
    fs::remove_dir_all(dir.path()).map_err(|e| {
        RuntimeError::internal_from(format!("removing {}", dir.path().display()), e)
    })?;
    inner.live().remove(&id.0);
    inner
        .events
        .emit(&id.0, Time::now(), RuntimeEventKind::Removed);
    Ok(())
}

/// Waits (briefly) until the supervisor has relayed the last output and stopped writing here
/// (it marks that before it reports the exit, so this rarely waits).
async fn wait_relay_done(dir: &InstanceDir, process: &ProcessRecord) {
    let deadline = Instant::now() + SHIM_WAIT;
    while !dir.relay_done_marker().exists()
        && procfs::is_alive(process.shim_pid, process.shim_start_ticks)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
