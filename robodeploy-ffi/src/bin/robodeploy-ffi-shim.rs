//! The process runtime's shim (the supervisor each runtime root runs), built by this crate so an
//! embedder of the C library (and its C and Python tests) has one: point
//! `ROBODEPLOY_PROCESS_SHIM` at it or put it on `PATH` as `robodeploy-process-shim`.

fn main() -> std::process::ExitCode {
    robodeploy_process::shim::run_if_requested();
    eprintln!(
        "robodeploy-ffi-shim is started by robodeploy's process runtime: {} <runtime root>",
        robodeploy_process::shim::SHIM_ARG
    );
    std::process::ExitCode::from(2)
}
