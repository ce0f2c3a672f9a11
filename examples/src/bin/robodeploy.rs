//! The `robodeploy` command line over the engine: validate, plan (a simulated dry run), apply
//! on local process runtimes, then status, logs and deprovision in later invocations, each of
//! which starts the engine on the durable store apply left (`<state-dir>/state.redb`), lets it
//! adopt what still runs, answers, and detaches.
//!
//! ```text
//! cargo run -p robodeploy-examples --bin robodeploy -- validate examples/manifests/fleet-rollout.yaml
//! cargo run -p robodeploy-examples --bin robodeploy -- plan examples/manifests/fleet-rollout.yaml --failure-rate 0.2
//! cargo run -p robodeploy-examples --bin robodeploy -- apply examples/manifests/talker-listener.yaml
//! cargo run -p robodeploy-examples --bin robodeploy -- status
//! cargo run -p robodeploy-examples --bin robodeploy -- logs listener --tail 5
//! cargo run -p robodeploy-examples --bin robodeploy -- deprovision listener
//! ```
//!
//! `robodeploy help` prints every command, flag and exit code.

#[path = "../cli/mod.rs"]
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // The executables apply starts run under this same program as their root's supervisor.
    robodeploy_process::shim::run_if_requested();
    let parsed = match cli::args::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("robodeploy: {e}\n(see `robodeploy help`)");
            return ExitCode::from(e.exit_code());
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("robodeploy: cannot start tokio: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(cli::run(parsed)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("robodeploy: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
