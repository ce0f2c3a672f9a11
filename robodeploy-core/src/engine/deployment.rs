//! Deployments in the engine's state: creating them, turning their machines' commands into
//! runtime calls ([`Effect::Call`]), feeding back what runtimes report, publishing their
//! status, propagating dependency state.

use std::collections::BTreeMap;

use tracing::{debug, info_span};

use crate::lifecycle::{
    Command, DependencyState, Deployment as Machine, DeploymentRecord, Event, ExecutableIndex,
    Failure, Host,
};
use crate::model::{DeploymentId, DeploymentRequest, JobId, Package};
use crate::runtime::{InstanceId, InstanceSpec, InstanceState, RuntimeEvent, RuntimeEventKind};
use crate::store::{Table, WriteBatch};

use super::effect::TimerKey;
use super::effect::{BoardChange, Call, Effect};
use super::entries::DeploymentEntry;
use super::message::{Internal, OpResult, RuntimeKey};
use super::persist::{self, MachineHeader, StoredDeployment};
use super::resolve::Resolved;
use super::state::{Ready, State};
use super::{EngineError, EngineEvent};

impl State {
    /// Creates a deployment and starts it; its request is written in the turn's store
    /// transaction, before anything of it starts (a job robot's deployment).
    pub(crate) fn create_deployment(
        &mut self,
        req: DeploymentRequest,
        package: Package,
        extra_env: &BTreeMap<String, String>,
        launch: Option<&[String]>,
        job: Option<(JobId, u32)>,
    ) -> Result<DeploymentId, EngineError> {
        let staged = self.stage_deployment(req, package, extra_env, launch, job)?;
        self.persist(staged.batch.clone());
        Ok(self.commit_deployment(staged))
    }

    /// Everything a new deployment needs, checked and resolved, changing nothing: what to
    /// write before it exists ([`StagedDeployment::batch`]), then
    /// [`commit_deployment`](Self::commit_deployment).
    pub(crate) fn stage_deployment(
        &self,
        req: DeploymentRequest,
        package: Package,
        extra_env: &BTreeMap<String, String>,
        launch: Option<&[String]>,
        job: Option<(JobId, u32)>,
    ) -> Result<StagedDeployment, EngineError> {
        if let Some(&id) = self.names.get(&req.name) {
            return Err(EngineError::DuplicateName {
                name: req.name.clone(),
                id,
            });
        }
        let id = DeploymentId::new_random();
        let resolved = self.resolve(
            id,
            &req,
            &package,
            extra_env,
            launch,
            &self.config.lifecycle,
        )?;
        let now = self.now();
        let Resolved {
            spec,
            instances,
            keys,
            shared,
        } = resolved;
        let machine = Machine::new(spec, now)?;
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
        Ok(StagedDeployment {
            id,
            req,
            package,
            machine,
            instances,
            keys,
            shared,
            job,
            batch,
        })
    }

    /// Tracks a staged deployment once its request is written, and starts it.
    pub(crate) fn commit_deployment(&mut self, staged: StagedDeployment) -> DeploymentId {
        let StagedDeployment {
            id,
            req,
            package,
            mut machine,
            instances: specs,
            keys,
            shared,
            job,
            batch: _,
        } = staged;
        let now = self.now();
        self.commit_shared(id, &shared);
        let span = info_span!("deployment", id = %id, name = %req.name);
        self.brief(&mut machine, &req.depends_on, &keys, now);
        let n = specs.len();
        self.names.insert(req.name.clone(), id);
        for name in &req.depends_on {
            self.dependents.entry(name.clone()).or_default().insert(id);
        }
        let entry = DeploymentEntry {
            id,
            request: req,
            package,
            machine,
            specs,
            keys,
            instances: vec![None; n],
            starting: vec![false; n],
            stop_after_start: vec![None; n],
            inspect_after_start: vec![false; n],
            job,
            created_at: now,
            last: None,
            dep_state: DependencyState::Other,
            persisted: None,
            skip_until_removed: vec![false; n],
            span,
        };
        // The seed's phases in order: the deployment is published InProgress (created, nothing
        // started) before `Deploy` moves it to Provisioning.
        let status = entry.status(now);
        let fingerprint = entry.fingerprint();
        self.deployments.insert(id, entry);
        self.publish(EngineEvent::Deployment(Box::new(status)));
        if let Some(d) = self.deployments.get_mut(&id) {
            d.last = Some(fingerprint);
            let _ = d.machine.handle(Event::Deploy, now);
        }
        self.dirty.insert(id);
        id
    }

    /// Tells a machine about to be tracked (new or restored) how things stand: the state of each
    /// deployment it depends on, and which of its devices are known offline.
    pub(crate) fn brief(
        &self,
        machine: &mut Machine,
        depends_on: &[String],
        keys: &[RuntimeKey],
        now: crate::time::Time,
    ) {
        for (i, dep) in depends_on.iter().enumerate() {
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
        for key in keys {
            if let RuntimeKey::Device(d) = key
                && self.runtimes.get(key).is_some_and(|s| !s.online)
                && let Some(idx) = machine.device_index(d)
            {
                let _ = machine.handle(Event::DeviceOffline(idx), now);
            }
        }
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
        persist_changes(&mut self.writes, id, d.persisted.as_ref(), &record);
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
            let w = &mut self.writes;
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
            self.record_ended(id, now);
        }
        if changed_dep {
            self.propagate_dependency(&name, dep_state);
        }
        if let Some((job, robot)) = job {
            self.robot_deployment_changed(job, robot, id, &status);
        }
        self.emit(Effect::Board(if terminal {
            BoardChange::Remove(id)
        } else {
            BoardChange::Put(Box::new(status.clone()))
        }));
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

    /// Frees a deployment's name while it is still being stopped: a job's robot whose attempt
    /// was abandoned (it went offline) gets a deployment of the same name on its next attempt,
    /// and the abandoned one goes on stopping under its id.
    pub(crate) fn release_name(&mut self, id: DeploymentId) {
        if let Some(d) = self.deployments.get(&id)
            && self.names.get(&d.request.name) == Some(&id)
        {
            self.names.remove(&d.request.name);
        }
    }

    /// Notes what an ending deployment leaves running: an instance its deprovision could not
    /// stop because its robot is offline, and a start still in flight.
    fn leave_behind(&mut self, d: &DeploymentEntry) {
        let unstopped: Vec<ExecutableIndex> =
            d.machine.deprovision_failures().map(|(i, _)| i).collect();
        for (i, key) in d.keys.iter().enumerate() {
            let exe = ExecutableIndex(i as u16);
            if d.starting[i] {
                self.leftovers.start_in_flight(d.id, exe, key.clone());
                continue;
            }
            let offline = self.runtimes.get(key).is_some_and(|s| !s.online);
            if let (RuntimeKey::Device(device), Some(inst), true) = (key, &d.instances[i], offline)
                && unstopped.contains(&exe)
            {
                self.leftovers.leave(device, d.id, inst.clone());
            }
        }
    }

    /// Stops and removes an instance an ended deployment left behind.
    fn discard_leftover(
        &mut self,
        key: RuntimeKey,
        deployment: DeploymentId,
        instance: InstanceId,
    ) {
        if !self.runtimes.contains_key(&key) {
            return;
        }
        let grace = self.config.lifecycle.stop_grace;
        self.publish(EngineEvent::Recovery(Box::new(
            super::RecoveryAction::StoppedOrphan {
                deployment,
                instance: instance.0.clone(),
            },
        )));
        self.emit(Effect::Call(key, Call::Discard { instance, grace }));
    }

    /// Forgets a deployment that reached a terminal phase (its last status stays in the store).
    fn retire(&mut self, id: DeploymentId) {
        self.release_name(id);
        let Some(d) = self.deployments.remove(&id) else {
            return;
        };
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
        self.leave_behind(&d);
        for shared in self.shared.values_mut() {
            shared.release(id);
        }
        self.set_timer(TimerKey::Deployment(id), None);
        self.installed.retain(|_, v| *v != id);
        // Dependents see it as gone: not running.
        self.propagate_dependency(&d.request.name, DependencyState::Other);
    }

    /// Turns one command into a runtime call.
    pub(crate) fn execute(&mut self, id: DeploymentId, command: Command) {
        let Some(d) = self.deployments.get_mut(&id) else {
            return;
        };
        let exe = command.executable();
        let i = exe.get();
        let key = d.keys[i].clone();
        if !self.runtimes.contains_key(&key) {
            self.effects.push(Effect::Notify(Internal::Op(
                id,
                exe,
                OpResult::Prepared(Err(Failure::Engine {
                    detail: 0,
                    message: "the runtime of this device was removed".to_owned(),
                })),
            )));
            return;
        }
        let spec = Box::new(d.specs[i].clone());
        let instance = d.instances[i].clone();
        let shared_elsewhere = d.machine.executable(exe).is_some_and(|x| x.shared)
            && match d.machine.executable(exe).map(|x| &x.host) {
                Some(Host::Device(dev)) => self
                    .shared
                    .get(dev)
                    .is_some_and(|s| s.used_by_others(&spec.component, id)),
                _ => false,
            };
        let call = match command {
            Command::Prepare { .. } => Call::Prepare { id, exe, spec },
            Command::Start { .. } | Command::Restart { .. } => {
                d.starting[i] = true;
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
                Call::Start {
                    id,
                    exe,
                    spec,
                    previous,
                }
            }
            Command::Stop { grace, .. } => {
                if shared_elsewhere {
                    // Still used by another deployment on the device.
                    let done = Internal::Op(id, exe, OpResult::Stopped(Ok(())));
                    return self.effects.push(Effect::Notify(done));
                }
                if d.starting[i] {
                    // Its instance is not known until the start answers: stop it then.
                    d.stop_after_start[i] = Some(grace);
                    return;
                }
                match instance {
                    Some(instance) => Call::Stop {
                        id,
                        exe,
                        instance,
                        grace,
                    },
                    // Never created.
                    None => {
                        let done = Internal::Op(id, exe, OpResult::Stopped(Ok(())));
                        return self.effects.push(Effect::Notify(done));
                    }
                }
            }
            // The start in flight answers it: an inspection now would find nothing yet.
            Command::Inspect { .. } if d.starting[i] => {
                d.inspect_after_start[i] = true;
                return;
            }
            Command::Inspect { .. } => Call::Inspect {
                id,
                exe,
                instance,
                spec,
            },
        };
        self.emit(Effect::Call(key, call));
    }

    /// A command's task finished.
    pub(crate) fn handle_op(&mut self, id: DeploymentId, exe: ExecutableIndex, result: OpResult) {
        let now = self.now();
        let Some(d) = self.deployments.get_mut(&id) else {
            // Ended while its start was tried again: what the start made is stopped.
            if let OpResult::Started(started, _) = result
                && let Some(key) = self.leftovers.take_start(id, exe)
                && let Ok(instance) = started
            {
                self.discard_leftover(key, id, instance);
            }
            return;
        };
        let i = exe.get();
        if let OpResult::Started(started, _) = &result {
            d.starting[i] = false;
            if let Some(grace) = d.stop_after_start[i].take() {
                // A deprovision came while it was starting: stop what the start created.
                d.inspect_after_start[i] = false;
                match started {
                    Ok(inst) => {
                        let key = d.keys[i].clone();
                        d.instances[i] = Some(inst.clone());
                        // Its status shows the instance until the stop is done.
                        self.dirty.insert(id);
                        self.instances
                            .insert((key.clone(), inst.clone()), (id, exe));
                        match self.runtimes.contains_key(&key) {
                            true => self.effects.push(Effect::Call(
                                key,
                                Call::Stop {
                                    id,
                                    exe,
                                    instance: inst.clone(),
                                    grace,
                                },
                            )),
                            false => {
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
            if std::mem::take(&mut d.inspect_after_start[i]) && started.is_err() {
                // Inspected meanwhile (its device came back while the start was tried again):
                // the machine waits for what the runtime holds, so look now.
                let call = Call::Inspect {
                    id,
                    exe,
                    instance: d.instances[i].clone(),
                    spec: Box::new(d.specs[i].clone()),
                };
                let key = d.keys[i].clone();
                self.emit(Effect::Call(key, call));
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
                if let Some(early) = self.early_events.take(&(key.clone(), inst)) {
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
                let now = self.now();
                self.early_events.keep(k, event, now);
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
        if online {
            let key = RuntimeKey::Device(device.to_owned());
            for (deployment, instance) in self.leftovers.take_device(device) {
                self.discard_leftover(key.clone(), deployment, instance);
            }
        }
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
    ) -> Result<(RuntimeKey, InstanceId), EngineError> {
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
        let key = d.keys[exe.get()].clone();
        if !self.runtimes.contains_key(&key) {
            return Err(EngineError::NoRuntime(format!("deployment {id}")));
        }
        Ok((key, inst))
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

/// A deployment checked and resolved, not tracked yet: [`State::stage_deployment`].
pub(crate) struct StagedDeployment {
    id: DeploymentId,
    req: DeploymentRequest,
    package: Package,
    machine: Machine,
    instances: Vec<InstanceSpec>,
    keys: Vec<RuntimeKey>,
    shared: Vec<(String, String, crate::model::RestartPolicy)>,
    job: Option<(JobId, u32)>,
    /// What is written before the deployment exists.
    pub(crate) batch: WriteBatch,
}
