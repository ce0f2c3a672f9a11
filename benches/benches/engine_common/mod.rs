//! What the engine benches share: a process device runtime on a temporary root, and packages
//! and requests for one device component.

use std::sync::Arc;

use robodeploy_core::model::*;
use robodeploy_process::{ProcessRuntime, Shim};
use robodeploy_testkit::model as kit;

/// The name of the one device the benches deploy to.
pub(crate) const DEVICE: &str = "robot";

/// The temporary root of the bench's device runtime.
pub(crate) use crate::support::root;

/// A process runtime on a fresh root that kills what it started when dropped. The shim is
/// `target/release/robodeploy-process-shim` when built, else this bench binary (whose `main`
/// must call `robodeploy_process::shim::run_if_requested` first).
pub(crate) fn device_runtime(tag: &str) -> Arc<ProcessRuntime> {
    let _ = std::fs::remove_dir_all(root(tag));
    let shim = match ProcessRuntime::builder(root(tag)).build() {
        Ok(_) => Shim::Find,
        Err(_) => Shim::CurrentExe,
    };
    Arc::new(
        ProcessRuntime::builder(root(tag))
            .shim(shim)
            .kill_on_drop(true)
            .build()
            .expect("process runtime"),
    )
}

/// The device [`DEVICE`] as the engine registers it.
pub(crate) fn device() -> Device {
    kit::device(DEVICE, DeviceRuntime::Preinstalled)
}

/// Package `name` version 1: one device component `main` with `exes` executables running
/// `argv`.
pub(crate) fn package(name: &str, policy: RestartPolicy, exes: usize, argv: &[String]) -> Package {
    let executables = (0..exes).map(|i| kit::exe(&format!("e{i}"), argv.iter().cloned()));
    kit::package(name, "1", policy, executables)
}

/// A request deploying `package` on [`DEVICE`] as `name`.
pub(crate) fn request(name: String, package: &Package) -> DeploymentRequest {
    kit::request(&name, &package.name, package.version.as_str(), DEVICE)
}
