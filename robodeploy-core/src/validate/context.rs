//! The validation context: what is known besides the document being checked (packages, fleets and
//! devices, existing deployments), and the checks that span documents.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    DocumentRef, FieldPath, Findings, Report, ValidationError as E, deployment, fleet, graph, job,
    package,
};
use crate::manifest::{Document, Manifest};
use crate::model::{DeploymentJobRequest, DeploymentRequest, Device, Fleet, Package, Version};

/// What validation checks references against: packages by name and version, fleets, devices by
/// name, and existing deployments with their dependencies.
///
/// Validating a manifest checks its documents against this context **plus the manifest itself**,
/// so a file that holds a package, a fleet and deployments of that package validates on its own,
/// and a file that refers to others validates with a context built from them
/// ([`ValidationContext::with_manifest`]). Uniqueness (names, ids) is checked among the
/// manifest's own documents; what the context holds is taken as already known.
///
/// ```
/// use robodeploy_core::manifest::Manifest;
/// use robodeploy_core::validate::{ValidationContext, ValidationError};
///
/// let fleet = Manifest::parse_yaml(r#"
/// apiVersion: robodeploy/v1
/// kind: Fleet
/// spec:
///   name: lab
///   robots: [{name: robot-001, architecture: arm64v8, runtime: docker}]
/// "#)?;
/// let package = Manifest::parse_yaml(r#"
/// apiVersion: robodeploy/v1
/// kind: Package
/// spec:
///   name: hello
///   version: "1"
///   components:
///     - name: main
///       placement: {kind: device, runtime: docker, architecture: amd64}
///       executables: [{name: hello, image: "busybox:latest"}]
/// "#)?;
/// let deployment = Manifest::parse_yaml(r#"
/// apiVersion: robodeploy/v1
/// kind: Deployment
/// spec: {name: hello, package: hello, version: "1", devices: {main: robot-001}}
/// "#)?;
///
/// let ctx = ValidationContext::new().with_manifest(&fleet).with_manifest(&package);
/// let report = ctx.validate_manifest(&deployment);
/// let problem = report.problems().next().unwrap();
/// assert!(matches!(problem, ValidationError::ArchitectureMismatch { .. }));
/// assert_eq!(problem.path().to_string(), "spec.devices.main");
/// assert_eq!(problem.error_code().unwrap().to_string(), "DEP_E162");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ValidationContext {
    packages: BTreeMap<(String, Version), Package>,
    fleets: BTreeMap<String, Vec<String>>,
    devices: BTreeMap<String, Device>,
    deployments: BTreeMap<String, Vec<String>>,
}

impl ValidationContext {
    /// An empty context: nothing known.
    pub fn new() -> Self {
        ValidationContext::default()
    }

    /// Adds everything a manifest holds (packages, fleets and their robots, deployments).
    #[must_use]
    pub fn with_manifest(mut self, manifest: &Manifest) -> Self {
        for doc in manifest {
            match doc {
                Document::Package(p) => self.add_package(p.clone()),
                Document::Fleet(f) => self.add_fleet(f),
                Document::Deployment(d) => self.add_deployment(d),
                Document::DeploymentJob(_) => {}
            }
        }
        self
    }

    /// Adds a package (replacing one with the same name and version).
    pub fn add_package(&mut self, package: Package) {
        self.packages
            .insert((package.name.clone(), package.version.clone()), package);
    }

    /// Adds a fleet and its robots.
    pub fn add_fleet(&mut self, fleet: &Fleet) {
        self.fleets.insert(
            fleet.name.clone(),
            fleet.robots.iter().map(|d| d.name.clone()).collect(),
        );
        for robot in &fleet.robots {
            self.add_device(robot.clone());
        }
    }

    /// Adds a device that belongs to no fleet (or whose fleet is not known).
    pub fn add_device(&mut self, device: Device) {
        self.devices.insert(device.name.clone(), device);
    }

    /// Adds an existing deployment, which others may depend on.
    pub fn add_deployment(&mut self, deployment: &DeploymentRequest) {
        self.deployments
            .insert(deployment.name.clone(), deployment.depends_on.clone());
    }

    /// The package with this name and version.
    pub fn package(&self, name: &str, version: &Version) -> Option<&Package> {
        self.packages.get(&(name.to_owned(), version.clone()))
    }

    /// The device with this name.
    pub fn device(&self, name: &str) -> Option<&Device> {
        self.devices.get(name)
    }

    /// Whether a fleet of this name is known.
    pub fn has_fleet(&self, name: &str) -> bool {
        self.fleets.contains_key(name)
    }

    /// Whether a deployment of this name is known.
    pub fn has_deployment(&self, name: &str) -> bool {
        self.deployments.contains_key(name)
    }

    /// Checks every document of `manifest` against this context and the manifest itself, and the
    /// rules that span documents (unique names and ids, dependency cycles). Collects every
    /// problem.
    pub fn validate_manifest(&self, manifest: &Manifest) -> Report {
        let docs: Vec<(Option<DocumentRef>, &Document)> = manifest
            .documents
            .iter()
            .enumerate()
            .map(|(i, d)| (Some(DocumentRef::new(i, d)), d))
            .collect();
        self.validate_documents(&docs)
    }

    /// Checks one deployment request against this context (its package, devices and
    /// dependencies must be known here).
    pub fn validate_deployment(&self, deployment: &DeploymentRequest) -> Report {
        let doc = Document::Deployment(deployment.clone());
        self.validate_documents(&[(None, &doc)])
    }

    /// Checks one deployment job against this context (its fleet and application version must
    /// be known here).
    pub fn validate_job(&self, job: &DeploymentJobRequest) -> Report {
        let doc = Document::DeploymentJob(job.clone());
        self.validate_documents(&[(None, &doc)])
    }

    fn validate_documents(&self, docs: &[(Option<DocumentRef>, &Document)]) -> Report {
        let mut known = self.clone();
        for (_, doc) in docs {
            match doc {
                Document::Package(p) => known.add_package(p.clone()),
                Document::Fleet(f) => known.add_fleet(f),
                Document::Deployment(d) => known.add_deployment(d),
                Document::DeploymentJob(_) => {}
            }
        }
        let mut findings: Vec<Findings> = docs
            .iter()
            .map(|(_, doc)| known.check_document(doc))
            .collect();
        unique_across(docs, &mut findings);
        known.report_cycles(docs, &mut findings);
        let mut report = Report::default();
        for ((doc, _), found) in docs.iter().zip(findings) {
            report.add(doc.clone(), found);
        }
        report
    }

    fn check_document(&self, doc: &Document) -> Findings {
        let mut f = Findings::default();
        match doc {
            Document::Package(p) => package::check_package(&mut f, p),
            Document::Fleet(fl) => fleet::check_fleet(&mut f, fl),
            Document::Deployment(d) => deployment::check_deployment(&mut f, d, self),
            Document::DeploymentJob(j) => {
                job::check_job(&mut f, j);
                self.check_job_references(&mut f, j);
            }
        }
        f
    }

    fn check_job_references(&self, f: &mut Findings, j: &DeploymentJobRequest) {
        let spec = FieldPath::spec();
        if !self.has_fleet(&j.fleet) {
            f.error(E::UnknownFleet {
                path: spec.field("fleet"),
                fleet: j.fleet.clone(),
            });
        }
        if j.application_version.is_numbered()
            && self
                .package(&j.application, &j.application_version)
                .is_none()
        {
            f.error(E::UnknownPackage {
                path: spec.field("application"),
                package: j.application.clone(),
                version: j.application_version.clone(),
            });
        }
    }

    /// Reports each dependency cycle once, in the earliest of the checked documents on it.
    fn report_cycles(&self, docs: &[(Option<DocumentRef>, &Document)], findings: &mut [Findings]) {
        let position: BTreeMap<&str, usize> = docs
            .iter()
            .enumerate()
            .filter_map(|(i, (_, d))| match d {
                Document::Deployment(d) => Some((d.name.as_str(), i)),
                _ => None,
            })
            .collect();
        for cycle in graph::cycles(&self.deployments) {
            let members = &cycle[..cycle.len() - 1];
            let Some((start, &doc)) = members
                .iter()
                .enumerate()
                .filter_map(|(k, name)| position.get(name.as_str()).map(|i| (k, i)))
                .min_by_key(|&(_, i)| *i)
            else {
                continue; // entirely among known deployments: not this manifest's doing
            };
            let mut rotated: Vec<String> = members[start..]
                .iter()
                .chain(&members[..start])
                .cloned()
                .collect();
            rotated.push(rotated[0].clone());
            let Document::Deployment(d) = docs[doc].1 else {
                continue;
            };
            let edge = d
                .depends_on
                .iter()
                .position(|n| *n == rotated[1])
                .unwrap_or(0);
            findings[doc].error(E::DependencyCycle {
                path: FieldPath::spec().field("dependsOn").index(edge),
                cycle: rotated,
            });
        }
    }
}

/// Names and ids that must be unique across the documents: packages (name and version), fleets,
/// deployments, and robots (by name and by id) across all fleets.
fn unique_across(docs: &[(Option<DocumentRef>, &Document)], findings: &mut [Findings]) {
    const PACKAGE: usize = 0;
    const FLEET: usize = 1;
    const ROBOT_NAME: usize = 2;
    const ROBOT_ID: usize = 3;
    const DEPLOYMENT: usize = 4;
    let spec = FieldPath::spec();
    // The field of a value of `class`, `r` the robot's index in its fleet.
    let path_of = |class: usize, r: usize| match class {
        ROBOT_NAME => spec.field("robots").index(r).field("name"),
        ROBOT_ID => spec.field("robots").index(r).field("id"),
        _ => spec.field("name"),
    };
    // Where each value was first seen: its document and robot index. Paths and their text are
    // made only for a repeat.
    let mut seen: [HashMap<String, (usize, usize)>; 5] = Default::default();
    let mut check = |findings: &mut [Findings], i: usize, class: usize, value: &str, r: usize| {
        match seen[class].get(value) {
            Some(&(first_doc, first_r)) => {
                let at = path_of(class, first_r);
                let first = match &docs[first_doc].0 {
                    Some(d) => format!("{d}: {at}"),
                    None => at.to_string(),
                };
                findings[i].error(E::Duplicate {
                    path: path_of(class, r),
                    value: value.to_owned(),
                    first,
                });
            }
            None => {
                seen[class].insert(value.to_owned(), (i, r));
            }
        }
    };
    for (i, (_, doc)) in docs.iter().enumerate() {
        match doc {
            Document::Package(p) => {
                let value = format!("{}@{}", p.name, p.version);
                check(findings, i, PACKAGE, &value, 0);
            }
            Document::Fleet(f) => {
                check(findings, i, FLEET, &f.name, 0);
                // Within one fleet the fleet rules already report repeats; only the first of
                // each name and id here is compared with other fleets.
                let mut names = HashSet::with_capacity(f.robots.len());
                let mut ids = HashSet::with_capacity(f.robots.len());
                for (r, robot) in f.robots.iter().enumerate() {
                    if names.insert(robot.name.as_str()) {
                        check(findings, i, ROBOT_NAME, &robot.name, r);
                    }
                    if ids.insert(robot.id) {
                        check(findings, i, ROBOT_ID, &robot.id.to_string(), r);
                    }
                }
            }
            Document::Deployment(d) => {
                check(findings, i, DEPLOYMENT, &d.name, 0);
            }
            Document::DeploymentJob(_) => {}
        }
    }
}
