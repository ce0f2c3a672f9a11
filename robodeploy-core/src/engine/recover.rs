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
use crate::model::{DeploymentId, Fleet, JobId, JobStatus, Package, RobotStatus};
use crate::rollout::{RobotIndex, RobotInit, Rollout};

use crate::runtime::{InstanceInfo, InstanceState, labels};
use crate::store::{Store, StoreError, Table};

use super::effect::{Call, Effect};
use super::entries::{DeploymentEntry, JobEntry, RobotRun};
use super::journal::{JournalEntry, Journaled, LastCommand, replay};
use super::message::RuntimeKey;
use super::persist::{MachineHeader, StoredDeployment, StoredDevice, StoredJob};
use super::restoring::Stored;
use super::state::{State, TokenTarget};
use super::{EngineEvent, RecoveryAction};

fn decode<T: serde::de::DeserializeOwned>(
    table: Table,
    key: &str,
    value: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|source| StoreError::Decode {
        table,
        key: key.to_owned(),
        source,
    })
}

/// Decodes a table's rows, on every core when there are many: a large fleet's device records
/// are most of what a restart loads.
fn decode_rows<T: serde::de::DeserializeOwned + Send>(
    table: Table,
    rows: Vec<(String, Vec<u8>)>,
) -> Result<Vec<(String, T)>, StoreError> {
    let decode_part = |part: &[(String, Vec<u8>)]| {
        part.iter()
            .map(|(k, v)| decode(table, k, v).map(|t| (k.clone(), t)))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || rows.len() < PARALLEL_DECODE_ROWS {
        return decode_part(&rows);
    }
    let chunk = rows.len().div_ceil(threads);
    let decode_part = &decode_part;
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| scope.spawn(move || decode_part(part)))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for part in parts {
            match part.join() {
                Ok(decoded) => out.extend(decoded?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

/// Below this many rows a table is decoded on the calling thread.
const PARALLEL_DECODE_ROWS: usize = 4096;

impl State {
    /// Loads everything the store holds. Nothing is started here: deployments wait for their
    /// runtimes ([`State::runtime_attached`]).
    pub(crate) fn load(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        for (k, v) in store.scan(Table::Packages)? {
            let p: Package = decode(Table::Packages, &k, &v)?;
            let _ = self.catalog.add(p);
        }
        let devices = decode_rows::<StoredDevice>(Table::Devices, store.scan(Table::Devices)?)?;
        self.recovery.devices.reserve(devices.len());
        self.recovery.devices.extend(devices);
        for (k, v) in store.scan(Table::Fleets)? {
            let f: Fleet = decode(Table::Fleets, &k, &v)?;
            self.fleets.insert(k, f);
        }
        for (k, v) in store.scan(Table::Tokens)? {
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
        self.load_deployments(store)?;
        self.load_jobs(store)?;
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
        Ok(())
    }

    /// Registers again every stored device the application's factory makes a runtime for,
    /// as `add_devices` would (the stored record is the device: same id, same installed
    /// applications; nothing to write).
    pub(crate) fn restore_devices(&mut self, factory: &dyn super::RuntimeFactory) {
        let stored = std::mem::take(&mut self.recovery.devices);
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

    fn load_deployments(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let mut created: BTreeMap<DeploymentId, StoredDeployment> = BTreeMap::new();
        let mut headers: HashMap<DeploymentId, MachineHeader> = HashMap::new();
        let mut exes: HashMap<DeploymentId, Vec<ExecutableRecord>> = HashMap::new();
        for (k, v) in store.scan(Table::Deployments)? {
            let mut parts = k.split('/');
            let Some(Ok(id)) = parts.next().map(str::parse::<DeploymentId>) else {
                continue;
            };
            match (parts.next(), parts.next()) {
                (None, _) => {
                    created.insert(id, decode(Table::Deployments, &k, &v)?);
                }
                (Some("machine"), None) => {
                    headers.insert(id, decode(Table::Deployments, &k, &v)?);
                }
                // Keys sort by index: executables arrive in order.
                (Some("exe"), Some(_)) => {
                    exes.entry(id)
                        .or_default()
                        .push(decode(Table::Deployments, &k, &v)?);
                }
                (Some("final"), None) => {
                    self.recovery.retired.insert(id);
                }
                _ => {}
            }
        }
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
            self.names.insert(stored.request.name.clone(), id);
            self.recovery
                .deployments
                .insert(id, Stored { stored, record });
        }
        Ok(())
    }

    fn load_jobs(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let mut created: BTreeMap<JobId, StoredJob> = BTreeMap::new();
        let mut logs: HashMap<JobId, Vec<JournalEntry>> = HashMap::new();
        let mut chunks: HashMap<JobId, u64> = HashMap::new();
        for (k, v) in store.scan(Table::Jobs)? {
            let mut parts = k.split('/');
            let Some(Ok(id)) = parts.next().map(str::parse::<JobId>) else {
                continue;
            };
            match parts.next() {
                None => {
                    created.insert(id, decode(Table::Jobs, &k, &v)?);
                }
                Some("log") => {
                    let ops: Vec<JournalEntry> = decode(Table::Jobs, &k, &v)?;
                    logs.entry(id).or_default().extend(ops);
                    let seq = parts
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0);
                    let next = chunks.entry(id).or_default();
                    *next = (*next).max(seq + 1);
                }
                _ => {}
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
            let Ok(mut rollout) = rollout else {
                warn!(job = %id, "the stored job no longer builds; not recovered");
                continue;
            };
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
                    request: job.request,
                    package,
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
        Ok(())
    }

    /// A runtime was attached: list what it holds if anything stored may be on it.
    pub(crate) fn runtime_attached(&mut self, key: RuntimeKey) {
        let wanted = self.recovery.waiting.contains_key(&key)
            || !self.recovery.retired.is_empty()
            || match &key {
                RuntimeKey::Device(d) => self.recovery.robots.contains_key(d),
                RuntimeKey::Cloud => false,
            };
        if !wanted || self.recovery.inventories.contains_key(&key) {
            self.resume_robots_on(&key);
            return;
        }
        if !self.recovery.listing.insert(key.clone()) {
            return;
        }
        // The driver streams its events before it lists it: an instance that exits in
        // between is still heard of.
        self.emit(Effect::Call(key, Call::List));
    }

    /// A runtime's inventory arrived: restore what waited for it, remove orphans, carry on the
    /// job robots on it.
    pub(crate) fn handle_inventory(&mut self, key: RuntimeKey, list: Vec<InstanceInfo>) {
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
            this.names.remove(&s.stored.request.name);
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
            let found = self
                .recovery
                .inventories
                .get(key)
                .and_then(|list| list.iter().find(|info| info.name == spec.name));
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
                job,
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
