//! `robodeploy-agent`: serves a robot's runtime to the orchestrator over Zenoh. See
//! `robodeploy-agent --help`.

fn main() {
    std::process::exit(robodeploy_zenoh::agent_cli::main());
}
