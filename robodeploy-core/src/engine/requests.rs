//! The driver's answers to API requests.

use crate::model::{Fleet, JobStatus};
use crate::store::{Table, WriteBatch};

use super::EngineError;
use super::driver::{Driver, TokenTarget};
use super::request::{Request, RuntimeKey};

impl Driver {
    pub(crate) fn handle_request(&mut self, req: Request) {
        let now = self.now();
        match req {
            Request::AddPackage(p, reply) => {
                let _ = reply.send(self.catalog.add(p).map_err(EngineError::from));
            }
            Request::ListPackages(reply) => {
                let _ = reply.send(Ok(self.catalog.list().into_iter().cloned().collect()));
            }
            Request::GetPackage(name, version, reply) => {
                let r = self.catalog.get(&name, &version).cloned().ok_or_else(|| {
                    EngineError::from(super::CatalogError::NotFound {
                        name,
                        version: version.to_string(),
                    })
                });
                let _ = reply.send(r);
            }
            Request::DeletePackage(name, version, reply) => {
                let user = self
                    .deployments
                    .values()
                    .find(|d| d.package.name == name && d.package.version == version)
                    .map(|d| d.request.name.clone());
                let r = self
                    .catalog
                    .remove(&name, &version, user.as_deref())
                    .map(|_| ())
                    .map_err(EngineError::from);
                let _ = reply.send(r);
            }
            Request::AddDevice(device, runtime, reply) => {
                let name = device.name.clone();
                let r = self.devices.add(*device).map_err(EngineError::from);
                if matches!(r, Ok(true)) {
                    self.attach_runtime(RuntimeKey::Device(name), runtime);
                }
                let _ = reply.send(r);
            }
            Request::SetCloudRuntime(runtime, reply) => {
                self.attach_runtime(RuntimeKey::Cloud, runtime);
                let _ = reply.send(Ok(()));
            }
            Request::RemoveDevice(name, reply) => {
                let user = self
                    .deployments
                    .values()
                    .find(|d| d.keys.contains(&RuntimeKey::Device(name.clone())))
                    .map(|d| d.request.name.clone());
                let r = self.devices.remove(&name, user.as_deref()).map(|_| ());
                if r.is_ok() {
                    self.runtimes.remove(&RuntimeKey::Device(name));
                }
                let _ = reply.send(r.map_err(EngineError::from));
            }
            Request::ListDevices(reply) => {
                let _ = reply.send(Ok(self.devices.list().cloned().collect()));
            }
            Request::AddFleet(fleet, reply) => {
                let _ = reply.send(self.add_fleet(fleet));
            }
            Request::DeviceRebooted(name, reply) => {
                self.device_rebooted(&name);
                let _ = reply.send(Ok(()));
            }
            Request::Deploy(req, token, reply) => {
                if let Some(TokenTarget::Deployment(id)) =
                    token.as_ref().and_then(|t| self.tokens.get(t))
                {
                    let _ = reply.send(Ok(*id));
                    return;
                }
                let r = self.deploy_request(*req);
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.remember_token(t, TokenTarget::Deployment(*id));
                }
                let _ = reply.send(r);
            }
            Request::Deprovision(id, reply) => {
                let _ = reply.send(self.deprovision(id));
            }
            Request::Status(id, reply) => {
                let r = self
                    .deployments
                    .get(&id)
                    .map(|d| d.status(now))
                    .or_else(|| self.stored_status(id))
                    .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()));
                let _ = reply.send(r);
            }
            Request::FindDeployment(name, reply) => {
                let r = self
                    .names
                    .get(&name)
                    .copied()
                    .ok_or(EngineError::NoSuchDeployment(name));
                let _ = reply.send(r);
            }
            Request::ListDeployments(reply) => {
                let _ = reply.send(Ok(self
                    .deployments
                    .values()
                    .map(|d| d.status(now))
                    .collect()));
            }
            Request::Instance(id, component, executable, reply) => {
                let _ = reply.send(self.instance_of(id, &component, &executable));
            }
            Request::CreateJob(req, token, reply) => {
                if let Some(TokenTarget::Job(id)) = token.as_ref().and_then(|t| self.tokens.get(t))
                {
                    let _ = reply.send(Ok(*id));
                    return;
                }
                let r = self.create_job(*req);
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.remember_token(t, TokenTarget::Job(*id));
                }
                let _ = reply.send(r);
            }
            Request::CancelJob(id, reply) => {
                let r = match self.jobs.get_mut(&id) {
                    Some(j) => {
                        j.rollout.handle_cancel(now);
                        self.dirty_jobs.insert(id);
                        Ok(())
                    }
                    None => Err(EngineError::NoSuchJob(id)),
                };
                let _ = reply.send(r);
            }
            Request::ResumeJob(id, reply) => {
                let r = match self.jobs.get_mut(&id) {
                    Some(j) => {
                        j.rollout.handle_resume(now);
                        self.dirty_jobs.insert(id);
                        Ok(())
                    }
                    None => Err(EngineError::NoSuchJob(id)),
                };
                let _ = reply.send(r);
            }
            Request::JobReport(id, reply) => {
                self.drop_expired_jobs();
                let r = self
                    .jobs
                    .get(&id)
                    .map(|j| j.report())
                    .ok_or(EngineError::NoSuchJob(id));
                let _ = reply.send(r);
            }
            Request::ListJobs(reply) => {
                self.drop_expired_jobs();
                let _ = reply.send(Ok(self.jobs.values().map(|j| j.report()).collect()));
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

    fn add_fleet(&mut self, fleet: Fleet) -> Result<(), EngineError> {
        for r in &fleet.robots {
            if self.devices.get(&r.name).is_none() {
                return Err(super::DeviceError::NotFound(r.name.clone()).into());
            }
        }
        self.fleets.insert(fleet.name.clone(), fleet);
        Ok(())
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
            .get(Table::Deployments, &format!("{id}/status"))
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
            let mut b = WriteBatch::default();
            b.delete(Table::Jobs, id.to_string());
            let _ = self.store.write(b);
        }
    }

    /// Deprovisions everything and cancels every job.
    pub(crate) fn begin_shutdown(&mut self) {
        let now = self.now();
        for j in self.jobs.values_mut() {
            if !j.rollout.status().is_terminal() && j.rollout.status() != JobStatus::Canceled {
                j.rollout.handle_cancel(now);
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
