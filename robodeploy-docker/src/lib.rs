//! robodeploy-docker: the [`Runtime`](robodeploy_core::runtime::Runtime) that runs executables as
//! containers on Docker engines, local or remote.
//!
//! A robot fleet is many Docker engines, one per robot: build one [`DockerRuntime`] per device
//! (its engine over the local socket, TCP with TLS client certificates, or SSH) and one for the
//! cloud. The runtime negotiates the API version with each engine (Debian's engine speaks 1.41),
//! so old robots and new ones are driven alike.
//!
//! | what | how |
//! |---|---|
//! | prepare | image present (tag, id, pinned digest) → ready; missing → pulled when a registry is configured (progress through [`DockerRuntime::pull_progress`]), else "not present"; error codes below |
//! | start | one container per executable, named by [`InstanceSpec::name`](robodeploy_core::runtime::InstanceSpec), labelled with deployment, component, executable, package and version |
//! | restart policies | Docker's own (`always`, `on-failure`, `no`): the engine enforces them across reboots; `RestartCount` is read back |
//! | events | the engine's event stream (not polling), fanned out to every subscriber, reopened after a break without losing events |
//! | networks, volumes | created when missing, removed with the last container using them when robodeploy created them |
//! | stop / remove | stop with a grace period, then remove; a removal that fails is an error |
//! | job scripts | one-off task containers with auto-removal; one that a killed process created and never started is removed by the next listing once [`DockerConfig::abandoned_task_age`] has passed |
//! | unreachable engine | [`RuntimeError::Unreachable`](robodeploy_core::runtime::RuntimeError) (on a device DEP_E151); the next call tries again |
//!
//! Image errors (the `DEP_E` code each gives is in the engine's one table,
//! [`RuntimeError::failure`](robodeploy_core::runtime::RuntimeError::failure)):
//!
//! | case | error |
//! |---|---|
//! | missing, no registry configured | `PullFailed` (images not present on the device) |
//! | missing, the registry has no such image | `NotFound` |
//! | missing, pull failed otherwise | `PullFailed` |
//!
//! ```
//! use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement, RegistryConfig};
//! use robodeploy_core::runtime::Runtime;
//!
//! let config = DockerConfig::new(Endpoint::parse("tcp://127.0.0.1:1").unwrap(), Placement::Cloud)
//!     .with_registry(RegistryConfig::default());
//! let rt = DockerRuntime::new(config).unwrap(); // nothing is sent yet
//! assert_eq!(rt.name(), "docker:tcp://127.0.0.1:1");
//! assert!(rt.capabilities().enforces_restart_policy);
//! ```

mod client;
mod config;
mod container_spec;
mod error;
mod event_pump;
mod events;
mod exec;
mod image;
mod limits;
mod logs;
mod resources;
mod runtime;
mod state;
mod task_owner;
mod task_sweep;
#[cfg(feature = "test-image")]
pub mod test_image;

pub use config::{
    ConfigError, DEFAULT_ABANDONED_TASK_AGE, DockerConfig, Endpoint, Placement, RegistryConfig,
};
pub use exec::{OUTPUT_LIMIT, TASK_LABEL};
pub use image::PullProgress;
pub use resources::CREATED_BY_LABEL;
pub use runtime::DockerRuntime;
pub use task_owner::OWNER_LABEL;
