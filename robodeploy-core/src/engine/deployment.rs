//! Deployments in the driver: creating them, executing their machines' commands on runtimes,
//! feeding back what runtimes report, publishing their status, propagating dependency state.

use std::collections::BTreeMap;
use std::sync::Arc;

use tracing::{debug, info_span};

use crate::lifecycle::{
    Command, DependencyState, Deployment as Machine, DeploymentRecord, Event, ExecutableIndex,
    Failure, Host, internal,
};
use crate::model::{DeploymentId, DeploymentRequest, JobId, Package, Phase, StatusKind};
use crate::runtime::{
    InstanceId, InstanceInfo, InstanceSpec, InstanceState, Runtime, RuntimeError, RuntimeEvent,
    RuntimeEventKind,
};
use crate::store::{Table, WriteBatch};

use super::driver::{Driver, Ready, TimerKey};
use super::persist::{self, MachineHeader, StoredDeployment};
use super::request::{Internal, OpResult, RuntimeKey};
use super::{DeploymentStatus, EngineError, EngineEvent, ExecutableReport};

/// A live deployment.
pub(crate) struct DeploymentEntry {
    pub(crate) id: DeploymentId,
    pub(crate) request: DeploymentRequest,
    pub(crate) package: Package,
    pub(crate) machine: Machine,
    pub(crate) specs: Vec<InstanceSpec>,
    pub(crate) keys: Vec<RuntimeKey>,
    pub(crate) instances: Vec<Option<InstanceId>>,
    /// Per executable: a start or restart is in flight (its instance is not known yet).
    pub(crate) starting: Vec<bool>,
    /// Per executable: a stop that arrived while a start was in flight, with its grace; carried
    /// out on the instance the start returns, so a deprovision never leaves it running.
    pub(crate) stop_after_start: Vec<Option<std::time::Duration>>,
    /// The job and robot index that created it.
    pub(crate) job: Option<(JobId, u32)>,
    /// The last status published (to publish changes only).
    pub(crate) last: Option<Fingerprint>,
    /// The dependency state last told to dependents.
    pub(crate) dep_state: DependencyState,
    /// What the store holds of its machine (to write changes only).
    pub(crate) persisted: Option<DeploymentRecord>,
    /// Per executable: its running instance was replaced by one with the same id; the runtime's
    /// events up to that instance's `Removed` are the old one's.
    pub(crate) skip_until_removed: Vec<bool>,
    pub(crate) span: tracing::Span,
}

/// What decides whether a status changed enough to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    phase: Phase,
    status: StatusKind,
    exes: Vec<(crate::model::ExecutableStatus, u32)>,
    errors: Vec<crate::model::ErrorReport>,
    instances: Vec<Option<InstanceId>>,
}

impl DeploymentEntry {
    fn fingerprint(&self) -> Fingerprint {
        let m = &self.machine;
        Fingerprint {
            phase: m.phase(),
            status: m.status(),
            exes: m
                .executables()
                .filter_map(|e| Some((m.executable_status(e)?, m.restart_count(e)?)))
                .collect(),
            errors: m.errors(),
            instances: self.instances.clone(),
        }
    }

    pub(crate) fn status(&self, at: crate::time::Time) -> DeploymentStatus {
        let m = &self.machine;
        DeploymentStatus {
            id: self.id,
            name: self.request.name.clone(),
            package: self.package.name.clone(),
            version: self.package.version.clone(),
            phase: m.phase(),
            status: m.status(),
            errors: m.errors(),
            restart_count: m.total_restart_count(),
            executables: m
                .executables()
                .filter_map(|e| {
                    let spec = m.executable(e)?;
                    Some(ExecutableReport {
                        component: spec.component.clone(),
                        name: spec.name.clone(),
                        device: match &spec.host {
                            Host::Device(d) => Some(d.clone()),
                            _ => None,
                        },
                        status: m.executable_status(e)?,
                        restart_count: m.restart_count(e)?,
                        instance: self.instances[e.get()].as_ref().map(|i| i.0.clone()),
                    })
                })
                .collect(),
            depends_on: self.request.depends_on.clone(),
            job: self.job.map(|(j, _)| j),
            at,
        }
    }

    fn dependency_state(&self) -> DependencyState {
        let m = &self.machine;
        match (m.phase(), m.status()) {
            (_, StatusKind::Error) => DependencyState::Error,
            (Phase::Succeeded, StatusKind::Running) => DependencyState::Running,
            (Phase::FailedToStart, _) => DependencyState::Error,
            _ => DependencyState::Other,
        }
    }
}

/// How a runtime failure reads to the lifecycle machine: [`RuntimeError::failure`], the one
/// table.
pub(crate) fn failure_of(err: &RuntimeError, spec: &InstanceSpec, detail: u8) -> Failure {
    err.failure(spec.image.is_some(), detail)
}

impl Driver {
    /// Creates a deployment and starts it.
    pub(crate) fn create_deployment(
        &mut self,
        req: DeploymentRequest,
        package: Package,
        extra_env: &BTreeMap<String, String>,
        launch: Option<&[String]>,
        job: Option<(JobId, u32)>,
    ) -> Result<DeploymentId, EngineError> {
        if let Some(&id) = self.names.get(&req.name) {
            return Err(EngineError::DuplicateName {
                name: req.name.clone(),
                id,
            });
        }
        let id = DeploymentId::new_random();
        let lifecycle = self.config.lifecycle.clone();
        let resolved = self.resolve(id, &req, &package, extra_env, launch, &lifecycle)?;
        let now = self.now();
        let mut machine = Machine::new(resolved.spec, now)?;
        // Write-ahead: the request is stored before anything is started.
        let stored = StoredDeployment {
            request: req.clone(),
            package: package.name.clone(),
            version: package.version.clone(),
            extra_env: extra_env.clone(),
            launch: launch.map(<[String]>::to_vec),
            job,
            created_at: now,
        };
        let mut batch = WriteBatch::default();
        batch.put(
            Table::Deployments,
            persist::deployment_key(id),
            persist::to_json(&stored),
        );
        self.store.write(batch)?;
        self.commit_shared(id, &resolved.shared);
        let span = info_span!("deployment", id = %id, name = %req.name);
        // Tell it what it depends on as things stand.
        for (i, dep) in req.depends_on.iter().enumerate() {
            let state = self
                .names
                .get(dep)
                .and_then(|d| self.deployments.get(d))
                .map(|d| d.dep_state)
                .unwrap_or_default();
            let _ = machine.handle(
                Event::Dependency(crate::lifecycle::DependencyIndex(i as u16), state),
                now,
            );
        }
        // Devices already known offline.
        for key in resolved.keys.iter() {
            if let RuntimeKey::Device(d) = key
                && self.runtimes.get(key).is_some_and(|s| !s.online)
                && let Some(idx) = machine.device_index(d)
            {
                let _ = machine.handle(Event::DeviceOffline(idx), now);
            }
        }
        let n = resolved.instances.len();
        self.names.insert(req.name.clone(), id);
        for name in &req.depends_on {
            self.dependents.entry(name.clone()).or_default().insert(id);
        }
        self.deployments.insert(
            id,
            DeploymentEntry {
                id,
                request: req,
                package,
                machine,
                specs: resolved.instances,
                keys: resolved.keys,
                instances: vec![None; n],
                starting: vec![false; n],
                stop_after_start: vec![None; n],
                job,
                last: None,
                dep_state: DependencyState::Other,
                persisted: None,
                skip_until_removed: vec![false; n],
                span,
            },
        );
        // The seed's phases in order: the deployment is published InProgress (created, nothing
        // started) before `Deploy` moves it to Provisioning.
        if let Some(d) = self.deployments.get_mut(&id) {
            let status = d.status(now);
            d.last = Some(d.fingerprint());
            self.publish(EngineEvent::Deployment(Box::new(status)));
        }
        if let Some(d) = self.deployments.get_mut(&id) {
            let _ = d.machine.handle(Event::Deploy, now);
        }
        self.dirty.insert(id);
        Ok(id)
    }

    /// Asks a deployment to stop everything.
    pub(crate) fn deprovision(&mut self, id: DeploymentId) -> Result<(), EngineError> {
        let now = self.now();
        let d = self
            .deployments
            .get_mut(&id)
            .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()))?;
        let _ = d.machine.handle(Event::Deprovision, now);
        self.dirty.insert(id);
        Ok(())
    }

    /// Drains a deployment's commands, re-arms its timer, publishes a changed status and
    /// propagates dependency changes.
    pub(crate) fn settle_deployment(&mut self, id: DeploymentId) {
        let Some(d) = self.deployments.get_mut(&id) else {
            return;
        };
        let mut commands = Vec::new();
        while let Some(c) = d.machine.poll_command() {
            commands.push(c);
        }
        let timeout = d.machine.poll_timeout();
        let record = d.machine.record();
        persist_changes(&mut self.pending_writes, id, d.persisted.as_ref(), &record);
        d.persisted = Some(record);
        self.ready
            .extend(commands.into_iter().map(|c| Ready::Deployment(id, c)));
        self.set_timer(TimerKey::Deployment(id), timeout);
        let now = self.now();
        let Some(d) = self.deployments.get_mut(&id) else {
            return;
        };
        let fp = d.fingerprint();
        if d.last.as_ref() == Some(&fp) {
            return;
        }
        d.last = Some(fp);
        let status = d.status(now);
        let dep_state = d.dependency_state();
        let changed_dep = dep_state != d.dep_state;
        d.dep_state = dep_state;
        let name = d.request.name.clone();
        let job = d.job;
        let terminal = status.phase.is_terminal();
        d.span
            .in_scope(|| debug!(phase = %status.phase, status = %status.status, "status"));
        if terminal {
            // Its machine is done: only its last status stays, for status queries.
            let w = &mut self.pending_writes;
            w.delete(Table::Deployments, persist::deployment_key(id));
            w.delete(Table::Deployments, persist::machine_key(id));
            for i in 0..status.executables.len() {
                w.delete(Table::Deployments, persist::exe_key(id, i));
            }
            w.put(
                Table::Deployments,
                persist::final_key(id),
                persist::to_json(&status),
            );
        }
        if changed_dep {
            self.propagate_dependency(&name, dep_state);
        }
        if let Some((job, robot)) = job {
            self.robot_deployment_changed(job, robot, id, &status);
        }
        if terminal {
            self.board.remove(id);
        } else {
            self.board.put(&status);
        }
        self.publish(EngineEvent::Deployment(Box::new(status)));
        if terminal {
            self.retire(id);
        }
    }

    /// Tells every dependent of `name` its new state.
    fn propagate_dependency(&mut self, name: &str, state: DependencyState) {
        let now = self.now();
        let Some(dependents) = self.dependents.get(name) else {
            return;
        };
        for dep_id in dependents.clone() {
            if let Some(d) = self.deployments.get_mut(&dep_id)
                && let Some(idx) = d.machine.dependency_index(name)
            {
                let _ = d.machine.handle(Event::Dependency(idx, state), now);
                self.dirty.insert(dep_id);
            }
        }
    }

    /// Forgets a deployment that reached a terminal phase (its last status stays in the store).
    fn retire(&mut self, id: DeploymentId) {
        let Some(d) = self.deployments.remove(&id) else {
            return;
        };
        self.names.remove(&d.request.name);
        for name in &d.request.depends_on {
            if let Some(set) = self.dependents.get_mut(name) {
                set.remove(&id);
                if set.is_empty() {
                    self.dependents.remove(name);
                }
            }
        }
        for (i, inst) in d.instances.iter().enumerate() {
            if let Some(inst) = inst {
                self.instances.remove(&(d.keys[i].clone(), inst.clone()));
            }
        }
        for shared in self.shared.values_mut() {
            shared.release(id);
        }
        self.set_timer(TimerKey::Deployment(id), None);
        self.installed.retain(|_, v| *v != id);
        // Dependents see it as gone: not running.
        self.propagate_dependency(&d.request.name, DependencyState::Other);
    }

    /// Hands one command to a task.
    pub(crate) fn execute(&mut self, id: DeploymentId, command: Command) {
        let Some(d) = self.deployments.get(&id) else {
            return;
        };
        let exe = command.executable();
        let i = exe.get();
        let key = d.keys[i].clone();
        // What starts must not end before the driver listens to its runtime.
        let ready = self.stream_events(&key);
        let Some(d) = self.deployments.get(&id) else {
            return;
        };
        let Some(slot) = self.runtimes.get(&key) else {
            let _ = self.internal_tx.send(Internal::Op(
                id,
                exe,
                OpResult::Prepared(Err(Failure::Engine {
                    detail: 0,
                    message: "the runtime of this device was removed".to_owned(),
                })),
            ));
            return;
        };
        let rt: Arc<dyn Runtime> = slot.runtime.clone();
        let spec = d.specs[i].clone();
        let instance = d.instances[i].clone();
        let tx = self.internal_tx.clone();
        let shared_elsewhere = d.machine.executable(exe).is_some_and(|x| x.shared)
            && match d.machine.executable(exe).map(|x| &x.host) {
                Some(Host::Device(dev)) => self
                    .shared
                    .get(dev)
                    .is_some_and(|s| s.used_by_others(&spec.component, id)),
                _ => false,
            };
        match command {
            Command::Prepare { .. } => {
                tokio::spawn(async move {
                    super::driver::streaming(ready).await;
                    let r = rt
                        .prepare(&spec)
                        .await
                        .map_err(|e| failure_of(&e, &spec, internal::CREATE_FAILED));
                    let _ = tx.send(Internal::Op(id, exe, OpResult::Prepared(r)));
                });
            }
            Command::Start { .. } | Command::Restart { .. } => {
                if let Some(d) = self.deployments.get_mut(&id) {
                    d.starting[i] = true;
                }
                // A restart replaces the instance that exited. A first start has none of its
                // own, except after a recovery, where an instance found under its name may be
                // the one a killed engine was starting: it is adopted if it runs.
                let previous = match command {
                    Command::Restart { .. } => instance,
                    _ => None,
                };
                if let Some(old) = &previous {
                    // What the runtime says of the old instance from now on is held until the
                    // start answers, then sorted out (the new one may reuse its id).
                    self.instances.remove(&(key.clone(), old.clone()));
                }
                tokio::spawn(async move {
                    super::driver::streaming(ready).await;
                    let (r, replaced) = start_or_adopt(rt.as_ref(), &spec, previous.as_ref()).await;
                    let _ = tx.send(Internal::Op(id, exe, OpResult::Started(r, replaced)));
                });
            }
            Command::Stop { grace, .. } => {
                if shared_elsewhere {
                    // Still used by another deployment on the device.
                    let _ = tx.send(Internal::Op(id, exe, OpResult::Stopped(Ok(()))));
                    return;
                }
                if d.starting[i] {
                    // Its instance is not known until the start answers: stop it then.
                    if let Some(d) = self.deployments.get_mut(&id) {
                        d.stop_after_start[i] = Some(grace);
                    }
                    return;
                }
                match instance {
                    Some(inst) => spawn_stop(rt, inst, grace, tx, id, exe),
                    // Never created.
                    None => {
                        let _ = tx.send(Internal::Op(id, exe, OpResult::Stopped(Ok(()))));
                    }
                }
            }
            Command::Inspect { .. } => {
                tokio::spawn(async move {
                    let r = match &instance {
                        Some(inst) => rt
                            .inspect(inst)
                            .await
                            .map_err(|e| failure_of(&e, &spec, internal::UNSPECIFIED)),
                        None => Err(Failure::Internal {
                            detail: internal::UNSPECIFIED,
                            message: "never started".to_owned(),
                        }),
                    };
                    let _ = tx.send(Internal::Op(id, exe, OpResult::Inspected(r)));
                });
            }
        }
    }

    /// A command's task finished.
    pub(crate) fn handle_op(&mut self, id: DeploymentId, exe: ExecutableIndex, result: OpResult) {
        let now = self.now();
        let Some(d) = self.deployments.get_mut(&id) else {
            return;
        };
        let i = exe.get();
        if let OpResult::Started(started, _) = &result {
            d.starting[i] = false;
            if let Some(grace) = d.stop_after_start[i].take() {
                // A deprovision came while it was starting: stop what the start created.
                match started {
                    Ok(inst) => {
                        let key = d.keys[i].clone();
                        d.instances[i] = Some(inst.clone());
                        // Its status shows the instance until the stop is done.
                        self.dirty.insert(id);
                        self.instances
                            .insert((key.clone(), inst.clone()), (id, exe));
                        match self.runtimes.get(&key) {
                            Some(slot) => spawn_stop(
                                slot.runtime.clone(),
                                inst.clone(),
                                grace,
                                self.internal_tx.clone(),
                                id,
                                exe,
                            ),
                            None => {
                                let why = "the runtime of this device was removed".to_owned();
                                let _ = d.machine.handle(Event::StopFailed(exe, why), now);
                                self.dirty.insert(id);
                            }
                        }
                    }
                    Err(_) => {
                        let _ = d.machine.handle(Event::StopDone(exe), now);
                        self.dirty.insert(id);
                    }
                }
                return;
            }
        }
        let event = match result {
            OpResult::Prepared(Ok(())) => Event::Prepared(exe),
            OpResult::Prepared(Err(f)) => Event::PrepareFailed(exe, f),
            OpResult::Started(Ok(inst), replaced) => {
                let key = d.keys[i].clone();
                if let Some(old) = d.instances[i].replace(inst.clone()) {
                    self.instances.remove(&(key.clone(), old));
                }
                self.instances
                    .insert((key.clone(), inst.clone()), (id, exe));
                // A running instance of the same id was replaced: its exit and removal are
                // still on their way, and are not this instance's.
                d.skip_until_removed[i] = replaced;
                let _ = d.machine.handle(Event::Started(exe), now);
                // What the runtime said before the start was answered.
                if let Some(early) = self.early_events.remove(&(key.clone(), inst)) {
                    for ev in early {
                        self.feed_runtime_event(id, exe, ev);
                    }
                }
                self.dirty.insert(id);
                return;
            }
            OpResult::Started(Err(f), _) => Event::StartFailed(exe, f),
            OpResult::Stopped(Ok(())) => {
                if let Some(inst) = d.instances[i].take() {
                    self.instances.remove(&(d.keys[i].clone(), inst));
                }
                Event::StopDone(exe)
            }
            OpResult::Stopped(Err(m)) => Event::StopFailed(exe, m),
            OpResult::Inspected(Ok(info)) => match info.state {
                InstanceState::Running { .. } => Event::Started(exe),
                // Stopped by hand while no engine watched (found on recovery): the same as a
                // manual stop seen as it happened.
                InstanceState::Exited {
                    stopped_manually: true,
                    ..
                } => Event::StoppedManually(exe),
                InstanceState::Exited { exit_code, .. } => Event::Exited(exe, exit_code),
                _ => Event::Exited(exe, 137),
            },
            // Gone while the device was away (a reboot): as if killed.
            OpResult::Inspected(Err(_)) => Event::Exited(exe, 137),
        };
        let _ = d.machine.handle(event, now);
        self.dirty.insert(id);
    }

    /// A runtime reported something about an instance.
    pub(crate) fn handle_runtime_event(&mut self, key: RuntimeKey, event: RuntimeEvent) {
        let k = (key, event.instance.clone());
        match self.instances.get(&k) {
            Some(&(id, exe)) => {
                self.feed_runtime_event(id, exe, event);
            }
            None => {
                // Possibly an instance whose start is not answered yet: keep a few events.
                let q = self.early_events.entry(k).or_default();
                if q.len() < 16 {
                    q.push(event);
                }
                if self.early_events.len() > 4096 {
                    self.early_events.clear();
                }
            }
        }
    }

    fn feed_runtime_event(&mut self, id: DeploymentId, exe: ExecutableIndex, event: RuntimeEvent) {
        let now = self.now();
        let Some(d) = self.deployments.get_mut(&id) else {
            return;
        };
        if d.skip_until_removed[exe.get()] {
            if matches!(event.kind, RuntimeEventKind::Removed) {
                d.skip_until_removed[exe.get()] = false;
            }
            return;
        }
        let ev = match event.kind {
            RuntimeEventKind::Started => Event::Started(exe),
            RuntimeEventKind::Exited {
                stopped_manually: true,
                ..
            } => Event::StoppedManually(exe),
            RuntimeEventKind::Exited { exit_code, .. } => Event::Exited(exe, exit_code),
            RuntimeEventKind::Restarted { restart_count } => {
                Event::RestartObserved(exe, restart_count)
            }
            _ => return,
        };
        let _ = d.machine.handle(ev, now);
        self.dirty.insert(id);
    }

    /// A health check answered.
    pub(crate) fn handle_health(&mut self, key: RuntimeKey, ok: bool) {
        let Some(slot) = self.runtimes.get_mut(&key) else {
            return;
        };
        slot.checking = false;
        if slot.online == ok {
            return;
        }
        slot.online = ok;
        let RuntimeKey::Device(device) = key else {
            return;
        };
        self.set_device_online(&device, ok);
    }

    /// A device went offline or came back: every deployment and job using it hears of it.
    pub(crate) fn set_device_online(&mut self, device: &str, online: bool) {
        let now = self.now();
        let _ = self.devices.set_online(device, online);
        for d in self.deployments.values_mut() {
            if let Some(idx) = d.machine.device_index(device) {
                let ev = if online {
                    Event::DeviceOnline(idx)
                } else {
                    Event::DeviceOffline(idx)
                };
                let _ = d.machine.handle(ev, now);
                self.dirty.insert(d.id);
            }
        }
        self.jobs_device_online(device, online);
        self.publish(EngineEvent::Device {
            device: device.to_owned(),
            online,
        });
    }

    /// The device rebooted: everything on it was killed and starts again per policy.
    pub(crate) fn device_rebooted(&mut self, device: &str) {
        let now = self.now();
        for d in self.deployments.values_mut() {
            if let Some(idx) = d.machine.device_index(device) {
                let _ = d.machine.handle(Event::DeviceRebooted(idx), now);
                self.dirty.insert(d.id);
            }
        }
    }

    /// The runtime and instance of one executable of a deployment.
    pub(crate) fn instance_of(
        &self,
        id: DeploymentId,
        component: &str,
        executable: &str,
    ) -> Result<(Arc<dyn Runtime>, InstanceId), EngineError> {
        let d = self
            .deployments
            .get(&id)
            .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()))?;
        let not_running = || EngineError::NotRunning {
            deployment: id,
            component: component.to_owned(),
            executable: executable.to_owned(),
        };
        let exe = d
            .machine
            .executable_index(component, executable)
            .ok_or_else(not_running)?;
        let inst = d.instances[exe.get()].clone().ok_or_else(not_running)?;
        let rt = self
            .runtimes
            .get(&d.keys[exe.get()])
            .ok_or_else(|| EngineError::NoRuntime(format!("deployment {id}")))?
            .runtime
            .clone();
        Ok((rt, inst))
    }
}

/// Adds to `batch` what changed between the stored record `before` and `now`.
fn persist_changes(
    batch: &mut WriteBatch,
    id: DeploymentId,
    before: Option<&DeploymentRecord>,
    now: &DeploymentRecord,
) {
    let header = MachineHeader::of(now);
    if before.is_none_or(|b| MachineHeader::of(b) != header) {
        batch.put(
            Table::Deployments,
            persist::machine_key(id),
            persist::to_json(&header),
        );
    }
    for (i, exe) in now.executables.iter().enumerate() {
        if before.is_none_or(|b| b.executables.get(i) != Some(exe)) {
            batch.put(
                Table::Deployments,
                persist::exe_key(id, i),
                persist::to_json(exe),
            );
        }
    }
}

/// Stops and removes an instance in a task; the result comes back as [`OpResult::Stopped`].
fn spawn_stop(
    rt: Arc<dyn Runtime>,
    inst: InstanceId,
    grace: std::time::Duration,
    tx: tokio::sync::mpsc::UnboundedSender<Internal>,
    id: DeploymentId,
    exe: ExecutableIndex,
) {
    tokio::spawn(async move {
        let r = match rt.stop(&inst, grace).await {
            Ok(()) => rt.remove(&inst).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(Internal::Op(id, exe, OpResult::Stopped(r)));
    });
}

/// How many times an instance whose name is taken is looked for before the start fails.
const ADOPT_LOOKUPS: u32 = 20;
/// The pause between two of those looks.
const ADOPT_LOOKUP_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Starts an instance; when one with the same name exists (a previous engine started it, or a
/// shared component another deployment started), adopts it if it runs, replaces it if not.
async fn start_or_adopt(
    rt: &dyn Runtime,
    spec: &InstanceSpec,
    previous: Option<&InstanceId>,
) -> (Result<InstanceId, Failure>, bool) {
    let mut replaced = false;
    if let Some(old) = previous {
        replaced = matches!(
            rt.inspect(old).await,
            Ok(InstanceInfo {
                state: InstanceState::Running { .. },
                ..
            })
        );
        let _ = rt.remove(old).await;
    }
    let started = start_or_adopt_fresh(rt, spec).await;
    let replaced = replaced && started.as_ref().is_ok_and(|id| previous == Some(id));
    (started, replaced)
}

/// [`start_or_adopt`] once nothing of the executable's is left to replace.
async fn start_or_adopt_fresh(
    rt: &dyn Runtime,
    spec: &InstanceSpec,
) -> Result<InstanceId, Failure> {
    match rt.start(spec).await {
        Ok(id) => Ok(id),
        Err(RuntimeError::AlreadyExists(_)) => {
            let mut selector = BTreeMap::new();
            for k in [
                crate::runtime::labels::COMPONENT,
                crate::runtime::labels::EXECUTABLE,
            ] {
                if let Some(v) = spec.labels.get(k) {
                    selector.insert(k.to_owned(), v.clone());
                }
            }
            // The name can be taken by a create still in flight (one a killed engine sent just
            // before it died) before the instance shows in listings: look again for a moment.
            let mut found = None;
            for attempt in 0..ADOPT_LOOKUPS {
                if attempt > 0 {
                    tokio::time::sleep(ADOPT_LOOKUP_PAUSE).await;
                }
                found = rt
                    .list(&selector)
                    .await
                    .map_err(|e| failure_of(&e, spec, internal::START_FAILED))?
                    .into_iter()
                    .find(|i| i.name == spec.name);
                if found.is_some() {
                    break;
                }
            }
            match found {
                Some(info) if matches!(info.state, InstanceState::Running { .. }) => Ok(info.id),
                Some(info) => {
                    let _ = rt.remove(&info.id).await;
                    rt.start(spec)
                        .await
                        .map_err(|e| failure_of(&e, spec, internal::START_FAILED))
                }
                None => Err(Failure::Internal {
                    detail: internal::START_FAILED,
                    message: format!("instance {} exists but cannot be found", spec.name),
                }),
            }
        }
        Err(e) => Err(failure_of(&e, spec, internal::START_FAILED)),
    }
}
