//! Configuring and creating a [`ProcessRuntime`].

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::client::launch::{base_env, is_executable};
use crate::client::runtime::ProcessRuntime;
use crate::wire::layout::instances_dir;
use crate::wire::logfile::MIN_LOG_LIMIT;

/// The log limit when none is set: `output.log` rotates at 4 MiB, so an instance keeps at most
/// 8 MiB of output.
pub const DEFAULT_LOG_LIMIT: u64 = 4 * 1024 * 1024;

/// The name of the shim binary looked for by [`Shim::Find`].
pub const SHIM_BINARY: &str = "robodeploy-process-shim";

/// The environment variable naming the shim binary, checked first by [`Shim::Find`].
pub const SHIM_ENV: &str = "ROBODEPLOY_PROCESS_SHIM";

/// Which program serves as the shim: the supervisor each root runs (see [`crate::shim`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Shim {
    /// Look for it: the path in `ROBODEPLOY_PROCESS_SHIM`, then `robodeploy-process-shim` next to
    /// the current executable or in its parent directory (where cargo puts binaries relative to
    /// tests and examples), then on `PATH`.
    #[default]
    Find,
    /// This program.
    Program(PathBuf),
    /// The current executable, which must call [`crate::shim::run_if_requested`] first thing in
    /// `main`.
    CurrentExe,
}

/// Why a runtime could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The root directory could not be created.
    #[error("root directory {path}: {source}")]
    Root {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// No shim binary was found.
    #[error(
        "shim: no {SHIM_BINARY} found (looked in: {searched}); set {SHIM_ENV} or use Shim::Program"
    )]
    ShimNotFound {
        /// The places looked in.
        searched: String,
    },
    /// The shim given is not an executable file.
    #[error("shim: {path} is not an executable file")]
    ShimNotExecutable {
        /// The path given.
        path: PathBuf,
    },
    /// The log limit is too small to hold two of the longest lines.
    #[error("log_limit: {value} bytes is below the minimum of {min}")]
    LogLimit {
        /// The limit given.
        value: u64,
        /// The smallest accepted.
        min: u64,
    },
    /// The runtime was built outside a Tokio runtime (it spawns tasks to watch instances).
    #[error("a ProcessRuntime must be built inside a Tokio runtime")]
    NoTokioRuntime,
}

/// Builds a [`ProcessRuntime`].
///
/// ```no_run
/// # async fn f() -> Result<(), robodeploy_process::BuildError> {
/// use robodeploy_process::{ProcessRuntime, Shim};
/// let runtime = ProcessRuntime::builder("/var/lib/robodeploy/robot-1")
///     .shim(Shim::Program("/usr/lib/robodeploy/robodeploy-process-shim".into()))
///     .log_limit(1024 * 1024)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ProcessRuntimeBuilder {
    pub(crate) root: PathBuf,
    pub(crate) shim: Shim,
    pub(crate) log_limit: u64,
    pub(crate) inherit_env: bool,
    pub(crate) kill_on_drop: bool,
}

impl ProcessRuntimeBuilder {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        ProcessRuntimeBuilder {
            root: root.into(),
            shim: Shim::Find,
            log_limit: DEFAULT_LOG_LIMIT,
            inherit_env: false,
            kill_on_drop: false,
        }
    }

    /// Which shim to use (default [`Shim::Find`]).
    pub fn shim(mut self, shim: Shim) -> Self {
        self.shim = shim;
        self
    }

    /// The size in bytes at which an instance's `output.log` rotates (default
    /// [`DEFAULT_LOG_LIMIT`], at least [`MIN_LOG_LIMIT`](crate::MIN_LOG_LIMIT)).
    pub fn log_limit(mut self, bytes: u64) -> Self {
        self.log_limit = bytes;
        self
    }

    /// Pass the runtime's whole environment to executables instead of a clean one holding only
    /// [`KEPT_VARIABLES`](crate::KEPT_VARIABLES) (default: clean).
    pub fn inherit_env(mut self, inherit: bool) -> Self {
        self.inherit_env = inherit;
        self
    }

    /// Kill every running instance when the runtime is dropped (default: leave them running, so
    /// they outlive the engine and a later runtime adopts them).
    pub fn kill_on_drop(mut self, kill: bool) -> Self {
        self.kill_on_drop = kill;
        self
    }

    /// Creates the root directory (mode 0700) if needed, finds the shim, and adopts the
    /// instances a previous runtime left running under the same root. Must be called inside a
    /// Tokio runtime.
    pub fn build(self) -> Result<ProcessRuntime, BuildError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BuildError::NoTokioRuntime);
        }
        if self.log_limit < MIN_LOG_LIMIT {
            return Err(BuildError::LogLimit {
                value: self.log_limit,
                min: MIN_LOG_LIMIT,
            });
        }
        let shim = find_shim(&self.shim)?;
        let instances = instances_dir(&self.root);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&instances)
            .map_err(|source| BuildError::Root {
                path: instances.clone(),
                source,
            })?;
        // Tasks and execs a dead engine left running on this root go before anything runs.
        super::strays::sweep(&self.root);
        // So do the name claims of starts killed half-way.
        super::supervise::sweep_claims(&self.root);
        let base_env = base_env(self.inherit_env);
        Ok(ProcessRuntime::create(self, shim, base_env))
    }
}

fn find_shim(shim: &Shim) -> Result<PathBuf, BuildError> {
    match shim {
        Shim::Program(path) => is_executable(path)
            .then(|| path.clone())
            .ok_or_else(|| BuildError::ShimNotExecutable { path: path.clone() }),
        Shim::CurrentExe => std::env::current_exe().map_err(|_| BuildError::ShimNotFound {
            searched: "the current executable".to_owned(),
        }),
        Shim::Find => {
            let mut candidates = Vec::new();
            if let Some(path) = std::env::var_os(SHIM_ENV) {
                candidates.push(PathBuf::from(path));
            }
            if let Ok(exe) = std::env::current_exe() {
                let dir = exe.parent();
                candidates.extend(dir.map(|d| d.join(SHIM_BINARY)));
                candidates.extend(dir.and_then(Path::parent).map(|d| d.join(SHIM_BINARY)));
            }
            if let Some(path) = std::env::var_os("PATH") {
                candidates.extend(std::env::split_paths(&path).map(|d| d.join(SHIM_BINARY)));
            }
            candidates
                .iter()
                .find(|c| is_executable(c))
                .cloned()
                .ok_or_else(|| BuildError::ShimNotFound {
                    searched: candidates
                        .iter()
                        .map(|c| c.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        }
    }
}
