//! robodeploy-process: the runtime backend for the "preinstalled" device runtime.
//!
//! [`ProcessRuntime`] implements robodeploy-core's
//! [`Runtime`](robodeploy_core::runtime::Runtime) by running executables as local OS
//! processes. A fleet of simulated robots on one machine is N runtimes, each with its own root
//! directory.
//!
//! How it behaves:
//!
//! - **No shell**: argv is executed as given; `shell: true` runs `/bin/sh -c "<argv joined by
//!   spaces>"`. The program is found like `execvp` does (a path, or a name on `PATH`);
//!   `prepare` reports a missing binary as [`RuntimeError::NotFound`]
//!   (not retried; DEP_E161 by the engine's one table, [`RuntimeError::failure`]). An image in the spec is [`RuntimeError::InvalidSpec`].
//! - **Environment**: clean by default, holding [`KEPT_VARIABLES`] from the runtime's own, with
//!   the spec's variables on top (or the runtime's whole environment with
//!   [`ProcessRuntimeBuilder::inherit_env`]); fixed at start, so `exec` sees the same.
//! - **Mounts and ports**: a process sees the host directly. Mounts with an absolute source are
//!   accepted (used in place; the target is ignored); named volumes are `InvalidSpec`. Ports and
//!   networks are not arranged: the process binds host ports itself.
//! - **Process groups**: each executable leads its own process group. `stop` sends SIGTERM to
//!   the group and SIGKILL after the grace period; when the executable exits, whatever it left
//!   in its group is killed too, as in a container. `remove` kills a running instance first.
//! - **One supervisor per root**: executables are started by a long-lived supervisor process
//!   (the [shim]), one per root, spawned by the first runtime that starts something there and
//!   reached over the Unix socket `supervisor.sock` in the root. It holds every instance's pipes
//!   and waits for every exit, so a start costs one process creation; it runs in its own
//!   session, so killing the engine kills neither it nor the executables, and it exits once it
//!   holds no running instance and no runtime is connected.
//! - **Output**: the supervisor relays stdout and stderr into `output.log` in the instance's
//!   directory, one timestamped line per record, rotated to `output.log.1` at the log limit
//!   (default [`DEFAULT_LOG_LIMIT`], so at most twice that per instance).
//! - **Surviving the engine**: the supervisor records the exit status in `exit.json` before it
//!   tells any runtime; state files hold pids with their start times (guarding against pid
//!   reuse). A runtime created later on the same root lists, inspects, stops and reports the
//!   exits of what an earlier one started: it connects to the running supervisor, which pushes
//!   those exits to it, or, with no supervisor left, polls `exit.json` and the processes.
//! - **Exit codes**: a signal `n` is `128 + n`; an exit lost with its supervisor (a device
//!   reboot, a supervisor killed by hand) is [`UNKNOWN_EXIT_CODE`]. SIGTERM or SIGINT that the runtime did not send counts as a manual
//!   stop. Out-of-memory kills cannot be told apart from other SIGKILLs here.
//! - **Restart policies** are the engine's job (`enforces_restart_policy` is false).
//! - **exec and run_task**: `exec` runs a command with the instance's recorded environment and
//!   working directory (also after the instance exited); `run_task` with the runtime's clean
//!   environment plus the task's, killed with its whole group at its timeout (exit code 137,
//!   with a note on stderr). Both capture up to [`CAPTURE_LIMIT`] bytes per stream; dropping
//!   the future kills the command's group.
//!
//! The crate is arranged by side: `client/` is what runs in the engine's process (the
//! runtime and its link to the supervisor), `supervisor/` what runs in the supervisor process
//! (see [`shim`]), `wire/` what the two share (the socket protocol and the files in a root),
//! and `os/` the thin calls to the operating system both make. No client module uses a
//! supervisor module or the reverse.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use robodeploy_core::runtime::Runtime;
//! use robodeploy_process::{ProcessRuntime, Shim};
//!
//! let root = std::env::temp_dir().join(format!("robodeploy-doc-{}", std::process::id()));
//! // The supervisor's binary is looked for next to the running program; here we name any
//! // executable, since nothing is started.
//! let runtime = ProcessRuntime::builder(&root).shim(Shim::Program("/bin/sh".into())).build()?;
//! assert!(runtime.capabilities().survives_engine_restart);
//! runtime.health().await?;
//! assert!(runtime.list(&Default::default()).await?.is_empty());
//! # drop(runtime);
//! # std::fs::remove_dir_all(root)?;
//! # Ok(()) }
//! ```

mod client;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod os;
pub mod shim;
mod supervisor;
mod wire;

pub use client::builder::{
    BuildError, DEFAULT_LOG_LIMIT, ProcessRuntimeBuilder, SHIM_BINARY, SHIM_ENV, Shim,
};
pub use client::launch::KEPT_VARIABLES;
pub use client::oneshot::CAPTURE_LIMIT;
pub use client::runtime::ProcessRuntime;
pub use wire::logfile::{MAX_LINE, MIN_LOG_LIMIT};

#[cfg(doc)]
use robodeploy_core::runtime::RuntimeError;

/// The exit code reported when an exit was lost: the executable and its supervisor both
/// vanished without recording one (a device reboot, a supervisor killed by hand).
pub const UNKNOWN_EXIT_CODE: i32 = -1;
