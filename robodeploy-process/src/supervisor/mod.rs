//! The supervisor process of a runtime root: one per root, holding every instance's pipes and
//! exit status (see [`crate::shim`] for what it is and how runtimes reach it).
//!
//! Life of a supervisor:
//!
//! 1. It leaves the session of the runtime that spawned it, so neither a SIGKILL of the engine
//!    nor a terminal's hangup reaches it, and raises its open-file limit to the hard limit
//!    (each running instance holds two pipe ends).
//! 2. It takes `supervisor.lock` in the root (an exclusive `flock`, released by the kernel
//!    however the process ends). Only the holder serves the root: a second supervisor started
//!    by a racing runtime prints `busy` and exits, and the runtime connects to the first.
//! 3. Holding the lock, any `supervisor.sock` left in the root is stale (its supervisor died):
//!    it is replaced by a fresh listening socket, and `ready` is printed.
//! 4. It serves connections (see [`conn`]) and instances (see [`instance`]) on a
//!    single-threaded Tokio runtime until it holds no running instance and no runtime is
//!    connected (or nobody connected within [`FIRST_CONNECTION`] of its start). Then it
//!    removes its socket before exiting, so a runtime arriving later starts a new one.

mod conn;
#[cfg(feature = "fuzzing")]
pub(crate) use conn::decode_stream;
pub(crate) mod diag;
mod instance;
mod limited;
mod reaper;
pub(crate) mod relay;

pub(crate) use limited::{LIMITED_EXEC_ARG, run as limited_exec};

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustix::fs::Mode;
use tokio::net::UnixListener;
use tokio::sync::{Notify, mpsc};

use crate::os::procfs;
use crate::wire::layout::{SUPERVISOR_LOCK, SUPERVISOR_LOG, SUPERVISOR_SOCKET};
use crate::wire::state::ExitRecord;
use diag::diag;

/// How long a new supervisor waits for its first connection before giving up (the runtime
/// that spawned it connects at once, unless it died meanwhile).
const FIRST_CONNECTION: Duration = Duration::from_secs(10);

/// What every task of the supervisor shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The root directory served, absolute.
    root: PathBuf,
    /// This process's pid and start time, recorded in every `process.json`.
    me: (u32, u64),
    state: Mutex<State>,
    /// Signalled whenever the supervisor may have become idle.
    idle: Notify,
    /// Collects the exits of the executables.
    reaper: Arc<reaper::Reaper>,
}

/// Connections and running instances.
#[derive(Debug, Default)]
struct State {
    /// The reply queue of every connected runtime, by connection number.
    conns: HashMap<u64, mpsc::UnboundedSender<String>>,
    next_conn: u64,
    /// Instances whose exit has not been reported yet, by name.
    instances: HashMap<String, Held>,
}

/// A running instance, or one that exited whose `exit.json` could not be written yet.
#[derive(Debug)]
struct Held {
    pid: u32,
    /// Connections told of its exit: the starter's and those that watch it.
    watchers: Vec<u64>,
    /// Its exit, once it exited and the record is waiting for room on the disk.
    exit: Option<ExitRecord>,
}

impl State {
    fn is_idle(&self) -> bool {
        self.conns.is_empty() && self.instances.is_empty()
    }

    /// Queues `line` for connection `conn` (gone connections are skipped).
    fn send(&self, conn: u64, line: String) {
        if let Some(tx) = self.conns.get(&conn) {
            let _ = tx.send(line);
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every change is a single insert or remove: a panic cannot leave half of one.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes the accept loop if nothing is left to serve.
    fn check_idle(&self, state: &State) {
        if state.is_idle() {
            self.idle.notify_one();
        }
    }
}

/// Serves `root` until idle; returns the process's exit code. What goes wrong is written to
/// stderr (the runtime points it at `supervisor.log` in the root); stdout carries one line for
/// the runtime that spawned it: `ready`, `busy`, or `failed <reason>`.
pub(crate) fn run(root: &Path) -> i32 {
    shed_inherited_files();
    // Fails only when already a session leader, which is as good.
    let _ = rustix::process::setsid();
    raise_open_file_limit();
    let mut out = io::stdout().lock();
    let fail = |out: &mut io::StdoutLock<'_>, what: &str, e: &dyn std::fmt::Display| {
        diag!("supervisor of {}: {what}: {e}", root.display());
        let _ = writeln!(out, "failed {what}: {e}").and_then(|()| out.flush());
        1
    };
    // Working in the root keeps the socket's path short (a socket path is limited to 107
    // bytes, a root's path is not).
    if let Err(e) = std::env::set_current_dir(root) {
        return fail(&mut out, "entering the root", &e);
    }
    let lock = match fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(SUPERVISOR_LOCK)
    {
        Ok(file) => file,
        Err(e) => return fail(&mut out, SUPERVISOR_LOCK, &e),
    };
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let _ = writeln!(out, "busy").and_then(|()| out.flush());
            return 0;
        }
        Err(fs::TryLockError::Error(e)) => return fail(&mut out, SUPERVISOR_LOCK, &e),
    }
    // The lock holder alone writes (and rotates) the root's diagnostics.
    if let Err(e) = diag::open() {
        diag!(
            "supervisor of {}: opening {SUPERVISOR_LOG}: {e}",
            root.display()
        );
    }
    let listener = match bind() {
        Ok(listener) => listener,
        Err(e) => return fail(&mut out, SUPERVISOR_SOCKET, &e),
    };
    let tokio = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(tokio) => tokio,
        Err(e) => return fail(&mut out, "starting the event loop", &e),
    };
    let me = (
        std::process::id(),
        procfs::stat_self().map_or(0, |s| s.start_ticks),
    );
    let _ = writeln!(out, "ready").and_then(|()| out.flush());
    drop(out);
    tokio.block_on(async move {
        let reaper = match reaper::Reaper::start() {
            Ok(reaper) => reaper,
            Err(e) => {
                diag!("supervisor of {}: handling SIGCHLD: {e}", root.display());
                return;
            }
        };
        let shared = Arc::new(Shared {
            root: root.to_owned(),
            me,
            state: Mutex::new(State::default()),
            idle: Notify::new(),
            reaper,
        });
        match UnixListener::from_std(listener) {
            Ok(listener) => serve(&shared, listener).await,
            Err(e) => diag!("supervisor of {}: listening: {e}", root.display()),
        }
    });
    // The socket is gone before the lock is released (when this process ends), so whoever
    // takes the lock next finds no socket of ours.
    drop(lock);
    0
}

/// Replaces a stale socket file with a fresh listening socket (the lock is held). The socket
/// is created owner-only (0600), whatever the umask: no other user may connect, not even for
/// an instant.
fn bind() -> io::Result<std::os::unix::net::UnixListener> {
    match fs::remove_file(SUPERVISOR_SOCKET) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // Still a single thread here: no one else creates files while the mask is narrowed.
    let before = rustix::process::umask(Mode::from_bits_truncate(0o177));
    let bound = std::os::unix::net::UnixListener::bind(SUPERVISOR_SOCKET);
    rustix::process::umask(before);
    let listener = bound?;
    fs::set_permissions(SUPERVISOR_SOCKET, fs::Permissions::from_mode(0o600))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Accepts connections until the supervisor is idle, then removes the socket.
async fn serve(shared: &Arc<Shared>, listener: UnixListener) {
    let first_deadline = tokio::time::Instant::now() + FIRST_CONNECTION;
    // Until the first connection (or its deadline) the supervisor is idle but must stay.
    let mut armed = false;
    loop {
        tokio::select! {
            // A connection waiting to be accepted counts as a connected runtime.
            biased;
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    armed = true;
                    conn::serve(shared, stream);
                }
                Err(e) => {
                    // Out of file descriptors, most likely: let instances end and retry.
                    diag!("supervisor: accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = shared.idle.notified() => {}
            () = tokio::time::sleep_until(first_deadline), if !armed => armed = true,
        }
        // No await between this check and the socket's removal: no task can run in between.
        if armed && shared.state().is_idle() {
            if let Err(e) = fs::remove_file(SUPERVISOR_SOCKET) {
                diag!("supervisor: removing {SUPERVISOR_SOCKET}: {e}");
            }
            return;
        }
    }
}

/// Set on a supervisor that re-executed itself to shed the files it inherited.
const SHED_MARK: &str = "ROBODEPLOY_SUPERVISOR_SHED";

/// Lets go of every file the supervisor inherited beyond stdin, stdout and stderr (a lock a
/// wrapper of the engine holds, the operator's open files): they would stay open as long as
/// the supervisor runs, and reach every executable it starts. They are marked close-on-exec
/// and the supervisor executes itself again, which closes them. Nothing is open at that point
/// but what was inherited (this runs first thing), so nothing of the supervisor's is lost.
fn shed_inherited_files() {
    if close_fds::iter_open_fds(3).next().is_none() {
        return;
    }
    if std::env::var_os(SHED_MARK).is_some() {
        // Executed again already: whatever is still open was not ours to close.
        return;
    }
    close_fds::CloseFdsBuilder::new().cloexecfrom(3);
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    let error = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env(SHED_MARK, "1")
        .exec();
    // Could not execute again: go on with the files (they no longer reach executables).
    diag!("supervisor: closing inherited files: {error}");
}

/// Lifts the soft limit on open files to the hard one: the default soft limit (often 1024)
/// would cap a root at about 500 running instances.
fn raise_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            diag!("supervisor: raising the open-file limit: {e}");
        }
    }
}
