//! Strategies for values that pass validation, up to whole consistent manifests.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;

use super::{any_architecture, any_device_runtime, any_placement, any_restart_policy};
use crate::manifest::{Document, Manifest};
use crate::model::*;

/// A valid name (a DNS label).
pub fn valid_name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?"
}

/// A numbered version.
pub fn valid_version() -> impl Strategy<Value = Version> {
    "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,2}(-rc[0-9])?".prop_map(Version::new)
}

/// Valid environment variables (names `[A-Z_][A-Z0-9_]*` not beginning with `AWS`, values
/// 1..=24 printable ASCII characters).
pub fn valid_env() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(
        "[A-Z_][A-Z0-9_]{0,12}".prop_filter("AWS is reserved", |k| !k.starts_with("AWS")),
        "[ -~]{1,24}",
        0..4,
    )
}

/// Valid labels.
pub fn valid_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(
        "([a-z0-9]{1,6}\\.[a-z]{2,3}/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?",
        "([A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?)?",
        0..3,
    )
}

/// Valid job tags.
pub fn valid_tags() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(
        "[A-Za-z0-9 _.:/=+@-]{1,20}".prop_filter("aws: is reserved", |k| {
            !k.to_ascii_lowercase().starts_with("aws:")
        }),
        "[A-Za-z0-9 _.:/=+@-]{0,20}",
        0..3,
    )
}

/// A ROS distro.
pub fn valid_ros_distro() -> impl Strategy<Value = RosDistro> {
    prop::sample::select(vec!["noetic", "humble", "jazzy", "rolling"])
        .prop_map(|d| RosDistro(d.to_owned()))
}

fn absolute_path() -> impl Strategy<Value = String> {
    "/[a-z0-9_./-]{0,16}"
}

/// A valid executable named `name` for a component placed at `placement`: an image for docker
/// and cloud, a command for preinstalled.
pub fn valid_executable(placement: Placement, name: String) -> impl Strategy<Value = Executable> {
    let needs_image = !matches!(
        placement,
        Placement::Device {
            runtime: DeviceRuntime::Preinstalled,
            ..
        }
    );
    let image = if needs_image {
        "[a-z0-9]{1,10}(/[a-z0-9]{1,8})?(:[a-z0-9.]{1,6})?"
            .prop_map(Some)
            .boxed()
    } else {
        Just(None).boxed()
    };
    let program = if needs_image {
        "([a-z/][a-z0-9/_.-]{0,10})?".boxed()
    } else {
        "[a-z/][a-z0-9/_.-]{0,10}".boxed()
    };
    let ports = if needs_image {
        vec(
            (1u16..=65535, option::of(1u16..=65535))
                .prop_map(|(container, host)| Port { container, host }),
            0..2,
        )
        .boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        image,
        program,
        vec("[ -~]{0,10}", 0..3),
        any::<bool>(),
        option::of(absolute_path()),
        valid_env(),
        ports,
        vec(
            ("[a-z0-9/_-]{1,10}", absolute_path(), any::<bool>()).prop_map(
                |(source, target, read_only)| Mount {
                    source,
                    target,
                    read_only,
                },
            ),
            0..2,
        ),
    )
        .prop_map(
            move |(image, program, args, shell, working_dir, env, ports, mounts)| {
                let command = if program.is_empty() {
                    Vec::new()
                } else {
                    std::iter::once(program).chain(args).collect()
                };
                Executable {
                    name: name.clone(),
                    image,
                    command,
                    shell,
                    working_dir,
                    env,
                    ports,
                    mounts,
                    limits: Default::default(),
                }
            },
        )
}

/// A valid component named `name`, with one to three uniquely named executables.
pub fn valid_component(name: String) -> impl Strategy<Value = Component> {
    (
        any_placement(),
        option::of(valid_ros_distro().prop_map(|distro| Ros { distro })),
        option::of(any_restart_policy()),
        any::<bool>(),
        btree_set(valid_name(), 1..3),
    )
        .prop_flat_map(move |(placement, ros, restart_policy, shared, names)| {
            let executables: Vec<_> = names
                .into_iter()
                .map(|n| valid_executable(placement, n))
                .collect();
            let name = name.clone();
            executables.prop_map(move |executables| Component {
                name: name.clone(),
                placement,
                ros: ros.clone(),
                restart_policy,
                shared,
                executables,
            })
        })
}

/// A valid package with one to three uniquely named components.
pub fn valid_package() -> impl Strategy<Value = Package> {
    (
        valid_name(),
        valid_version(),
        option::of("[ -~]{0,30}"),
        valid_labels(),
        btree_set(valid_name(), 1..4),
    )
        .prop_flat_map(|(name, version, description, labels, names)| {
            let components: Vec<_> = names.into_iter().map(valid_component).collect();
            components.prop_map(move |components| Package {
                name: name.clone(),
                version: version.clone(),
                description: description.clone(),
                labels: labels.clone(),
                components,
            })
        })
}

/// A valid device named `name` with id `id`.
pub fn valid_device(name: String, id: DeviceId) -> impl Strategy<Value = Device> {
    (
        any_architecture(),
        any_device_runtime(),
        option::of(valid_ros_distro()),
        any::<bool>(),
        valid_labels(),
        btree_map(valid_name(), valid_version(), 0..2),
    )
        .prop_map(
            move |(architecture, runtime, ros_distro, online, labels, installed)| Device {
                id,
                name: name.clone(),
                architecture,
                runtime,
                ros_distro,
                online,
                endpoint: None,
                connection: None,
                labels,
                installed,
            },
        )
}

/// Robots named `{prefix}-000`, `{prefix}-001`, … with ids counted from `first_id`.
fn robots(
    prefix: &'static str,
    first_id: u128,
    count: usize,
) -> Vec<impl Strategy<Value = Device>> {
    (0..count)
        .map(|i| {
            valid_device(
                format!("{prefix}-{i:03}"),
                DeviceId::from_u128(first_id + i as u128),
            )
        })
        .collect()
}

/// A valid fleet of zero to seven robots.
pub fn valid_fleet() -> impl Strategy<Value = Fleet> {
    (valid_name(), valid_labels(), any::<u64>(), 0usize..8).prop_flat_map(
        |(name, labels, id_base, count)| {
            robots("robot", u128::from(id_base) << 32, count).prop_map(move |robots| Fleet {
                name: name.clone(),
                labels: labels.clone(),
                robots,
            })
        },
    )
}

/// A valid launch config.
pub fn valid_launch_config() -> impl Strategy<Value = LaunchConfig> {
    (
        "[a-zA-Z0-9_.-]{1,20}",
        "[a-zA-Z0-9_.-]{1,20}",
        option::of(absolute_path()),
        option::of(absolute_path()),
        valid_env(),
    )
        .prop_map(|(package_name, launch_file, pre, post, env)| LaunchConfig {
            package_name,
            launch_file,
            pre_launch_file: pre,
            post_launch_file: post,
            environment_variables: env,
        })
}

fn robot_timeout() -> impl Strategy<Value = Duration> {
    (MIN_ROBOT_TIMEOUT.as_millis() as u64..=MAX_ROBOT_TIMEOUT.as_millis() as u64)
        .prop_map(Duration::from_millis)
}

/// A valid deployment config: percentages 1..=100, timeouts in range, sane waves.
pub fn valid_deployment_config() -> impl Strategy<Value = DeploymentConfig> {
    let wave = (
        prop_oneof![
            (1u32..50).prop_map(WaveSize::Robots),
            (1u8..=100).prop_map(WaveSize::Percent)
        ],
        option::of((0u64..=MAX_ROBOT_TIMEOUT.as_millis() as u64).prop_map(Duration::from_millis)),
        any::<bool>(),
    )
        .prop_map(|(size, soak, manual_resume)| Wave {
            size,
            soak,
            manual_resume,
        });
    (
        1u8..=100,
        1u8..=100,
        robot_timeout(),
        option::of(
            (absolute_path(), option::of("sha256:[0-9a-f]{64}"))
                .prop_map(|(file, digest)| DownloadCondition { file, digest }),
        ),
        option::of(robot_timeout()),
        vec(wave, 0..3),
        any::<bool>(),
    )
        .prop_map(super::config_of)
}

/// A valid deployment job of `application` `version` to `fleet`.
pub fn valid_job(
    fleet: String,
    application: String,
    version: Version,
) -> impl Strategy<Value = DeploymentJobRequest> {
    (
        valid_launch_config(),
        valid_deployment_config(),
        valid_tags(),
    )
        .prop_map(
            move |(launch_config, deployment_config, tags)| DeploymentJobRequest {
                fleet: fleet.clone(),
                application: application.clone(),
                application_version: version.clone(),
                launch_config,
                deployment_config,
                tags,
            },
        )
}

/// A device for each device component of `package` that can run it: robot `k` matches device
/// component `k` in architecture, runtime and ROS distro.
fn matching_robots(package: &Package, id_base: u128) -> Vec<impl Strategy<Value = Device> + use<>> {
    package
        .components
        .iter()
        .filter_map(|c| match c.placement {
            Placement::Device {
                runtime,
                architecture,
            } => Some((runtime, architecture, c.ros.clone())),
            Placement::Cloud => None,
        })
        .enumerate()
        .map(|(k, (runtime, architecture, ros))| {
            let id = DeviceId::from_u128(id_base + k as u128);
            valid_device(format!("robot-{k:03}"), id).prop_map(move |mut d| {
                d.architecture = architecture;
                d.runtime = runtime;
                d.online = true;
                if let Some(ros) = &ros {
                    d.ros_distro = Some(ros.distro.clone());
                }
                d
            })
        })
        .collect()
}

/// `count` deployments of `package` named `dep-0`, `dep-1`, …, each choosing robot `k` for device
/// component `k` and depending on some earlier ones (so the dependencies never form a cycle).
fn deployments(
    package: &Package,
    count: usize,
) -> Vec<impl Strategy<Value = DeploymentRequest> + use<>> {
    let device_components: Vec<String> = package
        .components
        .iter()
        .filter(|c| c.placement.is_device())
        .map(|c| c.name.clone())
        .collect();
    let has_ros = package.components.iter().any(|c| c.ros.is_some());
    let has_cloud = package
        .components
        .iter()
        .any(|c| c.placement == Placement::Cloud);
    (0..count)
        .map(|i| {
            let devices: BTreeMap<String, String> = device_components
                .iter()
                .enumerate()
                .map(|(k, c)| (c.clone(), format!("robot-{k:03}")))
                .collect();
            let (name, version) = (package.name.clone(), package.version.clone());
            let network = (
                valid_name(),
                if has_cloud {
                    Just(NetworkPlacement::Cloud).boxed()
                } else {
                    prop_oneof![
                        Just(NetworkPlacement::Cloud),
                        Just(NetworkPlacement::Device)
                    ]
                    .boxed()
                },
            )
                .prop_map(|(name, placement)| RoutedNetwork { name, placement });
            let network = if has_ros {
                network.prop_map(Some).boxed()
            } else {
                option::of(network).boxed()
            };
            (
                valid_labels(),
                prop::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i),
                network,
                option::of(any_restart_policy()),
                valid_env(),
            )
                .prop_map(
                    move |(labels, deps, routed_network, restart_policy, env)| DeploymentRequest {
                        name: format!("dep-{i}"),
                        package: name.clone(),
                        version: version.clone(),
                        labels,
                        devices: devices.clone(),
                        depends_on: deps.into_iter().map(|d| format!("dep-{d}")).collect(),
                        volumes: Vec::new(),
                        routed_network,
                        restart_policy,
                        env,
                    },
                )
        })
        .collect()
}

/// A whole consistent manifest that validates without errors: a package, a fleet holding a
/// matching robot for each device component (and spare robots), zero to three deployments of
/// the package with acyclic dependencies, and a deployment job of the package to the fleet.
pub fn valid_manifest() -> impl Strategy<Value = Manifest> {
    (valid_package(), any::<u64>(), 0usize..4, 0usize..4).prop_flat_map(
        |(package, id_base, spares, count)| {
            let base = u128::from(id_base) << 32;
            (
                Just(package.clone()),
                valid_name(),
                valid_labels(),
                matching_robots(&package, base),
                robots("spare", base + 1000, spares),
                deployments(&package, count),
                valid_job(String::new(), package.name.clone(), package.version.clone()),
            )
                .prop_map(
                    |(package, fleet_name, labels, mut robots, spares, deployments, mut job)| {
                        robots.extend(spares);
                        job.fleet = fleet_name.clone();
                        let mut docs = vec![
                            Document::Package(package),
                            Document::Fleet(Fleet {
                                name: fleet_name,
                                labels,
                                robots,
                            }),
                        ];
                        docs.extend(deployments.into_iter().map(Document::Deployment));
                        docs.push(Document::DeploymentJob(job));
                        Manifest::new(docs)
                    },
                )
        },
    )
}
