//! The thresholds of restart supervision: backoff, "exited too early", crash loop, deprovision.
//!
//! Defaults, compared with the two supervisors robotics teams already know:
//!
//! | setting | robodeploy default | Docker engine (`restartmanager`) | Kubernetes kubelet (CrashLoopBackOff) |
//! |---|---|---|---|
//! | first delay | 1 s | 100 ms | 10 s |
//! | factor | ×2 | ×2 | ×2 |
//! | cap | 60 s | 1 min | 5 min |
//! | reset after running | 60 s | 10 s (checked at the next exit) | 10 min |
//! | "exited too early" | under 10 s of uptime | none (10 s is only its reset threshold) | none (it backs off on every exit) |
//! | crash loop | 5 early exits within 5 min → `DEP_E163` | none (restarts forever, `on-failure[:max]` caps retries) | the `CrashLoopBackOff` reason after repeated exits, no threshold |
//! | stop grace | 10 s, then kill | 10 s (`docker stop`) | 30 s (`terminationGracePeriodSeconds`) |
//!
//! Why these: robot software often fails at start because a peer (the ROS master, a driver) is not
//! up yet, so the first retry comes sooner than Kubernetes' 10 s; a one-minute cap (Docker's) keeps a
//! robot that recovers from a network or hardware fault back within a minute; the reset period is
//! longer than the early-exit threshold so a program that runs a little while and dies again keeps
//! backing off instead of hammering its device. Recent Kubernetes releases experiment with a 1 s
//! initial delay and a 1 min cap (feature gate `ReduceDefaultCrashLoopBackOffDecay`), which is
//! what robodeploy does by default.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Restart supervision settings of one deployment; see the module docs for the defaults.
///
/// As JSON (how the C ABI and the Python package take it) the field names are camelCase,
/// durations are spans such as `"500ms"` or `"1m 30s"`, and every field is optional: a missing
/// one keeps its default, an unknown one is an error. Deserialising does not check the rules;
/// [`LifecycleConfig::validate`] does.
///
/// ```
/// use robodeploy_core::lifecycle::LifecycleConfig;
/// use std::time::Duration;
/// let c: LifecycleConfig =
///     serde_json::from_str(r#"{"initialBackoff": "250ms", "crashLoopExits": 3}"#).unwrap();
/// assert_eq!(c.initial_backoff, Duration::from_millis(250));
/// assert_eq!(c.crash_loop_exits, 3);
/// assert_eq!(c.max_backoff, LifecycleConfig::default().max_backoff);
/// assert!(serde_json::from_str::<LifecycleConfig>(r#"{"backof": "1s"}"#).is_err());
/// ```
///
/// ```
/// use robodeploy_core::lifecycle::LifecycleConfig;
/// use std::time::Duration;
/// let c = LifecycleConfig::default();
/// assert_eq!(c.initial_backoff, Duration::from_secs(1));
/// assert!(c.validate().is_ok());
/// let bad = LifecycleConfig { backoff_factor: 0, ..c };
/// assert_eq!(
///     bad.validate().unwrap_err().to_string(),
///     "lifecycle config: backoff_factor = 0: must be within 1..=16"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Delay before the first restart after an exit. Zero restarts at once, every time (no
    /// backoff: the delays grow from zero, so they stay zero); crash-loop detection still ends
    /// a loop of early exits.
    #[serde(with = "crate::time::duration")]
    pub initial_backoff: Duration,
    /// Each further delay is the previous one times this (1 keeps it constant).
    pub backoff_factor: u32,
    /// No delay exceeds this.
    #[serde(with = "crate::time::duration")]
    pub max_backoff: Duration,
    /// After running this long, the backoff starts again from `initial_backoff`, the early exits
    /// are forgotten and a crash loop ends. At least `min_uptime`.
    #[serde(with = "crate::time::duration")]
    pub reset_after: Duration,
    /// An exit before this much uptime is "exited too early" (`DEP_E152` / `DEP_E154`).
    #[serde(with = "crate::time::duration")]
    pub min_uptime: Duration,
    /// This many early exits …
    pub crash_loop_exits: u32,
    /// … within this window are a crash loop (`DEP_E163`).
    #[serde(with = "crate::time::duration")]
    pub crash_loop_window: Duration,
    /// The grace period of a `Stop` (the runtime kills after it).
    #[serde(with = "crate::time::duration")]
    pub stop_grace: Duration,
    /// How long after the grace period a stop may go unanswered before it counts as failed.
    #[serde(with = "crate::time::duration")]
    pub stop_answer_margin: Duration,
    /// How many entries the error/event history keeps (oldest dropped first).
    pub history_capacity: usize,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            initial_backoff: Duration::from_secs(1),
            backoff_factor: 2,
            max_backoff: Duration::from_secs(60),
            reset_after: Duration::from_secs(60),
            min_uptime: Duration::from_secs(10),
            crash_loop_exits: 5,
            crash_loop_window: Duration::from_secs(300),
            stop_grace: Duration::from_secs(10),
            stop_answer_margin: Duration::from_secs(30),
            history_capacity: 256,
        }
    }
}

/// The durations the per-event path compares and adds, converted once to whole milliseconds so
/// that handling an exit or a start is integer arithmetic. Each value gives exactly the answer the
/// [`Duration`] comparison or [`Time`](crate::time::Time) addition would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConfigMillis {
    /// An uptime of `u` whole milliseconds is below `min_uptime` iff `u < early_below`
    /// (`min_uptime` rounded up to a millisecond).
    pub(crate) early_below: u64,
    /// An uptime of `u` whole milliseconds reaches `reset_after` iff `u >= reset_from`
    /// (`reset_after` rounded up to a millisecond).
    pub(crate) reset_from: u64,
    /// What `Time + reset_after` adds (`reset_after` truncated to a millisecond, as
    /// [`Time::saturating_add`](crate::time::Time::saturating_add) does).
    pub(crate) reset_add: i64,
}

/// `d` in whole milliseconds, rounded up, saturating.
fn ceil_millis(d: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

impl ConfigMillis {
    pub(crate) fn new(c: &LifecycleConfig) -> Self {
        ConfigMillis {
            early_below: ceil_millis(c.min_uptime),
            reset_from: ceil_millis(c.reset_after),
            reset_add: i64::try_from(c.reset_after.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// A [`LifecycleConfig`] field that breaks its rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("lifecycle config: {field} = {value}: {rule}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// Its value, as given.
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

impl LifecycleConfig {
    /// Checks every field's rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |field, value: String, rule| Err(ConfigError { field, value, rule });
        let ms = |d: Duration| format!("{} ms", d.as_millis());
        if !(1..=16).contains(&self.backoff_factor) {
            return fail(
                "backoff_factor",
                self.backoff_factor.to_string(),
                "must be within 1..=16",
            );
        }
        if self.max_backoff < self.initial_backoff {
            return fail(
                "max_backoff",
                ms(self.max_backoff),
                "must be at least initial_backoff",
            );
        }
        if self.reset_after < self.min_uptime || self.reset_after.is_zero() {
            return fail(
                "reset_after",
                ms(self.reset_after),
                "must be positive and at least min_uptime",
            );
        }
        if !(1..=64).contains(&self.crash_loop_exits) {
            return fail(
                "crash_loop_exits",
                self.crash_loop_exits.to_string(),
                "must be within 1..=64",
            );
        }
        if self.crash_loop_window.is_zero() {
            return fail(
                "crash_loop_window",
                ms(self.crash_loop_window),
                "must be positive",
            );
        }
        if self.history_capacity == 0 {
            return fail("history_capacity", "0".into(), "must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    #[test]
    fn millisecond_thresholds_agree_with_the_duration_comparisons() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_micros(999),
            Duration::from_millis(1),
            Duration::from_nanos(10_000_001),
            Duration::from_secs(10),
            Duration::MAX,
        ];
        for min_uptime in durations {
            for reset_after in durations {
                let c = LifecycleConfig {
                    min_uptime,
                    reset_after,
                    ..LifecycleConfig::default()
                };
                let m = ConfigMillis::new(&c);
                for u in [0u64, 1, 9, 10, 11, 9_999, 10_000, 10_001, i64::MAX as u64] {
                    let uptime = Duration::from_millis(u);
                    assert_eq!(u < m.early_below, uptime < min_uptime, "{u} {min_uptime:?}");
                    assert_eq!(
                        u >= m.reset_from,
                        uptime >= reset_after,
                        "{u} {reset_after:?}"
                    );
                }
                for t in [0, 5, i64::MAX - 3] {
                    assert_eq!(
                        Time::from_millis(t.saturating_add(m.reset_add)),
                        Time::from_millis(t) + reset_after
                    );
                }
            }
        }
    }
}
