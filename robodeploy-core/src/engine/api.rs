//! The driver's answers to API requests ([`Request`]). Reads are answered from the state;
//! a change the caller must hear the fate of is staged by the state, written here, then
//! committed: a refused write answers the store's error and changes nothing. Every answer is
//! sent once the turn has settled ([`Driver::answer`]).

use std::collections::BTreeMap;

use crate::model::JobId;
use crate::store::{StoreError, Table, WriteBatch};

use super::EngineError;
use super::driver::Driver;
use super::message::{Request, RuntimeKey};
use super::persist::{self, StoredJob};
use super::state::TokenTarget;

impl Driver {
    pub(crate) fn handle_request(&mut self, req: Request) {
        let now = self.state.now();
        match req {
            Request::AddPackage(p, reply) => {
                let answer = match self.state.stage_package(&p) {
                    Ok(None) => Ok(false),
                    Ok(Some(batch)) => self.write(batch).map(|()| {
                        self.state.commit_package(p);
                        true
                    }),
                    Err(e) => Err(e),
                };
                self.answer(reply, answer);
            }
            Request::ListPackages(reply) => {
                let answer = Ok(self.state.catalog.list().into_iter().cloned().collect());
                self.answer(reply, answer);
            }
            Request::GetPackage(name, version, reply) => {
                let r = self
                    .state
                    .catalog
                    .get(&name, &version)
                    .cloned()
                    .ok_or_else(|| {
                        EngineError::from(super::CatalogError::NotFound {
                            name,
                            version: version.to_string(),
                        })
                    });
                self.answer(reply, r);
            }
            Request::DeletePackage(name, version, reply) => {
                let r = self
                    .state
                    .stage_delete_package(&name, &version)
                    .and_then(|batch| self.write(batch))
                    .map(|()| self.state.commit_delete_package(&name, &version));
                self.answer(reply, r);
            }
            Request::AddDevice(device, runtime, reply) => {
                let answer = self
                    .add_devices(vec![(*device, runtime)])
                    .map(|mut added| added.pop().unwrap_or(false));
                self.answer(reply, answer);
            }
            Request::AddDevices(devices, reply) => {
                let answer = self.add_devices(devices);
                self.answer(reply, answer);
            }
            Request::SetCloudRuntime(runtime, reply) => {
                self.state.attach_runtime(RuntimeKey::Cloud, runtime);
                self.answer(reply, Ok(()));
            }
            Request::RemoveDevice(name, reply) => {
                let r = self
                    .state
                    .stage_remove_device(&name)
                    .and_then(|batch| self.write(batch))
                    .map(|()| self.state.commit_remove_device(&name));
                self.answer(reply, r);
            }
            Request::ListDevices(reply) => {
                let answer = Ok(self.state.devices.list().into_iter().cloned().collect());
                self.answer(reply, answer);
            }
            Request::AddFleet(fleet, reply) => {
                let r = self
                    .state
                    .stage_fleet(&fleet)
                    .and_then(|batch| self.write(batch))
                    .map(|()| self.state.commit_fleet(fleet));
                self.answer(reply, r);
            }
            Request::ListFleets(reply) => {
                let fleets = self.state.fleets.values().cloned().collect();
                self.answer(reply, Ok(fleets));
            }
            Request::DeviceRebooted(name, reply) => {
                self.state.device_rebooted(&name);
                self.answer(reply, Ok(()));
            }
            Request::Deploy(req, token, reply) => {
                if let Some(TokenTarget::Deployment(id)) =
                    token.as_ref().and_then(|t| self.state.tokens.get(t))
                {
                    let answer = Ok(*id);
                    self.answer(reply, answer);
                    return;
                }
                let r = self.state.stage_deploy(*req).and_then(|staged| {
                    self.write(staged.batch.clone())?;
                    Ok(self.state.commit_deployment(staged))
                });
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.state.remember_token(t, TokenTarget::Deployment(*id));
                }
                self.answer(reply, r);
            }
            Request::Deprovision(id, reply) => {
                let answer = self.state.deprovision(id);
                self.answer(reply, answer);
            }
            Request::Status(id, reply) => {
                self.state.drop_expired_deployments();
                let r = self
                    .state
                    .deployments
                    .get(&id)
                    .map(|d| d.status(now))
                    .or_else(|| self.state.waiting_status(id, now))
                    .or_else(|| self.stored_status(id))
                    .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()));
                self.answer(reply, r);
            }
            Request::FindDeployment(name, reply) => {
                let r = self
                    .state
                    .names
                    .get(&name)
                    .copied()
                    .ok_or(EngineError::NoSuchDeployment(name));
                self.answer(reply, r);
            }
            Request::DeployedAs(id, reply) => {
                let state = &self.state;
                let r = state
                    .deployments
                    .get(&id)
                    .map(|d| d.request.clone())
                    .or_else(|| {
                        state
                            .recovery
                            .deployments
                            .get(&id)
                            .map(|s| s.stored.request.clone())
                    })
                    .ok_or_else(|| EngineError::NoSuchDeployment(id.to_string()));
                self.answer(reply, r);
            }
            Request::ListDeployments(reply) => {
                // Deployments still waiting for their runtimes after a restart are listed too,
                // with status Unknown.
                let state = &self.state;
                let waiting = state
                    .recovery
                    .deployments
                    .keys()
                    .filter_map(|id| state.waiting_status(*id, now));
                let answer = Ok(state
                    .deployments
                    .values()
                    .map(|d| d.status(now))
                    .chain(waiting)
                    .collect());
                self.answer(reply, answer);
            }
            Request::Instance(id, component, executable, reply) => {
                let answer = self
                    .state
                    .instance_of(id, &component, &executable)
                    .and_then(|(key, instance)| {
                        let rt = self
                            .runtime(&key)
                            .ok_or_else(|| EngineError::NoRuntime(format!("deployment {id}")))?;
                        Ok((rt, instance))
                    });
                self.answer(reply, answer);
            }
            Request::CreateJob(req, token, reply) => {
                if let Some(TokenTarget::Job(id)) =
                    token.as_ref().and_then(|t| self.state.tokens.get(t))
                {
                    let answer = Ok(*id);
                    self.answer(reply, answer);
                    return;
                }
                let r = self.state.stage_job(*req).and_then(|staged| {
                    self.write(staged.batch.clone())?;
                    Ok(self.state.commit_job(staged))
                });
                if let (Ok(id), Some(t)) = (&r, token) {
                    self.state.remember_token(t, TokenTarget::Job(*id));
                }
                self.answer(reply, r);
            }
            Request::CancelJob(id, reply) => {
                let r = self.state.job_input(id, crate::rollout::Input::Cancel);
                self.answer(reply, r);
            }
            Request::RollbackJob(id, reply) => {
                let r = self.state.rollback_job(id);
                self.answer(reply, r);
            }
            Request::ResumeJob(id, reply) => {
                let r = self.state.job_input(id, crate::rollout::Input::Resume);
                self.answer(reply, r);
            }
            Request::JobReport(id, reply) => {
                self.state.drop_expired_jobs();
                let r = self
                    .state
                    .jobs
                    .get(&id)
                    .map(|j| j.report())
                    .ok_or(EngineError::NoSuchJob(id));
                self.answer(reply, r);
            }
            Request::JobTags(id, reply) => {
                let answer = self.state.job_tags(id);
                self.answer(reply, answer);
            }
            Request::TagJob(id, tags, reply) => {
                let answer = self
                    .state
                    .tagged(id, tags)
                    .and_then(|tags| self.write_tags(id, tags));
                self.answer(reply, answer);
            }
            Request::UntagJob(id, keys, reply) => {
                let answer = self
                    .state
                    .untagged(id, &keys)
                    .and_then(|tags| self.write_tags(id, tags));
                self.answer(reply, answer);
            }
            Request::EligibleDevices(package, version, component, reply) => {
                let answer = self.state.eligible_devices(&package, &version, &component);
                self.answer(reply, answer);
            }
            Request::ListJobs(reply) => {
                self.state.drop_expired_jobs();
                let answer = Ok(self.state.jobs.values().map(|j| j.report()).collect());
                self.answer(reply, answer);
            }
            Request::Shutdown(reply) => {
                self.shutdown_waiters.push(reply);
                self.state.begin_shutdown();
            }
            Request::Detach(reply) => self.detach_waiter = Some(reply),
        }
    }

    /// Writes what a request changes, before the change is committed.
    fn write(&mut self, batch: WriteBatch) -> Result<(), EngineError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.store.write(batch).map_err(EngineError::from)
    }

    /// Registers devices all at once: every one is checked before any is registered, their
    /// records are written in one batch, and a refusal or a failed write registers none.
    fn add_devices(
        &mut self,
        devices: Vec<(
            crate::model::Device,
            std::sync::Arc<dyn crate::runtime::Runtime>,
        )>,
    ) -> Result<Vec<bool>, EngineError> {
        let staged = self.state.stage_devices(devices)?;
        self.write(staged.batch)?;
        self.state.commit_devices(staged.fresh);
        Ok(staged.added)
    }

    /// Writes a job's record with new tags (`None`: nothing changes), then keeps them.
    fn write_tags(
        &mut self,
        id: JobId,
        tags: Option<BTreeMap<String, String>>,
    ) -> Result<(), EngineError> {
        let Some(tags) = tags else {
            return Ok(());
        };
        let key = persist::job_key(id);
        let bytes = self
            .store
            .get(Table::Jobs, &key)?
            .ok_or(EngineError::NoSuchJob(id))?;
        let mut stored: StoredJob =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Decode {
                table: Table::Jobs,
                key: key.clone(),
                source,
            })?;
        stored.request.tags = tags.clone();
        let mut batch = WriteBatch::default();
        batch.put(Table::Jobs, key, persist::to_json(&stored));
        self.write(batch)?;
        self.state.commit_tags(id, tags);
        Ok(())
    }

    /// The last status of a deployment that ended, as the store keeps it.
    fn stored_status(&self, id: crate::model::DeploymentId) -> Option<super::DeploymentStatus> {
        let bytes = self
            .store
            .get(Table::Deployments, &persist::final_key(id))
            .ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    fn runtime(&self, key: &RuntimeKey) -> Option<std::sync::Arc<dyn crate::runtime::Runtime>> {
        self.state.runtimes.get(key).map(|i| i.runtime.clone())
    }
}
