//! The engine: the tokio driver that feeds runtime events and time into the lifecycle and
//! rollout machines and executes their commands against runtimes.
//!
//! One [`Engine`] owns a runtime per device (and one for the cloud), a catalog of packages, a
//! registry of devices, fleets, a lifecycle machine per deployment, a rollout machine per job, and
//! a [`Store`]. A single driver task owns all of that state and loops: events
//! in (API requests, runtime events, completions of runtime calls, health checks), effects out,
//! sleep until the earliest machine timeout. The state decides and never acts: handling an event
//! changes it and records effects (a runtime call, a write, an event to publish, a timer, a
//! message to itself); the driver alone carries them out after each turn, every write of the
//! turn in one store transaction before any call of the turn starts (each runtime call runs in
//! a task of its own). Handles are
//! cheap to clone and may be used from any task. A call is answered once the turn it started has
//! settled (its decisions made and written), so whoever hears back reads their own writes; a live
//! deployment's [`status`](Engine::status) is read from the statuses the driver publishes as it
//! settles, without a round trip to its task.
//!
//! | API | what it does |
//! |---|---|
//! | [`add_package`](Engine::add_package), [`packages`](Engine::packages), [`package`](Engine::package), [`delete_package`](Engine::delete_package) | the catalog; numbered versions are immutable, a package in use cannot be deleted |
//! | [`add_device`](Engine::add_device), [`add_devices`](Engine::add_devices), [`remove_device`](Engine::remove_device), [`devices`](Engine::devices), [`add_fleet`](Engine::add_fleet) | the registry; each device comes with its runtime |
//! | [`eligible_devices`](Engine::eligible_devices) | the seed's pre-filtered device list: the online devices a component can be deployed on (architecture, device runtime, ROS distro) |
//! | [`deploy`](Engine::deploy), [`deprovision`](Engine::deprovision), [`status`](Engine::status), [`wait_for`](Engine::wait_for), [`watch`](Engine::watch) | deployments |
//! | [`logs`](Engine::logs), [`exec`](Engine::exec) | an executable's output; a command in its context (debug terminals) |
//! | [`create_job`](Engine::create_job), [`cancel_job`](Engine::cancel_job), [`resume_job`](Engine::resume_job), [`job`](Engine::job) | deployment jobs |
//! | [`job_tags`](Engine::job_tags), [`tag_job`](Engine::tag_job), [`untag_job`](Engine::untag_job) | a job's tags after creation (RoboMaker's tag rules; stored, so they survive a restart) |
//! | [`subscribe`](Engine::subscribe) | every [`EngineEvent`] |
//! | [`shutdown`](Engine::shutdown), [`detach`](Engine::detach) | stop everything and exit; exit leaving everything running |
//!
//! # Validation
//!
//! Every request that carries user data is checked where it enters, by the same validator as
//! manifests ([`crate::validate`]): packages ([`validate_package`](crate::validate::validate_package)),
//! devices ([`validate_device`](crate::validate::validate_device)), fleets
//! ([`validate_fleet`](crate::validate::validate_fleet)), deployments
//! ([`ValidationContext::validate_deployment`](crate::validate::ValidationContext::validate_deployment)),
//! jobs ([`validate_job`](crate::validate::validate_job)) and job tags. A refusal is
//! [`EngineError::Invalid`] carrying the [`Report`](crate::validate::Report): every problem,
//! each naming its field path, the value and the rule. Nothing is stored or changed by a
//! refused request.
//!
//! ```
//! use robodeploy_core::engine::{Engine, EngineError};
//! use robodeploy_core::model::Package;
//! use robodeploy_core::validate::ValidationError;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let engine = Engine::builder().start();
//! let package: Package = serde_json::from_str(r#"{"name": "", "version": "1", "components": [
//!     {"name": "main", "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
//!      "executables": [{"name": "main", "command": ["/bin/true"]}]}
//! ]}"#).unwrap();
//! let Err(EngineError::Invalid(report)) = engine.add_package(package).await else { panic!() };
//! assert!(matches!(report.errors[0].problem, ValidationError::InvalidName { .. }));
//! assert_eq!(report.errors[0].problem.path().to_string(), "spec.name");
//! assert!(engine.packages().await.unwrap().is_empty());
//! engine.shutdown().await.unwrap();
//! # }
//! ```
//!
//! # Recovery
//!
//! With a durable [`Store`] ([`RedbStore`](crate::store::RedbStore)) the engine survives its own
//! death. Every decision is written before it is acted on (write-ahead): a deployment's request
//! before anything starts, each machine's record (phase, and per executable where it is and its
//! restart count) before its commands run, each job's request and then every input of its
//! rollout machine (its journal) before the commands they produced. A kill between "decided"
//! and "done" is resolved on restart:
//!
//! 1. [`EngineBuilder::try_start`] loads the store: the catalog, fleets and client tokens at
//!    once; each job rebuilt by replaying its journal (the rollout machine is deterministic);
//!    each deployment that had not ended waits for its runtimes.
//! 2. The application registers its devices again ([`Engine::add_device`]); a device the store
//!    knows keeps what jobs installed on it. The engine lists what each runtime holds by
//!    robodeploy's labels and reconciles: an instance that still runs is adopted (not
//!    restarted), one that exited or is missing follows its restart policy, a deprovision under
//!    way is finished, an instance of a deployment that ended is stopped and removed, and
//!    instances of deployments the store does not know are left alone (another engine's).
//! 3. Job robots that were in flight are carried on: a robot whose deployment exists waits for
//!    it to run (then its post-launch script runs); one that had not reached its launch runs its
//!    pipeline again from the start, so scripts must be idempotent, as any retried script must
//!    be. A robot is never deployed twice: a start that was under way adopts the instance of
//!    the same name.
//!
//! A lost store is not a licence to run things twice. Every store has an id
//! ([`store_id`](crate::store::store_id), generated when it is first opened), and every instance
//! carries the id of the store that started it and its deployment's name
//! ([`labels::STORE`](crate::runtime::labels::STORE),
//! [`labels::DEPLOYMENT_NAME`](crate::runtime::labels::DEPLOYMENT_NAME)). When the store file was
//! deleted or replaced while executables kept running, a deployment of the same name on the new
//! store finds them on the device before it starts anything: the executable is not started and
//! the deployment reports `DEP_E410` naming the running instance and both stores. It is
//! refused rather than adopted because the new store knows nothing of how the old instance was
//! started (its command, environment, restart history): the operator stops and removes the old
//! instance (or brings back the store that started it) and deploys again. Instances started
//! before robodeploy labelled them with their store, and shared components, are not looked for.
//!
//! Every reconciliation is published as an [`EngineEvent::Recovery`]. Restart counts are
//! exact across restarts; backoff delays start again from the initial delay. A store that
//! fails while the engine runs is logged and its batch written again with the next one; the
//! robots stay supervised meanwhile.
//!
//! Restart policies are enforced here for runtimes that do not enforce them natively (the
//! process runtime), and observed and counted for those that do (Docker). Deploy and create-job
//! take an optional client request token: the same token returns the same id and starts nothing
//! twice. Each deployment and job runs in a `tracing` span with its id; environment values are
//! never logged.

mod api;
mod board;
mod catalog;
mod clock;
mod config;
mod decode;
mod deployment;
mod devices;
mod digest;
mod driver;
mod early;
mod effect;
mod ended;
mod entries;
mod error;
mod factory;
mod job;
pub(crate) mod journal;
mod launcher;
mod leftovers;
mod message;
mod persist;
mod recover;
mod registry;
mod resolve;
mod restoring;
mod state;
mod status;
mod tags;
mod tasks;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

pub use catalog::CatalogError;
pub use config::EngineConfig;
pub use devices::DeviceError;
pub use error::EngineError;
pub use factory::RuntimeFactory;
pub use launcher::Launcher;
pub use status::{
    DeploymentStatus, EngineEvent, ExecutableReport, JobReport, JobRollback, JobWave,
    RecoveryAction, RobotReport,
};

use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, Device, Fleet, JobId, Package, Version,
};
use crate::runtime::{ExecOutput, LogOptions, LogReceiver, Runtime};
use crate::store::{MemoryStore, Store};

use driver::Driver;
use message::Request;

/// A handle to a running engine. Clone it freely; the engine stops what it runs and exits when
/// [`shutdown`](Engine::shutdown) is called, and exits leaving everything running when
/// [`detach`](Engine::detach) is called or the last handle is dropped (DESIGN §3.3: executables
/// outlive the program that started them; only an explicit shutdown deprovisions). A shutdown
/// under way when the last handle goes finishes on its own.
///
/// ```
/// use robodeploy_core::engine::Engine;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let engine = Engine::builder().start();
/// assert!(engine.packages().await.unwrap().is_empty());
/// engine.shutdown().await.unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    requests: mpsc::UnboundedSender<Request>,
    events: broadcast::Sender<EngineEvent>,
    board: Arc<board::StatusBoard>,
}

/// Builds an [`Engine`].
pub struct EngineBuilder {
    config: EngineConfig,
    store: Arc<dyn Store>,
    factory: Option<Arc<dyn RuntimeFactory>>,
    events: Option<broadcast::Sender<EngineEvent>>,
}

impl Engine {
    /// A builder with the default configuration and an in-memory store.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            config: EngineConfig::default(),
            store: Arc::new(MemoryStore::new()),
            factory: None,
            events: None,
        }
    }
}

impl EngineBuilder {
    /// Uses this configuration.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses this store.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// Brings back the devices the store holds, at start, with runtimes this factory makes
    /// (see [`RuntimeFactory`]): a restarted engine resumes without the application registering
    /// its fleet again.
    pub fn runtime_factory(mut self, factory: impl RuntimeFactory) -> Self {
        self.factory = Some(Arc::new(factory));
        self
    }

    /// Every event the engine will publish, from its first turn on: what a restarted engine
    /// does to recover ([`EngineEvent::Recovery`]) included. [`Engine::subscribe`] after start
    /// can miss the first events, since the driver may run before the call that started it
    /// returns. The receiver holds [`EngineConfig::event_capacity`] events, so set the
    /// configuration first.
    pub fn subscribe(&mut self) -> broadcast::Receiver<EngineEvent> {
        let capacity = self.config.event_capacity.max(16);
        self.events
            .get_or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// Starts the engine's driver on the current tokio runtime, after loading what its store
    /// holds (see [recovery](self#recovery)). A store that cannot be read leaves an engine that
    /// has shut down (every call returns [`EngineError::Shutdown`]); use
    /// [`try_start`](EngineBuilder::try_start) to get the reason.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn start(self) -> Engine {
        match self.try_start_inner() {
            Ok(engine) => engine,
            Err((engine, e)) => {
                tracing::error!(error = %e, "the engine's store could not be loaded");
                engine
            }
        }
    }

    /// Like [`start`](EngineBuilder::start), but a store that cannot be loaded (corrupt, written
    /// by a newer robodeploy, unreadable) is an error and nothing starts.
    ///
    /// # Errors
    /// [`EngineError::Store`] with the store's error.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn try_start(self) -> Result<Engine, EngineError> {
        self.try_start_inner().map_err(|(_, e)| e)
    }

    fn try_start_inner(self) -> Result<Engine, (Engine, EngineError)> {
        let (req_tx, req_rx) = mpsc::unbounded_channel();
        let (int_tx, int_rx) = mpsc::unbounded_channel();
        let events = match self.events {
            Some(events) => events,
            None => broadcast::channel(self.config.event_capacity.max(16)).0,
        };
        let mut driver = Driver::new(self.config, self.store, int_tx, events.clone());
        let engine = Engine {
            requests: req_tx,
            events,
            board: driver.board.clone(),
        };
        if let Err(e) = driver.load(self.factory.as_deref()) {
            // The driver and its receivers are dropped: every call answers Shutdown.
            drop((driver, req_rx, int_rx));
            return Err((engine, EngineError::Store(e)));
        }
        tokio::spawn(driver.run(req_rx, int_rx));
        Ok(engine)
    }
}

/// What [`Engine::wait_for`] waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Until {
    /// The deployment reaches this phase.
    Phase(crate::model::Phase),
    /// The deployment's aggregate status is this.
    Status(crate::model::StatusKind),
    /// Phase Succeeded and status Running.
    Running,
    /// A terminal phase (deprovisioned).
    Stopped,
}

impl Until {
    fn holds(self, s: &DeploymentStatus) -> bool {
        match self {
            Until::Phase(p) => s.phase == p,
            Until::Status(k) => s.status == k,
            Until::Running => s.is_running(),
            Until::Stopped => s.phase.is_terminal(),
        }
    }
}

impl Engine {
    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, EngineError>>) -> Request,
    ) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(make(tx))
            .map_err(|_| EngineError::Shutdown)?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// Adds a package version to the catalog. `Ok(false)`: the identical version was there.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] with the report of
    /// [`validate_package`](crate::validate::validate_package) (an empty or badly formed name,
    /// duplicate component or executable names, a preinstalled executable without a command,
    /// …); [`EngineError::Catalog`] when a different package has this name and version.
    pub async fn add_package(&self, package: Package) -> Result<bool, EngineError> {
        self.call(|r| Request::AddPackage(package, r)).await
    }

    /// Every package version.
    pub async fn packages(&self) -> Result<Vec<Package>, EngineError> {
        self.call(Request::ListPackages).await
    }

    /// One package version.
    pub async fn package(&self, name: &str, version: &Version) -> Result<Package, EngineError> {
        self.call(|r| Request::GetPackage(name.to_owned(), version.clone(), r))
            .await
    }

    /// Removes a package version no live deployment uses.
    pub async fn delete_package(&self, name: &str, version: &Version) -> Result<(), EngineError> {
        self.call(|r| Request::DeletePackage(name.to_owned(), version.clone(), r))
            .await
    }

    /// Registers a device and the runtime that runs its executables.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] with the report of
    /// [`validate_device`](crate::validate::validate_device); [`EngineError::Device`] when a
    /// different device has this name.
    pub async fn add_device(
        &self,
        device: Device,
        runtime: Arc<dyn Runtime>,
    ) -> Result<bool, EngineError> {
        self.call(|r| Request::AddDevice(Box::new(device), runtime, r))
            .await
    }

    /// Registers many devices in one call: what an application does after a restart, when it
    /// hands the engine every device of its fleet again. Each entry is checked as
    /// [`add_device`](Self::add_device) checks one; the first refused entry refuses the whole
    /// call and registers none, and all records are written in one store transaction. The
    /// answer says, entry by entry, whether the device was new (`false`: the same device was
    /// registered already, or earlier in the same call).
    pub async fn add_devices(
        &self,
        devices: Vec<(Device, Arc<dyn Runtime>)>,
    ) -> Result<Vec<bool>, EngineError> {
        self.call(|r| Request::AddDevices(devices, r)).await
    }

    /// Sets the runtime for cloud components.
    pub async fn set_cloud_runtime(&self, runtime: Arc<dyn Runtime>) -> Result<(), EngineError> {
        self.call(|r| Request::SetCloudRuntime(runtime, r)).await
    }

    /// Removes a device no live deployment uses.
    pub async fn remove_device(&self, name: &str) -> Result<(), EngineError> {
        self.call(|r| Request::RemoveDevice(name.to_owned(), r))
            .await
    }

    /// Every registered device, with its online state.
    pub async fn devices(&self) -> Result<Vec<Device>, EngineError> {
        self.call(Request::ListDevices).await
    }

    /// Registers a fleet; its robots must be registered devices.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] with the report of
    /// [`validate_fleet`](crate::validate::validate_fleet); [`EngineError::Device`] for a robot
    /// that is not registered.
    pub async fn add_fleet(&self, fleet: Fleet) -> Result<(), EngineError> {
        self.call(|r| Request::AddFleet(fleet, r)).await
    }

    /// Every fleet, by name, with its robots as they were registered.
    pub async fn fleets(&self) -> Result<Vec<Fleet>, EngineError> {
        self.call(Request::ListFleets).await
    }

    /// The registered devices a component of a package version can be deployed on, by name:
    /// the seed's pre-filtered list ("the list of devices is a set of online devices, which are
    /// pre-filtered to match the architecture (amd64, arm32v7, arm64v8) and device runtime
    /// (docker or preinstalled) required by the component"). A ROS component also needs the
    /// device's ROS distro to be its own (deploying elsewhere is refused as DEP_E162). A cloud
    /// component runs on no device: its list is empty.
    ///
    /// # Errors
    /// [`EngineError::Catalog`] when the package version is not in the catalog,
    /// [`EngineError::NoSuchComponent`] when it has no such component.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use robodeploy_core::engine::Engine;
    /// use robodeploy_core::model::{Architecture, Device, DeviceRuntime, Package, Version};
    /// use robodeploy_core::runtime::MemoryRuntime;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let engine = Engine::builder().start();
    /// for (name, arch) in [("pi", Architecture::Arm64v8), ("nuc", Architecture::Amd64)] {
    ///     let device = Device::new(name, arch, DeviceRuntime::Preinstalled);
    ///     engine.add_device(device, Arc::new(MemoryRuntime::new(name))).await.unwrap();
    /// }
    /// let package: Package = serde_json::from_str(r#"{"name": "nav", "version": "1", "components": [
    ///     {"name": "planner", "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "arm64v8"},
    ///      "executables": [{"name": "planner", "command": ["/opt/nav/planner"]}]}
    /// ]}"#).unwrap();
    /// engine.add_package(package).await.unwrap();
    /// let fits = engine.eligible_devices("nav", &Version::new("1"), "planner").await.unwrap();
    /// assert_eq!(fits.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["pi"]);
    /// engine.shutdown().await.unwrap();
    /// # }
    /// ```
    pub async fn eligible_devices(
        &self,
        package: &str,
        version: &Version,
        component: &str,
    ) -> Result<Vec<Device>, EngineError> {
        self.call(|r| {
            Request::EligibleDevices(package.to_owned(), version.clone(), component.to_owned(), r)
        })
        .await
    }

    /// Reports that a device rebooted (for runtimes that cannot tell): its executables restart
    /// per policy, and a manual stop's suspension ends.
    pub async fn device_rebooted(&self, name: &str) -> Result<(), EngineError> {
        self.call(|r| Request::DeviceRebooted(name.to_owned(), r))
            .await
    }

    /// Deploys a package version. With a `token`, repeating the call returns the same id and
    /// starts nothing twice.
    pub async fn deploy(
        &self,
        request: DeploymentRequest,
        token: Option<&str>,
    ) -> Result<DeploymentId, EngineError> {
        let token = token.map(str::to_owned);
        self.call(|r| Request::Deploy(Box::new(request), token, r))
            .await
    }

    /// Stops every executable of a deployment.
    pub async fn deprovision(&self, id: DeploymentId) -> Result<(), EngineError> {
        self.call(|r| Request::Deprovision(id, r)).await
    }

    /// A deployment's status (also after it was deprovisioned). A live deployment's status is
    /// read from what the engine's last settled turn published, without waiting for the
    /// engine's task; it is what the engine would answer, and reflects every call that has
    /// returned (a `deploy` or `deprovision` is settled before it returns).
    pub async fn status(&self, id: DeploymentId) -> Result<DeploymentStatus, EngineError> {
        if !self.requests.is_closed()
            && let Some(status) = self.board.get(id)
        {
            return Ok(status);
        }
        self.call(|r| Request::Status(id, r)).await
    }

    /// The id of the live deployment with this name.
    pub async fn find_deployment(&self, name: &str) -> Result<DeploymentId, EngineError> {
        self.call(|r| Request::FindDeployment(name.to_owned(), r))
            .await
    }

    /// The request a live deployment was created from (also while a restarted engine is still
    /// bringing it back). A declarative front end compares it with what a file asks for, to
    /// tell "unchanged" from "changed".
    pub async fn deployment_request(
        &self,
        id: DeploymentId,
    ) -> Result<DeploymentRequest, EngineError> {
        self.call(|r| Request::DeployedAs(id, r)).await
    }

    /// Every live deployment. After a restart, the stored deployments whose runtimes have not
    /// answered yet are listed too, with status Unknown and no executables.
    pub async fn deployments(&self) -> Result<Vec<DeploymentStatus>, EngineError> {
        self.call(Request::ListDeployments).await
    }

    /// Waits until `until` holds for a deployment, at most `timeout`; returns the status that
    /// satisfied it.
    pub async fn wait_for(
        &self,
        id: DeploymentId,
        until: Until,
        timeout: Duration,
    ) -> Result<DeploymentStatus, EngineError> {
        let mut events = self.events.subscribe();
        let wait = async {
            let s = self.status(id).await?;
            if until.holds(&s) {
                return Ok(s);
            }
            loop {
                match events.recv().await {
                    Ok(EngineEvent::Deployment(s)) if s.id == id => {
                        if until.holds(&s) {
                            return Ok(*s);
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let s = self.status(id).await?;
                        if until.holds(&s) {
                            return Ok(s);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(EngineError::Shutdown),
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| EngineError::Timeout(timeout))?
    }

    /// A stream of a deployment's status changes. The stream does not keep the engine alive.
    pub fn watch(&self, id: DeploymentId) -> Watch {
        Watch {
            id,
            events: self.events.subscribe(),
            requests: self.requests.downgrade(),
        }
    }

    /// Every event the engine publishes, from now on (to see them from the engine's first turn,
    /// subscribe on the builder: [`EngineBuilder::subscribe`]).
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// An executable's output.
    pub async fn logs(
        &self,
        id: DeploymentId,
        component: &str,
        executable: &str,
        options: LogOptions,
    ) -> Result<LogReceiver, EngineError> {
        let (rt, inst) = self
            .call(|r| Request::Instance(id, component.to_owned(), executable.to_owned(), r))
            .await?;
        Ok(rt.logs(&inst, options).await?)
    }

    /// Runs a command in a running executable's context (a debug terminal).
    pub async fn exec(
        &self,
        id: DeploymentId,
        component: &str,
        executable: &str,
        command: &[String],
    ) -> Result<ExecOutput, EngineError> {
        let (rt, inst) = self
            .call(|r| Request::Instance(id, component.to_owned(), executable.to_owned(), r))
            .await?;
        Ok(rt.exec(&inst, command).await?)
    }

    /// Creates a deployment job and starts it. With a `token`, repeating the call returns the
    /// same id and starts nothing twice.
    ///
    /// # Errors
    /// [`EngineError::NoSuchFleet`] and [`EngineError::Catalog`] when its fleet or application
    /// version is unknown; [`EngineError::Invalid`] with the report of
    /// [`validate_job`](crate::validate::validate_job) (environment variable names not
    /// `[A-Z_][A-Z0-9_]*` or beginning with `AWS`, values outside 1..=1024 characters, a launch
    /// config, deployment config or tag that breaks its rule, …).
    pub async fn create_job(
        &self,
        request: DeploymentJobRequest,
        token: Option<&str>,
    ) -> Result<JobId, EngineError> {
        let token = token.map(str::to_owned);
        self.call(|r| Request::CreateJob(Box::new(request), token, r))
            .await
    }

    /// Cancels a job: no new robots; robots in flight are aborted (RobotDeploymentAborted).
    pub async fn cancel_job(&self, id: JobId) -> Result<(), EngineError> {
        self.call(|r| Request::CancelJob(id, r)).await
    }

    /// Rolls a job back by hand ([`Input::Rollback`](crate::rollout::Input::Rollback)): a job
    /// still running stops as on [`cancel_job`](Engine::cancel_job), then every robot the new
    /// version reached returns to the version it ran before; an ended job is rolled back the
    /// same way (InProgress again, then Canceled, or Failed if it had failed).
    ///
    /// # Errors
    /// [`EngineError::NothingToRollBack`] when the job has rolled back already or none of its
    /// robots runs its version (nothing changes); [`EngineError::NoSuchJob`].
    pub async fn rollback_job(&self, id: JobId) -> Result<(), EngineError> {
        self.call(|r| Request::RollbackJob(id, r)).await
    }

    /// Resumes a job waiting for a manual resume between waves.
    pub async fn resume_job(&self, id: JobId) -> Result<(), EngineError> {
        self.call(|r| Request::ResumeJob(id, r)).await
    }

    /// A job's report: its status and every robot's.
    pub async fn job(&self, id: JobId) -> Result<JobReport, EngineError> {
        self.call(|r| Request::JobReport(id, r)).await
    }

    /// A job's tags (also in its [`JobReport`]).
    pub async fn job_tags(&self, id: JobId) -> Result<BTreeMap<String, String>, EngineError> {
        self.call(|r| Request::JobTags(id, r)).await
    }

    /// Adds tags to a job, overwriting the values of keys it has (RoboMaker's TagResource). The
    /// job's tags afterwards must follow RoboMaker's rules: keys of 1..=128 characters not
    /// beginning with `aws:`, values of at most 256, at most 50 tags
    /// ([`limits`](crate::validate::limits)). The tags are stored with the job and survive a
    /// restart.
    ///
    /// # Errors
    /// [`EngineError::NoSuchJob`]; [`EngineError::Invalid`] naming the tag
    /// (`spec.tags.KEY`) or the count (`spec.tags`), and nothing changes.
    ///
    /// ```
    /// # use robodeploy_core::engine::{Engine, EngineError};
    /// # use robodeploy_core::model::JobId;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let engine = Engine::builder().start();
    /// let no_job = JobId::from_u128(7);
    /// let tags = [("team".to_owned(), "nav".to_owned())].into();
    /// assert!(matches!(engine.tag_job(no_job, tags).await, Err(EngineError::NoSuchJob(_))));
    /// # }
    /// ```
    pub async fn tag_job(
        &self,
        id: JobId,
        tags: BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        self.call(|r| Request::TagJob(id, tags, r)).await
    }

    /// Removes tags from a job by key (RoboMaker's UntagResource); keys the job does not have
    /// are ignored. The change is stored with the job.
    ///
    /// # Errors
    /// [`EngineError::NoSuchJob`]; [`EngineError::Invalid`] for a key that breaks the tag key
    /// rule (`spec.tags.KEY`), and nothing changes.
    pub async fn untag_job(&self, id: JobId, keys: &[String]) -> Result<(), EngineError> {
        let keys = keys.to_vec();
        self.call(|r| Request::UntagJob(id, keys, r)).await
    }

    /// Every job not yet expired.
    pub async fn jobs(&self) -> Result<Vec<JobReport>, EngineError> {
        self.call(Request::ListJobs).await
    }

    /// Waits until a job ends, at most `timeout`.
    pub async fn wait_for_job(
        &self,
        id: JobId,
        timeout: Duration,
    ) -> Result<JobReport, EngineError> {
        let mut events = self.events.subscribe();
        let wait = async {
            loop {
                let r = self.job(id).await?;
                if r.status.is_terminal() {
                    return Ok(r);
                }
                loop {
                    match events.recv().await {
                        Ok(EngineEvent::Job { job, status })
                            if job == id && status.is_terminal() =>
                        {
                            break;
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(EngineError::Shutdown);
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| EngineError::Timeout(timeout))?
    }

    /// Deprovisions everything, cancels every job, and stops the driver once every executable
    /// is stopped.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        match self.call(Request::Shutdown).await {
            Err(EngineError::Shutdown) => Ok(()),
            other => other,
        }
    }

    /// Stops the driver **without stopping anything it started**, and returns once it has
    /// released its runtimes. Executables keep running on runtimes that survive the engine
    /// ([`Capabilities::survives_engine_restart`](crate::runtime::Capabilities)): a later
    /// program finds them by their [labels](crate::runtime::labels) (a command-line tool that
    /// deploys and exits, or the engine that takes over after a restart).
    ///
    /// Dropping every handle does the same without waiting for it; only
    /// [`shutdown`](Engine::shutdown) deprovisions. After a detach nothing enforces restart policies
    /// the runtime does not enforce itself, and a job's scripts in flight are aborted; call it
    /// once deployments are up and jobs have ended. Every later call on any handle returns
    /// [`EngineError::Shutdown`].
    ///
    /// ```
    /// use robodeploy_core::engine::{EngineError, Engine};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let engine = Engine::builder().start();
    /// engine.detach().await.unwrap();
    /// assert!(matches!(engine.packages().await, Err(EngineError::Shutdown)));
    /// # }
    /// ```
    pub async fn detach(&self) -> Result<(), EngineError> {
        match self.call(Request::Detach).await {
            Err(EngineError::Shutdown) => Ok(()),
            other => other,
        }
    }
}

/// A deployment's status changes; see [`Engine::watch`].
pub struct Watch {
    id: DeploymentId,
    events: broadcast::Receiver<EngineEvent>,
    /// Asks for the current status after changes were missed, without keeping the engine alive.
    requests: mpsc::WeakUnboundedSender<Request>,
}

impl Watch {
    /// The next status change; `None` once the engine is gone. A reader too slow for the
    /// engine's event buffer ([`EngineConfig::event_capacity`]) misses changes: it is then given
    /// the deployment's current status, read from the engine, so the last value it sees is
    /// never stale.
    pub async fn next(&mut self) -> Option<DeploymentStatus> {
        loop {
            match self.events.recv().await {
                Ok(EngineEvent::Deployment(s)) if s.id == self.id => return Some(*s),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return self.current().await,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    async fn current(&self) -> Option<DeploymentStatus> {
        let requests = self.requests.upgrade()?;
        let (tx, rx) = oneshot::channel();
        requests.send(Request::Status(self.id, tx)).ok()?;
        drop(requests);
        rx.await.ok()?.ok()
    }
}
