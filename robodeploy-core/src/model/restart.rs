//! Restart policies of device components.

use std::fmt;

use serde::{Deserialize, Serialize};

/// When a device component's executables are restarted (the seed's restart policies).
///
/// Spelled as Docker and Rapyuta's SDK spell them: `always`, `on-failure`, `no` (`never` is
/// accepted too). Cloud components always restart whatever this says.
///
/// **The default is [`Never`](RestartPolicy::Never)**, as the seed says: "Unlike deployments
/// running on the cloud, which automatically restart if stopped due to an error, deployments
/// that are running on devices do not automatically restart if exited due to an error or when
/// devices are rebooted." A device component with no policy
/// ([`Component::restart_policy`](super::Component::restart_policy) `None`) and no deployment
/// override runs under it; set `always` or `on-failure` to have it restarted.
///
/// | policy | exits on its own, code 0 | exits non-zero | device reboots | stopped by hand |
/// |---|---|---|---|---|
/// | `always` | restart | restart | restart | not until the device reboots |
/// | `on-failure` | no | restart | no | not until the device reboots |
/// | `no` | no | no | no | no |
///
/// (Docker's `on-failure` also does not restart after a daemon restart; robodeploy follows it.)
///
/// ```
/// use robodeploy_core::model::RestartPolicy;
/// let p: RestartPolicy = serde_json::from_str("\"on-failure\"").unwrap();
/// assert_eq!(p, RestartPolicy::OnFailure);
/// assert!(p.restarts_after_exit(1) && !p.restarts_after_exit(0));
/// assert_eq!(RestartPolicy::default(), RestartPolicy::Never);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Restart whenever an executable stops on its own, and after a device reboot.
    #[serde(rename = "always")]
    Always,
    /// Restart only after a non-zero exit.
    #[serde(rename = "on-failure")]
    OnFailure,
    /// Never restart: the default of a device component (seed 000: "deployments that are
    /// running on devices do not automatically restart if exited due to an error or when
    /// devices are rebooted").
    #[default]
    #[serde(rename = "no", alias = "never")]
    Never,
}

impl RestartPolicy {
    /// Whether an executable that exited on its own with `exit_code` is restarted.
    pub fn restarts_after_exit(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }

    /// Whether executables are started again after a device reboot.
    pub fn restarts_after_reboot(self) -> bool {
        matches!(self, RestartPolicy::Always)
    }

    /// Docker's name for the policy.
    pub fn as_docker_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        }
    }
}

/// Written by hand: a derived schema would leave out the alias `never`, which
/// [`Deserialize`] reads.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for RestartPolicy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RestartPolicy".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::RestartPolicy").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": ["always", "on-failure", "no", "never"],
            "description": "When a device component's executables are restarted: `always` \
                (also after a device reboot), `on-failure` (after a non-zero exit), `no` or \
                `never` (the default). Cloud components always restart.",
        })
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_docker_str())
    }
}
