//! The HTTP API's own request and response bodies (the engine's reports, `DeploymentStatus`,
//! `JobReport`, `Device`, `Package`, `EngineEvent`, travel as the core crate serializes them).
//!
//! Every route is under `/v1/`; every body is JSON (camelCase fields); streams are JSON lines
//! (`application/x-ndjson`), one object per line. The routes, their bodies and their errors are
//! listed in [`crate::openapi`].

use robodeploy_core::model::{DeploymentId, JobId, Version};
use robodeploy_core::runtime::LogLine;
use serde::{Deserialize, Serialize};

/// The API's version, the first segment of every route.
pub const API_VERSION: &str = "v1";

/// `GET /v1/server`: who answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The server's robodeploy version.
    pub version: String,
    /// The API version it serves.
    pub api: String,
    /// Its state directory.
    pub state_dir: String,
    /// Whether it opened a Zenoh link for remote robots.
    pub remote: bool,
}

/// `POST /v1/apply` and `POST /v1/delete`: a manifest's text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyRequest {
    /// The manifest: YAML (several `---` documents) or JSON.
    pub manifest: String,
    /// Where relative paths in the manifest (a job's script files) start: the directory of the
    /// file the client read. Absolute; none: the server's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_dir: Option<String>,
    /// Only say what would change; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What applying (or deleting) did, or would do, to one thing the file names.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// It did not exist: created.
    Created,
    /// It exists as the file says: nothing done.
    Unchanged,
    /// It existed with other content: the old one was deprovisioned and the new one deployed.
    Replaced,
    /// It existed with other content and was changed in place (a fleet's robots or labels).
    Updated,
    /// It was deleted (deprovisioned).
    Deleted,
    /// Nothing of that name exists: nothing to delete.
    Absent,
}

impl Change {
    /// The word a person reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Unchanged => "unchanged",
            Change::Replaced => "replaced",
            Change::Updated => "updated",
            Change::Deleted => "deleted",
            Change::Absent => "absent",
        }
    }

    /// Whether anything changed (or would).
    pub fn is_change(self) -> bool {
        matches!(
            self,
            Change::Created | Change::Replaced | Change::Updated | Change::Deleted
        )
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One package, device or fleet of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemChange {
    /// Its name (a package's is `name@version`).
    pub name: String,
    /// What happened to it.
    pub change: Change,
}

/// One deployment of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentChange {
    /// Its name.
    pub name: String,
    /// Its id now (the new one when created or replaced); none in a dry run that would create it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<DeploymentId>,
    /// What happened to it.
    pub change: Change,
}

/// One deployment job of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobChange {
    /// The application it rolls out.
    pub application: String,
    /// The version.
    pub version: Version,
    /// The fleet.
    pub fleet: String,
    /// Its id (the job this file created before, when unchanged); none in a dry run that would
    /// create it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<JobId>,
    /// What happened to it.
    pub change: Change,
}

/// What `POST /v1/apply` or `POST /v1/delete` did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// A dry run: nothing was changed.
    pub dry_run: bool,
    /// The packages (`name@version`).
    pub packages: Vec<ItemChange>,
    /// The robots of the file's fleets.
    pub devices: Vec<ItemChange>,
    /// The fleets.
    pub fleets: Vec<ItemChange>,
    /// The deployments, in the order they were applied (dependencies first).
    pub deployments: Vec<DeploymentChange>,
    /// The deployment jobs.
    pub jobs: Vec<JobChange>,
    /// The validator's warnings about the file.
    pub warnings: Vec<String>,
}

impl ApplyReport {
    /// Whether anything changed (or would).
    pub fn changed(&self) -> bool {
        self.packages
            .iter()
            .chain(&self.devices)
            .chain(&self.fleets)
            .any(|i| i.change.is_change())
            || self.deployments.iter().any(|d| d.change.is_change())
            || self.jobs.iter().any(|j| j.change.is_change())
    }
}

/// `GET /v1/deployments/{name}/logs` and `GET /v1/jobs/{id}/logs`: one line, with whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The deployment's name.
    pub deployment: String,
    /// The device (robot) it runs on; `cloud` in the cloud.
    pub device: String,
    /// Component name.
    pub component: String,
    /// Executable name.
    pub executable: String,
    /// The runtime instance that wrote it (a new one after each restart).
    pub instance: String,
    /// The line.
    #[serde(flatten)]
    pub line: LogLine,
}

/// Query of the log routes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogQuery {
    /// Only this component's executables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Only executables of this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// Only the last `tail` lines of what exists, per executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<usize>,
    /// Keep streaming new lines, across restarts (each restart's instance is followed in
    /// turn), until the deployment ends or the client goes away.
    #[serde(default)]
    pub follow: bool,
}

/// Body of `POST /v1/deployments/{name}/exec` (the answer is the runtime's `ExecOutput`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecRequest {
    /// Component name.
    pub component: String,
    /// Executable name.
    pub executable: String,
    /// The command and its arguments, run inside the executable's instance.
    pub command: Vec<String>,
}

/// The kind of a refused request: which HTTP status it travels with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// 400: the request (a manifest, a query, a body) breaks a rule; `field` names where.
    Invalid,
    /// 401: no token, or the wrong one.
    Unauthorized,
    /// 404: nothing of that name or id.
    NotFound,
    /// 409: it conflicts with what exists (a package version with other content, a name taken).
    Conflict,
    /// 503: the engine is stopping.
    Unavailable,
    /// 500: the server failed (a runtime, the store).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code it travels with.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// One rule a manifest breaks, as `validate` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The document, counted from 1 in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// The field path inside the document (`spec.deploymentConfig.robotDeploymentTimeout`).
    pub field: String,
    /// The seed's error code, where one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// Which kind of refusal.
    pub error: ErrorKind,
    /// What went wrong, for a person.
    pub message: String,
    /// The field (of the body, the query, the path or the manifest) at fault, where one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every rule a manifest breaks, when it was one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The field first, unless the message names it already.
        if let Some(field) = &self.field
            && self.problems.is_empty()
            && !self.message.contains(field.as_str())
        {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        for p in &self.problems {
            write!(f, "\n  ")?;
            if let Some(d) = p.document {
                write!(f, "document {d}: ")?;
            }
            if let Some(c) = &p.code {
                write!(f, "[{c}] ")?;
            }
            // The message names the field already.
            f.write_str(&p.message)?;
        }
        Ok(())
    }
}
