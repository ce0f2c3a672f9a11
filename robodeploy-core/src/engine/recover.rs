//! Bringing a restarted engine back to where its store says it was.
//!
//! At start the state is loaded from the store ([`State::load`]): the catalog, fleets and client tokens
//! at once; devices wait for the application to register them again with their runtimes; every
//! job is rebuilt by replaying its journal; every deployment that had not reached a terminal
//! phase waits for its runtimes. When a runtime is attached, the driver lists what it holds by
//! robodeploy's labels (the inventory, retried until the runtime answers) and reconciles:
//!
//! - a deployment whose runtimes have all answered is restored from its record
//!   ([`Deployment::restore`](crate::lifecycle::Deployment::restore)) with the instances found
//!   under its executables' names: running ones are adopted, exited or missing ones are restarted
//!   per policy, a deprovision under way is finished;
//! - an instance of a deployment the store holds as deprovisioned is stopped and removed;
//! - instances of deployments the store does not know are left alone (another engine's);
//! - a job robot that was in flight is carried on: its deployment is re-checked when one
//!   exists, otherwise its pipeline runs again from the start (scripts are expected to be
//!   idempotent, as any retried script must be).
//!
//! Each action is published as an [`EngineEvent::Recovery`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tracing::warn;

use crate::lifecycle::{
    DependencyState, Deployment as Machine, DeploymentRecord, Event, ExecutableRecord,
};
use crate::model::{DeploymentId, JobId, JobStatus, RobotStatus};
use crate::rollout::{RobotIndex, RobotInit, Rollout};

use crate::runtime::{InstanceInfo, InstanceState, labels};
use crate::store::{Store, StoreError};
use crate::time::Time;

use super::decode::{self, DeploymentRow, JobRow};
use super::effect::{Call, Effect};
use super::entries::{DeploymentEntry, JobEntry, RobotRun};
use super::journal::{JournalEntry, Journaled, LastCommand, replay};
use super::message::RuntimeKey;
use super::persist::{MachineHeader, StoredDeployment, StoredDevice, StoredJob};
use super::restoring::Stored;
use super::state::{State, TokenTarget};
use super::{EngineEvent, RecoveryAction};

impl State {
    /// Loads everything the store holds, then brings back the devices `factory` makes runtimes
    /// for. Nothing is started here: deployments wait for their runtimes
    /// ([`State::runtime_attached`]).
    pub(crate) fn load(
        &mut self,
        store: &dyn Store,
        factory: Option<&dyn super::RuntimeFactory>,
    ) -> Result<(), StoreError> {
        self.store_id = crate::store::store_id(store)?;
        let decoded = decode::load(store)?;
        for (_, p) in decoded.packages {
            let _ = self.catalog.add(p);
        }
        self.fleets.extend(decoded.fleets);
        for (k, v) in decoded.tokens {
            let text = String::from_utf8_lossy(&v);
            let target = match text.split_once('/') {
                Some(("deployment", id)) => id.parse().ok().map(TokenTarget::Deployment),
                Some(("job", id)) => id.parse().ok().map(TokenTarget::Job),
                _ => None,
            };
            if let Some(t) = target {
                self.tokens.insert(k, t);
            }
        }
        self.load_deployments(decoded.deployments);
        self.load_jobs(decoded.jobs);
        let waiting: Vec<(DeploymentId, BTreeSet<RuntimeKey>)> = self
            .recovery
            .deployments
            .iter()
            .map(|(id, s)| (*id, self.keys_of(&s.stored)))
            .collect();
        for (id, keys) in waiting {
            for k in keys {
                self.recovery.waiting.entry(k).or_default().push(id);
            }
        }
        // The devices last: attaching a runtime looks at what waits for it.
        match factory {
            Some(factory) => self.restore_devices(decoded.devices, factory),
            None => self.keep_devices(decoded.devices),
        }
        Ok(())
    }

    /// Keeps device records until the application registers each device again.
    fn keep_devices(&mut self, devices: Vec<(String, StoredDevice)>) {
        self.recovery.devices.reserve(devices.len());
        self.recovery.devices.extend(devices);
    }

    /// Registers again every stored device the application's factory makes a runtime for,
    /// as `add_devices` would (the stored record is the device: same id, same installed
    /// applications; nothing to write); the others wait for the application.
    fn restore_devices(
        &mut self,
        stored: Vec<(String, StoredDevice)>,
        factory: &dyn super::RuntimeFactory,
    ) {
        self.devices.reserve(stored.len());
        self.runtimes.reserve(stored.len());
        for (name, stored) in stored {
            let Some(runtime) = factory.runtime_for(&stored.device, &stored.runtime) else {
                self.recovery.devices.insert(name, stored);
                continue;
            };
            // As a device registered now: reachable until a health check says otherwise.
            let mut device = stored.device;
            device.online = true;
            if self.devices.add(device).is_ok() {
                self.attach_runtime(RuntimeKey::Device(name), runtime);
            }
        }
    }

    fn load_deployments(&mut self, rows: Vec<(DeploymentId, DeploymentRow)>) {
        let mut created: BTreeMap<DeploymentId, StoredDeployment> = BTreeMap::new();
        let mut headers: HashMap<DeploymentId, MachineHeader> = HashMap::new();
        let mut exes: HashMap<DeploymentId, Vec<ExecutableRecord>> = HashMap::new();
        let mut ended: HashMap<DeploymentId, Time> = HashMap::new();
        for (id, row) in rows {
            match row {
                DeploymentRow::Created(stored) => {
                    created.insert(id, *stored);
                }
                DeploymentRow::Header(header) => {
                    headers.insert(id, header);
                }
                // Keys sort by index: executables arrive in order.
                DeploymentRow::Exe(exe) => exes.entry(id).or_default().push(exe),
                DeploymentRow::Final => {
                    self.recovery.retired.insert(id);
                }
                DeploymentRow::Ended(at) => {
                    ended.insert(id, at);
                }
            }
        }
        // A status kept without its end (written before ends were): its retention counts from
        // now, and that is written, so that a later start does not count again.
        let now = self.now();
        let mut unended: Vec<DeploymentId> = self
            .recovery
            .retired
            .iter()
            .filter(|id| !ended.contains_key(id))
            .copied()
            .collect();
        unended.sort_unstable();
        for id in unended {
            self.record_ended(id, now);
        }
        self.ended
            .extend(ended.into_iter().map(|(id, at)| (at, id)));
        for (id, stored) in created {
            if self.recovery.retired.contains(&id) {
                continue;
            }
            let record = headers.remove(&id).map(|h| DeploymentRecord {
                phase: h.phase,
                deployed: h.deployed,
                deprovisioning: h.deprovisioning,
                executables: exes.remove(&id).unwrap_or_default(),
            });
            // A name two stored deployments share (a job robot's abandoned attempt still
            // stopping, and its next one) names the one not being deprovisioned.
            let stopping = record.as_ref().is_some_and(|r| r.deprovisioning);
            if !stopping || !self.names.contains_key(&stored.request.name) {
                self.names.insert(stored.request.name.clone(), id);
            }
            self.recovery
                .deployments
                .insert(id, Stored { stored, record });
        }
    }

    fn load_jobs(&mut self, rows: Vec<(JobId, JobRow)>) {
        let mut created: BTreeMap<JobId, StoredJob> = BTreeMap::new();
        let mut logs: HashMap<JobId, Vec<JournalEntry>> = HashMap::new();
        let mut chunks: HashMap<JobId, u64> = HashMap::new();
        for (id, row) in rows {
            match row {
                JobRow::Created(job) => {
                    created.insert(id, *job);
                }
                JobRow::Log(seq, ops) => {
                    logs.entry(id).or_default().extend(ops);
                    let next = chunks.entry(id).or_default();
                    *next = (*next).max(seq + 1);
                }
            }
        }
        let now = self.now();
        for (id, job) in created {
            let Some(package) = self
                .catalog
                .get(&job.request.application, &job.request.application_version)
                .cloned()
            else {
                warn!(job = %id, "the job's application left the catalog; not recovered");
                continue;
            };
            let rollout = Rollout::new(
                &job.request.deployment_config,
                job.robots.iter().enumerate().map(|(i, _)| RobotInit {
                    online: job.online.get(i).copied().unwrap_or(true),
                    previous_version: job.previous.get(i).and_then(Option::as_ref),
                }),
                job.created_at,
            );
            let Ok(rollout) = rollout else {
                warn!(job = %id, "the stored job no longer builds; not recovered");
                continue;
            };
            // The retention the engine runs with now, also for jobs created under another.
            let mut rollout = rollout.with_retention(self.config.job_retention);
            let replayed = replay(
                &mut rollout,
                logs.remove(&id).unwrap_or_default(),
                job.robots.len(),
            );
            if rollout.expires_at() <= now && rollout.status().is_terminal() {
                self.forget_job(id);
                continue;
            }
            for (i, last) in replayed.last.into_iter().enumerate() {
                let robot = RobotIndex(i as u32);
                let settled = rollout.robot_settled(robot).unwrap_or(true);
                match last {
                    Some(c @ (LastCommand::Deploy | LastCommand::Rollback)) if !settled => {
                        self.recovery
                            .robots
                            .entry(job.robots[i].clone())
                            .or_default()
                            .push((id, i as u32, c));
                    }
                    _ => {}
                }
            }
            let span = tracing::info_span!("job", id = %id, fleet = %job.request.fleet, application = %job.request.application);
            let mut journal = Journaled::new(rollout);
            journal.next_chunk = chunks.get(&id).copied().unwrap_or(0);
            let status = journal.status();
            self.jobs.insert(
                id,
                JobEntry {
                    id,
                    plan: crate::rollout::PipelinePlan::of(&job.request),
                    request: std::sync::Arc::new(job.request),
                    package: std::sync::Arc::new(package),
                    rollout: journal,
                    robots: job.robots,
                    runs: replayed
                        .details
                        .into_iter()
                        .map(|detail| RobotRun {
                            detail,
                            ..RobotRun::default()
                        })
                        .collect(),
                    last_status: status,
                    span,
                },
            );
            // Its timers are armed by the first settle.
            self.dirty_jobs.insert(id);
        }
    }

    /// A runtime was attached: list what it holds if anything stored may be on it.
    pub(crate) fn runtime_attached(&mut self, key: RuntimeKey) {
        let wanted = self.recovery.waiting.contains_key(&key)
            || !self.recovery.retired.is_empty()
            || match &key {
                RuntimeKey::Device(d) => self.recovery.robots.contains_key(d),
                RuntimeKey::Cloud => false,
            };
        if !wanted {
            // Nothing stored may be on it, and no robot of a job waits for it.
            return;
        }
        if self.recovery.inventories.contains_key(&key) {
            self.resume_robots_on(&key);
            return;
        }
        if !self.recovery.listing.insert(key.clone()) {
            return;
        }
        // When a stored deployment waits for it, the driver streams its events before it lists
        // it: an instance that exits in between is still heard of.
        let events = self.recovery.waiting.contains_key(&key);
        self.emit(Effect::Call(key, Call::List { events }));
    }

    /// A runtime's inventory arrived: restore what waited for it, remove orphans, carry on the
    /// job robots on it.
    pub(crate) fn handle_inventory(&mut self, key: RuntimeKey, mut list: Vec<InstanceInfo>) {
        self.recovery.listing.remove(&key);
        // Orphans: instances of deployments that ended.
        for info in &list {
            let Some(Ok(dep)) = info
                .labels
                .get(labels::DEPLOYMENT)
                .map(|v| v.parse::<DeploymentId>())
            else {
                continue;
            };
            if self.recovery.retired.contains(&dep) && self.runtimes.contains_key(&key) {
                let grace = self.config.lifecycle.stop_grace;
                self.emit(Effect::Call(
                    key.clone(),
                    Call::Discard {
                        instance: info.id.clone(),
                        grace,
                    },
                ));
                self.publish(EngineEvent::Recovery(Box::new(
                    RecoveryAction::StoppedOrphan {
                        deployment: dep,
                        instance: info.id.0.clone(),
                    },
                )));
            }
        }
        // Sorted by name (stable: the first of equal names stays first), so each restored
        // executable finds its instance by a binary search, not a scan of the runtime's list.
        list.sort_by(|a, b| a.name.cmp(&b.name));
        self.recovery.inventories.insert(key.clone(), list);
        let candidates = self.recovery.waiting.remove(&key).unwrap_or_default();
        let ready: Vec<DeploymentId> = candidates
            .into_iter()
            .filter(|id| {
                self.recovery.deployments.get(id).is_some_and(|s| {
                    self.keys_of(&s.stored)
                        .iter()
                        .all(|k| self.recovery.inventories.contains_key(k))
                })
            })
            .collect();
        for id in ready {
            if let Some(s) = self.recovery.deployments.remove(&id) {
                self.restore_deployment(id, s);
            }
        }
        self.resume_robots_on(&key);
    }

    /// The status of a stored deployment still waiting for its runtimes.
    pub(crate) fn waiting_status(
        &self,
        id: DeploymentId,
        now: crate::time::Time,
    ) -> Option<super::DeploymentStatus> {
        let s = self.recovery.deployments.get(&id)?;
        Some(super::DeploymentStatus {
            id,
            name: s.stored.request.name.clone(),
            package: s.stored.package.clone(),
            version: s.stored.version.clone(),
            phase: s
                .record
                .as_ref()
                .map_or(crate::model::Phase::InProgress, |r| r.phase),
            status: crate::model::StatusKind::Unknown,
            errors: Vec::new(),
            restart_count: s.record.as_ref().map_or(0, |r| {
                r.executables.iter().map(|e| u64::from(e.restarts)).sum()
            }),
            executables: Vec::new(),
            depends_on: s.stored.request.depends_on.clone(),
            job: s.stored.job.map(|(j, _)| j),
            created_at: s.stored.created_at,
            at: now,
        })
    }

    /// The runtimes a stored deployment's executables run on.
    fn keys_of(&self, stored: &StoredDeployment) -> BTreeSet<RuntimeKey> {
        let Some(package) = self.catalog.get(&stored.package, &stored.version) else {
            return BTreeSet::new();
        };
        package
            .components
            .iter()
            .map(|c| {
                if c.placement.is_device() {
                    stored
                        .request
                        .devices
                        .get(&c.name)
                        .map_or(RuntimeKey::Cloud, |d| RuntimeKey::Device(d.clone()))
                } else {
                    RuntimeKey::Cloud
                }
            })
            .collect()
    }

    fn restore_deployment(&mut self, id: DeploymentId, s: Stored) {
        let fail = |this: &mut State, message: String| {
            warn!(deployment = %id, %message, "a stored deployment could not be restored");
            if this.names.get(&s.stored.request.name) == Some(&id) {
                this.names.remove(&s.stored.request.name);
            }
            this.publish(EngineEvent::Recovery(Box::new(RecoveryAction::Failed {
                deployment: id,
                message,
            })));
        };
        let Some(package) = self
            .catalog
            .get(&s.stored.package, &s.stored.version)
            .cloned()
        else {
            let m = format!(
                "package {}@{} is not in the catalog",
                s.stored.package, s.stored.version
            );
            return fail(self, m);
        };
        let resolved = match self.resolve(
            id,
            &s.stored.request,
            &package,
            &s.stored.extra_env,
            s.stored.launch.as_deref(),
            &self.config.lifecycle,
        ) {
            Ok(r) => r,
            Err(e) => return fail(self, e.to_string()),
        };
        let now = self.now();
        let machine = match &s.record {
            Some(record) => Machine::restore(resolved.spec, record, now).map_err(|e| e.to_string()),
            None => Machine::new(resolved.spec, now)
                .map(|mut m| {
                    let _ = m.handle(Event::Deploy, now);
                    m
                })
                .map_err(|e| e.to_string()),
        };
        let mut machine = match machine {
            Ok(m) => m,
            Err(e) => return fail(self, e),
        };
        // From here on the deployment is tracked again: its shared components are its own.
        self.commit_shared(id, &resolved.shared);
        self.brief(
            &mut machine,
            &s.stored.request.depends_on,
            &resolved.keys,
            now,
        );
        let n = resolved.instances.len();
        let mut instances = vec![None; n];
        for (i, spec) in resolved.instances.iter().enumerate() {
            let key = &resolved.keys[i];
            let found = self.recovery.inventories.get(key).and_then(|list| {
                let first = list.partition_point(|info| info.name < spec.name);
                list.get(first).filter(|info| info.name == spec.name)
            });
            let exe = crate::lifecycle::ExecutableIndex(i as u16);
            let meant_to_run = s.record.as_ref().is_some_and(|r| {
                r.executables.get(i).is_some_and(|e| {
                    matches!(
                        e.run,
                        crate::lifecycle::RunRecord::Starting | crate::lifecycle::RunRecord::Live
                    )
                })
            });
            let (component, executable) = (
                machine.component_name(exe).unwrap_or_default().to_owned(),
                machine.executable_name(exe).unwrap_or_default().to_owned(),
            );
            let action = match found {
                Some(info) => {
                    instances[i] = Some(info.id.clone());
                    self.instances
                        .insert((key.clone(), info.id.clone()), (id, exe));
                    match info.state {
                        InstanceState::Running { .. } => Some(RecoveryAction::Adopted {
                            deployment: id,
                            component,
                            executable,
                            instance: info.id.0.clone(),
                        }),
                        _ => Some(RecoveryAction::FoundExited {
                            deployment: id,
                            component,
                            executable,
                            instance: info.id.0.clone(),
                        }),
                    }
                }
                None if meant_to_run => Some(RecoveryAction::Missing {
                    deployment: id,
                    component,
                    executable,
                }),
                None => None,
            };
            if let Some(a) = action {
                self.publish(EngineEvent::Recovery(Box::new(a)));
            }
        }
        let span = tracing::info_span!("deployment", id = %id, name = %s.stored.request.name);
        let job = s.stored.job;
        if let Some((j, r)) = job {
            self.recovery.job_deployments.insert((j, r), id);
            // The job's report names each robot's deployment again.
            if let Some(run) = self
                .jobs
                .get_mut(&j)
                .and_then(|e| e.runs.get_mut(r as usize))
                && run.deployment.is_none()
            {
                run.deployment = Some(id);
            }
        }
        if let Some((j, r)) = job
            && let Some(entry) = self.jobs.get(&j)
            && entry.rollout.robot_status(RobotIndex(r)) == Ok(RobotStatus::InSync)
            && let Some(robot) = entry.robots.get(r as usize)
        {
            self.installed
                .insert((robot.clone(), entry.request.application.clone()), id);
        }
        for name in &s.stored.request.depends_on {
            self.dependents.entry(name.clone()).or_default().insert(id);
        }
        self.deployments.insert(
            id,
            DeploymentEntry {
                id,
                request: s.stored.request,
                package,
                machine,
                specs: resolved.instances,
                keys: resolved.keys,
                instances,
                starting: vec![false; n],
                stop_after_start: vec![None; n],
                inspect_after_start: vec![false; n],
                job,
                created_at: s.stored.created_at,
                last: None,
                dep_state: DependencyState::Other,
                persisted: s.record,
                skip_until_removed: vec![false; n],
                span,
            },
        );
        self.dirty.insert(id);
    }

    /// Carries on the job robots that were in flight on `key`'s device.
    fn resume_robots_on(&mut self, key: &RuntimeKey) {
        let RuntimeKey::Device(device) = key else {
            return;
        };
        let Some(robots) = self.recovery.robots.remove(device) else {
            return;
        };
        for (job, robot, last) in robots {
            let Some(entry) = self.jobs.get(&job) else {
                continue;
            };
            if entry.rollout.status().is_terminal() || entry.rollout.status() == JobStatus::Canceled
            {
                continue;
            }
            let found = self
                .recovery
                .job_deployments
                .get(&(job, robot))
                .copied()
                .filter(|id| {
                    self.deployments
                        .get(id)
                        .is_some_and(|d| !d.machine.is_deprovisioning())
                });
            self.publish(EngineEvent::Recovery(Box::new(
                RecoveryAction::RobotResumed {
                    job,
                    robot: device.clone(),
                    deployment: found,
                },
            )));
            match (found, last) {
                (Some(dep), _) => {
                    let Some(entry) = self.jobs.get_mut(&job) else {
                        continue;
                    };
                    let run = &mut entry.runs[robot as usize];
                    run.attempt += 1;
                    run.deployment = Some(dep);
                    run.post_launch = false;
                    run.rolling_back = last == LastCommand::Rollback;
                    run.pipeline =
                        (!run.rolling_back).then(|| crate::rollout::Pipeline::launched(entry.plan));
                    // Its next status (the first after a restore is always published) moves
                    // the robot on.
                    if let Some(d) = self.deployments.get_mut(&dep) {
                        d.last = None;
                    }
                    self.dirty.insert(dep);
                }
                (None, LastCommand::Rollback) => self.rollback_robot(job, RobotIndex(robot)),
                (None, _) => self.deploy_robot(job, RobotIndex(robot)),
            }
            self.dirty_jobs.insert(job);
        }
    }
}
