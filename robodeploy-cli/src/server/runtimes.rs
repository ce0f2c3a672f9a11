//! The runtime of each device the server runs: a process runtime for a preinstalled device (its
//! root under the state directory, or the device's `endpoint` directory), a Docker client for a
//! Docker device (its `endpoint`, else the local engine), the device agent for a robot whose
//! `connection` names one. The same choice brings stored devices back at start (the engine's
//! runtime factory) and registers the devices a manifest adds.

use std::path::PathBuf;
use std::sync::Arc;

use robodeploy_core::engine::RuntimeFactory;
use robodeploy_core::model::{Connection, Device, DeviceRuntime};
use robodeploy_core::runtime::Runtime;
use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement};
use robodeploy_process::{ProcessRuntime, Shim};
use robodeploy_zenoh::Orchestrator;

/// How the server makes a device's runtime.
#[derive(Clone)]
pub(crate) struct Runtimes {
    devices_dir: PathBuf,
    remote: Option<Arc<Orchestrator>>,
}

/// Why a device's runtime cannot be made; `field` is relative to the device.
#[derive(Debug)]
pub(crate) struct NoRuntime {
    pub(crate) field: &'static str,
    pub(crate) message: String,
}

impl Runtimes {
    pub(crate) fn new(devices_dir: PathBuf, remote: Option<Arc<Orchestrator>>) -> Runtimes {
        Runtimes {
            devices_dir,
            remote,
        }
    }

    /// Whether robots reached through the device agent can be served.
    pub(crate) fn has_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The factory the engine brings stored devices back with. A device whose runtime cannot
    /// be made any more (no remote link this time) waits, listed offline, until a manifest
    /// registers it again.
    pub(crate) fn factory(&self) -> impl RuntimeFactory {
        let this = self.clone();
        move |device: &Device, _runtime: &str| match this.make(device) {
            Ok(rt) => Some(rt),
            Err(e) => {
                tracing::warn!("device {}: {}", device.name, e.message);
                None
            }
        }
    }

    /// The runtime for `device`.
    pub(crate) fn make(&self, device: &Device) -> Result<Arc<dyn Runtime>, NoRuntime> {
        if let Some(Connection::Agent(_)) = &device.connection {
            let Some(remote) = &self.remote else {
                return Err(NoRuntime {
                    field: "connection.agent",
                    message: "this server has no remote link: start it with --remote FILE to \
                              reach robots through the device agent"
                        .to_owned(),
                });
            };
            return remote
                .runtime_of(device)
                .map(|rt| Arc::new(rt) as Arc<dyn Runtime>)
                .map_err(|e| NoRuntime {
                    field: "connection.agent",
                    message: e.to_string(),
                });
        }
        match device.runtime {
            DeviceRuntime::Preinstalled => {
                let root = match &device.endpoint {
                    Some(dir) => PathBuf::from(dir),
                    None => self.devices_dir.join(&device.name),
                };
                ProcessRuntime::builder(root)
                    .shim(Shim::CurrentExe)
                    .build()
                    .map(|rt| Arc::new(rt) as Arc<dyn Runtime>)
                    .map_err(|e| NoRuntime {
                        field: "endpoint",
                        message: format!("process runtime: {e}"),
                    })
            }
            DeviceRuntime::Docker => {
                let endpoint = match &device.endpoint {
                    Some(text) => Endpoint::parse(text).map_err(|e| NoRuntime {
                        field: "endpoint",
                        message: e.to_string(),
                    })?,
                    None => Endpoint::Local,
                };
                DockerRuntime::new(DockerConfig::new(endpoint, Placement::Device))
                    .map(|rt| Arc::new(rt) as Arc<dyn Runtime>)
                    .map_err(|e| NoRuntime {
                        field: "endpoint",
                        message: format!("docker: {e}"),
                    })
            }
            ref other => Err(NoRuntime {
                field: "runtime",
                message: format!("device runtime {other} is not served"),
            }),
        }
    }
}
