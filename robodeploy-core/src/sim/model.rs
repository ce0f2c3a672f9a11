//! The modelled fleet: how long each deployment step takes, how often it fails and with which
//! code, how often robots drop offline and for how long.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::SplitMix64;
use crate::model::FailureCode;
use crate::rollout::RolloutError;

/// A duration distribution, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Dist {
    /// Always this long.
    Fixed {
        /// Milliseconds.
        ms: u64,
    },
    /// Uniform between `min_ms` and `max_ms`, both included.
    Uniform {
        /// Shortest, in milliseconds.
        min_ms: u64,
        /// Longest, in milliseconds.
        max_ms: u64,
    },
}

impl Dist {
    /// A draw from the distribution.
    pub fn sample(&self, rng: &mut SplitMix64) -> u64 {
        match *self {
            Dist::Fixed { ms } => ms,
            Dist::Uniform { min_ms, max_ms } => min_ms + rng.below(max_ms - min_ms + 1),
        }
    }

    fn check(&self, field: &str) -> Result<(), SimError> {
        match *self {
            Dist::Uniform { min_ms, max_ms } if min_ms > max_ms => Err(SimError::Range {
                field: field.to_owned(),
                min_ms,
                max_ms,
            }),
            _ => Ok(()),
        }
    }
}

/// One deployment step of a modelled robot. The code it fails with is the robot pipeline's for
/// that step ([`Pipeline`](crate::rollout::Pipeline)): the same code a real run gives.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepModel {
    /// How long the step takes on a robot of speed 100 %.
    pub duration: Dist,
    /// Chance the step fails, 0..=1.
    #[serde(default)]
    pub failure_probability: f64,
}

impl StepModel {
    fn new(min_ms: u64, max_ms: u64) -> StepModel {
        StepModel {
            duration: Dist::Uniform { min_ms, max_ms },
            failure_probability: 0.0,
        }
    }
}

/// A modelled rollback to the previous version.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackModel {
    /// How long a rollback takes.
    pub duration: Dist,
    /// Chance it fails, 0..=1.
    #[serde(default)]
    pub failure_probability: f64,
    /// The code it fails with.
    pub failure_code: FailureCode,
}

/// A modelled fleet. Per-robot values are drawn from the simulation's seed, keyed by robot and
/// attempt, so a robot meets the same fate whatever the schedule.
///
/// ```
/// use robodeploy_core::sim::FleetModel;
/// let model = FleetModel::default().with_failure_rate(0.01);
/// assert!(model.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetModel {
    /// The six working steps, Validating through ExecutingPostLaunch, in order. A step the job
    /// does not have (no download condition, no pre- or post-launch script) is skipped.
    pub steps: [StepModel; 6],
    /// Each robot's speed in percent (100 = the step durations as given; 300 = three times
    /// slower), drawn once per robot: what makes a fleet heterogeneous.
    pub speed_percent: Dist,
    /// Chance, per step, that the robot goes silent (never reports; its robot timeout fires).
    #[serde(default)]
    pub hang_probability: f64,
    /// Chance, per step, that the robot drops offline partway through the step.
    #[serde(default)]
    pub offline_probability: f64,
    /// How long a robot stays offline.
    pub offline_duration: Dist,
    /// Chance a robot is offline when the job is created (for a generated fleet; a real fleet's
    /// own online flags are used as they are). It comes back after `offline_duration`.
    #[serde(default)]
    pub initially_offline_probability: f64,
    /// A rollback to the previous version.
    pub rollback: RollbackModel,
    /// How long the job's preparation takes.
    pub prepare: Dist,
}

impl Default for FleetModel {
    /// A plausible fleet: a deployment of two to three minutes, nothing fails, nobody drops.
    fn default() -> Self {
        FleetModel {
            steps: [
                StepModel::new(1_000, 3_000),
                StepModel::new(1_000, 5_000),
                StepModel::new(30_000, 120_000),
                StepModel::new(2_000, 10_000),
                StepModel::new(5_000, 20_000),
                StepModel::new(2_000, 10_000),
            ],
            speed_percent: Dist::Fixed { ms: 100 },
            hang_probability: 0.0,
            offline_probability: 0.0,
            offline_duration: Dist::Uniform {
                min_ms: 60_000,
                max_ms: 600_000,
            },
            initially_offline_probability: 0.0,
            rollback: RollbackModel {
                duration: Dist::Uniform {
                    min_ms: 30_000,
                    max_ms: 90_000,
                },
                failure_probability: 0.0,
                failure_code: FailureCode::InternalServerError,
            },
            prepare: Dist::Fixed { ms: 1_000 },
        }
    }
}

impl FleetModel {
    /// The same fleet with robots failing with probability `rate` overall, spread over the
    /// download, pre-launch, launch and post-launch steps (a quarter each).
    pub fn with_failure_rate(mut self, rate: f64) -> FleetModel {
        for step in &mut self.steps[2..] {
            step.failure_probability = rate / 4.0;
        }
        self
    }

    /// Checks every probability is within 0..=1 and every range is ordered.
    ///
    /// # Errors
    /// A [`SimError`] naming the field.
    pub fn validate(&self) -> Result<(), SimError> {
        let p = |field: String, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(SimError::Probability { field, value })
            }
        };
        for (i, step) in self.steps.iter().enumerate() {
            p(
                format!("steps[{i}].failureProbability"),
                step.failure_probability,
            )?;
            step.duration.check(&format!("steps[{i}].duration"))?;
        }
        p("hangProbability".into(), self.hang_probability)?;
        p("offlineProbability".into(), self.offline_probability)?;
        p(
            "initiallyOfflineProbability".into(),
            self.initially_offline_probability,
        )?;
        p(
            "rollback.failureProbability".into(),
            self.rollback.failure_probability,
        )?;
        self.rollback.duration.check("rollback.duration")?;
        self.speed_percent.check("speedPercent")?;
        self.offline_duration.check("offlineDuration")?;
        self.prepare.check("prepare")
    }
}

/// A simulation could not be set up.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The job's config or fleet is not acceptable to a rollout.
    #[error(transparent)]
    Rollout(#[from] RolloutError),
    /// A probability outside 0..=1 (or NaN).
    #[error("{field} is {value}, but a probability must be within 0..=1")]
    Probability {
        /// The field.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A uniform range whose minimum exceeds its maximum.
    #[error("{field} is {min_ms}..={max_ms} ms, but its minimum must not exceed its maximum")]
    Range {
        /// The field.
        field: String,
        /// Its minimum.
        min_ms: u64,
        /// Its maximum.
        max_ms: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named() {
        let mut m = FleetModel::default();
        m.steps[3].failure_probability = 1.5;
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "steps[3].failureProbability is 1.5, but a probability must be within 0..=1"
        );
        let m = FleetModel {
            offline_probability: f64::NAN,
            ..FleetModel::default()
        };
        assert!(matches!(m.validate(), Err(SimError::Probability { .. })));
        let m = FleetModel {
            speed_percent: Dist::Uniform {
                min_ms: 5,
                max_ms: 1,
            },
            ..FleetModel::default()
        };
        assert_eq!(
            m.validate().unwrap_err(),
            SimError::Range {
                field: "speedPercent".into(),
                min_ms: 5,
                max_ms: 1
            }
        );
    }

    #[test]
    fn model_reads_from_json() {
        let json = serde_json::to_string(&FleetModel::default().with_failure_rate(0.02)).unwrap();
        let back: FleetModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back.steps[4].failure_probability, 0.005);
    }
}
