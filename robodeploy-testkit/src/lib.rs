//! Shared fixtures for robodeploy's tests, benchmarks and examples: the packages, requests,
//! devices and jobs they deploy, and the harness of the tests that SIGKILL an engine in the
//! middle of a job. Not published; a dev-dependency of the crates whose tests use it.
//!
//! Fixtures build on the model's own constructors ([`robodeploy_core::model::Package::new`] and
//! friends), so a test names only what differs from the plain case:
//!
//! ```
//! use robodeploy_core::model::RestartPolicy;
//! use robodeploy_testkit::model::{exe, package, request};
//! let p = package("demo", "1", RestartPolicy::Always, [exe("node", ["sleep", "600"])]);
//! let r = request("demo-1", "demo", "1", "robot-1");
//! assert_eq!(p.components[0].name, r.devices.keys().next().unwrap().as_str());
//! ```

pub mod engine;
pub mod kill;
pub mod model;
pub mod props;
pub mod samples;
pub mod skip;
pub mod tmpfs;
