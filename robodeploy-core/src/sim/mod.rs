//! The deterministic simulator: dry-run a deployment job against a modelled fleet before
//! touching a robot.
//!
//! A [`Simulation`] drives the real [`Rollout`](crate::rollout::Rollout) — the same machine the
//! engine drives — against a [`FleetModel`]: per-step durations, per-robot speeds, failure,
//! hang and offline probabilities per step, robots that come back online. Time is a virtual
//! clock that jumps from event to event; there are no threads and no sleeps, so a million-robot
//! rollout takes well under a second. Every random draw comes from the seed in [`SimOptions`]
//! through [`SplitMix64`], keyed by robot and attempt, so the same inputs give the same
//! [`SimReport`] — report and timeline — byte for byte.
//!
//! ```
//! use robodeploy_core::model::{DeploymentConfig, FailureCode, JobStatus};
//! use robodeploy_core::sim::{FleetModel, SimOptions, Simulation, TimelineDetail};
//!
//! // 1,000 robots, 10 % at once, halt at 5 % failed; a fleet where 20 % of robots fail.
//! let config = DeploymentConfig {
//!     concurrent_deployment_percentage: 10,
//!     failure_threshold_percentage: 5,
//!     ..DeploymentConfig::default()
//! };
//! let model = FleetModel::default().with_failure_rate(0.2);
//! let options = SimOptions { seed: 7, timeline: TimelineDetail::Job, ..SimOptions::default() };
//! let out = Simulation::new(&config, 1_000, None, model, options).unwrap().run();
//! assert_eq!(out.report.status, JobStatus::Failed);
//! assert_eq!(out.report.failure_code, Some(FailureCode::FailureThresholdBreached));
//! // The threshold is 50 robots; robots in flight finish, so at most 100 - 1 more can fail.
//! let failed = out.report.counts.failed;
//! assert!((50..50 + 100).contains(&failed), "{failed}");
//! let json = serde_json::to_string(&out).unwrap();
//! assert!(json.contains("\"halted\""));
//! ```
//!
//! | modelled | how |
//! |---|---|
//! | step durations | [`Dist`] per step, scaled by the robot's speed percent (drawn once per robot) |
//! | robot steps | the robot pipeline ([`Pipeline`](crate::rollout::Pipeline)) the engine runs: only the steps the job has (its download condition, content lock, pre- and post-launch scripts; every step for a generated fleet) |
//! | failures | per step, with the code the pipeline gives at that step, as in a real run (DownloadConditionFailed, ExtractingBundleFailure, PreLaunchFileFailure, LaunchFailure, PostLaunchFileFailure, …) |
//! | hangs | per step: the robot goes silent and its robot timeout fires |
//! | offline robots | initially offline with a probability (generated fleet) or per the fleet's flags; per step, a robot drops partway through; each comes back after `offlineDuration` |
//! | rollback | one step with its own duration and failure probability |
//! | the user | optional cancel after a delay; optional resume of manual-resume waves after a delay |
//!
//! At one virtual instant, the rollout's due timers fire before any robot report (a robot
//! finishing exactly at its deadline has timed out), and robot reports at the same instant are
//! processed in the order they were scheduled.

mod driver;
mod model;
mod queue;
mod rng;
mod timeline;

pub use driver::{SimOptions, Simulation};
pub use model::{Dist, FleetModel, RollbackModel, SimError, StepModel};
pub use rng::SplitMix64;
pub use timeline::{Happening, SimReport, SimStats, TimelineDetail, TimelineEntry};
