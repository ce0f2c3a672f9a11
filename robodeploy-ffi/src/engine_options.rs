//! What `rd_engine_new` reads from its `options_json`, and the checks that turn it into the
//! engine's settings: every rule broken is named by its JSON field path, its value and the rule.

use std::path::PathBuf;
use std::time::Duration;

use robodeploy_core::engine::EngineConfig;
use robodeploy_core::lifecycle::LifecycleConfig;
use serde::Deserialize;

use crate::error::FfiError;

/// The argument the options come in, for messages.
const ARG: &str = "options_json";

/// The options object of `rd_engine_new`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EngineOptions {
    /// The embedded store file (redb); none: in memory.
    pub(crate) store: Option<PathBuf>,
    /// Worker threads of the engine's runtime (1..=64, default 2).
    worker_threads: Option<usize>,
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    health_interval: Option<Duration>,
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    script_timeout: Option<Duration>,
    event_capacity: Option<usize>,
    /// How long a job is kept after its creation (default 90 days); positive.
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    job_retention: Option<Duration>,
    /// How long the last status of a deployment that ended is kept (default 90 days); positive.
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    deployment_retention: Option<Duration>,
    /// Restart supervision (backoff, early exits, crash loops, stop grace) of every deployment.
    lifecycle: Option<LifecycleConfig>,
    /// Whether packages may mount `/` or a container engine's socket (default false).
    allow_host_takeover_mounts: Option<bool>,
    /// Whether executables may run privileged (default false).
    allow_privileged: Option<bool>,
    /// The Zenoh link remote robots' agents reach the engine through (an embedded router by
    /// default); none: no remote robots.
    pub(crate) remote: Option<robodeploy_zenoh::LinkConfig>,
}

/// The settings an engine is built with.
#[derive(Debug)]
pub(crate) struct Settings {
    /// Worker threads of its runtime.
    pub(crate) worker_threads: usize,
    /// The engine's configuration.
    pub(crate) config: EngineConfig,
}

/// `backoff_factor` → `backoffFactor`: a Rust field name as the JSON names it.
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a lifecycle configuration's rules; a broken one is `RD_ERR_INVALID_CONFIG` naming
/// `lifecycle.<field>`, its value and the rule.
fn check_lifecycle(c: &LifecycleConfig) -> Result<(), FfiError> {
    c.validate().map_err(|e| {
        FfiError::config(
            ARG,
            &format!("lifecycle.{}", camel_case(e.field)),
            e.value,
            e.rule,
        )
    })
}

/// `d`, unless it is zero: then `RD_ERR_INVALID_CONFIG` naming `field`.
fn positive(field: &str, d: Duration) -> Result<Duration, FfiError> {
    if d.is_zero() {
        return Err(FfiError::config(ARG, field, "0s", "must be positive"));
    }
    Ok(d)
}

impl EngineOptions {
    /// Checks every option and builds the settings.
    pub(crate) fn settings(&self) -> Result<Settings, FfiError> {
        let worker_threads = self.worker_threads.unwrap_or(2);
        if !(1..=64).contains(&worker_threads) {
            return Err(FfiError::argument(
                ARG,
                format!("workerThreads is {worker_threads}, but must be within 1..=64"),
            ));
        }
        let mut config = EngineConfig::default();
        if let Some(lifecycle) = &self.lifecycle {
            check_lifecycle(lifecycle)?;
            config = config.with_lifecycle(lifecycle.clone());
        }
        if let Some(d) = self.health_interval {
            config = config.with_health_interval(positive("healthInterval", d)?);
        }
        if let Some(d) = self.script_timeout {
            config.script_timeout = d;
        }
        if let Some(n) = self.event_capacity {
            if n == 0 {
                return Err(FfiError::config(
                    ARG,
                    "eventCapacity",
                    0,
                    "must be at least 1",
                ));
            }
            config.event_capacity = n;
        }
        if let Some(d) = self.job_retention {
            config = config.with_job_retention(positive("jobRetention", d)?);
        }
        if let Some(d) = self.deployment_retention {
            config = config.with_deployment_retention(positive("deploymentRetention", d)?);
        }
        if let Some(allow) = self.allow_host_takeover_mounts {
            config = config.with_host_takeover_mounts(allow);
        }
        if let Some(allow) = self.allow_privileged {
            config = config.with_privileged(allow);
        }
        if let Some(link) = &self.remote {
            link.check().map_err(|e| match e {
                robodeploy_zenoh::LinkError::Invalid { field, value, rule } => {
                    FfiError::config(ARG, &format!("remote.{field}"), value, rule)
                }
                other => FfiError::argument(ARG, format!("remote: {other}")),
            })?;
        }
        Ok(Settings {
            worker_threads,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::rd_result;

    fn parse(json: &str) -> Result<Settings, FfiError> {
        serde_json::from_str::<EngineOptions>(json)
            .map_err(|e| FfiError::json(ARG, "engine options object", &e))?
            .settings()
    }

    #[test]
    fn a_remote_link_that_breaks_a_rule_is_named_by_its_field() {
        let e = parse(r#"{"remote": {"listen": ["tcp/0.0.0.0:7447"]}}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG);
        assert!(e.message.contains("remote.listen"), "{}", e.message);
        assert!(e.message.contains("tcp/0.0.0.0:7447"), "{}", e.message);
        assert!(parse(r#"{"remote": {"listen": ["tcp/127.0.0.1:7447"]}}"#).is_ok());
    }

    #[test]
    fn host_takeover_mounts_are_refused_unless_allowed() {
        assert!(!parse("{}").unwrap().config.allow_host_takeover_mounts);
        let s = parse(r#"{"allowHostTakeoverMounts": true}"#).unwrap();
        assert!(s.config.allow_host_takeover_mounts);
    }

    #[test]
    fn privileged_executables_are_refused_unless_allowed() {
        assert!(!parse("{}").unwrap().config.allow_privileged);
        let s = parse(r#"{"allowPrivileged": true}"#).unwrap();
        assert!(s.config.allow_privileged);
        assert!(!s.config.allow_host_takeover_mounts);
    }

    #[test]
    fn job_retention_is_ninety_days_unless_set_and_must_be_positive() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(parse("{}").unwrap().config.job_retention, 90 * day);
        let s = parse(r#"{"jobRetention": "7 days"}"#).unwrap();
        assert_eq!(s.config.job_retention, 7 * day);
        let e = parse(r#"{"jobRetention": "0s"}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG);
        assert!(e.message.contains("jobRetention"), "{}", e.message);
        assert!(e.message.contains("must be positive"), "{}", e.message);
    }

    #[test]
    fn deployment_retention_is_ninety_days_unless_set_and_must_be_positive() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(parse("{}").unwrap().config.deployment_retention, 90 * day);
        let s = parse(r#"{"deploymentRetention": "2 days"}"#).unwrap();
        assert_eq!(s.config.deployment_retention, 2 * day);
        assert_eq!(s.config.job_retention, 90 * day);
        let e = parse(r#"{"deploymentRetention": "0ms"}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG);
        assert_eq!(
            e.message,
            "argument `options_json`: deploymentRetention = 0s: must be positive"
        );
    }

    #[test]
    fn field_names_become_json_paths() {
        assert_eq!(camel_case("backoff_factor"), "backoffFactor");
        assert_eq!(camel_case("crash_loop_window"), "crashLoopWindow");
        assert_eq!(camel_case("history_capacity"), "historyCapacity");
    }

    #[test]
    fn a_lifecycle_object_sets_the_engine_lifecycle() {
        let s = parse(
            r#"{"lifecycle": {"initialBackoff": "100ms", "backoffFactor": 1,
                "minUptime": "5s", "crashLoopExits": 3, "crashLoopWindow": "1m"}}"#,
        )
        .unwrap();
        let l = &s.config.lifecycle;
        assert_eq!(l.initial_backoff, Duration::from_millis(100));
        assert_eq!(l.backoff_factor, 1);
        assert_eq!(l.min_uptime, Duration::from_secs(5));
        assert_eq!(l.crash_loop_exits, 3);
        assert_eq!(l.crash_loop_window, Duration::from_secs(60));
        // Left out: the defaults.
        assert_eq!(l.max_backoff, LifecycleConfig::default().max_backoff);
        assert_eq!(s.worker_threads, 2);
    }

    #[test]
    fn a_broken_rule_names_field_value_and_rule() {
        let e = parse(r#"{"lifecycle": {"backoffFactor": 40}}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG);
        assert_eq!(
            e.message,
            "argument `options_json`: lifecycle.backoffFactor = 40: must be within 1..=16"
        );
        let e = parse(r#"{"lifecycle": {"minUptime": "2m", "resetAfter": "1m"}}"#).unwrap_err();
        assert_eq!(
            e.message,
            "argument `options_json`: lifecycle.resetAfter = 60000 ms: \
             must be positive and at least min_uptime"
        );
        let e = parse(r#"{"eventCapacity": 0}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_CONFIG);
        assert_eq!(
            e.message,
            "argument `options_json`: eventCapacity = 0: must be at least 1"
        );
    }

    #[test]
    fn unknown_or_mistyped_lifecycle_fields_are_json_errors() {
        let e = parse(r#"{"lifecycle": {"backof": "1s"}}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_JSON);
        assert!(
            e.message.contains("unknown field `backof`"),
            "{}",
            e.message
        );
        let e = parse(r#"{"lifecycle": {"minUptime": "soon"}}"#).unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_JSON);
        assert!(e.message.contains("\"soon\""), "{}", e.message);
    }
}
