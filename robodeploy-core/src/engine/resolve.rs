//! From a deployment request and its package to what the machine and the runtimes need.

use std::collections::BTreeMap;

use crate::lifecycle::{DeploymentSpec, ExecutableSpec, Host, LifecycleConfig, RestartMode};
use crate::model::{DeploymentId, DeploymentRequest, Package, Placement};
use crate::runtime::{InstanceSpec, instance_name, labels};

use super::EngineError;
use super::message::RuntimeKey;
use super::state::State;

/// A request resolved against the catalog, the registry and the runtimes.
///
/// Resolving changes nothing in the driver: the shared components the deployment uses are
/// listed in `shared` and registered by [`State::commit_shared`] only once the deployment
/// exists (stored and tracked). A deployment that fails after resolving leaves no
/// registration behind.
pub(crate) struct Resolved {
    pub(crate) spec: DeploymentSpec,
    pub(crate) instances: Vec<InstanceSpec>,
    pub(crate) keys: Vec<RuntimeKey>,
    /// `(device, component, policy asked for)` of each shared component it uses.
    pub(crate) shared: Vec<(String, String, crate::model::RestartPolicy)>,
}

impl State {
    /// Resolves a request: one executable spec and one instance spec per executable of the
    /// package, with the effective restart policy and restart mode of its runtime.
    pub(crate) fn resolve(
        &self,
        id: DeploymentId,
        req: &DeploymentRequest,
        package: &Package,
        extra_env: &BTreeMap<String, String>,
        launch: Option<&[String]>,
        lifecycle: &LifecycleConfig,
    ) -> Result<Resolved, EngineError> {
        let mut executables = Vec::new();
        let mut instances = Vec::new();
        let mut keys = Vec::new();
        let mut shared = Vec::new();
        for component in &package.components {
            let (host, key) = match component.placement {
                Placement::Device { .. } => {
                    let device = req.devices.get(&component.name).ok_or_else(|| {
                        EngineError::NoRuntime(format!(
                            "component {} (no device chosen in devices.{})",
                            component.name, component.name
                        ))
                    })?;
                    (
                        Host::Device(device.clone()),
                        RuntimeKey::Device(device.clone()),
                    )
                }
                _ => (Host::Cloud, RuntimeKey::Cloud),
            };
            let slot = self.runtimes.get(&key).ok_or_else(|| {
                EngineError::NoRuntime(match &key {
                    RuntimeKey::Cloud => "the cloud".to_owned(),
                    RuntimeKey::Device(d) => format!("device {d}"),
                })
            })?;
            let mode = if slot.caps.enforces_restart_policy {
                RestartMode::RuntimeEnforced
            } else {
                RestartMode::EngineEnforced
            };
            // The override, else the component's own policy, else the seed's default (Never
            // on a device); cloud executables always restart (ExecutableSpec::cloud).
            let requested = component.effective_restart_policy(req.restart_policy);
            // A shared component runs under the policy of the deployment that registered it
            // first; registering this one waits for its commit.
            let policy = match (&host, component.shared) {
                (Host::Device(d), true) => {
                    shared.push((d.clone(), component.name.clone(), requested));
                    self.shared
                        .get(d)
                        .and_then(|s| s.policy(&component.name))
                        .unwrap_or(requested)
                }
                _ => requested,
            };
            for exe in &component.executables {
                let mut es = match &host {
                    Host::Device(d) => {
                        ExecutableSpec::device(&component.name, &exe.name, d, policy)
                    }
                    _ => ExecutableSpec::cloud(&component.name, &exe.name),
                }
                .with_mode(mode);
                if component.shared {
                    es = es.shared();
                }
                let mut spec = InstanceSpec::new(
                    id,
                    &component.name,
                    &exe.name,
                    &package.name,
                    package.version.as_str(),
                );
                if component.shared {
                    // One instance per device, whoever deploys it first.
                    let device = match &host {
                        Host::Device(d) => d.as_str(),
                        _ => "cloud",
                    };
                    spec.name = format!("rd-shared-{device}-{}-{}", component.name, exe.name);
                } else {
                    spec.name = instance_name(id, &component.name, &exe.name);
                }
                spec.image = exe.image.clone();
                spec.command = match launch {
                    // An executable whose command is `{launch}` (or a Docker executable without
                    // one) runs the job's launch command.
                    Some(argv)
                        if exe.command.is_empty()
                            || super::launcher::Launcher::is_launch(&exe.command) =>
                    {
                        argv.to_vec()
                    }
                    _ => exe.command.clone(),
                };
                spec.shell = exe.shell;
                spec.working_dir = exe.working_dir.clone();
                spec.env = exe.env.clone();
                spec.env
                    .extend(req.env.iter().map(|(k, v)| (k.clone(), v.clone())));
                spec.env
                    .extend(extra_env.iter().map(|(k, v)| (k.clone(), v.clone())));
                spec.mounts = exe.mounts.clone();
                for v in req.volumes.iter().filter(|v| v.component == component.name) {
                    spec.mounts.push(crate::model::Mount {
                        source: format!("rd-volume-{}", v.deployment),
                        target: v.mount_path.clone(),
                        read_only: false,
                    });
                }
                spec.ports = exe.ports.clone();
                // An executable on the host's network reaches the routed network's members
                // through the host; Docker cannot join both.
                spec.host_network = exe.limits.host_network;
                spec.network = req
                    .routed_network
                    .as_ref()
                    .filter(|_| !spec.host_network)
                    .map(|n| n.name.clone());
                spec.limits = exe.limits.clone();
                spec.restart_policy = es.effective_policy();
                spec.labels
                    .insert(labels::DEPLOYMENT.to_owned(), id.to_string());
                if !self.store_id.is_empty() {
                    spec.labels
                        .insert(labels::STORE.to_owned(), self.store_id.clone());
                    if !component.shared {
                        spec.labels
                            .insert(labels::DEPLOYMENT_NAME.to_owned(), req.name.clone());
                    }
                }
                executables.push(es);
                instances.push(spec);
                keys.push(key.clone());
            }
        }
        let mut spec = DeploymentSpec::new(req.name.clone(), executables);
        spec.dependencies = req.depends_on.clone();
        spec.config = lifecycle.clone();
        spec.validate()?;
        Ok(Resolved {
            spec,
            instances,
            keys,
            shared,
        })
    }

    /// Registers the shared components of a deployment that now exists.
    pub(crate) fn commit_shared(
        &mut self,
        id: DeploymentId,
        shared: &[(String, String, crate::model::RestartPolicy)],
    ) {
        for (device, component, requested) in shared {
            self.shared
                .entry(device.clone())
                .or_default()
                .register(component, id, *requested);
        }
    }
}
