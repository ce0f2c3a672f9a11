//! What the engine benches share: a process device runtime on a temporary root, and packages
//! and requests for one device component.

use std::path::PathBuf;
use std::sync::Arc;

use robodeploy_core::model::*;
use robodeploy_process::{ProcessRuntime, Shim};

/// The name of the one device the benches deploy to.
pub(crate) const DEVICE: &str = "robot";

/// The temporary root of the bench's device runtime.
pub(crate) fn root(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("robodeploy-bench-{tag}-{}", std::process::id()))
}

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
    Device::new(DEVICE, Architecture::Amd64, DeviceRuntime::Preinstalled)
}

/// Package `name` version 1: one device component `main` with `exes` executables running
/// `argv`.
pub(crate) fn package(name: &str, policy: RestartPolicy, exes: usize, argv: &[String]) -> Package {
    let executables = (0..exes)
        .map(|i| Executable {
            name: format!("e{i}"),
            image: None,
            command: argv.to_vec(),
            shell: false,
            working_dir: None,
            env: Default::default(),
            ports: vec![],
            mounts: vec![],
        })
        .collect();
    Package {
        name: name.into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: Placement::Device {
                runtime: DeviceRuntime::Preinstalled,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(policy),
            shared: false,
            executables,
        }],
    }
}

/// A request deploying `package` on [`DEVICE`] as `name`.
pub(crate) fn request(name: String, package: &Package) -> DeploymentRequest {
    DeploymentRequest {
        name,
        package: package.name.clone(),
        version: package.version.clone(),
        labels: Default::default(),
        devices: [("main".to_owned(), DEVICE.to_owned())].into(),
        depends_on: vec![],
        volumes: vec![],
        routed_network: None,
        restart_policy: None,
        env: Default::default(),
    }
}
