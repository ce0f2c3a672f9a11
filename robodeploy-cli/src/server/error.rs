//! Why a server could not start or stopped with an error, and how a refused request answers.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use robodeploy_core::engine::{CatalogError, DeviceError, EngineError};
use robodeploy_core::manifest::ManifestError;
use robodeploy_core::runtime::RuntimeError;
use robodeploy_core::store::StoreError;
use robodeploy_core::validate::Report;

use crate::api::{ApiError, ErrorKind, Problem};

/// Why a server could not start, or failed while serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The state directory (or a file in it) could not be made, read or written.
    #[error("{}: {source}", path.display())]
    State {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// Another server runs on the state directory.
    #[error("{}: another robodeploy server runs on this state directory", path.display())]
    Busy {
        /// The state directory.
        path: PathBuf,
    },
    /// The store could not be opened or read: damaged, written by a newer robodeploy, held
    /// open by another program.
    #[error("store {}: {source}", path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: StoreError,
    },
    /// `--listen` is not a loopback address.
    #[error(
        "--listen {addr}: the API listens on loopback only (127.0.0.1, ::1) unless it is served \
         over TLS: give --tls-cert and --tls-key"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound, or serving on it failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The remote link (Zenoh) could not be opened.
    #[error("remote link: {0}")]
    Remote(#[source] robodeploy_zenoh::LinkError),
    /// The engine failed.
    #[error("engine: {0}")]
    Engine(#[source] EngineError),
    /// The server's task ended abnormally.
    #[error("server task: {0}")]
    Task(String),
}

/// A refused request: an [`ApiError`] body with its status code.
#[derive(Debug)]
pub(crate) struct Refusal(pub(crate) ApiError);

impl Refusal {
    pub(crate) fn new(error: ErrorKind, message: impl Into<String>) -> Refusal {
        Refusal(ApiError {
            error,
            message: message.into(),
            field: None,
            problems: Vec::new(),
        })
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        let mut r = Refusal::new(ErrorKind::Invalid, message);
        r.0.field = Some(field.into());
        r
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorKind::NotFound, message)
    }

    /// A manifest that breaks rules: every problem, each with its document and field.
    pub(crate) fn report(what: &str, report: &Report) -> Refusal {
        let problems: Vec<Problem> = report
            .errors
            .iter()
            .map(|i| Problem {
                document: i.document.as_ref().map(|d| d.index + 1),
                field: i.problem.path().to_string(),
                code: i.problem.error_code().map(|c| c.to_string()),
                message: i.problem.to_string(),
            })
            .collect();
        let mut r = Refusal::new(
            ErrorKind::Invalid,
            format!(
                "{what}: {} {}",
                problems.len(),
                if problems.len() == 1 {
                    "error"
                } else {
                    "errors"
                }
            ),
        );
        r.0.field = problems.first().map(|p| p.field.clone());
        r.0.problems = problems;
        r
    }

    /// A manifest that does not parse.
    pub(crate) fn manifest(e: &ManifestError) -> Refusal {
        let message = match e.position() {
            Some(p) => format!("manifest: line {}, column {}: {e}", p.line, p.column),
            None => format!("manifest: {e}"),
        };
        Refusal::invalid("manifest", message)
    }
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Refusal {
        let kind = match &e {
            EngineError::Invalid(report) => return Refusal::report("request", report),
            EngineError::NoSuchDeployment(_)
            | EngineError::NoSuchJob(_)
            | EngineError::NoSuchFleet(_)
            | EngineError::NoSuchComponent { .. }
            | EngineError::NotRunning { .. }
            | EngineError::Catalog(CatalogError::NotFound { .. })
            | EngineError::Device(DeviceError::NotFound(_)) => ErrorKind::NotFound,
            EngineError::DuplicateName { .. }
            | EngineError::NothingToRollBack(_)
            | EngineError::Catalog(_)
            | EngineError::Device(_)
            | EngineError::Rollout(_) => ErrorKind::Conflict,
            EngineError::Spec(_) => ErrorKind::Invalid,
            EngineError::Runtime(RuntimeError::NotFound { .. }) => ErrorKind::NotFound,
            EngineError::Shutdown => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        Refusal::new(kind, e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error.status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
