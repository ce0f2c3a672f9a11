//! robodeploy-core: the model and the logic of robodeploy.
//!
//! robodeploy deploys robot applications to fleets of robots and to the cloud and keeps them
//! running. This crate holds everything that is not a backend:
//!
//! - [`lifecycle`]: the pure state machine of one deployment (phases, statuses, error codes,
//!   restarts, dependencies);
//! - [`lifecycle`]: the pure state machine of one deployment (phases, statuses, error codes,
//!   restarts, dependencies);
//! - [`model`]: packages, devices, fleets, deployment and job requests, statuses and error codes;
//! - [`manifest`]: the versioned YAML/JSON manifest format, read and written;
//! - [`validate`]: every rule of the seeds as a typed, field-naming error, all collected;
//! - [`time`]: the caller-supplied time the pure machines run on;
//! - [`rollout`]: the pure scheduler of a deployment job over a fleet;
//! - [`sim`]: the deterministic simulator that dry-runs a job against a modelled fleet;
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
pub mod store;
#[cfg(feature = "proptest")]
pub mod strategies;
pub mod time;
pub mod validate;
