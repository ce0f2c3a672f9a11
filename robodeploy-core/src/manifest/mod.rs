//! Manifests: the versioned YAML and JSON format users write packages, fleets, deployments and
//! deployment jobs in.
//!
//! # The format
//!
//! A manifest is a list of **documents**. Every document has exactly three keys, in this order:
//!
//! | key | value |
//! |---|---|
//! | `apiVersion` | `robodeploy/v1` (the only version so far; any other is an error naming the supported ones) |
//! | `kind` | `Package`, `Fleet`, `Deployment` or `DeploymentJob` |
//! | `spec` | the model type of that kind: [`Package`], [`Fleet`], [`DeploymentRequest`], [`DeploymentJobRequest`] |
//!
//! `apiVersion` and `kind` may come in either order, but both must come before `spec`: `spec` is
//! then read straight into its type, so an error anywhere inside it reports its own line and
//! column. Field names inside `spec` are the model's, in camelCase. Unknown keys, at the top
//! level and anywhere inside `spec`, are errors, and so are duplicate keys (in YAML and in JSON).
//! Durations are spans such as `"5h"`, `"90s"`, `"1h 30m"` or ISO 8601 `"PT5H"`.
//!
//! - **YAML**: documents separated by `---`; empty documents are skipped.
//! - **JSON**: one document object, or an array of document objects.
//!
//! Parsing only checks the shape; [`crate::validate`] checks the rules (names, versions,
//! percentages, device selection, dependencies, …) and reports every problem at once.
//!
//! With the feature `schema`, `json_schema()` gives the JSON Schema of one document, for editors
//! to complete and check manifests with.
//!
//! ```
//! use robodeploy_core::manifest::{Kind, Manifest};
//!
//! let yaml = r#"
//! apiVersion: robodeploy/v1
//! kind: Package
//! spec:
//!   name: talker-listener
//!   version: "1.0.0"
//!   components:
//!     - name: talker
//!       placement: {kind: device, runtime: preinstalled, architecture: amd64}
//!       ros: {distro: humble}
//!       restartPolicy: on-failure
//!       executables:
//!         - name: talker
//!           command: ["sh", "-c", "while true; do echo talker; sleep 1; done"]
//!           env: {TALKER_RATE_HZ: "1"}
//! ---
//! apiVersion: robodeploy/v1
//! kind: Fleet
//! spec:
//!   name: lab
//!   robots:
//!     - name: robot-001
//!       architecture: amd64
//!       runtime: preinstalled
//!       rosDistro: humble
//!       labels: {site: lab}
//! ---
//! apiVersion: robodeploy/v1
//! kind: Deployment
//! spec:
//!   name: talker
//!   package: talker-listener
//!   version: "1.0.0"
//!   devices: {talker: robot-001}
//!   routedNetwork: {name: lab-net, placement: device}
//! ---
//! apiVersion: robodeploy/v1
//! kind: DeploymentJob
//! spec:
//!   fleet: lab
//!   application: talker-listener
//!   applicationVersion: "1.0.0"
//!   launchConfig:
//!     packageName: talker
//!     launchFile: talker.launch.py
//!     preLaunchFile: /opt/talker/check-battery.sh
//!     environmentVariables: {ROBOT_SITE: lab}
//!   deploymentConfig:
//!     concurrentDeploymentPercentage: 10
//!     failureThresholdPercentage: 5
//!     robotDeploymentTimeout: 30m
//!   tags: {team: navigation}
//! "#;
//!
//! let manifest = Manifest::parse_yaml(yaml)?;
//! assert_eq!(manifest.len(), 4);
//! assert_eq!(manifest.packages().next().unwrap().components[0].name, "talker");
//! assert_eq!(manifest.fleets().next().unwrap().robots.len(), 1);
//! assert_eq!(manifest.of_kind(Kind::Deployment).count(), 1);
//! assert_eq!(manifest.jobs().next().unwrap().deployment_config.concurrent_deployment_percentage, 10);
//!
//! // Written back as YAML or JSON, it reads back the same.
//! assert_eq!(Manifest::parse_json(&manifest.to_json()?)?, manifest);
//! assert_eq!(Manifest::parse_yaml(&manifest.to_yaml()?)?, manifest);
//! assert!(robodeploy_core::validate::validate_manifest(&manifest).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod document;
mod error;
mod json_keys;
mod limits;
#[cfg(feature = "schema")]
mod schema;
mod wording;

use std::path::Path;

pub use document::{API_VERSION, Document, Kind, SUPPORTED_API_VERSIONS, UnknownKind};
pub use error::{Format, ManifestError, Position, SyntaxError};
#[cfg(feature = "schema")]
pub use schema::json_schema;

use crate::model::{DeploymentJobRequest, DeploymentRequest, Fleet, Package};

/// A parsed manifest: its documents, in the order written.
///
/// ```
/// use robodeploy_core::manifest::Manifest;
/// let m = Manifest::parse_str(r#"[{"apiVersion": "robodeploy/v1", "kind": "Fleet",
///                                  "spec": {"name": "lab", "robots": []}}]"#).unwrap();
/// assert_eq!(m.fleets().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["lab"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The documents, in the order written.
    pub documents: Vec<Document>,
}

impl Manifest {
    /// A manifest of these documents.
    pub fn new(documents: Vec<Document>) -> Self {
        Manifest { documents }
    }

    /// Reads YAML: one or more documents separated by `---`. The reader's budgets grow with
    /// the text (a fleet of a million robots loads) while what aliases can multiply stays
    /// bounded (see the module docs of `limits` in the source).
    pub fn parse_yaml(text: &str) -> Result<Manifest, ManifestError> {
        let documents: Vec<Document> =
            serde_saphyr::from_multiple_with_options(text, limits::yaml_options(text.len()))
                .map_err(ManifestError::from_yaml)?;
        Self::non_empty(documents, Format::Yaml)
    }

    /// Reads JSON: one document object or an array of them.
    pub fn parse_json(text: &str) -> Result<Manifest, ManifestError> {
        // First pass: serde_json would silently keep the last of two equal map keys.
        let mut de = serde_json::Deserializer::from_str(text);
        serde::Deserialize::deserialize(&mut de)
            .and_then(|json_keys::NoDuplicateKeys| de.end())
            .map_err(ManifestError::from_json)?;
        let docs: document::JsonDocuments =
            serde_json::from_str(text).map_err(ManifestError::from_json)?;
        Self::non_empty(docs.0, Format::Json)
    }

    /// Reads either syntax, as [`Format::detect`] tells from the text.
    pub fn parse_str(text: &str) -> Result<Manifest, ManifestError> {
        Self::parse(text, Format::detect(text))
    }

    /// Reads `text` as `format`.
    pub fn parse(text: &str, format: Format) -> Result<Manifest, ManifestError> {
        match format {
            Format::Yaml => Self::parse_yaml(text),
            Format::Json => Self::parse_json(text),
        }
    }

    /// Reads a file: the syntax its extension names (`.yaml`, `.yml`, `.json`), else the one its
    /// content looks like. Errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let format = Format::from_path(path).unwrap_or_else(|| Format::detect(&text));
        Self::parse(&text, format).map_err(|e| e.in_file(path))
    }

    fn non_empty(documents: Vec<Document>, format: Format) -> Result<Manifest, ManifestError> {
        if documents.is_empty() {
            return Err(ManifestError::NoDocuments { file: None, format });
        }
        Ok(Manifest { documents })
    }

    /// Writes YAML, documents separated by `---`.
    pub fn to_yaml(&self) -> Result<String, ManifestError> {
        serde_saphyr::to_string_multiple(&self.documents).map_err(|e| ManifestError::Write {
            format: Format::Yaml,
            source: e.into(),
        })
    }

    /// Writes pretty-printed JSON: a single document as an object, several as an array.
    pub fn to_json(&self) -> Result<String, ManifestError> {
        let out = match self.documents.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            all => serde_json::to_string_pretty(all),
        };
        out.map_err(|e| ManifestError::Write {
            format: Format::Json,
            source: e.into(),
        })
    }

    /// Writes `format`.
    pub fn to_format(&self, format: Format) -> Result<String, ManifestError> {
        match format {
            Format::Yaml => self.to_yaml(),
            Format::Json => self.to_json(),
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    /// Whether there are no documents (never true for a parsed manifest).
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// Appends a document.
    pub fn push(&mut self, document: impl Into<Document>) {
        self.documents.push(document.into());
    }

    /// The documents of one kind.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(move |d| d.kind() == kind)
    }

    /// The packages.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.documents.iter().filter_map(|d| match d {
            Document::Package(p) => Some(p),
            _ => None,
        })
    }

    /// The fleets.
    pub fn fleets(&self) -> impl Iterator<Item = &Fleet> {
        self.documents.iter().filter_map(|d| match d {
            Document::Fleet(f) => Some(f),
            _ => None,
        })
    }

    /// The deployments.
    pub fn deployments(&self) -> impl Iterator<Item = &DeploymentRequest> {
        self.documents.iter().filter_map(|d| match d {
            Document::Deployment(d) => Some(d),
            _ => None,
        })
    }

    /// The deployment jobs.
    pub fn jobs(&self) -> impl Iterator<Item = &DeploymentJobRequest> {
        self.documents.iter().filter_map(|d| match d {
            Document::DeploymentJob(j) => Some(j),
            _ => None,
        })
    }
}

impl From<Vec<Document>> for Manifest {
    fn from(documents: Vec<Document>) -> Self {
        Manifest { documents }
    }
}

impl FromIterator<Document> for Manifest {
    fn from_iter<I: IntoIterator<Item = Document>>(iter: I) -> Self {
        Manifest {
            documents: iter.into_iter().collect(),
        }
    }
}

impl Extend<Document> for Manifest {
    fn extend<I: IntoIterator<Item = Document>>(&mut self, iter: I) {
        self.documents.extend(iter);
    }
}

impl IntoIterator for Manifest {
    type Item = Document;
    type IntoIter = std::vec::IntoIter<Document>;
    fn into_iter(self) -> Self::IntoIter {
        self.documents.into_iter()
    }
}

impl<'a> IntoIterator for &'a Manifest {
    type Item = &'a Document;
    type IntoIter = std::slice::Iter<'a, Document>;
    fn into_iter(self) -> Self::IntoIter {
        self.documents.iter()
    }
}
