//! The numbers a rollout runs by, derived once from the job's config and the fleet size: the
//! in-flight limit, the failure thresholds, the waves and the timeouts in milliseconds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RolloutError;
use crate::model::{DeploymentConfig, MAX_ROBOT_TIMEOUT, MIN_ROBOT_TIMEOUT, WaveSize};

/// The most robots a rollout indexes (indices are `u32`; `u32::MAX` is kept as "none").
pub const MAX_FLEET_SIZE: usize = (u32::MAX - 1) as usize;

/// The longest offline deadline or soak accepted: ten years, far beyond any job's retention.
const MAX_SPAN_MS: u128 = 10 * 365 * 24 * 3600 * 1000;

/// `pct` percent of `n` robots, rounded up, never below 1: the rounding of every percentage in a
/// rollout (in-flight limit, failure threshold, wave size).
///
/// Rounding up keeps a small fleet moving (3 robots at 10 % still deploy one at a time) and makes
/// a threshold mean "at least this share": 5 % of 30 robots is 1.5, so the second failure halts.
///
/// ```
/// use robodeploy_core::rollout::percent_of;
/// assert_eq!(percent_of(200, 10), 20); // the seed's example
/// assert_eq!(percent_of(3, 10), 1);    // 0.3 rounds up
/// assert_eq!(percent_of(30, 5), 2);    // 1.5 rounds up
/// assert_eq!(percent_of(1_000_000, 100), 1_000_000);
/// ```
pub fn percent_of(n: u32, pct: u8) -> u32 {
    let exact = u64::from(n) * u64::from(pct);
    // n ≤ u32::MAX and pct ≤ 255, so the quotient fits back into u32 whenever pct ≤ 100.
    u32::try_from(exact.div_ceil(100))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// One wave as planned: a contiguous range of robot indices and what happens after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWave {
    /// First robot index of the wave.
    pub start: u32,
    /// One past its last robot index.
    pub end: u32,
    /// Failed robots of this wave that halt the job: its own share of the failure threshold.
    pub threshold: u32,
    /// Wait this long after the wave completes before the next starts.
    #[serde(
        default,
        with = "crate::time::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub soak: Option<Duration>,
    /// Wait for a resume after the wave completes (and after its soak).
    pub manual_resume: bool,
}

impl PlannedWave {
    /// Robots in the wave.
    pub fn len(&self) -> u32 {
        self.end - self.start
    }

    /// Whether the wave holds no robot (never true of a planned wave).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Whether robot `index` belongs to the wave.
    pub fn contains(&self, index: u32) -> bool {
        (self.start..self.end).contains(&index)
    }
}

/// Everything derived from the config; fixed for the job's life.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) fleet: u32,
    pub(crate) limit: u32,
    pub(crate) threshold: u32,
    pub(crate) timeout_ms: i64,
    pub(crate) offline_ms: i64,
    pub(crate) auto_rollback: bool,
    pub(crate) waves: Vec<PlannedWave>,
}

impl Plan {
    pub(crate) fn new(config: &DeploymentConfig, fleet: usize) -> Result<Plan, RolloutError> {
        if fleet == 0 {
            return Err(RolloutError::EmptyFleet);
        }
        let fleet = u32::try_from(fleet)
            .ok()
            .filter(|&n| n as usize <= MAX_FLEET_SIZE)
            .ok_or(RolloutError::FleetTooLarge {
                size: fleet,
                max: MAX_FLEET_SIZE,
            })?;
        let concurrency = check_pct(
            "concurrentDeploymentPercentage",
            config.concurrent_deployment_percentage,
        )?;
        let threshold_pct = check_pct(
            "failureThresholdPercentage",
            config.failure_threshold_percentage,
        )?;
        let timeout = config.robot_deployment_timeout;
        if !(MIN_ROBOT_TIMEOUT..=MAX_ROBOT_TIMEOUT).contains(&timeout) {
            return Err(RolloutError::RobotTimeout {
                value_secs: timeout.as_secs(),
                min_secs: MIN_ROBOT_TIMEOUT.as_secs(),
                max_secs: MAX_ROBOT_TIMEOUT.as_secs(),
            });
        }
        let offline = config.offline_deadline.unwrap_or(timeout);
        Ok(Plan {
            fleet,
            limit: percent_of(fleet, concurrency),
            threshold: percent_of(fleet, threshold_pct),
            timeout_ms: millis("robotDeploymentTimeout", timeout)?,
            offline_ms: millis("offlineDeadline", offline)?,
            auto_rollback: config.auto_rollback,
            waves: plan_waves(config, fleet, threshold_pct)?,
        })
    }
}

fn check_pct(field: &str, value: u8) -> Result<u8, RolloutError> {
    if (1..=100).contains(&value) {
        Ok(value)
    } else {
        Err(RolloutError::Percentage {
            field: field.to_owned(),
            value,
        })
    }
}

pub(crate) fn millis(field: &str, d: Duration) -> Result<i64, RolloutError> {
    let ms = d.as_millis();
    if ms == 0 || ms > MAX_SPAN_MS {
        return Err(RolloutError::Duration {
            field: field.to_owned(),
            value_ms: ms,
            max_ms: MAX_SPAN_MS,
        });
    }
    Ok(ms as i64)
}

/// Lays the waves over robot indices in fleet order. Waves are cumulative; a wave that would run
/// past the fleet is cut at its end, waves after it are dropped, and robots left over after the
/// last configured wave form one more wave (so "1 robot, then 10 %" rolls the rest out last).
fn plan_waves(
    config: &DeploymentConfig,
    fleet: u32,
    threshold_pct: u8,
) -> Result<Vec<PlannedWave>, RolloutError> {
    let mut waves = Vec::with_capacity(config.waves.len() + 1);
    let mut start = 0u32;
    for (index, wave) in config.waves.iter().enumerate() {
        let size = match wave.size {
            WaveSize::Robots(0) => return Err(RolloutError::EmptyWave { index }),
            WaveSize::Robots(n) => n,
            WaveSize::Percent(p) => {
                percent_of(fleet, check_pct(&format!("waves[{index}].size"), p)?)
            }
        };
        let soak = match wave.soak {
            Some(d) if !d.is_zero() => {
                millis(&format!("waves[{index}].soak"), d)?;
                Some(d)
            }
            _ => None,
        };
        if start == fleet {
            continue;
        }
        let end = start.saturating_add(size).min(fleet);
        waves.push(PlannedWave {
            start,
            end,
            threshold: percent_of(end - start, threshold_pct),
            soak,
            manual_resume: wave.manual_resume,
        });
        start = end;
    }
    if start < fleet {
        waves.push(PlannedWave {
            start,
            end: fleet,
            threshold: percent_of(fleet - start, threshold_pct),
            soak: None,
            manual_resume: false,
        });
    }
    Ok(waves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Wave;

    fn config(waves: Vec<Wave>) -> DeploymentConfig {
        DeploymentConfig {
            concurrent_deployment_percentage: 10,
            failure_threshold_percentage: 5,
            waves,
            ..DeploymentConfig::default()
        }
    }

    fn wave(size: WaveSize) -> Wave {
        Wave {
            size,
            soak: None,
            manual_resume: false,
        }
    }

    #[test]
    fn canary_then_ten_percent_then_the_rest() {
        let plan = Plan::new(
            &config(vec![wave(WaveSize::Robots(1)), wave(WaveSize::Percent(10))]),
            200,
        )
        .unwrap();
        let ranges: Vec<_> = plan
            .waves
            .iter()
            .map(|w| (w.start, w.end, w.threshold))
            .collect();
        assert_eq!(ranges, vec![(0, 1, 1), (1, 21, 1), (21, 200, 9)]);
        assert_eq!((plan.limit, plan.threshold), (20, 10));
    }

    #[test]
    fn waves_past_the_fleet_are_cut_and_dropped() {
        let plan = Plan::new(
            &config(vec![
                wave(WaveSize::Robots(3)),
                wave(WaveSize::Robots(9)),
                wave(WaveSize::Robots(4)),
            ]),
            5,
        )
        .unwrap();
        let ranges: Vec<_> = plan.waves.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(ranges, vec![(0, 3), (3, 5)]);
    }

    #[test]
    fn bad_numbers_name_their_field() {
        let mut c = config(vec![]);
        c.concurrent_deployment_percentage = 0;
        assert_eq!(
            Plan::new(&c, 10).unwrap_err().to_string(),
            "concurrentDeploymentPercentage is 0, but it must be within 1..=100"
        );
        let c = config(vec![wave(WaveSize::Percent(101))]);
        assert_eq!(
            Plan::new(&c, 10).unwrap_err(),
            RolloutError::Percentage {
                field: "waves[0].size".into(),
                value: 101
            }
        );
        let c = config(vec![wave(WaveSize::Robots(0))]);
        assert_eq!(
            Plan::new(&c, 10).unwrap_err(),
            RolloutError::EmptyWave { index: 0 }
        );
        assert_eq!(
            Plan::new(&config(vec![]), 0).unwrap_err(),
            RolloutError::EmptyFleet
        );
        let mut c = config(vec![]);
        c.robot_deployment_timeout = Duration::from_secs(59);
        assert!(matches!(
            Plan::new(&c, 10),
            Err(RolloutError::RobotTimeout { value_secs: 59, .. })
        ));
        let mut c = config(vec![]);
        c.offline_deadline = Some(Duration::ZERO);
        assert!(matches!(
            Plan::new(&c, 10),
            Err(RolloutError::Duration { .. })
        ));
    }
}
