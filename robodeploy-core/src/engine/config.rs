//! Engine settings.

use std::time::Duration;

use crate::lifecycle::LifecycleConfig;
use crate::model::DEFAULT_RETENTION;

use super::Launcher;

/// How the engine behaves. Every field has a documented default ([`EngineConfig::default`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Backoff, crash-loop and stop settings of every deployment.
    pub lifecycle: LifecycleConfig,
    /// How often each runtime's health is checked (default 2 s). A failed check marks its device
    /// offline (DEP_E151) until a check succeeds.
    pub health_interval: Duration,
    /// How a job's launch config becomes a command (default `ros2 launch {package} {launch_file}`).
    pub launcher: Launcher,
    /// How long a job's scripts (download condition, pre- and post-launch) may run (default
    /// 10 min); the robot deployment timeout still bounds the whole robot.
    pub script_timeout: Duration,
    /// How many events a subscriber may fall behind before it misses some (default 4096).
    pub event_capacity: usize,
    /// Whether packages may mount the host's root filesystem (`/`) or a container engine's
    /// socket (`docker.sock`, `containerd.sock`, `podman.sock`): whatever runs with such a mount
    /// controls the host. Default `false`: `add_package` refuses them
    /// (`ValidationError::HostTakeoverMountRefused`, naming the mount's field); the validator
    /// warns of them either way.
    pub allow_host_takeover_mounts: bool,
    /// Whether executables may run privileged (`limits.privileged: true`): a privileged
    /// container has every device and capability of its host. Default `false`: `add_package`
    /// refuses them (`ValidationError::PrivilegedRefused`, naming the field); the validator
    /// warns of them either way.
    pub allow_privileged: bool,
    /// How long a job is kept after its creation (default 90 days, RoboMaker's,
    /// [`DEFAULT_RETENTION`]). A job past it that has ended is deleted, its report and journal
    /// from memory and from the store, at the next health check (or job listing); a job still
    /// running is kept until it ends. A shorter retention bounds what a server that runs a job
    /// every few minutes holds.
    pub job_retention: Duration,
    /// How long the last status of a deployment that ended (deprovisioned, or failed to
    /// deprovision) is kept after it ended (default 90 days, the same as jobs,
    /// [`DEFAULT_RETENTION`]). Past it the status is deleted from the store at the next health
    /// check, with the request tokens that named the deployment: a status query then answers
    /// `NoSuchDeployment`, and the token creates a new deployment. A live deployment is never
    /// deleted. A shorter retention bounds the store of a server whose jobs and applies replace
    /// deployments all day.
    pub deployment_retention: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lifecycle: LifecycleConfig::default(),
            health_interval: Duration::from_secs(2),
            launcher: Launcher::default(),
            script_timeout: Duration::from_secs(600),
            event_capacity: 4096,
            allow_host_takeover_mounts: false,
            allow_privileged: false,
            job_retention: DEFAULT_RETENTION,
            deployment_retention: DEFAULT_RETENTION,
        }
    }
}

impl EngineConfig {
    /// The same with another lifecycle configuration.
    pub fn with_lifecycle(mut self, lifecycle: LifecycleConfig) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// The same with another health-check interval.
    pub fn with_health_interval(mut self, interval: Duration) -> Self {
        self.health_interval = interval;
        self
    }

    /// The same, allowing (or not) mounts that take over the host
    /// ([`EngineConfig::allow_host_takeover_mounts`]).
    pub fn with_host_takeover_mounts(mut self, allow: bool) -> Self {
        self.allow_host_takeover_mounts = allow;
        self
    }

    /// The same, allowing (or not) privileged executables
    /// ([`EngineConfig::allow_privileged`]).
    pub fn with_privileged(mut self, allow: bool) -> Self {
        self.allow_privileged = allow;
        self
    }

    /// The same with another job retention ([`EngineConfig::job_retention`]).
    pub fn with_job_retention(mut self, retention: Duration) -> Self {
        self.job_retention = retention;
        self
    }

    /// The same with another retention for ended deployments
    /// ([`EngineConfig::deployment_retention`]).
    pub fn with_deployment_retention(mut self, retention: Duration) -> Self {
        self.deployment_retention = retention;
        self
    }

    /// The same with another launcher.
    pub fn with_launcher(mut self, launcher: Launcher) -> Self {
        self.launcher = launcher;
        self
    }
}
