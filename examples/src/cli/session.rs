//! One command's engine: started on the state directory's store, given back its devices, left
//! to reconcile what runs, and detached at the end so that nothing it found is stopped.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{
    DeploymentStatus, Engine, EngineConfig, EngineError, EngineEvent, RecoveryAction,
};
use robodeploy_core::model::{DeploymentId, Device, DeviceRuntime, JobId, StatusKind};
use robodeploy_core::runtime::Runtime;
use robodeploy_process::ProcessRuntime;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::CliError;
use super::state::{Runtimes, StateDir};

/// How long a command waits for the engine to bring back what its store holds.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// An engine over the state directory, with a process runtime per registered device.
pub(crate) struct Session {
    pub(crate) engine: Engine,
    state: StateDir,
    runtimes: Runtimes,
    /// The state directory's lock, held until the session is dropped.
    _lock: std::fs::File,
}

impl Session {
    /// Starts the engine on the store (loading its catalog, fleets, deployments and jobs),
    /// registers every device the store knows with its process runtime, and waits until every
    /// deployment the store holds is reconciled with what its runtime reports (adopted when it
    /// still runs, restarted per policy when it does not).
    pub(crate) async fn open(state: StateDir, config: EngineConfig) -> Result<Session, CliError> {
        let lock = state.lock()?;
        let store = state.open_store()?;
        let devices = state.stored_devices(&store)?;
        let stored = state.stored_deployments(&store)?;
        let engine = Engine::builder()
            .config(config)
            .store(store)
            .try_start()
            .map_err(|e| match e {
                EngineError::Store(source) => CliError::Store {
                    path: state.store_path(),
                    source,
                },
                other => other.into(),
            })?;
        let mut session = Session {
            engine,
            state,
            runtimes: Runtimes::new(),
            _lock: lock,
        };
        // Detach on every way out, and wait for it: the runtimes are released before we exit.
        match session.recover(devices, stored).await {
            Ok(()) => Ok(session),
            Err(e) => {
                session.detach().await?;
                Err(e)
            }
        }
    }

    async fn recover(
        &mut self,
        devices: Vec<Device>,
        stored: Vec<DeploymentId>,
    ) -> Result<(), CliError> {
        let mut events = self.engine.subscribe();
        for device in devices {
            // Only preinstalled devices were ever registered here (apply refuses the others).
            if device.runtime == DeviceRuntime::Preinstalled {
                self.add_device(device).await?;
            }
        }
        let mut pending: BTreeSet<DeploymentId> = stored.into_iter().collect();
        let deadline = Instant::now() + RECOVERY_TIMEOUT;
        loop {
            let mut left = BTreeSet::new();
            for &id in &pending {
                if self.waiting(id).await? {
                    left.insert(id);
                }
            }
            pending = left;
            if pending.is_empty() {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(EngineEvent::Recovery(action))) => {
                    if let RecoveryAction::Failed {
                        deployment,
                        message,
                    } = *action
                    {
                        eprintln!(
                            "robodeploy: deployment {deployment} could not be brought back: {message}"
                        );
                    }
                }
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => return Err(EngineError::Shutdown.into()),
                Err(_) => {
                    eprintln!(
                        "robodeploy: {} deployments not reconciled after {}s; their status is Unknown",
                        pending.len(),
                        RECOVERY_TIMEOUT.as_secs()
                    );
                    return Ok(());
                }
            }
        }
    }

    /// Whether a stored deployment still waits to be reconciled: live, status Unknown. One
    /// that ended, or that could not be brought back (no longer known), does not.
    async fn waiting(&self, id: DeploymentId) -> Result<bool, CliError> {
        match self.engine.status(id).await {
            Ok(s) => Ok(!s.phase.is_terminal() && s.status == StatusKind::Unknown),
            Err(EngineError::NoSuchDeployment(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits, at most `limit`, until no live deployment is Pending: a restart the engine
    /// scheduled on finding an executable exited (the backoff starts again from its initial
    /// delay after a recovery), or a dependency coming up. What is still Pending then is
    /// reported as it is.
    pub(crate) async fn settle_pending(&self, limit: Duration) -> Result<(), CliError> {
        let mut events = self.engine.subscribe();
        let deadline = Instant::now() + limit;
        loop {
            let deployments = self.engine.deployments().await?;
            if !deployments.iter().any(|d| d.status == StatusKind::Pending) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => return Err(EngineError::Shutdown.into()),
                Err(_) => return Ok(()),
            }
        }
    }

    /// Registers a device with a process runtime on its root under the state directory.
    /// `false`: a device of that name is registered already (the store's is kept).
    pub(crate) async fn add_device(&mut self, device: Device) -> Result<bool, CliError> {
        if self.runtimes.contains_key(&device.name) {
            return Ok(false);
        }
        let runtime = self.state.runtime(&device.name)?;
        let name = device.name.clone();
        self.engine
            .add_device(device, Arc::clone(&runtime) as Arc<dyn Runtime>)
            .await?;
        self.runtimes.insert(name, runtime);
        Ok(true)
    }

    /// The process runtime of a registered device.
    pub(crate) fn runtime(&self, device: &str) -> Option<&Arc<ProcessRuntime>> {
        self.runtimes.get(device)
    }

    /// The deployments `name` means: a live deployment's name, a deployment's id (also of one
    /// that was deprovisioned), or a job's id (every deployment the job created).
    pub(crate) async fn resolve(&self, name: &str) -> Result<Vec<DeploymentStatus>, CliError> {
        match self.engine.find_deployment(name).await {
            Ok(id) => return Ok(vec![self.engine.status(id).await?]),
            Err(EngineError::NoSuchDeployment(_)) => {}
            Err(e) => return Err(e.into()),
        }
        // Deployment and job ids are both UUIDs: a deployment's id first, then a job's.
        if let Ok(id) = name.parse::<DeploymentId>() {
            match self.engine.status(id).await {
                Ok(status) => return Ok(vec![status]),
                Err(EngineError::NoSuchDeployment(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Ok(job) = name.parse::<JobId>() {
            match self.engine.job(job).await {
                Ok(report) => {
                    // A job's report names its robots' deployments only while this engine ran
                    // them; those a restarted engine brought back say which job they belong to.
                    let mut ids: BTreeSet<DeploymentId> =
                        report.robots.iter().filter_map(|r| r.deployment).collect();
                    ids.extend(
                        self.engine
                            .deployments()
                            .await?
                            .iter()
                            .filter(|d| d.job == Some(job))
                            .map(|d| d.id),
                    );
                    let mut statuses = Vec::with_capacity(ids.len());
                    for id in ids {
                        statuses.push(self.engine.status(id).await?);
                    }
                    if statuses.is_empty() {
                        return Err(CliError::Refused(format!(
                            "job {name} has no live deployment (see `robodeploy status`)"
                        )));
                    }
                    statuses.sort_by(|a, b| a.name.cmp(&b.name));
                    return Ok(statuses);
                }
                Err(EngineError::NoSuchJob(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(CliError::Refused(format!(
            "no deployment, deployment id or job id {name:?} was applied here (see `robodeploy status`)"
        )))
    }

    /// Every live deployment, by name.
    pub(crate) async fn deployments(&self) -> Result<Vec<DeploymentStatus>, CliError> {
        let mut all = self.engine.deployments().await?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Stops the engine leaving everything running (runtimes released, store closed).
    pub(crate) async fn detach(&self) -> Result<(), CliError> {
        self.engine.detach().await?;
        Ok(())
    }

    /// Detaches, then returns a command's result: whatever the command returned, nothing it
    /// found is stopped.
    pub(crate) async fn finish<T>(&self, result: Result<T, CliError>) -> Result<T, CliError> {
        let detached = self.detach().await;
        let value = result?;
        detached?;
        Ok(value)
    }
}
