//! What the engine is told of its world, in the engine's state: packages, devices with their
//! runtimes, fleets, client tokens. Each change is checked first and staged with what it
//! writes; the driver writes it and only then is it committed, so a refused write changes
//! nothing (the driver's `api`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{DeploymentRequest, Device, Fleet, Package, Version};
use crate::runtime::Runtime;
use crate::store::{Table, WriteBatch};

use super::deployment::StagedDeployment;
use super::message::RuntimeKey;
use super::persist::{self, StoredDevice};
use super::state::{State, TokenTarget};
use super::{CatalogError, DeviceError, EngineError, validate};

/// Devices checked for registration: [`State::stage_devices`].
pub(crate) struct StagedDevices {
    /// Per device asked for: whether it is new.
    pub(crate) added: Vec<bool>,
    /// The new devices with their runtimes.
    pub(crate) fresh: Vec<(Device, Arc<dyn Runtime>)>,
    /// Their records, where they changed.
    pub(crate) batch: WriteBatch,
}

impl State {
    /// A package checked for the catalog, with its record; `None` when the catalog has it
    /// already (adding it again is a no-op).
    pub(crate) fn stage_package(
        &self,
        package: &Package,
    ) -> Result<Option<WriteBatch>, EngineError> {
        validate::check_package(
            package,
            self.config.allow_host_takeover_mounts,
            self.config.allow_privileged,
        )?;
        if !self.catalog.check_add(package)? {
            return Ok(None);
        }
        let mut b = WriteBatch::default();
        b.put(
            Table::Packages,
            format!("{}@{}", package.name, package.version),
            persist::to_json(package),
        );
        Ok(Some(b))
    }

    /// Adds a staged package, once written.
    pub(crate) fn commit_package(&mut self, package: Package) {
        let _ = self.catalog.add(package);
    }

    /// A package version checked for deletion: no live deployment uses it.
    pub(crate) fn stage_delete_package(
        &self,
        name: &str,
        version: &Version,
    ) -> Result<WriteBatch, EngineError> {
        let user = self
            .deployments
            .values()
            .find(|d| d.package.name == name && d.package.version == *version)
            .map(|d| d.request.name.as_str());
        self.catalog.check_remove(name, version, user)?;
        let mut b = WriteBatch::default();
        b.delete(Table::Packages, format!("{name}@{version}"));
        Ok(b)
    }

    /// Deletes a staged package version, once its record is deleted.
    pub(crate) fn commit_delete_package(&mut self, name: &str, version: &Version) {
        let _ = self.catalog.remove(name, version, None);
    }

    /// The package a deployment request names, checked against the catalog, the registry
    /// and the live deployments, and resolved.
    pub(crate) fn stage_deploy(
        &self,
        req: DeploymentRequest,
    ) -> Result<StagedDeployment, EngineError> {
        let package = self
            .catalog
            .get(&req.package, &req.version)
            .cloned()
            .ok_or_else(|| CatalogError::NotFound {
                name: req.package.clone(),
                version: req.version.to_string(),
            })?;
        self.check_deployment(&req, &package)?;
        self.stage_deployment(req, package, &Default::default(), None, None)
    }

    /// The registered devices a package's component can be deployed on.
    pub(crate) fn eligible_devices(
        &self,
        package: &str,
        version: &Version,
        component: &str,
    ) -> Result<Vec<Device>, EngineError> {
        let p = self
            .catalog
            .get(package, version)
            .ok_or_else(|| CatalogError::NotFound {
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

    /// A fleet checked: every robot it names is registered.
    pub(crate) fn stage_fleet(&self, fleet: &Fleet) -> Result<WriteBatch, EngineError> {
        validate::check_fleet(fleet)?;
        for r in &fleet.robots {
            if self.devices.get(&r.name).is_none() {
                return Err(DeviceError::NotFound(r.name.clone()).into());
            }
        }
        let mut b = WriteBatch::default();
        b.put(Table::Fleets, fleet.name.clone(), persist::to_json(fleet));
        Ok(b)
    }

    /// Keeps a staged fleet, once written.
    pub(crate) fn commit_fleet(&mut self, fleet: Fleet) {
        self.fleets.insert(fleet.name.clone(), fleet);
    }

    /// A device checked for removal: no live deployment runs on it.
    pub(crate) fn stage_remove_device(&self, name: &str) -> Result<WriteBatch, EngineError> {
        let key = RuntimeKey::Device(name.to_owned());
        let user = self
            .deployments
            .values()
            .find(|d| d.keys.contains(&key))
            .map(|d| d.request.name.as_str());
        self.devices.check_remove(name, user)?;
        let mut b = WriteBatch::default();
        b.delete(Table::Devices, name.to_owned());
        Ok(b)
    }

    /// Forgets a device and lets its runtime go, once its record is deleted.
    pub(crate) fn commit_remove_device(&mut self, name: &str) {
        let _ = self.devices.remove(name, None);
        let key = RuntimeKey::Device(name.to_owned());
        self.runtimes.remove(&key);
        self.emit(super::effect::Effect::Release(key));
    }

    /// Devices checked for registration all at once: a refusal stages none. A device the store
    /// knows by its name (the engine restarted) keeps its id and what jobs installed on it, and
    /// its record is written again only if it changed.
    pub(crate) fn stage_devices(
        &self,
        devices: Vec<(Device, Arc<dyn Runtime>)>,
    ) -> Result<StagedDevices, EngineError> {
        for (device, _) in &devices {
            validate::check_device(device)?;
        }
        let mut added = Vec::with_capacity(devices.len());
        let mut fresh: Vec<(Device, Arc<dyn Runtime>)> = Vec::new();
        // Names in this batch, and where in `fresh` each went.
        let mut in_batch: HashMap<String, usize> = HashMap::new();
        let mut batch = WriteBatch::default();
        for (mut device, runtime) in devices {
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
        Ok(StagedDevices {
            added,
            fresh,
            batch,
        })
    }

    /// Registers staged devices with their runtimes, once written.
    pub(crate) fn commit_devices(&mut self, fresh: Vec<(Device, Arc<dyn Runtime>)>) {
        self.devices.reserve(fresh.len());
        self.runtimes.reserve(fresh.len());
        for (device, runtime) in fresh {
            let name = device.name.clone();
            if self.devices.add(device).is_err() {
                continue;
            }
            self.recovery.devices.remove(&name);
            self.attach_runtime(RuntimeKey::Device(name), runtime);
        }
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
        let mut b = WriteBatch::default();
        b.put(Table::Devices, name.to_owned(), persist::to_json(&record));
        self.persist(b);
    }

    /// Remembers what a client's request token created (written with the turn).
    pub(crate) fn remember_token(&mut self, token: String, target: TokenTarget) {
        let value = match target {
            TokenTarget::Deployment(id) => format!("deployment/{id}"),
            TokenTarget::Job(id) => format!("job/{id}"),
        };
        let mut b = WriteBatch::default();
        b.put(Table::Tokens, token.clone(), value.into_bytes());
        self.persist(b);
        self.tokens.insert(token, target);
    }
}
