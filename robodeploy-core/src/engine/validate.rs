//! Requests checked at the boundary where they enter the engine, by the same validator as
//! manifests ([`crate::validate`]): a refused request is [`EngineError::Invalid`] with the
//! validation report (every problem, each naming its field path, the value and the rule), and
//! nothing is stored or changed.
//!
//! | request | checked by |
//! |---|---|
//! | `add_package` | [`validate_package`]; a host-takeover mount (`/`, a container engine's socket), a warning there, is refused unless the engine's configuration allows it; so is a privileged executable (`allow_privileged`) |
//! | `add_device`, `add_devices` (each entry) | [`validate_device`] |
//! | `add_fleet` | [`validate_fleet`] |
//! | `deploy` | [`ValidationContext::validate_deployment`] against the catalog, the registry and the live deployments; then the deployments it needs running at creation: its routed network (a live deployment of that name, phase Succeeded and status Running: [`RoutedNetworkNotFound`](ValidationError::RoutedNetworkNotFound), [`RoutedNetworkNotRunning`](ValidationError::RoutedNetworkNotRunning)) and each volume's deployment ([`VolumeDeploymentNotRunning`](ValidationError::VolumeDeploymentNotRunning)) |
//!
//! A routed network is provided by a deployment whose name is the network's name, as in the
//! platform the seed describes, where a routed network is deployed before the packages that
//! join it and has a phase and a status of its own ("If there are no Routed Network
//! successfully running, you would not be able to deploy the package"). Docker executables of a
//! deployment join the Docker network of that name. A manifest checked offline cannot know what
//! runs, so these checks are the engine's, at deploy time; `dependsOn`, by contrast, may name a
//! deployment that is not running yet (the dependent waits for it).
//! | `create_job` | [`validate_job`] (its fleet and application version are looked up by the engine) |
//! | `tag_job`, `untag_job` | the tag rules of a job (`spec.tags`) |

use std::collections::BTreeMap;

use crate::model::{
    DeploymentJobRequest, DeploymentRequest, Device, Fleet, Package, Phase, StatusKind,
};
use crate::validate::{
    FieldPath, Issue, Report, ValidationContext, ValidationError, ValidationWarning,
    validate_device, validate_fleet, validate_job, validate_package, validate_tag_keys,
    validate_tags,
};

use super::EngineError;
use super::state::State;

fn refuse_errors(report: Report) -> Result<(), EngineError> {
    report.into_result()?;
    Ok(())
}

/// A package entering the catalog. A mount that takes over the host (its root filesystem, a
/// container engine's socket), which the validator only warns of, is refused unless
/// `allow_host_takeover` ([`EngineConfig::allow_host_takeover_mounts`](super::EngineConfig));
/// a privileged executable, likewise only a warning there, unless `allow_privileged`
/// ([`EngineConfig::allow_privileged`](super::EngineConfig)).
pub(crate) fn check_package(
    package: &Package,
    allow_host_takeover: bool,
    allow_privileged: bool,
) -> Result<(), EngineError> {
    let mut report = validate_package(package);
    let mut refused = Vec::new();
    for w in &report.warnings {
        let problem = match &w.problem {
            ValidationWarning::HostTakeoverMount { path, mount, what } if !allow_host_takeover => {
                ValidationError::HostTakeoverMountRefused {
                    path: path.clone(),
                    mount: mount.clone(),
                    what,
                }
            }
            ValidationWarning::Privileged { path } if !allow_privileged => {
                ValidationError::PrivilegedRefused { path: path.clone() }
            }
            _ => continue,
        };
        refused.push(Issue {
            document: w.document.clone(),
            problem,
        });
    }
    report.errors.extend(refused);
    refuse_errors(report)
}

/// A device entering the registry.
pub(crate) fn check_device(device: &Device) -> Result<(), EngineError> {
    refuse_errors(validate_device(device))
}

/// A fleet being registered.
pub(crate) fn check_fleet(fleet: &Fleet) -> Result<(), EngineError> {
    refuse_errors(validate_fleet(fleet))
}

/// A deployment job being created (its fields; the engine looks its references up).
pub(crate) fn check_job(job: &DeploymentJobRequest) -> Result<(), EngineError> {
    refuse_errors(validate_job(job))
}

/// A job's tags as they would be after a tag or untag call.
pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), EngineError> {
    refuse_errors(validate_tags(tags))
}

/// Tag keys to remove from a job.
pub(crate) fn check_tag_keys(keys: &[String]) -> Result<(), EngineError> {
    refuse_errors(validate_tag_keys(keys.iter().map(String::as_str)))
}

impl State {
    /// Validates a deployment request against the catalog, the registry and the live
    /// deployments: every rule of `validate`, with all problems reported at once.
    pub(crate) fn check_deployment(
        &self,
        req: &DeploymentRequest,
        package: &Package,
    ) -> Result<(), EngineError> {
        // The context holds what the request names, not the whole fleet: a deploy costs the
        // same with ten devices registered as with a hundred thousand. A cycle through a new
        // deployment would need a live one that names it, and a live one names only
        // deployments that existed before it: the named ones and what they depend on suffice.
        let mut ctx = ValidationContext::new();
        ctx.add_package(package.clone());
        for name in req.devices.values() {
            if let Some(d) = self.devices.get(name) {
                ctx.add_device(d.clone());
            }
        }
        let named = req
            .depends_on
            .iter()
            .chain(req.volumes.iter().map(|v| &v.deployment));
        for name in named {
            if let Some(d) = self.names.get(name).and_then(|id| self.deployments.get(id)) {
                ctx.add_deployment(&d.request);
            }
        }
        let mut report = ctx.validate_deployment(req);
        if report.errors.is_empty() {
            self.check_running_prerequisites(req, &mut report);
        }
        report.into_result()?;
        Ok(())
    }

    /// The phase and status of the live deployment named `name`; `None` when there is none. A
    /// stored deployment whose runtime has not answered since a restart is Unknown.
    fn live_state(&self, name: &str) -> Option<(Phase, StatusKind)> {
        let id = self.names.get(name)?;
        match self.deployments.get(id) {
            Some(d) if d.machine.is_deprovisioning() => {
                Some((d.machine.phase(), StatusKind::Stopped))
            }
            Some(d) => Some((d.machine.phase(), d.machine.status())),
            None => {
                let phase = self
                    .recovery
                    .deployments
                    .get(id)
                    .and_then(|s| s.record.as_ref())
                    .map_or(Phase::InProgress, |r| r.phase);
                Some((phase, StatusKind::Unknown))
            }
        }
    }

    /// The routed network and the volume deployments must run when a deployment is created.
    fn check_running_prerequisites(&self, req: &DeploymentRequest, report: &mut Report) {
        let running = |s: (Phase, StatusKind)| s == (Phase::Succeeded, StatusKind::Running);
        let mut refuse = |problem| {
            report.errors.push(Issue {
                document: None,
                problem,
            })
        };
        if let Some(net) = &req.routed_network {
            let path = FieldPath::spec().field("routedNetwork").field("name");
            match self.live_state(&net.name) {
                None => refuse(ValidationError::RoutedNetworkNotFound {
                    path,
                    network: net.name.clone(),
                }),
                Some(s) if !running(s) => refuse(ValidationError::RoutedNetworkNotRunning {
                    path,
                    network: net.name.clone(),
                    phase: s.0,
                    status: s.1,
                }),
                Some(_) => {}
            }
        }
        for (i, v) in req.volumes.iter().enumerate() {
            if let Some(s) = self.live_state(&v.deployment)
                && !running(s)
            {
                refuse(ValidationError::VolumeDeploymentNotRunning {
                    path: FieldPath::spec()
                        .field("volumes")
                        .index(i)
                        .field("deployment"),
                    deployment: v.deployment.clone(),
                    phase: s.0,
                    status: s.1,
                });
            }
        }
    }
}
