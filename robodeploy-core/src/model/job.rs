//! Deployment job requests: rolling one numbered version out to a fleet.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Version;

/// Default robot deployment timeout (RoboMaker's: 5 hours).
pub const DEFAULT_ROBOT_TIMEOUT: Duration = Duration::from_secs(5 * 3600);
/// Shortest robot deployment timeout accepted (RoboMaker's: 1 minute).
pub const MIN_ROBOT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest robot deployment timeout accepted (RoboMaker's: 7 days).
pub const MAX_ROBOT_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default job retention (RoboMaker's: 90 days).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// How the robot application is launched, and the scripts around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchConfig {
    /// The ROS package that holds the launch file.
    pub package_name: String,
    /// The launch file.
    pub launch_file: String,
    /// A script run before launch; a non-zero exit fails the robot (PreLaunchFileFailure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_launch_file: Option<String>,
    /// A script run after launch; a non-zero exit fails the robot (PostLaunchFileFailure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_launch_file: Option<String>,
    /// Environment variables for the application and the scripts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_variables: BTreeMap<String, String>,
}

/// The download condition: a script run on the robot before download; non-zero means "not now".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadCondition {
    /// Path (or URL understood by the runtime) of the script.
    pub file: String,
    /// Lock to this content digest (`sha256:<hex>`): RoboMaker's etag lock. A mismatch fails the
    /// robot with EtagMismatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One wave of a rollout: how many robots it covers (beyond the seeds; see the rollout docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wave {
    /// Robots in this wave: an absolute count or a percentage of the fleet.
    pub size: WaveSize,
    /// Time to wait after the wave completes before the next starts.
    #[serde(
        default,
        with = "crate::time::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::time::duration::Span>")
    )]
    pub soak: Option<Duration>,
    /// Wait for an explicit resume after this wave.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual_resume: bool,
}

/// The size of a wave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum WaveSize {
    /// This many robots.
    Robots(u32),
    /// This percentage (1 to 100) of the fleet, rounded up.
    Percent(#[serde(deserialize_with = "super::percent::deserialize")] u8),
}

/// How the job rolls out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentConfig {
    /// Share of the fleet deployed at once, 1 to 100 percent (200 robots at 10 % → 20 at once).
    #[serde(deserialize_with = "super::percent::deserialize")]
    #[cfg_attr(feature = "schema", schemars(range(max = 100)))]
    pub concurrent_deployment_percentage: u8,
    /// Share of the fleet whose failure halts the job, 1 to 100 percent.
    #[serde(deserialize_with = "super::percent::deserialize")]
    #[cfg_attr(feature = "schema", schemars(range(max = 100)))]
    pub failure_threshold_percentage: u8,
    /// Per-robot timeout, 1 minute ..= 7 days; 5 hours by default.
    #[serde(default = "default_robot_timeout", with = "crate::time::duration")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::duration::Span"))]
    pub robot_deployment_timeout: Duration,
    /// Script run on each robot before download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_condition: Option<DownloadCondition>,
    /// How long an offline robot is waited for before it fails as RobotDeploymentNoResponse;
    /// defaults to the robot deployment timeout.
    #[serde(
        default,
        with = "crate::time::duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::time::duration::Span>")
    )]
    pub offline_deadline: Option<Duration>,
    /// Waves; empty means one wave of the whole fleet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<Wave>,
    /// Roll updated robots back to their previous version when the job fails its threshold or is
    /// canceled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_rollback: bool,
}

fn default_robot_timeout() -> Duration {
    DEFAULT_ROBOT_TIMEOUT
}

impl DeploymentConfig {
    /// How many robots of a fleet of `fleet_size` are deployed at once: the concurrent deployment
    /// percentage of the fleet, **rounded up**, never below 1 for a non-empty fleet and never
    /// above the fleet size (0 for an empty fleet).
    ///
    /// Rounding up means a small fleet always makes progress (3 robots at 10 % → 1 at once, not
    /// 0) and a percentage never deploys fewer robots than it names. A percentage outside
    /// 1..=100 (which validation refuses) is clamped into that range.
    ///
    /// ```
    /// use robodeploy_core::model::DeploymentConfig;
    /// let config = DeploymentConfig { concurrent_deployment_percentage: 10, ..Default::default() };
    /// assert_eq!(config.max_in_flight(200), 20); // the seed's example
    /// assert_eq!(config.max_in_flight(201), 21); // 20.1 rounds up
    /// assert_eq!(config.max_in_flight(3), 1);
    /// assert_eq!(config.max_in_flight(0), 0);
    /// ```
    pub fn max_in_flight(&self, fleet_size: usize) -> usize {
        let percent = u128::from(self.concurrent_deployment_percentage.clamp(1, 100));
        let robots = (fleet_size as u128 * percent).div_ceil(100);
        // robots <= fleet_size because percent <= 100, so the conversion cannot fail.
        usize::try_from(robots)
            .unwrap_or(fleet_size)
            .max(usize::from(fleet_size > 0))
    }
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            concurrent_deployment_percentage: 100,
            failure_threshold_percentage: 100,
            robot_deployment_timeout: DEFAULT_ROBOT_TIMEOUT,
            download_condition: None,
            offline_deadline: None,
            waves: Vec::new(),
            auto_rollback: false,
        }
    }
}

/// A request to roll one numbered application version out to a fleet.
///
/// ```
/// use robodeploy_core::model::DeploymentJobRequest;
/// let yaml = r#"
/// fleet: warehouse
/// application: talker-listener
/// applicationVersion: "1"
/// launchConfig: {packageName: talker, launchFile: talker.launch.py}
/// deploymentConfig: {concurrentDeploymentPercentage: 10, failureThresholdPercentage: 5}
/// "#;
/// let job: DeploymentJobRequest = serde_saphyr::from_str(yaml).unwrap();
/// assert_eq!(job.deployment_config.robot_deployment_timeout.as_secs(), 5 * 3600);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentJobRequest {
    /// The fleet's name.
    pub fleet: String,
    /// The application (package) name.
    pub application: String,
    /// Its numbered version (`$LATEST` refused).
    pub application_version: Version,
    /// Launch config.
    pub launch_config: LaunchConfig,
    /// Deployment config.
    pub deployment_config: DeploymentConfig,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl DeploymentJobRequest {
    /// Resolves relative script paths (pre-launch, post-launch, download condition) against
    /// `dir`, the directory of the manifest that named them; absolute paths are kept. Manifests
    /// name scripts relative to themselves, runtimes need paths that do not depend on the
    /// working directory.
    ///
    /// ```
    /// # use robodeploy_core::model::*;
    /// # let mut job: DeploymentJobRequest = serde_json::from_str(r#"{"fleet":"f","application":"a",
    /// #   "applicationVersion":"1","launchConfig":{"packageName":"p","launchFile":"l",
    /// #   "preLaunchFile":"scripts/pre.sh"},"deploymentConfig":{"concurrentDeploymentPercentage":10,
    /// #   "failureThresholdPercentage":10}}"#).unwrap();
    /// job.resolve_paths(std::path::Path::new("/etc/robodeploy"));
    /// assert_eq!(job.launch_config.pre_launch_file.as_deref(), Some("/etc/robodeploy/scripts/pre.sh"));
    /// ```
    pub fn resolve_paths(&mut self, dir: &std::path::Path) {
        let fix = |p: &mut String| {
            if !std::path::Path::new(p.as_str()).is_absolute() {
                *p = dir.join(p.as_str()).to_string_lossy().into_owned();
            }
        };
        let lc = &mut self.launch_config;
        lc.pre_launch_file.iter_mut().for_each(fix);
        lc.post_launch_file.iter_mut().for_each(fix);
        if let Some(dc) = &mut self.deployment_config.download_condition {
            fix(&mut dc.file);
        }
    }
}
