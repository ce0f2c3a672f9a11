//! The `robodeploy` binary: see the crate docs, and `robodeploy --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The executables `serve` starts on preinstalled devices run under this same program as
    // their device root's supervisor.
    robodeploy_process::shim::run_if_requested();
    robodeploy_cli::main()
}
