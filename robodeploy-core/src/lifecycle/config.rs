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
    /// Delay before the first restart after an exit.
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
        if self.initial_backoff.is_zero() {
            return fail(
                "initial_backoff",
                ms(self.initial_backoff),
                "must be positive",
            );
        }
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
