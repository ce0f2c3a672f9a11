//! The `robodeploy` command line: one module per command, the state directory (the engine's
//! store and the devices' process runtimes), the engine session every later command opens on
//! it, and the error type whose kind is the exit code.

mod apply;
mod apply_job;
pub(crate) mod args;
mod deprovision;
mod logs;
mod manifest;
mod plan;
mod printable;
mod report;
mod session;
mod state;
mod status;

use std::path::PathBuf;

use robodeploy_core::engine::EngineError;
use robodeploy_core::manifest::ManifestError;
use robodeploy_core::runtime::RuntimeError;
use robodeploy_core::store::StoreError;
use serde::Serialize;

use args::{Cli, Command};

/// Why a command could not do its job. [`CliError::exit_code`] is the documented exit code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The manifest cannot be read or parsed (exit 1). Boxed: parser errors are large.
    #[error(transparent)]
    Manifest(Box<ManifestError>),
    /// The request was understood and refused: an invalid model file, a name nothing matches,
    /// a deployment already applied or deprovisioned already (exit 1).
    #[error("{0}")]
    Refused(String),
    /// The engine failed (exit 3).
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// A runtime failed (exit 3).
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// A process runtime could not be created (exit 3).
    #[error("process runtime: {0}")]
    Build(#[from] robodeploy_process::BuildError),
    /// The engine's store could not be opened or read: damaged, written by a newer
    /// robodeploy, held open by another command, unreadable (exit 3).
    #[error("store {}: {source}", path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: StoreError,
    },
    /// A deprovision left executables that could not be stopped (exit 3).
    #[error("{0}")]
    Incomplete(String),
    /// The state directory could not be read or written (exit 3).
    #[error("{}: {source}", path.display())]
    State {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

impl From<ManifestError> for CliError {
    fn from(e: ManifestError) -> Self {
        CliError::Manifest(Box::new(e))
    }
}

impl CliError {
    /// The exit code documented in the help text.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Manifest(_)
            | CliError::Refused(_)
            | CliError::Engine(
                EngineError::Invalid(_)
                | EngineError::DuplicateName { .. }
                | EngineError::Catalog(_),
            ) => 1,
            CliError::Usage(_) => 2,
            CliError::Engine(_)
            | CliError::Runtime(_)
            | CliError::Build(_)
            | CliError::Store { .. }
            | CliError::Incomplete(_)
            | CliError::State { .. } => 3,
        }
    }
}

/// What a command reports when it did not fail outright: success, or a failure its output
/// already explained (exit 1).
pub(crate) type Outcome = Result<bool, CliError>;

/// Runs a parsed command line.
pub(crate) async fn run(cli: Cli) -> Outcome {
    let json = cli.json;
    match cli.command {
        Command::Help => {
            print!("{}", args::HELP);
            Ok(true)
        }
        Command::Validate(file) => manifest::validate(&file, json),
        Command::Plan(file, flags) => plan::plan(&file, &flags, json),
        Command::Apply(file, timeout) => apply::apply(&file, &cli.state_dir, timeout, json).await,
        Command::Status(name) => status::status(&cli.state_dir, name.as_deref(), json).await,
        Command::Logs(name, flags) => logs::logs(&cli.state_dir, &name, &flags, json).await,
        Command::Deprovision(name, grace) => {
            deprovision::deprovision(&cli.state_dir, &name, grace, json).await
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Refused(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
