//! The driver's answers to API requests.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{Device, Fleet, JobStatus, Package, Version};
use crate::runtime::Runtime;
use crate::store::{Table, WriteBatch};

use super::persist::{self, StoredDevice};
use super::validate;

use super::driver::{Driver, TokenTarget};
use super::request::{Request, RuntimeKey};
use super::{DeviceError, EngineError};

impl Driver {
    pub(crate) fn handle_request(&mut self, req: Request) {
        let now = self.now();
        match req {
            Request::AddPackage(p, reply) => {
                let answer = self.add_package(p);
                self.answer(reply, answer);
            }
            Request::ListPackages(reply) => {
                let answer = Ok(self.catalog.list().into_iter().cloned().collect());
                self.answer(reply, answer);
            }
            Request::GetPackage(name, version, reply) => {
                let r = self.catalog.get(&name, &version).cloned().ok_or_else(|| {
                    EngineError::from(super::CatalogError::NotFound {
                        name,
                        version: version.to_string(),
                    })
                });
                self.answer(reply, r);
            }
            Request::DeletePackage(name, version, reply) => {
                let user = self
                    .deployments
                    .values()
                    .find(|d| d.package.name == name && d.package.version == version)
                    .map(|d| d.request.name.clone());
                let r = self.delete_package(&name, &version, user.as_deref());
                self.answer(reply, r);
            }
            Request::AddDevice(device, runtime, reply) => {
                let answer = self.add_device(*device, runtime);
                self.answer(reply, answer);
            }
            Request::AddDevices(devices, reply) => {
                let answer = self.add_devices(devices);
                self.answer(reply, answer);
            }
            Request::SetCloudRuntime(runtime, reply) => {
                self.attach_runtime(RuntimeKey::Cloud, runtime);
                let answer = Ok(());
                self.answer(reply, answer);
            }
            Request::RemoveDevice(name, reply) => {
                let user = self
                    .deployments
                    .values()
                    .find(|d| d.keys.contains(&RuntimeKey::Device(name.clone())))
                    .map(|d| d.request.name.clone());
                let r = self
                    .devices
                    .remove(&name, user.as_deref())
                    .map_err(EngineError::from)
                    .and_then(|removed| {
                        let mut b = WriteBatch::default();
                        b.delete(Table::Devices, name.clone());
                        match self.store.write(b) {
                            Ok(()) => Ok(()),
                            Err(e) => {
                                // Nothing changes when the store refuses.
                                let _ = self.devices.add(removed);
                                Err(e.into())
                            }
                        }
                    });
                if r.is_ok() {
                    self.runtimes.remove(&RuntimeKey::Device(name));
                }
                self.answer(reply, r);
            }
            Request::ListDevices(reply) => {
                let answer = Ok(self.devices.list().into_iter().cloned().collect());
                self.answer(reply, answer);
            }
            Request::AddFleet(fleet, reply) => {
                let answer = self.add_fleet(fleet);
                self.answer(reply, answer);
            }
            Request::DeviceRebooted(name, reply) => {
                self.device_rebooted(&name);
                let answer = Ok(());
                self.answer(reply, answer);
            }
            Request::Deploy(req, token, reply) => {
                if let Some(TokenTarget::Deployment(id)) =
                    token.as_ref().and_then(|t| self.tokens.get(t))
                {
                    let answer = Ok(*id);
                    self.answer(reply, answer);
                    return;
                }
                let r = self.deploy_request(*req);
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.remember_token(t, TokenTarget::Deployment(*id));
                }
                self.answer(reply, r);
            }
            Request::Deprovision(id, reply) => {
                let answer = self.deprovision(id);
                self.answer(reply, answer);
            }
            Request::Status(id, reply) => {
                let r = self
                    .deployments
                    .get(&id)
                    .map(|d| d.status(now))
                    .or_else(|| self.waiting_status(id, now))
                    .or_else(|| self.stored_status(id))
                    .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()));
                self.answer(reply, r);
            }
            Request::FindDeployment(name, reply) => {
                let r = self
                    .names
                    .get(&name)
                    .copied()
                    .ok_or(EngineError::NoSuchDeployment(name));
                self.answer(reply, r);
            }
            Request::ListDeployments(reply) => {
                // Deployments still waiting for their runtimes after a restart are listed too,
                // with status Unknown.
                let waiting = self
                    .recovery
                    .deployments
                    .keys()
                    .filter_map(|id| self.waiting_status(*id, now));
                let answer = Ok(self
                    .deployments
                    .values()
                    .map(|d| d.status(now))
                    .chain(waiting)
                    .collect());
                self.answer(reply, answer);
            }
            Request::Instance(id, component, executable, reply) => {
                let answer = self.instance_of(id, &component, &executable);
                self.answer(reply, answer);
            }
            Request::CreateJob(req, token, reply) => {
                if let Some(TokenTarget::Job(id)) = token.as_ref().and_then(|t| self.tokens.get(t))
                {
                    let answer = Ok(*id);
                    self.answer(reply, answer);
                    return;
                }
                let r = self.create_job(*req);
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.remember_token(t, TokenTarget::Job(*id));
                }
                self.answer(reply, r);
            }
            Request::CancelJob(id, reply) => {
                let r = match self.jobs.get_mut(&id) {
                    Some(j) => {
                        j.rollout.apply(now, crate::rollout::Input::Cancel, None);
                        self.dirty_jobs.insert(id);
                        Ok(())
                    }
                    None => Err(EngineError::NoSuchJob(id)),
                };
                self.answer(reply, r);
            }
            Request::ResumeJob(id, reply) => {
                let r = match self.jobs.get_mut(&id) {
                    Some(j) => {
                        j.rollout.apply(now, crate::rollout::Input::Resume, None);
                        self.dirty_jobs.insert(id);
                        Ok(())
                    }
                    None => Err(EngineError::NoSuchJob(id)),
                };
                self.answer(reply, r);
            }
            Request::JobReport(id, reply) => {
                self.drop_expired_jobs();
                let r = self
                    .jobs
                    .get(&id)
                    .map(|j| j.report())
                    .ok_or(EngineError::NoSuchJob(id));
                self.answer(reply, r);
            }
            Request::JobTags(id, reply) => {
                let answer = self.job_tags(id);
                self.answer(reply, answer);
            }
            Request::TagJob(id, tags, reply) => {
                let answer = self.tag_job(id, tags);
                self.answer(reply, answer);
            }
            Request::UntagJob(id, keys, reply) => {
                let answer = self.untag_job(id, keys);
                self.answer(reply, answer);
            }
            Request::EligibleDevices(package, version, component, reply) => {
                let answer = self.eligible_devices(&package, &version, &component);
                self.answer(reply, answer);
            }
            Request::ListJobs(reply) => {
                self.drop_expired_jobs();
                let answer = Ok(self.jobs.values().map(|j| j.report()).collect());
                self.answer(reply, answer);
            }
            Request::Shutdown(reply) => {
                self.shutdown_waiters.push(reply);
                self.begin_shutdown();
            }
            Request::Detach(reply) => self.detach_waiter = Some(reply),
        }
    }

    fn deploy_request(
        &mut self,
        req: crate::model::DeploymentRequest,
    ) -> Result<crate::model::DeploymentId, EngineError> {
        let package = self
            .catalog
            .get(&req.package, &req.version)
            .cloned()
            .ok_or_else(|| super::CatalogError::NotFound {
                name: req.package.clone(),
                version: req.version.to_string(),
            })?;
        self.check_deployment(&req, &package)?;
        self.create_deployment(req, package, &Default::default(), None, None)
    }

    /// The registered devices a package's component can be deployed on.
    fn eligible_devices(
        &self,
        package: &str,
        version: &Version,
        component: &str,
    ) -> Result<Vec<Device>, EngineError> {
        let p =
            self.catalog
                .get(package, version)
                .ok_or_else(|| super::CatalogError::NotFound {
                    name: package.to_owned(),
                    version: version.to_string(),
                })?;
        let c = p
            .component(component)
            .ok_or_else(|| EngineError::NoSuchComponent {
                package: package.to_owned(),
                version: version.clone(),
                component: component.to_owned(),
            })?;
        Ok(self.devices.eligible(c).into_iter().cloned().collect())
    }

    fn add_fleet(&mut self, fleet: Fleet) -> Result<(), EngineError> {
        validate::check_fleet(&fleet)?;
        for r in &fleet.robots {
            if self.devices.get(&r.name).is_none() {
                return Err(super::DeviceError::NotFound(r.name.clone()).into());
            }
        }
        let mut b = WriteBatch::default();
        b.put(Table::Fleets, fleet.name.clone(), persist::to_json(&fleet));
        self.store.write(b)?;
        self.fleets.insert(fleet.name.clone(), fleet);
        Ok(())
    }

    fn add_package(&mut self, package: Package) -> Result<bool, EngineError> {
        validate::check_package(&package, self.config.allow_host_takeover_mounts)?;
        let key = format!("{}@{}", package.name, package.version);
        let value = persist::to_json(&package);
        let (name, version) = (package.name.clone(), package.version.clone());
        let added = self.catalog.add(package)?;
        if added {
            let mut b = WriteBatch::default();
            b.put(Table::Packages, key, value);
            if let Err(e) = self.store.write(b) {
                let _ = self.catalog.remove(&name, &version, None);
                return Err(e.into());
            }
        }
        Ok(added)
    }

    fn delete_package(
        &mut self,
        name: &str,
        version: &Version,
        in_use_by: Option<&str>,
    ) -> Result<(), EngineError> {
        let removed = self.catalog.remove(name, version, in_use_by)?;
        let mut b = WriteBatch::default();
        b.delete(Table::Packages, format!("{name}@{version}"));
        if let Err(e) = self.store.write(b) {
            let _ = self.catalog.add(removed);
            return Err(e.into());
        }
        Ok(())
    }

    /// Registers a device with its runtime. A device the store knows (the engine restarted)
    /// keeps what jobs installed on it, and its stored deployments are reconciled with the
    /// runtime.
    fn add_device(
        &mut self,
        device: Device,
        runtime: Arc<dyn Runtime>,
    ) -> Result<bool, EngineError> {
        let mut added = self.add_devices(vec![(device, runtime)])?;
        Ok(added.pop().unwrap_or(false))
    }

    /// Registers devices all at once: every one is checked before any is registered, their
    /// records are written in one batch, and a refusal or a failed write registers none.
    fn add_devices(
        &mut self,
        devices: Vec<(Device, Arc<dyn Runtime>)>,
    ) -> Result<Vec<bool>, EngineError> {
        for (device, _) in &devices {
            validate::check_device(device)?;
        }
        let mut added = Vec::with_capacity(devices.len());
        let mut fresh: Vec<(Device, Arc<dyn Runtime>)> = Vec::new();
        // Names in this batch, and where in `fresh` each went.
        let mut in_batch: HashMap<String, usize> = HashMap::new();
        let mut batch = WriteBatch::default();
        for (mut device, runtime) in devices {
            // A device the store knows by this name is the same device: it keeps its id and
            // what jobs installed on it.
            let mut stored_as = None;
            if let Some(stored) = self.recovery.devices.get(&device.name) {
                device.id = stored.device.id;
                for (app, v) in &stored.device.installed {
                    device
                        .installed
                        .entry(app.clone())
                        .or_insert_with(|| v.clone());
                }
                stored_as = Some(stored);
            }
            let registered = self
                .devices
                .get(&device.name)
                .or_else(|| in_batch.get(&device.name).map(|&i| &fresh[i].0));
            match registered {
                Some(d) if d.id == device.id => {
                    added.push(false);
                    continue;
                }
                Some(_) => return Err(DeviceError::Conflict(device.name).into()),
                None => {}
            }
            // Registering a device again after a restart writes nothing when nothing changed.
            let runtime_name = runtime.name();
            if !stored_as.is_some_and(|s| s.device == device && s.runtime == runtime_name) {
                let record = StoredDevice {
                    device: device.clone(),
                    runtime: runtime_name,
                };
                batch.put(
                    Table::Devices,
                    device.name.clone(),
                    persist::to_json(&record),
                );
            }
            in_batch.insert(device.name.clone(), fresh.len());
            fresh.push((device, runtime));
            added.push(true);
        }
        if !batch.is_empty() {
            self.store.write(batch)?;
        }
        self.devices.reserve(fresh.len());
        self.runtimes.reserve(fresh.len());
        for (device, runtime) in fresh {
            let name = device.name.clone();
            self.devices.add(device)?;
            self.recovery.devices.remove(&name);
            self.attach_runtime(RuntimeKey::Device(name), runtime);
        }
        Ok(added)
    }

    /// Writes a device's record again (what jobs installed on it changed).
    pub(crate) fn persist_device(&mut self, name: &str) {
        let Some(device) = self.devices.get(name) else {
            return;
        };
        let runtime = self
            .runtimes
            .get(&RuntimeKey::Device(name.to_owned()))
            .map(|s| s.runtime.name())
            .unwrap_or_default();
        let record = StoredDevice {
            device: device.clone(),
            runtime,
        };
        self.pending_writes
            .put(Table::Devices, name.to_owned(), persist::to_json(&record));
    }

    /// The status of a stored deployment still waiting for its runtimes.
    fn waiting_status(
        &self,
        id: crate::model::DeploymentId,
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

    fn remember_token(&mut self, token: String, target: TokenTarget) {
        let value = match target {
            TokenTarget::Deployment(id) => format!("deployment/{id}"),
            TokenTarget::Job(id) => format!("job/{id}"),
        };
        let mut b = WriteBatch::default();
        b.put(Table::Tokens, token.clone(), value.into_bytes());
        let _ = self.store.write(b);
        self.tokens.insert(token, target);
    }

    fn stored_status(&self, id: crate::model::DeploymentId) -> Option<super::DeploymentStatus> {
        let bytes = self
            .store
            .get(Table::Deployments, &persist::final_key(id))
            .ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    /// Drops jobs past their retention.
    fn drop_expired_jobs(&mut self) {
        let now = self.now();
        let expired: Vec<_> = self
            .jobs
            .values()
            .filter(|j| j.rollout.expires_at() <= now && j.rollout.status().is_terminal())
            .map(|j| j.id)
            .collect();
        for id in expired {
            self.jobs.remove(&id);
            self.forget_job(id);
        }
    }

    /// Deletes a job and its journal from the store (the retention rule).
    pub(crate) fn forget_job(&mut self, id: crate::model::JobId) {
        let mut b = WriteBatch::default();
        b.delete(Table::Jobs, persist::job_key(id));
        b.delete_prefix(Table::Jobs, format!("{id}/"));
        if let Err(e) = self.store.write(b) {
            tracing::warn!(job = %id, error = %e, "an expired job could not be removed from the store");
        }
    }

    /// Deprovisions everything and cancels every job.
    pub(crate) fn begin_shutdown(&mut self) {
        let now = self.now();
        for j in self.jobs.values_mut() {
            if !j.rollout.status().is_terminal() && j.rollout.status() != JobStatus::Canceled {
                j.rollout.apply(now, crate::rollout::Input::Cancel, None);
                self.dirty_jobs.insert(j.id);
            }
        }
        let ids: Vec<_> = self.deployments.keys().copied().collect();
        for id in ids {
            let _ = self.deprovision(id);
        }
        self.shutting_down = true;
    }
}
