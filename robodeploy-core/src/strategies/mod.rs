//! proptest strategies for every model type (feature `proptest`), for testing your own policies
//! and tools against generated packages, fleets, deployments and jobs.
//!
//! Two families:
//!
//! - `any_*`: **any** value of the type, valid or not (arbitrary Unicode text, out-of-range
//!   percentages, `$LATEST`, …): for round trips and for code that must not panic on bad input;
//! - `valid_*` ([`valid`]): values that pass [`crate::validate`], including whole consistent
//!   manifests ([`valid::valid_manifest`]) with a package, a fleet that can run it, deployments
//!   with acyclic dependencies and a deployment job.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use robodeploy_core::strategies::{any_package, valid::valid_manifest};
//! use robodeploy_core::validate::validate_manifest;
//!
//! let mut runner = TestRunner::deterministic();
//! runner.run(&valid_manifest(), |m| {
//!     prop_assert!(validate_manifest(&m).is_ok());
//!     Ok(())
//! }).unwrap();
//! runner.run(&any_package(), |p| {
//!     let json = serde_json::to_string(&p).unwrap();
//!     prop_assert_eq!(serde_json::from_str::<robodeploy_core::model::Package>(&json).unwrap(), p);
//!     Ok(())
//! }).unwrap();
//! ```

pub mod valid;

mod any_status;

pub use any_status::{
    any_error_code, any_error_report, any_executable_status, any_failure_code, any_job_status,
    any_phase, any_progress_step, any_reason, any_robot_status, any_status_kind,
};

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use crate::manifest::{Document, Manifest};
use crate::model::*;

/// The proptest configuration robodeploy's own property tests use: at least 10,000 cases per
/// property; the `PROPTEST_CASES` environment variable may raise the count, never lower it.
///
/// ```
/// assert!(robodeploy_core::strategies::ci_config().cases >= 10_000);
/// ```
pub fn ci_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000u32)
        .max(10_000);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Any text: every Unicode scalar value is possible, control characters included.
pub fn any_text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..12).prop_map(String::from_iter)
}

/// Any string-to-string map (labels, environment, tags) of a few entries.
pub fn any_string_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(any_text(), any_text(), 0..4)
}

/// Any duration of whole milliseconds up to about ten years (manifests carry millisecond spans).
pub fn any_duration() -> impl Strategy<Value = Duration> {
    (0u64..=10 * 365 * 24 * 3_600_000).prop_map(Duration::from_millis)
}

/// Any version string, `$LATEST` and non-numbered ones included.
pub fn any_version() -> impl Strategy<Value = Version> {
    prop_oneof![
        Just(Version::new(LATEST)),
        "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,2}(-[a-z0-9]{1,4})?".prop_map(Version::new),
        any_text().prop_map(Version::new),
    ]
}

/// Any device id.
pub fn any_device_id() -> impl Strategy<Value = DeviceId> {
    any::<u128>().prop_map(DeviceId::from_u128)
}

/// Any deployment id.
pub fn any_deployment_id() -> impl Strategy<Value = DeploymentId> {
    any::<u128>().prop_map(DeploymentId::from_u128)
}

/// Any job id.
pub fn any_job_id() -> impl Strategy<Value = JobId> {
    any::<u128>().prop_map(JobId::from_u128)
}

/// Any architecture.
pub fn any_architecture() -> impl Strategy<Value = Architecture> {
    prop_oneof![
        Just(Architecture::Amd64),
        Just(Architecture::Arm32v7),
        Just(Architecture::Arm64v8),
    ]
}

/// Any device runtime.
pub fn any_device_runtime() -> impl Strategy<Value = DeviceRuntime> {
    prop_oneof![
        Just(DeviceRuntime::Docker),
        Just(DeviceRuntime::Preinstalled)
    ]
}

/// Any restart policy.
pub fn any_restart_policy() -> impl Strategy<Value = RestartPolicy> {
    prop_oneof![
        Just(RestartPolicy::Always),
        Just(RestartPolicy::OnFailure),
        Just(RestartPolicy::Never),
    ]
}

/// Any placement.
pub fn any_placement() -> impl Strategy<Value = Placement> {
    prop_oneof![
        Just(Placement::Cloud),
        (any_device_runtime(), any_architecture()).prop_map(|(runtime, architecture)| {
            Placement::Device {
                runtime,
                architecture,
            }
        }),
    ]
}

/// Any ROS distro name.
pub fn any_ros_distro() -> impl Strategy<Value = RosDistro> {
    prop_oneof![
        prop::sample::select(vec!["noetic", "humble", "jazzy"]).prop_map(|d| RosDistro(d.into())),
        any_text().prop_map(RosDistro),
    ]
}

/// Any mount.
pub fn any_mount() -> impl Strategy<Value = Mount> {
    (any_text(), any_text(), any::<bool>()).prop_map(|(source, target, read_only)| Mount {
        source,
        target,
        read_only,
    })
}

/// Any port.
pub fn any_port() -> impl Strategy<Value = Port> {
    (any::<u16>(), option::of(any::<u16>())).prop_map(|(container, host)| Port { container, host })
}

/// Any executable.
pub fn any_executable() -> impl Strategy<Value = Executable> {
    (
        any_text(),
        option::of(any_text()),
        vec(any_text(), 0..4),
        any::<bool>(),
        option::of(any_text()),
        any_string_map(),
        vec(any_port(), 0..3),
        vec(any_mount(), 0..3),
    )
        .prop_map(
            |(name, image, command, shell, working_dir, env, ports, mounts)| Executable {
                name,
                image,
                command,
                shell,
                working_dir,
                env,
                ports,
                mounts,
                limits: Default::default(),
            },
        )
}

/// Any component.
pub fn any_component() -> impl Strategy<Value = Component> {
    (
        any_text(),
        any_placement(),
        option::of(any_ros_distro().prop_map(|distro| Ros { distro })),
        option::of(any_restart_policy()),
        any::<bool>(),
        vec(any_executable(), 0..3),
    )
        .prop_map(
            |(name, placement, ros, restart_policy, shared, executables)| Component {
                name,
                placement,
                ros,
                restart_policy,
                shared,
                executables,
            },
        )
}

/// Any package.
pub fn any_package() -> impl Strategy<Value = Package> {
    (
        any_text(),
        any_version(),
        option::of(any_text()),
        any_string_map(),
        vec(any_component(), 0..3),
    )
        .prop_map(|(name, version, description, labels, components)| Package {
            name,
            version,
            description,
            labels,
            components,
        })
}

/// Any device.
pub fn any_device() -> impl Strategy<Value = Device> {
    (
        any_device_id(),
        any_text(),
        any_architecture(),
        any_device_runtime(),
        option::of(any_ros_distro()),
        any::<bool>(),
        option::of(any_text()),
        any_string_map(),
        btree_map(any_text(), any_version(), 0..3),
    )
        .prop_map(
            |(id, name, architecture, runtime, ros_distro, online, endpoint, labels, installed)| {
                Device {
                    id,
                    name,
                    architecture,
                    runtime,
                    ros_distro,
                    online,
                    endpoint,
                    connection: None,
                    labels,
                    installed,
                }
            },
        )
}

/// Any fleet.
pub fn any_fleet() -> impl Strategy<Value = Fleet> {
    (any_text(), any_string_map(), vec(any_device(), 0..4)).prop_map(|(name, labels, robots)| {
        Fleet {
            name,
            labels,
            robots,
        }
    })
}

/// Any routed network.
pub fn any_routed_network() -> impl Strategy<Value = RoutedNetwork> {
    (
        any_text(),
        prop_oneof![
            Just(NetworkPlacement::Cloud),
            Just(NetworkPlacement::Device)
        ],
    )
        .prop_map(|(name, placement)| RoutedNetwork { name, placement })
}

/// Any volume attachment.
pub fn any_volume_attachment() -> impl Strategy<Value = VolumeAttachment> {
    (any_text(), any_text(), any_text()).prop_map(|(deployment, component, mount_path)| {
        VolumeAttachment {
            deployment,
            component,
            mount_path,
        }
    })
}

/// Any deployment request.
pub fn any_deployment_request() -> impl Strategy<Value = DeploymentRequest> {
    (
        (any_text(), any_text(), any_version(), any_string_map()),
        (
            any_string_map(),
            vec(any_text(), 0..3),
            vec(any_volume_attachment(), 0..2),
            option::of(any_routed_network()),
            option::of(any_restart_policy()),
            any_string_map(),
        ),
    )
        .prop_map(
            |(
                (name, package, version, labels),
                (devices, depends_on, volumes, routed_network, restart_policy, env),
            )| DeploymentRequest {
                name,
                package,
                version,
                labels,
                devices,
                depends_on,
                volumes,
                routed_network,
                restart_policy,
                env,
            },
        )
}

/// Any launch config.
pub fn any_launch_config() -> impl Strategy<Value = LaunchConfig> {
    (
        any_text(),
        any_text(),
        option::of(any_text()),
        option::of(any_text()),
        any_string_map(),
    )
        .prop_map(
            |(package_name, launch_file, pre_launch_file, post_launch_file, env)| LaunchConfig {
                package_name,
                launch_file,
                pre_launch_file,
                post_launch_file,
                environment_variables: env,
            },
        )
}

/// Any download condition.
pub fn any_download_condition() -> impl Strategy<Value = DownloadCondition> {
    (any_text(), option::of(any_text()))
        .prop_map(|(file, digest)| DownloadCondition { file, digest })
}

/// Any wave size.
pub fn any_wave_size() -> impl Strategy<Value = WaveSize> {
    prop_oneof![
        any::<u32>().prop_map(WaveSize::Robots),
        // A percentage reads as 0..=100 (validation refuses 0).
        (0u8..=100).prop_map(WaveSize::Percent),
    ]
}

/// Any wave.
pub fn any_wave() -> impl Strategy<Value = Wave> {
    (any_wave_size(), option::of(any_duration()), any::<bool>()).prop_map(
        |(size, soak, manual_resume)| Wave {
            size,
            soak,
            manual_resume,
        },
    )
}

/// A deployment config's fields, in the order the generators draw them.
type ConfigParts = (
    u8,
    u8,
    Duration,
    Option<DownloadCondition>,
    Option<Duration>,
    Vec<Wave>,
    bool,
);

/// The deployment config of drawn fields.
fn config_of(
    (concurrency, threshold, timeout, download_condition, offline_deadline, waves, auto_rollback): ConfigParts,
) -> DeploymentConfig {
    DeploymentConfig {
        concurrent_deployment_percentage: concurrency,
        failure_threshold_percentage: threshold,
        robot_deployment_timeout: timeout,
        download_condition,
        offline_deadline,
        waves,
        auto_rollback,
    }
}

/// Any deployment config (percentages as any that reads: 0..=100, 0 refused by validation).
pub fn any_deployment_config() -> impl Strategy<Value = DeploymentConfig> {
    (
        0u8..=100,
        0u8..=100,
        any_duration(),
        option::of(any_download_condition()),
        option::of(any_duration()),
        vec(any_wave(), 0..3),
        any::<bool>(),
    )
        .prop_map(config_of)
}

/// Any deployment job request.
pub fn any_job_request() -> impl Strategy<Value = DeploymentJobRequest> {
    (
        any_text(),
        any_text(),
        any_version(),
        any_launch_config(),
        any_deployment_config(),
        any_string_map(),
    )
        .prop_map(
            |(fleet, application, application_version, launch_config, deployment_config, tags)| {
                DeploymentJobRequest {
                    fleet,
                    application,
                    application_version,
                    launch_config,
                    deployment_config,
                    tags,
                }
            },
        )
}

/// Any manifest document.
pub fn any_document() -> impl Strategy<Value = Document> {
    prop_oneof![
        any_package().prop_map(Document::Package),
        any_fleet().prop_map(Document::Fleet),
        any_deployment_request().prop_map(Document::Deployment),
        any_job_request().prop_map(Document::DeploymentJob),
    ]
}

/// Any manifest of one to four documents.
pub fn any_manifest() -> impl Strategy<Value = Manifest> {
    vec(any_document(), 1..5).prop_map(Manifest::new)
}
