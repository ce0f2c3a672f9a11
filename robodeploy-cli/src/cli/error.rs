//! Why a command could not do its job; its kind is the exit code.

use std::path::PathBuf;

use robodeploy_core::manifest::ManifestError;

use crate::client::ClientError;
use crate::server::ServeError;

/// Why a command failed. [`CliError::exit_code`] is the documented exit code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A manifest cannot be read as one (exit 1). Boxed: parser errors are large.
    #[error(transparent)]
    Manifest(Box<ManifestError>),
    /// The request was understood and refused, or what it waited for failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// A file could not be read or written (exit 3).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The server refused (exit 1) or could not be reached or failed (exit 3).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server could not start or failed (exit 3).
    #[error(transparent)]
    Serve(#[from] ServeError),
}

impl From<ManifestError> for CliError {
    fn from(e: ManifestError) -> Self {
        CliError::Manifest(Box::new(e))
    }
}

impl CliError {
    /// The exit code the help text documents.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Manifest(_) | CliError::Failed(_) => 1,
            CliError::Client(e) if !e.is_server_fault() => 1,
            CliError::Usage(_) => 2,
            CliError::Io { .. } | CliError::Client(_) | CliError::Serve(_) => 3,
        }
    }
}

/// What a command reports when it did not fail outright: success, or a failure its output
/// already explained (exit 1).
pub(crate) type Outcome = Result<bool, CliError>;
