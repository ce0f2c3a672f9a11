//! The [`Runtime`] trait: the one thing a backend implements.
//!
//! A runtime runs executables on one device (or in the cloud): containers on a Docker engine
//! (`robodeploy-docker`), OS processes (`robodeploy-process`), or anything a user writes. The
//! engine owns one runtime per device and drives it from the lifecycle and rollout machines.
//!
//! | operation | what it does | failure → code |
//! |---|---|---|
//! | [`prepare`](Runtime::prepare) | make the image or binary available (check, pull, locate) | not found → E161 / E153 |
//! | [`start`](Runtime::start) | create and start one instance from its spec | |
//! | [`stop`](Runtime::stop) | SIGTERM (or the engine's stop), then kill after the grace period | |
//! | [`remove`](Runtime::remove) | delete a stopped instance and what the runtime kept for it | |
//! | [`inspect`](Runtime::inspect) / [`list`](Runtime::list) | state and labels, for status and recovery | |
//! | [`events`](Runtime::events) | start/exit events as they happen | |
//! | [`logs`](Runtime::logs) | tail and follow an instance's output | |
//! | [`exec`](Runtime::exec) | run a command in a running instance's context (debug terminals) | |
//! | [`run_task`](Runtime::run_task) | run a one-shot command to completion (job scripts) | |
//! | [`health`](Runtime::health) | is the runtime reachable? | unreachable → E151 |
//!
//! Errors are [`RuntimeError`]s; [`RuntimeError::error_code`] maps each onto the seed's codes.
//!
//! ```
//! use robodeploy_core::runtime::{Capabilities, Runtime};
//! fn takes_any_runtime(_rt: &dyn Runtime) {}
//! let caps = Capabilities { enforces_restart_policy: true, ..Capabilities::default() };
//! assert!(caps.enforces_restart_policy);
//! ```

mod error;
mod event;
mod info;
mod logs;
mod memory;
mod spec;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use error::RuntimeError;
pub use event::{RuntimeEvent, RuntimeEventKind};
pub use info::{Capabilities, InstanceInfo, InstanceState};
pub use logs::{LogLine, LogOptions, LogReceiver, LogStreamKind};
pub use memory::MemoryRuntime;
pub use spec::{ExecOutput, InstanceId, InstanceSpec, TaskSpec, instance_name, labels};

/// A stream of runtime events; see [`Runtime::events`].
pub type EventReceiver = mpsc::Receiver<RuntimeEvent>;

/// A backend that runs executables on one device or in the cloud.
///
/// Implementations are `Send + Sync + 'static` and used as `Arc<dyn Runtime>`. Every method may
/// be called concurrently. A method that cannot reach its runtime returns
/// [`RuntimeError::Unreachable`], never panics.
#[async_trait]
pub trait Runtime: Send + Sync + 'static {
    /// A short name for logs and events (`"process:/var/lib/robodeploy/robot-1"`, `"docker:tcp://…"`).
    fn name(&self) -> String;

    /// What this runtime does natively.
    fn capabilities(&self) -> Capabilities;

    /// Whether the runtime answers. The engine calls this at an interval; an error marks the
    /// device offline (E151) until it answers again.
    async fn health(&self) -> Result<(), RuntimeError>;

    /// Makes what `spec` runs available: checks or pulls its image, locates its binary.
    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError>;

    /// Creates and starts an instance. An instance with the same name that already exists is
    /// [`RuntimeError::AlreadyExists`]: nothing is ever started twice.
    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError>;

    /// Stops an instance: a polite signal, then a kill after `grace`. Stopping an instance that
    /// already exited succeeds.
    async fn stop(&self, id: &InstanceId, grace: Duration) -> Result<(), RuntimeError>;

    /// Removes a stopped instance and what the runtime kept for it.
    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError>;

    /// The state of one instance.
    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError>;

    /// Every instance whose labels include all of `selector`'s pairs (an empty selector lists
    /// every instance robodeploy created on this runtime).
    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError>;

    /// A new subscription to this runtime's events, from now on.
    async fn events(&self) -> Result<EventReceiver, RuntimeError>;

    /// An instance's output.
    async fn logs(&self, id: &InstanceId, options: LogOptions)
    -> Result<LogReceiver, RuntimeError>;

    /// Runs `command` inside a running instance's context (its container, or for a process its
    /// environment and working directory) and returns its output.
    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError>;

    /// Runs a one-shot command to completion on the device (a job's download condition,
    /// pre-launch and post-launch scripts).
    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError>;
}
