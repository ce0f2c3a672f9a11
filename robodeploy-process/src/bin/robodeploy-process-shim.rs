//! The per-root supervisor of robodeploy's process runtime (see `robodeploy_process::shim`).

fn main() -> std::process::ExitCode {
    robodeploy_process::shim::run_if_requested();
    eprintln!(
        "robodeploy-process-shim is started by robodeploy's process runtime: {} <runtime root>",
        robodeploy_process::shim::SHIM_ARG
    );
    std::process::ExitCode::from(2)
}
