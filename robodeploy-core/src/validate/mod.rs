//! Validation: every rule of the seed documents (and robodeploy's own bounds) as a typed error
//! that names the field path, the offending value and the rule.
//!
//! Validation never stops at the first problem: a [`Report`] holds **every** error of a manifest,
//! in document order, and the warnings separately (a failure threshold below the concurrency,
//! as RoboMaker warns; a chosen device that is offline). Nothing here panics, whatever the input.
//!
//! | checks | where |
//! |---|---|
//! | names, labels, tags, environment variables, versions, paths, digests: bounds and character sets | [`limits`] (the table of every bound) |
//! | package: components and executables present and uniquely named; docker and cloud executables need an image, preinstalled ones a command and no image | [`validate_package`] |
//! | fleet: robot names and ids unique | [`validate_fleet`] |
//! | device: name, labels, ROS distro, endpoint, the agent it is reached through (`connection.agent`, a name), installed versions | [`validate_device`] |
//! | deployment job on its own: every field rule, without the references to its fleet and application | [`validate_job`] |
//! | deployment: package version known; a device for every device component, existing, with the component's architecture, runtime and ROS distro; a routed network for ROS, a cloud one when the package has a cloud component; dependencies exist, no self-dependency, no cycle | [`ValidationContext::validate_deployment`] |
//! | deployment job: fleet and application version known, numbered (never `$LATEST`); launch config; environment; concurrency and threshold 1..=100; robot timeout 1 min..=7 days; waves; download condition digest; tags | [`ValidationContext::validate_job`] |
//! | manifest: all of the above for every document, plus unique names and ids across documents | [`validate_manifest`] |
//!
//! Architecture and ROS distro mismatches map to the seed's DEP_E162
//! ([`ValidationError::error_code`]).
//!
//! ```
//! use robodeploy_core::manifest::Manifest;
//! use robodeploy_core::validate::{validate_manifest, ValidationError, ValidationWarning};
//!
//! let manifest = Manifest::parse_yaml(r#"
//! apiVersion: robodeploy/v1
//! kind: DeploymentJob
//! spec:
//!   fleet: lab
//!   application: talker-listener
//!   applicationVersion: $LATEST
//!   launchConfig:
//!     packageName: talker
//!     launchFile: talker.launch.py
//!     environmentVariables: {AWS_REGION: eu-west-1, lower: x}
//!   deploymentConfig:
//!     concurrentDeploymentPercentage: 20
//!     failureThresholdPercentage: 5
//!     robotDeploymentTimeout: 10s
//! "#)?;
//! let report = validate_manifest(&manifest);
//! let found: Vec<String> = report.problems().map(|e| e.path().to_string()).collect();
//! assert_eq!(found, [
//!     "spec.applicationVersion",
//!     "spec.launchConfig.environmentVariables.AWS_REGION",
//!     "spec.launchConfig.environmentVariables.lower",
//!     "spec.deploymentConfig.robotDeploymentTimeout",
//!     "spec.fleet", // no fleet "lab" is known
//! ]);
//! assert!(matches!(report.errors[0].problem, ValidationError::LatestVersion { .. }));
//! assert!(matches!(
//!     report.warnings[0].problem,
//!     ValidationWarning::ThresholdBelowConcurrency { threshold: 5, concurrency: 20, .. }
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod context;
mod deployment;
mod error;
mod exec_limits;
mod fields;
mod fleet;
mod graph;
mod job;
pub mod limits;
mod package;
mod path;
mod report;
mod warning;

pub use context::ValidationContext;
pub use error::ValidationError;
pub use path::{FieldPath, Segment};
pub use report::{DocumentRef, Issue, Report};
pub use warning::ValidationWarning;

use report::Findings;

use std::collections::BTreeMap;

use crate::manifest::Manifest;
use crate::model::{DeploymentJobRequest, Device, Fleet, Package};

/// Checks a whole manifest on its own: every document, the references between them, unique names
/// and ids, dependency cycles. References to things outside the manifest are errors; use a
/// [`ValidationContext`] to supply them.
pub fn validate_manifest(manifest: &Manifest) -> Report {
    ValidationContext::new().validate_manifest(manifest)
}

/// Checks one package on its own (a package refers to nothing else).
///
/// ```
/// use robodeploy_core::model::Package;
/// use robodeploy_core::validate::{validate_package, ValidationError};
/// let p: Package = serde_json::from_str(r#"{"name": "hello", "version": "1", "components": [
///     {"name": "main", "placement": {"kind": "cloud"}, "executables": [{"name": "web"}]}
/// ]}"#).unwrap();
/// let report = validate_package(&p);
/// assert!(matches!(report.errors[0].problem, ValidationError::MissingImage { runtime: "cloud", .. }));
/// assert_eq!(report.errors[0].problem.path().to_string(), "spec.components[0].executables[0].image");
/// ```
pub fn validate_package(package: &Package) -> Report {
    let mut f = Findings::default();
    package::check_package(&mut f, package);
    let mut report = Report::default();
    report.add(None, f);
    report
}

/// Checks one fleet on its own.
pub fn validate_fleet(fleet: &Fleet) -> Report {
    let mut f = Findings::default();
    fleet::check_fleet(&mut f, fleet);
    let mut report = Report::default();
    report.add(None, f);
    report
}

/// Checks one device on its own (as a fleet checks each of its robots).
///
/// ```
/// use robodeploy_core::model::{Architecture, Device, DeviceRuntime};
/// use robodeploy_core::validate::{validate_device, ValidationError};
/// let report = validate_device(&Device::new("Robot_1", Architecture::Amd64, DeviceRuntime::Docker));
/// assert!(matches!(report.errors[0].problem, ValidationError::InvalidName { .. }));
/// assert_eq!(report.errors[0].problem.path().to_string(), "spec.name");
/// ```
pub fn validate_device(device: &Device) -> Report {
    let mut f = Findings::default();
    fleet::check_device(&mut f, &FieldPath::spec(), device);
    let mut report = Report::default();
    report.add(None, f);
    report
}

/// Checks one deployment job on its own: every rule of its fields (launch config, environment,
/// deployment config, waves, tags), but not whether its fleet and application version exist;
/// [`ValidationContext::validate_job`] checks those too.
///
/// ```
/// use robodeploy_core::model::DeploymentJobRequest;
/// use robodeploy_core::validate::{validate_job, ValidationError};
/// let job: DeploymentJobRequest = serde_json::from_str(r#"{
///     "fleet": "lab", "application": "demo", "applicationVersion": "1",
///     "launchConfig": {"packageName": "demo", "launchFile": "demo.launch",
///                      "environmentVariables": {"AWS_REGION": "eu-west-1"}},
///     "deploymentConfig": {"concurrentDeploymentPercentage": 10, "failureThresholdPercentage": 10}
/// }"#).unwrap();
/// let report = validate_job(&job);
/// assert!(matches!(report.errors[0].problem, ValidationError::ReservedEnvName { .. }));
/// assert_eq!(
///     report.errors[0].problem.path().to_string(),
///     "spec.launchConfig.environmentVariables.AWS_REGION"
/// );
/// ```
pub fn validate_job(job: &DeploymentJobRequest) -> Report {
    let mut f = Findings::default();
    job::check_job(&mut f, job);
    let mut report = Report::default();
    report.add(None, f);
    report
}

/// Checks a job's tags on their own (at `spec.tags`, as in a job), for the engine's tag calls.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Report {
    let mut f = Findings::default();
    fields::tags(&mut f, FieldPath::spec().field("tags"), tags);
    let mut report = Report::default();
    report.add(None, f);
    report
}

/// Checks tag keys on their own (at `spec.tags.KEY`), for the engine's untag call.
pub(crate) fn validate_tag_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Report {
    let mut f = Findings::default();
    let path = FieldPath::spec().field("tags");
    for k in keys {
        fields::tag_key(&mut f, path.key(k), k);
    }
    let mut report = Report::default();
    report.add(None, f);
    report
}
