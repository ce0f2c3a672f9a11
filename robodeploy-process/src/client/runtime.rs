//! [`ProcessRuntime`]: the [`Runtime`] for executables run as local OS processes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use robodeploy_core::runtime::{
    Capabilities, EventReceiver, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, LogOptions,
    LogReceiver, Runtime, RuntimeError, TaskSpec,
};
use tokio::sync::watch;

use crate::client::builder::ProcessRuntimeBuilder;
use crate::client::events::Fanout;
use crate::client::link::Link;
use crate::client::{control, exits, inspect, logs, oneshot, supervise};
use crate::os::procfs;
use crate::os::signal::{KILL, signal_group};
use crate::wire::layout::InstanceDir;
use crate::wire::state::{ExitRecord, ProcessRecord};

/// Executables as local OS processes: the runtime of a device whose runtime is "preinstalled".
///
/// Every instance runs in its own process group, started by the root's supervisor (one
/// long-lived process per root, see [`crate::shim`]) that relays its output to a rotated log
/// file and records its exit status in the instance's directory under the runtime's root. Instances outlive the runtime (unless
/// built with [`kill_on_drop`](ProcessRuntimeBuilder::kill_on_drop)); a runtime created later
/// on the same root adopts them: `list` and `inspect` find them, `stop` stops them, and their
/// exits arrive as events.
///
/// Several runtimes with different roots are independent devices on one machine.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use robodeploy_core::model::DeploymentId;
/// use robodeploy_core::runtime::{InstanceSpec, Runtime};
/// use robodeploy_process::ProcessRuntime;
///
/// let robot = ProcessRuntime::new("/tmp/robodeploy/robot-1")?;
/// let mut spec = InstanceSpec::new(DeploymentId::from_u128(1), "talker", "talker", "demo", "1");
/// spec.command = vec!["sleep".into(), "60".into()];
/// robot.prepare(&spec).await?;
/// let id = robot.start(&spec).await?;
/// robot.stop(&id, std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ProcessRuntime {
    inner: Arc<Inner>,
}

/// What the runtime's operations and its background tasks share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) root: PathBuf,
    pub(crate) shim: PathBuf,
    pub(crate) base_env: BTreeMap<String, String>,
    pub(crate) log_limit: u64,
    pub(crate) kill_on_drop: bool,
    pub(crate) events: Fanout,
    /// Instances with a running (or recently exited) process, by name.
    live: Mutex<HashMap<String, Live>>,
    /// Set when the runtime is dropped: background polling stops.
    closed: AtomicBool,
    /// The connection to the root's supervisor, once made (see [`crate::client::link`]).
    link: Mutex<Option<Arc<Link>>>,
    /// Held while connecting to (or spawning) the supervisor.
    pub(crate) connecting: tokio::sync::Mutex<()>,
}

/// A started instance as the runtime tracks it in memory.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) process: ProcessRecord,
    /// `None` while running; the exit once known.
    pub(crate) exit: watch::Sender<Option<ExitRecord>>,
}

impl Inner {
    pub(crate) fn dir(&self, name: &str) -> InstanceDir {
        InstanceDir::new(&self.root, name)
    }

    pub(crate) fn live(&self) -> MutexGuard<'_, HashMap<String, Live>> {
        // Entries are replaced whole, so a panic elsewhere cannot leave one half-written.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// The open connection to the supervisor, if any.
    pub(crate) fn link(&self) -> Option<Arc<Link>> {
        self.link_slot().clone()
    }

    pub(crate) fn link_slot(&self) -> MutexGuard<'_, Option<Arc<Link>>> {
        self.link
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ProcessRuntime {
    /// A runtime rooted at `root` with the default settings (see [`ProcessRuntime::builder`]).
    /// Must be called inside a Tokio runtime.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, crate::BuildError> {
        Self::builder(root).build()
    }

    /// A builder for a runtime rooted at `root`.
    pub fn builder(root: impl Into<PathBuf>) -> ProcessRuntimeBuilder {
        ProcessRuntimeBuilder::new(root)
    }

    pub(crate) fn create(
        config: ProcessRuntimeBuilder,
        shim: PathBuf,
        base_env: BTreeMap<String, String>,
    ) -> Self {
        let inner = Arc::new(Inner {
            root: config.root,
            shim,
            base_env,
            log_limit: config.log_limit,
            kill_on_drop: config.kill_on_drop,
            events: Fanout::default(),
            live: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            link: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        });
        exits::adopt_all(&inner);
        ProcessRuntime { inner }
    }

    /// The root directory holding this runtime's state.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The directory of an instance's state and log files (whether or not it exists).
    pub fn instance_dir(&self, id: &InstanceId) -> PathBuf {
        self.inner.dir(&id.0).path().to_owned()
    }
}

impl Drop for ProcessRuntime {
    fn drop(&mut self) {
        self.inner.closed.store(true, Ordering::Relaxed);
        // Disconnecting lets the supervisor exit once its instances have ended.
        if let Some(link) = self.inner.link_slot().take() {
            link.close();
        }
        if !self.inner.kill_on_drop {
            return;
        }
        for live in self.inner.live().values() {
            let p = live.process;
            let running = live.exit.borrow().is_none();
            // Only the group whose leader is still the process we started (pids are reused).
            if running && procfs::stat(p.pid).is_some_and(|s| s.start_ticks == p.start_ticks) {
                let _ = signal_group(p.pid, KILL);
            }
        }
    }
}

#[async_trait]
impl Runtime for ProcessRuntime {
    fn name(&self) -> String {
        format!("process:{}", self.inner.root.display())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            enforces_restart_policy: false,
            survives_engine_restart: true,
            exec: true,
            images: false,
        }
    }

    async fn health(&self) -> Result<(), RuntimeError> {
        inspect::health(&self.inner)
    }

    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        supervise::prepare(&self.inner, spec).map(drop)
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        supervise::start(&self.inner, spec).await
    }

    async fn stop(&self, id: &InstanceId, grace: Duration) -> Result<(), RuntimeError> {
        control::stop(&self.inner, id, grace).await
    }

    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError> {
        control::remove(&self.inner, id).await
    }

    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
        inspect::inspect(&self.inner, id)
    }

    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError> {
        inspect::list(&self.inner, selector)
    }

    async fn events(&self) -> Result<EventReceiver, RuntimeError> {
        Ok(self.inner.events.subscribe())
    }

    async fn logs(
        &self,
        id: &InstanceId,
        options: LogOptions,
    ) -> Result<LogReceiver, RuntimeError> {
        logs::open(&self.inner, id, options)
    }

    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError> {
        oneshot::exec(&self.inner, id, command).await
    }

    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
        oneshot::run_task(&self.inner, task).await
    }
}
