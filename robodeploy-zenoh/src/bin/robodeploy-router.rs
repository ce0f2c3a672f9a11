//! `robodeploy-router`: a Zenoh router between the orchestrator and the robots' agents. See
//! `robodeploy-router --help`.

fn main() {
    std::process::exit(robodeploy_zenoh::router_cli::main());
}
