//! Constructors and `with_*` builders for the model types, so code that makes a package or a
//! request names only what differs from the plain case.
//!
//! ```
//! use robodeploy_core::model::{
//!     Architecture, Component, DeploymentRequest, DeviceRuntime, Executable, Package, Placement,
//!     RestartPolicy,
//! };
//! let package = Package::new("demo", "1").with_component(
//!     Component::new("main", Placement::device(DeviceRuntime::Preinstalled, Architecture::Amd64))
//!         .with_restart_policy(RestartPolicy::Always)
//!         .with_executable(Executable::new("node").with_command(["sleep", "600"])),
//! );
//! assert_eq!(package.components[0].executables[0].command, ["sleep", "600"]);
//! let request = DeploymentRequest::new("demo-1", "demo", "1").with_device("main", "robot-1");
//! assert_eq!(request.devices["main"], "robot-1");
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    Architecture, Component, DeploymentRequest, DeviceRuntime, Executable, Limits, Package,
    Placement, RestartPolicy, Ros, RosDistro, Version, Wave, WaveSize,
};

impl Placement {
    /// A device placement needing this runtime and architecture.
    pub const fn device(runtime: DeviceRuntime, architecture: Architecture) -> Self {
        Placement::Device {
            runtime,
            architecture,
        }
    }
}

impl Executable {
    /// An executable with this name and nothing else set: no image, no command, no shell.
    pub fn new(name: impl Into<String>) -> Self {
        Executable {
            name: name.into(),
            image: None,
            command: Vec::new(),
            shell: false,
            working_dir: None,
            env: BTreeMap::new(),
            ports: Vec::new(),
            mounts: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// With these limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// With this argv.
    #[must_use]
    pub fn with_command<S: Into<String>>(mut self, argv: impl IntoIterator<Item = S>) -> Self {
        self.command = argv.into_iter().map(Into::into).collect();
        self
    }

    /// With this container image.
    #[must_use]
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Run through `/bin/sh -c` (or not).
    #[must_use]
    pub fn with_shell(mut self, shell: bool) -> Self {
        self.shell = shell;
        self
    }

    /// With environment variable `key` set to `value`.
    #[must_use]
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }
}

impl Component {
    /// A component with this name and placement, no executables, the default restart policy,
    /// not ROS, not shared.
    pub fn new(name: impl Into<String>, placement: Placement) -> Self {
        Component {
            name: name.into(),
            placement,
            ros: None,
            restart_policy: None,
            shared: false,
            executables: Vec::new(),
        }
    }

    /// With this restart policy.
    #[must_use]
    pub fn with_restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.restart_policy = Some(policy);
        self
    }

    /// A ROS component built for `distro`.
    #[must_use]
    pub fn with_ros(mut self, distro: impl Into<String>) -> Self {
        self.ros = Some(Ros {
            distro: RosDistro(distro.into()),
        });
        self
    }

    /// Shared between deployments on one device (or not).
    #[must_use]
    pub fn with_shared(mut self, shared: bool) -> Self {
        self.shared = shared;
        self
    }

    /// With one more executable.
    #[must_use]
    pub fn with_executable(mut self, executable: Executable) -> Self {
        self.executables.push(executable);
        self
    }

    /// With these executables added.
    #[must_use]
    pub fn with_executables(mut self, executables: impl IntoIterator<Item = Executable>) -> Self {
        self.executables.extend(executables);
        self
    }
}

impl Package {
    /// A package with this name and version, no description, no labels, no components.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            name: name.into(),
            version: Version::new(version),
            description: None,
            labels: BTreeMap::new(),
            components: Vec::new(),
        }
    }

    /// With one more component.
    #[must_use]
    pub fn with_component(mut self, component: Component) -> Self {
        self.components.push(component);
        self
    }
}

impl DeploymentRequest {
    /// A request deploying `package` at `version` as `name`, with nothing else set.
    pub fn new(
        name: impl Into<String>,
        package: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        DeploymentRequest {
            name: name.into(),
            package: package.into(),
            version: Version::new(version),
            labels: BTreeMap::new(),
            devices: BTreeMap::new(),
            depends_on: Vec::new(),
            volumes: Vec::new(),
            routed_network: None,
            restart_policy: None,
            env: BTreeMap::new(),
        }
    }

    /// With device component `component` placed on the device named `device`.
    #[must_use]
    pub fn with_device(mut self, component: impl Into<String>, device: impl Into<String>) -> Self {
        self.devices.insert(component.into(), device.into());
        self
    }

    /// Depending on the deployment named `deployment`.
    #[must_use]
    pub fn with_depends_on(mut self, deployment: impl Into<String>) -> Self {
        self.depends_on.push(deployment.into());
        self
    }

    /// With the package's restart policy overridden by `policy`.
    #[must_use]
    pub fn with_restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.restart_policy = Some(policy);
        self
    }
}

impl Wave {
    /// A wave of `size` robots, without soak time or manual resume.
    pub const fn new(size: WaveSize) -> Self {
        Wave {
            size,
            soak: None,
            manual_resume: false,
        }
    }

    /// Waiting `soak` after the wave completes before the next starts.
    #[must_use]
    pub const fn with_soak(mut self, soak: Duration) -> Self {
        self.soak = Some(soak);
        self
    }

    /// Waiting for an explicit resume after the wave (or not).
    #[must_use]
    pub const fn with_manual_resume(mut self, manual_resume: bool) -> Self {
        self.manual_resume = manual_resume;
        self
    }
}
