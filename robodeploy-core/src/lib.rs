//! robodeploy-core: the model and the logic of robodeploy.
//!
//! robodeploy deploys robot applications to fleets of robots and to the cloud and keeps them
//! running. This crate holds everything that is not a backend. [`specs`] maps the two
//! specifications robodeploy follows (the Rapyuta.io deployment lifecycle, the AWS RoboMaker
//! deployment jobs) onto this API.
//!
//! # Getting started
//!
//! An engine, a device with a runtime (here the in-memory one the tests use; in production the
//! process runtime of `robodeploy-process`, the Docker runtime of `robodeploy-docker`, or a
//! remote robot through `robodeploy-zenoh`), a package from a manifest, and a deployment that
//! runs:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use robodeploy_core::engine::{Engine, Until};
//! use robodeploy_core::manifest::Manifest;
//! use robodeploy_core::runtime::MemoryRuntime;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manifest = Manifest::parse_yaml(r#"
//! apiVersion: robodeploy/v1
//! kind: Fleet
//! spec:
//!   name: lab
//!   robots: [{name: robot-1, architecture: amd64, runtime: preinstalled}]
//! ---
//! apiVersion: robodeploy/v1
//! kind: Package
//! spec:
//!   name: talker
//!   version: "1.0.0"
//!   components:
//!     - name: talker
//!       placement: {kind: device, runtime: preinstalled, architecture: amd64}
//!       restartPolicy: always
//!       executables: [{name: talker, command: [talker, --rate, "10"]}]
//! ---
//! apiVersion: robodeploy/v1
//! kind: Deployment
//! spec: {name: talker, package: talker, version: "1.0.0", devices: {talker: robot-1}}
//! "#)?;
//! assert!(robodeploy_core::validate::validate_manifest(&manifest).is_ok());
//!
//! let engine = Engine::builder().start();
//! for robot in manifest.fleets().flat_map(|f| &f.robots) {
//!     engine.add_device(robot.clone(), Arc::new(MemoryRuntime::new(robot.name.as_str()))).await?;
//! }
//! for package in manifest.packages() {
//!     engine.add_package(package.clone()).await?;
//! }
//! let request = manifest.deployments().next().expect("a deployment").clone();
//! let id = engine.deploy(request, None).await?;
//! let status = engine.wait_for(id, Until::Running, Duration::from_secs(5)).await?;
//! assert_eq!(status.phase.to_string(), "Succeeded");
//! engine.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # What is where
//!
//! - [`model`]: packages, devices, fleets, deployment and job requests, statuses and error codes;
//! - [`manifest`]: the versioned YAML/JSON manifest format, read and written;
//! - [`validate`]: every rule of the specifications as a typed, field-naming error, all collected;
//! - [`lifecycle`]: the pure state machine of one deployment (phases, statuses, error codes,
//!   restarts, dependencies);
//! - [`rollout`]: the pure scheduler of a deployment job over a fleet;
//! - [`sim`]: the deterministic simulator that dry-runs a job against a modelled fleet;
//! - [`time`]: the caller-supplied time the pure machines run on;
//! - [`runtime`]: the trait a backend (Docker, processes, your own) implements;
//! - [`engine`]: the driver that runs deployments and jobs against runtimes;
//! - [`store`]: where the engine keeps what it decided;
//! - `strategies` (feature `proptest`): proptest strategies for every model type.
//!
//! ```
//! use robodeploy_core::model::ErrorCode;
//! assert_eq!(ErrorCode::CrashLoop.to_string(), "DEP_E163");
//! ```

pub mod engine;
pub mod lifecycle;
pub mod manifest;
pub mod model;
pub mod rollout;
pub mod runtime;
pub mod sim;
pub mod specs;
pub mod store;
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod time;
pub mod validate;
