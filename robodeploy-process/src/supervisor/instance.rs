//! One instance inside the supervisor: started from its `instance.json`, its output relayed
//! into its log, its exit recorded in `exit.json` and then told to the runtimes that care.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::LogStreamKind;
use robodeploy_core::time::Time;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::diag::diag;
use super::{Held, Shared};
use crate::UNKNOWN_EXIT_CODE;
use crate::os::procfs;
use crate::os::signal::{KILL, exit_code_for_signal, signal_group};
use crate::supervisor::relay::{InstanceLog, LineSplitter};
use crate::wire::layout::InstanceDir;
use crate::wire::protocol::{FailKind, Reply};
use crate::wire::state::{ExitRecord, InstanceRecord, ProcessRecord, read_json, touch, write_json};

/// How long the last output is waited for once the executable's group is gone.
const RELAY_DRAIN: Duration = Duration::from_secs(2);

/// Bytes read from a pipe at once.
const READ_CHUNK: usize = 4096;

/// The first pause between two attempts to write an exit record the disk had no room for;
/// it doubles up to [`RECORD_RETRY_MAX`].
const RECORD_RETRY: Duration = Duration::from_millis(50);

/// The longest pause between two attempts to write an exit record.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(1);

/// Starts instance `name` for connection `conn` and answers it `started` or `failed`. A name
/// is started once: while it runs, and after it ran (its `process.json` is there), a second
/// `start` is refused as `exists`, so no copy runs that the runtime does not track.
pub(super) fn start(shared: &Arc<Shared>, conn: u64, name: &str) {
    let dir = InstanceDir::new(&shared.root, name);
    if let Some(message) = started_already(shared, name, &dir) {
        diag!("{name}: cannot start: {message}");
        let reply = Reply::Failed(name.to_owned(), FailKind::Exists, message);
        shared.state().send(conn, reply.line());
        return;
    }
    let reply = match spawn(shared, &dir) {
        Ok((spawned, process, log_limit)) => {
            let mut state = shared.state();
            state.instances.insert(
                name.to_owned(),
                Held {
                    pid: process.pid,
                    watchers: vec![conn],
                    exit: None,
                },
            );
            let log = InstanceLog::new(name, &dir, log_limit);
            tokio::spawn(tend(
                Arc::clone(shared),
                name.to_owned(),
                dir,
                spawned,
                process.pid,
                log,
            ));
            state.send(conn, Reply::Started(name.to_owned(), process).line());
            return;
        }
        Err((kind, message)) => {
            diag!("{name}: cannot start: {message}");
            Reply::Failed(name.to_owned(), kind, message)
        }
    };
    shared.state().send(conn, reply.line());
}

/// Why instance `name` cannot be started again, if it was started already.
fn started_already(shared: &Shared, name: &str, dir: &InstanceDir) -> Option<String> {
    let mut state = shared.state();
    if let Some(held) = state.instances.get(name) {
        if held.exit.is_none() {
            return Some(format!("instance {name} runs already (pid {})", held.pid));
        }
        // It exited; only its exit record was pending. A directory without `process.json`
        // is a new instance of the name (the old one was removed): the old record is dropped.
        if !dir.process_file().exists() {
            state.instances.remove(name);
        }
    }
    dir.process_file().exists().then(|| {
        format!(
            "instance {name} was started already (it has a process.json); a name is started once"
        )
    })
}

/// A spawned executable: its output pipes and its coming exit code.
struct Spawned {
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    exit: oneshot::Receiver<i32>,
}

/// Spawns the executable described in `dir` and records it in `process.json`.
fn spawn(
    shared: &Shared,
    dir: &InstanceDir,
) -> Result<(Spawned, ProcessRecord, u64), (FailKind, String)> {
    let other = |what: &str, e: &dyn std::fmt::Display| (FailKind::Other, format!("{what}: {e}"));
    let record: InstanceRecord = match read_json(&dir.instance_file()) {
        Ok(Some(record)) => record,
        Ok(None) => return Err((FailKind::Other, "instance.json is missing".to_owned())),
        Err(e) => return Err(other("instance.json", &e)),
    };
    let Some((arg0, args)) = record.argv.split_first() else {
        return Err((
            FailKind::Other,
            "instance.json has an empty argv".to_owned(),
        ));
    };
    let mut command = match record.memory_bytes {
        Some(bytes) => super::limited::command(&record.program, &record.argv, bytes),
        None => {
            let mut c = Command::new(&record.program);
            c.arg0(arg0).args(args);
            c
        }
    };
    if let Some((uid, gid)) = record.user {
        command.uid(uid).gid(gid);
    }
    command
        .env_clear()
        .envs(&record.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(wd) = &record.working_dir {
        command.current_dir(wd);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err((FailKind::NotFound, e.to_string()));
        }
        // Most often a user the runtime switches to cannot enter the working directory (by
        // default the engine's own) or run the program: say so, with both.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            let user = record
                .user
                .map_or(String::new(), |(u, g)| format!(" as user {u}:{g}"));
            let wd = record.working_dir.as_ref().map_or_else(
                || "the supervisor's".to_owned(),
                |w| w.display().to_string(),
            );
            return Err(other(
                &format!(
                    "spawning {}{user} in working directory {wd}",
                    record.program.display()
                ),
                &e,
            ));
        }
        Err(e) => return Err(other("spawning", &e)),
    };
    let pid = child.id();
    // Before any await: the reaper keeps an exit it collects first.
    let exit = shared.reaper.exit_of(pid);
    let process = ProcessRecord {
        pid,
        // Not reaped before the reaper runs, so its stat exists (maybe as a zombie).
        start_ticks: procfs::stat(pid).map_or(0, |s| s.start_ticks),
        shim_pid: shared.me.0,
        shim_start_ticks: shared.me.1,
        started_at: Time::now(),
    };
    let pipes = (
        child.stdout.take().map(ChildStdout::from_std).transpose(),
        child.stderr.take().map(ChildStderr::from_std).transpose(),
    );
    let (stdout, stderr) = match pipes {
        (Ok(stdout), Ok(stderr)) => (stdout, stderr),
        (Err(e), _) | (_, Err(e)) => {
            let _ = signal_group(pid, KILL);
            return Err(other("watching the output", &e));
        }
    };
    // Fails when the directory is gone: the runtime gave up on this start meanwhile.
    if let Err(e) = write_json(&dir.process_file(), &process, 0o600) {
        let _ = signal_group(pid, KILL);
        return Err(other("process.json", &e));
    }
    let spawned = Spawned {
        stdout,
        stderr,
        exit,
    };
    Ok((spawned, process, record.log_limit))
}

/// Relays the output of a started instance until it exits, then records and reports the exit.
async fn tend(
    shared: Arc<Shared>,
    name: String,
    dir: InstanceDir,
    spawned: Spawned,
    pid: u32,
    mut log: InstanceLog,
) {
    let Spawned {
        mut stdout,
        mut stderr,
        exit: mut exited,
    } = spawned;
    let mut split_out = LineSplitter::new(LogStreamKind::Stdout);
    let mut split_err = LineSplitter::new(LogStreamKind::Stderr);
    let (mut buf_out, mut buf_err) = (vec![0u8; READ_CHUNK], vec![0u8; READ_CHUNK]);
    let mut exit: Option<(i32, Time)> = None;
    // Far enough not to matter until the exit sets the real one.
    let mut drain_until = Instant::now() + Duration::from_secs(86_400 * 365);
    while exit.is_none() || stdout.is_some() || stderr.is_some() {
        tokio::select! {
            n = read_some(&mut stdout, &mut buf_out) => match n {
                Some(n) => split_out.feed(&buf_out[..n], &mut log),
                None => {
                    split_out.finish(&mut log);
                    stdout = None;
                }
            },
            n = read_some(&mut stderr, &mut buf_err) => match n {
                Some(n) => split_err.feed(&buf_err[..n], &mut log),
                None => {
                    split_err.finish(&mut log);
                    stderr = None;
                }
            },
            code = &mut exited, if exit.is_none() => {
                // The reaper lives as long as the supervisor: its end cannot come first.
                let code = code.unwrap_or(UNKNOWN_EXIT_CODE);
                exit = Some((code, Time::now()));
                // An instance is its process group: what the executable left behind goes with
                // it, as in a container whose main process exited.
                let _ = signal_group(pid, KILL);
                // The output is complete before the exit is told (unless something outside
                // the group holds the pipes open past the drain time).
                drain_until = Instant::now() + RELAY_DRAIN;
            }
            () = tokio::time::sleep_until(drain_until) => {
                diag!("{name}: output still open after the group was killed; stopped waiting for it");
                break;
            }
        }
    }
    drop(log);
    let (exit_code, finished_at) = exit.unwrap_or((UNKNOWN_EXIT_CODE, Time::now()));
    let record = ExitRecord {
        exit_code,
        finished_at: Some(finished_at),
        stopped_manually: is_manual_stop(exit_code) && !dir.stop_marker().exists(),
    };
    // Both files are in place before anyone hears of the exit: a runtime that sees it may
    // remove the directory at once.
    let written = write_json(&dir.exit_file(), &record, 0o600);
    if let Err(e) = touch(&dir.relay_done_marker()) {
        diag!("{name}: relay.done: {e}");
    }
    match written {
        Ok(()) => {
            let mut state = shared.state();
            if state.instances.get(&name).is_some_and(|h| h.pid == pid)
                && let Some(held) = state.instances.remove(&name)
            {
                tell(&state, held.watchers, Reply::Exited(name, record));
            }
            shared.check_idle(&state);
        }
        Err(e) => {
            diag!("{name}: exit.json: {e}; the exit is reported now and recorded once possible");
            {
                let mut state = shared.state();
                if let Some(held) = state.instances.get_mut(&name)
                    && held.pid == pid
                {
                    held.exit = Some(record);
                    let watchers = std::mem::take(&mut held.watchers);
                    tell(&state, watchers, Reply::Exited(name.clone(), record));
                }
            }
            record_later(&shared, &name, &dir, pid, record).await;
        }
    }
}

/// Sends `reply` to every connection in `watchers`.
fn tell(state: &super::State, watchers: Vec<u64>, reply: Reply) {
    let line = reply.line();
    for conn in watchers {
        state.send(conn, line.clone());
    }
}

/// Writes the exit record the disk had no room for, trying again until it is written or no
/// longer wanted (the directory was removed, or a new instance took the name). Until then the
/// instance is held: the supervisor does not exit with an exit unrecorded, and a runtime that
/// `watch`es it is told the exit at once.
async fn record_later(
    shared: &Shared,
    name: &str,
    dir: &InstanceDir,
    pid: u32,
    record: ExitRecord,
) {
    let mut pause = RECORD_RETRY;
    let mut failures = 1u32;
    loop {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RECORD_RETRY_MAX);
        if shared
            .state()
            .instances
            .get(name)
            .is_none_or(|h| h.pid != pid)
        {
            return;
        }
        let done = match write_json(&dir.exit_file(), &record, 0o600) {
            Ok(()) => {
                if failures > 1 {
                    diag!("{name}: exit.json written after {failures} attempts");
                }
                true
            }
            // The directory is gone: the instance was removed, nothing left to record.
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => {
                failures += 1;
                // One line per ten attempts is enough to show it is still stuck.
                if failures.is_multiple_of(10) {
                    diag!("{name}: exit.json: {e} ({failures} attempts)");
                }
                false
            }
        };
        if done {
            let mut state = shared.state();
            if state.instances.get(name).is_some_and(|h| h.pid == pid) {
                state.instances.remove(name);
            }
            shared.check_idle(&state);
            return;
        }
    }
}

/// The next bytes of a pipe; `None` at its end (or on an error, which ends it too). A pipe
/// already closed never answers, so `select!` waits on the others.
async fn read_some(pipe: &mut Option<impl AsyncRead + Unpin>, buf: &mut [u8]) -> Option<usize> {
    let Some(reader) = pipe else {
        return std::future::pending().await;
    };
    loop {
        match reader.read(buf).await {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                diag!("reading output: {e}");
                return None;
            }
        }
    }
}

/// SIGTERM or SIGINT: what an operator's `kill` or Ctrl-C sends.
fn is_manual_stop(exit_code: i32) -> bool {
    exit_code == exit_code_for_signal(15) || exit_code == exit_code_for_signal(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigterm_and_sigint_are_manual_stops() {
        assert!(is_manual_stop(143) && is_manual_stop(130));
        assert!(!is_manual_stop(137) && !is_manual_stop(1));
    }
}
