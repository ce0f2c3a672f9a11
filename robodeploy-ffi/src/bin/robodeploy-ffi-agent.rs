//! The device agent (`robodeploy-agent`, from robodeploy-zenoh), built by this crate too so an
//! embedder of the C library has the robot's side of `rd_engine_add_remote_device` beside it
//! (and the Python suite one to run). Same flags: `robodeploy-ffi-agent --help`.

fn main() {
    std::process::exit(robodeploy_zenoh::agent_cli::main());
}
