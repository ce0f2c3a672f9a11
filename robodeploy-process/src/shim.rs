//! The shim: one long-lived supervisor process per runtime root that starts the executables,
//! relays their output to their rotated logs, and records their exit statuses, independently
//! of the runtimes that asked for them.
//!
//! Like containerd's shim or podman's conmon, it is what lets an executable outlive the engine:
//! the executable's output goes to the supervisor (never to a pipe held by the engine), and its
//! exit status is written to `exit.json` by the supervisor even when no engine is alive to wait
//! for it. Unlike them, one process serves every instance of a root, so starting an instance
//! costs one process creation (the executable's), not two.
//!
//! The supervisor is the `robodeploy-process-shim` binary of this crate, or any program that
//! calls [`run_if_requested`] first thing in `main` (so a single binary can serve as its own,
//! see [`Shim::CurrentExe`](crate::Shim::CurrentExe)), started as `<program> `[`SHIM_ARG`]`
//! <root>`.
//!
//! # Lifetime
//!
//! - **Started on demand** by the first runtime that starts an instance under a root where none
//!   runs. It leaves the engine's session and process group at once, so a SIGKILL of the engine
//!   (or its terminal closing) reaches neither it nor its executables.
//! - **Exactly one per root**: it serves only while holding an exclusive lock on
//!   `<root>/supervisor.lock`. Of two started by racing runtimes, the second prints `busy` and
//!   exits, and both runtimes connect to the first. A `supervisor.sock` left by one that died is
//!   replaced by whoever takes the lock next.
//! - **Exits when idle**: when it holds no running instance and no runtime is connected, it
//!   removes its socket and exits, so nothing lingers after a deprovision or an engine drop. A
//!   runtime stays connected from its first start (or adoption) until it is dropped.
//! - **If it dies** (killed by hand, a device reboot), its executables lose their output relay
//!   and their exits are lost: runtimes fall back to polling `exit.json` and the processes, and
//!   report [`UNKNOWN_EXIT_CODE`](crate::UNKNOWN_EXIT_CODE) for exits nobody recorded. The next
//!   start spawns a new supervisor.
//!
//! # Protocol
//!
//! A runtime connects to `<root>/supervisor.sock` (a Unix stream socket) and exchanges lines:
//!
//! ```text
//! runtime → supervisor                 supervisor → runtime
//!                                      ready <pid> <start ticks>         on connecting
//! start <name>                         started <name> <process.json>
//!                                      failed <name> <notfound|other> <message>
//! watch <name> <pid>                   unknown <name>                    (not held: read exit.json)
//!                                      exited <name> <exit.json>         to the starter and watchers
//! ```
//!
//! `start` names an instance directory `<root>/instances/<name>` whose `instance.json` the
//! runtime wrote; the supervisor spawns the executable in its own process group, writes
//! `process.json` (holding the supervisor's pid and start time as `shimPid` and
//! `shimStartTicks`), and answers. A runtime created on a root where instances already run
//! (after an engine crash) connects without starting anything and `watch`es each of them. When
//! an executable exits, the supervisor kills what is left in its group, waits for the last
//! output (up to 2 s), writes `exit.json`, touches `relay.done`, and only then sends `exited`.
//! The supervisor's own diagnostics go to `<root>/supervisor.log`.
//!
//! ```no_run
//! // First thing in `main`: becomes the supervisor (and exits) when started as one, otherwise
//! // returns at once.
//! robodeploy_process::shim::run_if_requested();
//! assert!(!std::env::args().any(|a| a == robodeploy_process::shim::SHIM_ARG));
//! ```

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::Path;

/// The longest request line a supervisor reads, in bytes (newline excluded). A longer line is
/// not buffered: it is skipped to its end and answered `error`, and the connection goes on.
pub const MAX_REQUEST_LINE: usize = 4096;

/// The size at which the supervisor's own log, `supervisor.log` in the root, is rotated to
/// `supervisor.log.1` (replacing the previous one): a root holds at most twice this.
pub const SUPERVISOR_LOG_LIMIT: u64 = 1024 * 1024;

/// The first argument that turns a program into a root's supervisor; the second is the root.
pub const SHIM_ARG: &str = "--robodeploy-process-supervisor";

/// Runs the supervisor and exits the process if this program was started as one (its first
/// argument is [`SHIM_ARG`]); returns without doing anything otherwise. The supervisor also
/// runs its program again to start an executable under a memory limit: that mode, too, is
/// handled here (it executes the executable and never returns).
pub fn run_if_requested() {
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first.as_deref() == Some(OsStr::new(crate::supervisor::LIMITED_EXEC_ARG)) {
        crate::supervisor::limited_exec(args);
    }
    if first.as_deref() != Some(OsStr::new(SHIM_ARG)) {
        return;
    }
    let code = match args.next() {
        Some(root) if Path::new(&root).is_absolute() => crate::supervisor::run(Path::new(&root)),
        _ => {
            // Not `eprintln!`, which panics when stderr cannot be written.
            let _ = writeln!(
                std::io::stderr(),
                "usage: {SHIM_ARG} <absolute path of the runtime root>"
            );
            2
        }
    };
    std::process::exit(code);
}
