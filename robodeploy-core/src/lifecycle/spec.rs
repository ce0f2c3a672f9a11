//! The resolved description a [`Deployment`](super::Deployment) machine is built from: which
//! executables it runs, where, under which effective restart policy and restart mode, and what it
//! depends on.

use std::collections::BTreeSet;
use std::fmt;

use crate::model::RestartPolicy;

use super::LifecycleConfig;
use super::config::ConfigError;

/// Index of an executable in its deployment (the order of [`DeploymentSpec::executables`]).
///
/// Events and commands carry indices, not names, so steady-state handling never compares or
/// copies strings; [`Deployment::executable_name`](super::Deployment::executable_name) maps back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecutableIndex(pub u16);

/// Index of a device among the distinct devices of a deployment, in order of first appearance in
/// [`DeploymentSpec::executables`]; see [`Deployment::device_index`](super::Deployment::device_index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceIndex(pub u16);

/// Index of a dependency (the order of [`DeploymentSpec::dependencies`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DependencyIndex(pub u16);

macro_rules! index_display {
    ($($t:ident),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl $t {
            /// The index as a `usize`.
            pub fn get(self) -> usize {
                usize::from(self.0)
            }
        }
    )*};
}
index_display!(ExecutableIndex, DeviceIndex, DependencyIndex);

/// Who applies the restart policy of an executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestartMode {
    /// The runtime restarts by itself (Docker's restart policies, which also hold across device
    /// reboots). The machine never emits [`Command::Restart`](super::Command::Restart); it observes
    /// exits and restarts ([`Event::RestartObserved`](super::Event::RestartObserved)) and counts them.
    RuntimeEnforced,
    /// The runtime does not restart anything (a process runtime). The machine emits
    /// [`Command::Restart`](super::Command::Restart) when the policy and the backoff say so.
    EngineEnforced,
}

/// Where an executable runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// In the cloud: always restarted, whatever the policy says.
    Cloud,
    /// On the named device.
    Device(String),
}

/// One executable of a deployment, resolved: its component, where it runs and the policy in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutableSpec {
    /// The component's name.
    pub component: String,
    /// The executable's name, unique within its component.
    pub name: String,
    /// Cloud or a device.
    pub host: Host,
    /// The effective restart policy: the deployment's override or the component's, or for a shared
    /// component the one [`SharedComponents`](super::SharedComponents) returned. Ignored in the
    /// cloud, where executables always restart.
    pub policy: RestartPolicy,
    /// Who applies the policy.
    pub mode: RestartMode,
    /// Whether the component is shared between deployments on its device (the ROS master).
    pub shared: bool,
}

impl ExecutableSpec {
    /// A device executable, engine-enforced, not shared.
    pub fn device(
        component: impl Into<String>,
        name: impl Into<String>,
        device: impl Into<String>,
        policy: RestartPolicy,
    ) -> Self {
        ExecutableSpec {
            component: component.into(),
            name: name.into(),
            host: Host::Device(device.into()),
            policy,
            mode: RestartMode::EngineEnforced,
            shared: false,
        }
    }

    /// A cloud executable, runtime-enforced (cloud runtimes are Docker engines), not shared.
    pub fn cloud(component: impl Into<String>, name: impl Into<String>) -> Self {
        ExecutableSpec {
            component: component.into(),
            name: name.into(),
            host: Host::Cloud,
            policy: RestartPolicy::Always,
            mode: RestartMode::RuntimeEnforced,
            shared: false,
        }
    }

    /// The same with another restart mode.
    pub fn with_mode(mut self, mode: RestartMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same, marked as a shared component's executable.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// The policy actually applied: [`RestartPolicy::Always`] in the cloud.
    pub fn effective_policy(&self) -> RestartPolicy {
        match self.host {
            Host::Cloud => RestartPolicy::Always,
            Host::Device(_) => self.policy,
        }
    }
}

/// Everything a [`Deployment`](super::Deployment) machine needs to know about its deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentSpec {
    /// The deployment's name.
    pub name: String,
    /// Its executables, over all components; their order defines [`ExecutableIndex`].
    pub executables: Vec<ExecutableSpec>,
    /// Names of the deployments it depends on; their order defines [`DependencyIndex`].
    pub dependencies: Vec<String>,
    /// Backoff, crash-loop and deprovision settings.
    pub config: LifecycleConfig,
}

impl DeploymentSpec {
    /// A spec with the default configuration and no dependencies.
    pub fn new(name: impl Into<String>, executables: Vec<ExecutableSpec>) -> Self {
        DeploymentSpec {
            name: name.into(),
            executables,
            dependencies: Vec::new(),
            config: LifecycleConfig::default(),
        }
    }

    /// Checks the rules a machine relies on; see [`SpecError`].
    pub fn validate(&self) -> Result<(), SpecError> {
        self.config.validate()?;
        if self.executables.is_empty() {
            return Err(SpecError::NoExecutables {
                deployment: self.name.clone(),
            });
        }
        let max = usize::from(u16::MAX);
        if self.executables.len() > max || self.dependencies.len() > max {
            return Err(SpecError::TooMany {
                deployment: self.name.clone(),
                executables: self.executables.len(),
                dependencies: self.dependencies.len(),
                max,
            });
        }
        let mut seen = BTreeSet::new();
        for e in &self.executables {
            if !seen.insert((e.component.as_str(), e.name.as_str())) {
                return Err(SpecError::DuplicateExecutable {
                    component: e.component.clone(),
                    executable: e.name.clone(),
                });
            }
        }
        let mut deps = BTreeSet::new();
        for d in &self.dependencies {
            if *d == self.name {
                return Err(SpecError::SelfDependency { name: d.clone() });
            }
            if !deps.insert(d.as_str()) {
                return Err(SpecError::DuplicateDependency { name: d.clone() });
            }
        }
        Ok(())
    }
}

/// A [`DeploymentSpec`] a machine cannot be built from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// `executables` is empty: a deployment runs at least one executable.
    #[error("deployment {deployment:?}: executables is empty; a deployment runs at least one")]
    NoExecutables {
        /// The deployment's name.
        deployment: String,
    },
    /// More executables or dependencies than indices can address.
    #[error(
        "deployment {deployment:?}: {executables} executables and {dependencies} dependencies; at most {max} of each"
    )]
    TooMany {
        /// The deployment's name.
        deployment: String,
        /// How many executables were given.
        executables: usize,
        /// How many dependencies were given.
        dependencies: usize,
        /// The limit.
        max: usize,
    },
    /// Two executables with the same component and name.
    #[error(
        "executables: {component:?}/{executable:?} appears twice; names are unique per component"
    )]
    DuplicateExecutable {
        /// The component.
        component: String,
        /// The executable.
        executable: String,
    },
    /// A dependency listed twice.
    #[error("dependencies: {name:?} appears twice")]
    DuplicateDependency {
        /// The dependency.
        name: String,
    },
    /// A deployment that depends on itself.
    #[error("dependencies: {name:?} is the deployment itself")]
    SelfDependency {
        /// The name.
        name: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}
