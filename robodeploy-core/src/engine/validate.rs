//! Requests checked at the boundary where they enter the engine, by the same validator as
//! manifests ([`crate::validate`]): a refused request is [`EngineError::Invalid`] with the
//! validation report (every problem, each naming its field path, the value and the rule), and
//! nothing is stored or changed.
//!
//! | request | checked by |
//! |---|---|
//! | `add_package` | [`validate_package`]; a host-takeover mount (`/`, a container engine's socket), a warning there, is refused unless the engine's configuration allows it |
//! | `add_device`, `add_devices` (each entry) | [`validate_device`] |
//! | `add_fleet` | [`validate_fleet`] |
//! | `deploy` | [`ValidationContext::validate_deployment`] against the catalog, the registry and the live deployments |
//! | `create_job` | [`validate_job`] (its fleet and application version are looked up by the engine) |
//! | `tag_job`, `untag_job` | the tag rules of a job (`spec.tags`) |

use std::collections::BTreeMap;

use crate::model::{DeploymentJobRequest, DeploymentRequest, Device, Fleet, Package};
use crate::validate::{
    Issue, Report, ValidationContext, ValidationError, ValidationWarning, validate_device,
    validate_fleet, validate_job, validate_package, validate_tag_keys, validate_tags,
};

use super::EngineError;
use super::driver::Driver;

fn refuse_errors(report: Report) -> Result<(), EngineError> {
    report.into_result()?;
    Ok(())
}

/// A package entering the catalog. A mount that takes over the host (its root filesystem, a
/// container engine's socket), which the validator only warns of, is refused unless
/// `allow_host_takeover` ([`EngineConfig::allow_host_takeover_mounts`](super::EngineConfig)).
pub(crate) fn check_package(
    package: &Package,
    allow_host_takeover: bool,
) -> Result<(), EngineError> {
    let mut report = validate_package(package);
    if !allow_host_takeover {
        for w in &report.warnings {
            if let ValidationWarning::HostTakeoverMount { path, mount, what } = &w.problem {
                report.errors.push(Issue {
                    document: w.document.clone(),
                    problem: ValidationError::HostTakeoverMountRefused {
                        path: path.clone(),
                        mount: mount.clone(),
                        what,
                    },
                });
            }
        }
    }
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

impl Driver {
    /// Validates a deployment request against the catalog, the registry and the live
    /// deployments: every rule of `validate`, with all problems reported at once.
    pub(crate) fn check_deployment(
        &self,
        req: &DeploymentRequest,
        package: &Package,
    ) -> Result<(), EngineError> {
        let mut ctx = ValidationContext::new();
        ctx.add_package(package.clone());
        for d in self.devices.list() {
            ctx.add_device(d.clone());
        }
        for d in self.deployments.values() {
            ctx.add_deployment(&d.request);
        }
        ctx.validate_deployment(req).into_result()?;
        Ok(())
    }
}
