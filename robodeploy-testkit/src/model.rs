//! Packages, requests, devices and jobs as the tests deploy them: one device component named
//! [`COMPONENT`] on a preinstalled amd64 device unless a test says otherwise.

use robodeploy_core::model::{
    Architecture, Component, DeploymentConfig, DeploymentJobRequest, DeploymentRequest, Device,
    DeviceRuntime, Executable, Fleet, LaunchConfig, Package, Placement, RestartPolicy, Version,
};

/// The name of the one component of every fixture package.
pub const COMPONENT: &str = "main";

/// A preinstalled amd64 device placement: what the process runtime and the in-memory runtime
/// serve.
pub const PREINSTALLED: Placement =
    Placement::device(DeviceRuntime::Preinstalled, Architecture::Amd64);

/// A Docker amd64 device placement.
pub const DOCKER: Placement = Placement::device(DeviceRuntime::Docker, Architecture::Amd64);

/// An executable named `name` running `argv`.
pub fn exe<S: Into<String>>(name: &str, argv: impl IntoIterator<Item = S>) -> Executable {
    Executable::new(name).with_command(argv)
}

/// An executable named `name` running `/usr/bin/<name>`: enough for the in-memory runtime,
/// which runs nothing.
pub fn fake_exe(name: &str) -> Executable {
    exe(name, [format!("/usr/bin/{name}")])
}

/// Package `name` at `version`: one preinstalled device component [`COMPONENT`] under `policy`
/// with these executables.
pub fn package(
    name: &str,
    version: &str,
    policy: RestartPolicy,
    executables: impl IntoIterator<Item = Executable>,
) -> Package {
    package_on(name, version, PREINSTALLED, policy, executables)
}

/// [`package`] with its component placed by `placement` (such as [`DOCKER`]).
pub fn package_on(
    name: &str,
    version: &str,
    placement: Placement,
    policy: RestartPolicy,
    executables: impl IntoIterator<Item = Executable>,
) -> Package {
    Package::new(name, version).with_component(
        Component::new(COMPONENT, placement)
            .with_restart_policy(policy)
            .with_executables(executables),
    )
}

/// A request deploying `package` at `version` as `name`, its component [`COMPONENT`] on the
/// device named `device`.
pub fn request(name: &str, package: &str, version: &str, device: &str) -> DeploymentRequest {
    DeploymentRequest::new(name, package, version).with_device(COMPONENT, device)
}

/// An online amd64 device named `name` with this runtime.
pub fn device(name: &str, runtime: DeviceRuntime) -> Device {
    Device::new(name, Architecture::Amd64, runtime)
}

/// A job rolling `application` version 1 out to `fleet`, running the pre- and post-launch
/// scripts given (paths on the robot), `concurrent` and `threshold` percent at once and to
/// halt, and the default robot timeout.
pub fn job(
    fleet: &str,
    application: &str,
    pre_launch: Option<String>,
    post_launch: Option<String>,
    concurrent: u8,
    threshold: u8,
) -> DeploymentJobRequest {
    DeploymentJobRequest {
        fleet: fleet.into(),
        application: application.into(),
        application_version: Version::new("1"),
        launch_config: LaunchConfig {
            package_name: application.into(),
            launch_file: "app.launch".into(),
            pre_launch_file: pre_launch,
            post_launch_file: post_launch,
            environment_variables: Default::default(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: concurrent,
            failure_threshold_percentage: threshold,
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    }
}

/// A rollout running `concurrent` percent of the robots at once, halting at `threshold`
/// percent failed, each robot given ten minutes.
pub fn rollout_config(concurrent: u8, threshold: u8) -> DeploymentConfig {
    DeploymentConfig {
        concurrent_deployment_percentage: concurrent,
        failure_threshold_percentage: threshold,
        robot_deployment_timeout: std::time::Duration::from_secs(600),
        ..DeploymentConfig::default()
    }
}

/// A fleet named `name` of these robots, without labels.
pub fn fleet(name: &str, robots: Vec<Device>) -> Fleet {
    Fleet {
        name: name.into(),
        labels: Default::default(),
        robots,
    }
}
