//! The server's own log: `tracing` events on stderr, filtered by `ROBODEPLOY_LOG`.
//!
//! `ROBODEPLOY_LOG` takes `tracing-subscriber`'s filter syntax (`debug`,
//! `warn,robodeploy_core=trace`, …). Unset, robodeploy's crates log from `info` and every other
//! crate (zenoh, hyper) from `warn`. Lines carry no colour codes, so a journal or a file reads
//! them as text. Environment values never reach this log, at any level.

use tracing_subscriber::EnvFilter;

use super::error::CliError;

/// The variable that sets the filter.
pub(crate) const VARIABLE: &str = "ROBODEPLOY_LOG";

/// The filter when [`VARIABLE`] is unset.
const DEFAULT: &str = "warn,robodeploy_core=info,robodeploy_cli=info,robodeploy_process=info,\
                       robodeploy_docker=info,robodeploy_zenoh=info";

/// Installs the log for this process; a filter that does not parse is a usage error naming
/// the variable and its value.
pub(crate) fn install() -> Result<(), CliError> {
    let filter = match std::env::var(VARIABLE) {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text)
            .map_err(|e| CliError::Usage(format!("{VARIABLE}={text:?}: {e}")))?,
        _ => EnvFilter::new(DEFAULT),
    };
    // A subscriber installed already (a test harness) keeps its place.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}
