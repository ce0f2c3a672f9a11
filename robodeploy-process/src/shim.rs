//! The shim: a small process per instance that starts the executable, relays its output to the
//! rotated log file, and records its exit status, independently of the runtime that asked for it.
//!
//! Like containerd's shim or podman's conmon, it is what lets an executable outlive the engine:
//! the executable's output goes to the shim (never to a pipe held by the engine), and its exit
//! status is written to `exit.json` by the shim even when no engine is alive to wait for it. A
//! runtime created later on the same root reads that file.
//!
//! The shim is the `robodeploy-process-shim` binary of this crate, or any program that calls
//! [`run_if_requested`] first thing in `main` (so a single binary can serve as its own shim, see
//! [`Shim::CurrentExe`](crate::Shim::CurrentExe)).
//!
//! Protocol with the runtime that spawned it, one line each on the shim's stdout (ignored when
//! nobody reads any more): `started <process.json>` once the executable runs, or
//! `failed <notfound|other> <message>` when it could not be started; then `exited <exit.json>`
//! when it ended.
//!
//! ```no_run
//! // First thing in `main`: becomes the shim (and exits) when started as one, otherwise
//! // returns at once.
//! robodeploy_process::shim::run_if_requested();
//! assert!(!std::env::args().any(|a| a == robodeploy_process::shim::SHIM_ARG));
//! ```

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use robodeploy_core::runtime::LogStreamKind;
use robodeploy_core::time::Time;

use crate::UNKNOWN_EXIT_CODE;
use crate::layout::InstanceDir;
use crate::logfile::{MAX_LINE, RotatingLog};
use crate::procfs;
use crate::signal::{KILL, exit_code, exit_code_for_signal, signal_group};
use crate::state::{ExitRecord, InstanceRecord, ProcessRecord, read_json, touch, write_json};

/// The first argument that turns a program into the shim; the second is the instance directory.
pub const SHIM_ARG: &str = "--robodeploy-process-shim";

/// How long the shim waits for the last output once the executable's group is gone.
const RELAY_DRAIN: Duration = Duration::from_secs(2);

/// Runs the shim and exits the process if this program was started as one (its first argument
/// is [`SHIM_ARG`]); returns without doing anything otherwise.
pub fn run_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new(SHIM_ARG)) {
        return;
    }
    let code = match args.next() {
        Some(dir) => run(&InstanceDir::from_path(dir.into())),
        None => {
            eprintln!("usage: {SHIM_ARG} <instance directory>");
            2
        }
    };
    std::process::exit(code);
}

/// Starts the instance described in `dir`, supervises it to its end, and returns the shim's
/// own exit code (0 when the executable was started, whatever its own exit code).
fn run(dir: &InstanceDir) -> i32 {
    let mut out = io::stdout().lock();
    let record: InstanceRecord = match read_json(&dir.instance_file()) {
        Ok(Some(r)) => r,
        Ok(None) => return fail(&mut out, "other", "instance.json is missing"),
        Err(e) => return fail(&mut out, "other", &format!("instance.json: {e}")),
    };
    let Some((arg0, args)) = record.argv.split_first() else {
        return fail(&mut out, "other", "instance.json has an empty argv");
    };
    let mut command = Command::new(&record.program);
    command
        .arg0(arg0)
        .args(args)
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
            return fail(&mut out, "notfound", &e.to_string());
        }
        Err(e) => return fail(&mut out, "other", &e.to_string()),
    };
    let pid = child.id();
    let process = ProcessRecord {
        pid,
        // The child cannot be reaped before our wait, so its stat exists (maybe as a zombie).
        start_ticks: procfs::stat(pid).map_or(0, |s| s.start_ticks),
        shim_pid: std::process::id(),
        shim_start_ticks: procfs::stat_self().map_or(0, |s| s.start_ticks),
        started_at: Time::now(),
    };
    if let Err(e) = write_json(&dir.process_file(), &process, 0o600) {
        let _ = signal_group(pid, KILL);
        let _ = child.wait();
        return fail(&mut out, "other", &format!("process.json: {e}"));
    }
    report(&mut out, "started", &process);

    let log = match RotatingLog::open(dir.log_file(), dir.rotated_log_file(), record.log_limit) {
        Ok(log) => Some(Arc::new(Mutex::new(log))),
        Err(e) => {
            eprintln!("output.log: {e}; output is discarded");
            None
        }
    };
    let (done_tx, done_rx) = mpsc::channel();
    let streams: [(Option<Box<dyn Read + Send>>, LogStreamKind); 2] = [
        (
            child.stdout.take().map(|r| Box::new(r) as _),
            LogStreamKind::Stdout,
        ),
        (
            child.stderr.take().map(|r| Box::new(r) as _),
            LogStreamKind::Stderr,
        ),
    ];
    let mut relays = 0;
    for (reader, stream) in streams {
        let Some(reader) = reader else { continue };
        let (log, done) = (log.clone(), done_tx.clone());
        relays += 1;
        std::thread::spawn(move || {
            relay(reader, stream, log.as_deref());
            let _ = done.send(());
        });
    }

    let exit_code = match child.wait() {
        Ok(status) => exit_code(status),
        Err(e) => {
            eprintln!("wait: {e}");
            UNKNOWN_EXIT_CODE
        }
    };
    // An instance is its process group: what the executable left behind goes with it, as in a
    // container whose main process exited.
    let _ = signal_group(pid, KILL);
    // The output is complete before the exit is told, so a reader who saw the exit sees it all
    // (unless something outside the group holds the pipes open past the drain time).
    let deadline = Instant::now() + RELAY_DRAIN;
    for _ in 0..relays {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            eprintln!("output still open after the group was killed; stopped waiting for it");
            break;
        }
    }
    let exit = ExitRecord {
        exit_code,
        finished_at: Some(Time::now()),
        stopped_manually: is_manual_stop(exit_code) && !dir.stop_marker().exists(),
    };
    if let Err(e) = write_json(&dir.exit_file(), &exit, 0o600) {
        eprintln!("exit.json: {e}");
    }
    report(&mut out, "exited", &exit);

    if let Err(e) = touch(&dir.relay_done_marker()) {
        eprintln!("relay.done: {e}");
    }
    0
}

/// SIGTERM or SIGINT: what an operator's `kill` or Ctrl-C sends.
fn is_manual_stop(exit_code: i32) -> bool {
    exit_code == exit_code_for_signal(15) || exit_code == exit_code_for_signal(2)
}

fn report(out: &mut impl Write, what: &str, value: &impl serde::Serialize) {
    // The runtime may be gone (an engine crash): a failed write changes nothing here.
    if let Ok(json) = serde_json::to_string(value) {
        let _ = writeln!(out, "{what} {json}").and_then(|()| out.flush());
    }
}

fn fail(out: &mut impl Write, kind: &str, message: &str) -> i32 {
    eprintln!("cannot start: {message}");
    let _ = writeln!(out, "failed {kind} {}", message.replace('\n', " "));
    let _ = out.flush();
    1
}

/// Copies `reader` line by line into `log` until end of file.
fn relay(mut reader: impl Read, stream: LogStreamKind, log: Option<&Mutex<RotatingLog>>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::with_capacity(MAX_LINE);
    let emit = |line: &[u8]| {
        let Some(log) = log else { return };
        let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = Time::now();
        let mut pieces = line.chunks(MAX_LINE).peekable();
        let result = if pieces.peek().is_none() {
            log.write_line(stream, b"", at)
        } else {
            pieces.try_for_each(|piece| log.write_line(stream, piece, at))
        };
        if let Err(e) = result {
            eprintln!("output.log: {e}");
        }
    };
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("reading output: {e}");
                break;
            }
        };
        let mut chunk = &buf[..n];
        while let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            pending.extend_from_slice(&chunk[..i]);
            emit(&pending);
            pending.clear();
            chunk = &chunk[i + 1..];
        }
        pending.extend_from_slice(chunk);
        if pending.len() >= MAX_LINE {
            let whole = pending.len() - pending.len() % MAX_LINE;
            emit(&pending[..whole]);
            pending.drain(..whole);
        }
    }
    if !pending.is_empty() {
        emit(&pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigterm_and_sigint_are_manual_stops() {
        assert!(is_manual_stop(143) && is_manual_stop(130));
        assert!(!is_manual_stop(137) && !is_manual_stop(1));
    }

    #[test]
    fn relay_splits_lines_and_keeps_a_trailing_partial_line() {
        let dir = std::env::temp_dir().join(format!("rd-relay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = Mutex::new(
            RotatingLog::open(dir.join("output.log"), dir.join("output.log.1"), 1 << 20).unwrap(),
        );
        let long = "x".repeat(MAX_LINE + 5);
        let input = format!("one\n\ntwo\n{long}\ntail");
        relay(input.as_bytes(), LogStreamKind::Stderr, Some(&log));
        let text = std::fs::read_to_string(dir.join("output.log")).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.split_once(" e ").expect("stderr record").1)
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[..3], ["one", "", "two"]);
        assert_eq!(lines[3].len(), MAX_LINE);
        assert_eq!(lines[4], "xxxxx");
        assert_eq!(lines[5], "tail");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
