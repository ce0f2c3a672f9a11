//! A table of bad inputs: each breaks one rule of a valid base manifest and must produce exactly
//! the expected errors (document, variant, field path), and nothing else.

use std::time::Duration;

use robodeploy_core::manifest::{Document, Manifest};
use robodeploy_core::model::*;
use robodeploy_core::validate::{ValidationError, validate_manifest};

const BASE: &str = r#"
apiVersion: robodeploy/v1
kind: Fleet
spec:
  name: lab
  labels: {site: lab}
  robots:
    - {name: robot-001, architecture: amd64, runtime: preinstalled, rosDistro: humble,
       installed: {talker: "0.9.0"}}
    - {name: robot-002, architecture: arm64v8, runtime: docker, rosDistro: humble}
    - {name: robot-003, architecture: amd64, runtime: docker}
---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: talker
  version: "1.0.0"
  components:
    - name: talker
      placement: {kind: device, runtime: preinstalled, architecture: amd64}
      ros: {distro: humble}
      executables:
        - name: talker
          command: ["sh", "-c", "echo talker"]
          env: {TOPIC: chatter}
---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: web
  version: "1.0.0"
  components:
    - name: api
      placement: {kind: cloud}
      executables:
        - {name: api, image: "busybox:latest", ports: [{container: 80, host: 8080}]}
    - name: agent
      placement: {kind: device, runtime: docker, architecture: arm64v8}
      executables:
        - {name: agent, image: "busybox:latest", mounts: [{source: data, target: /data}]}
---
apiVersion: robodeploy/v1
kind: Deployment
spec:
  name: talker
  package: talker
  version: "1.0.0"
  devices: {talker: robot-001}
  routedNetwork: {name: lab-net, placement: device}
---
apiVersion: robodeploy/v1
kind: Deployment
spec:
  name: web
  package: web
  version: "1.0.0"
  devices: {agent: robot-002}
  dependsOn: [talker]
---
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: lab
  application: talker
  applicationVersion: "1.0.0"
  launchConfig:
    packageName: talker
    launchFile: talker.launch.py
    preLaunchFile: /opt/talker/pre.sh
    postLaunchFile: /opt/talker/post.sh
    environmentVariables: {ROBOT_SITE: lab}
  deploymentConfig:
    concurrentDeploymentPercentage: 10
    failureThresholdPercentage: 20
    robotDeploymentTimeout: 30m
    downloadCondition:
      file: /opt/talker/ready.sh
      digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    waves: [{size: {robots: 1}, soak: 10m}]
  tags: {team: navigation}
"#;

fn base() -> Manifest {
    Manifest::parse_yaml(BASE).unwrap()
}

fn fleet(m: &mut Manifest) -> &mut Fleet {
    match &mut m.documents[0] {
        Document::Fleet(f) => f,
        other => panic!("{other:?}"),
    }
}

fn package(m: &mut Manifest, doc: usize) -> &mut Package {
    match &mut m.documents[doc] {
        Document::Package(p) => p,
        other => panic!("{other:?}"),
    }
}

fn talker_pkg(m: &mut Manifest) -> &mut Package {
    package(m, 1)
}

fn web_pkg(m: &mut Manifest) -> &mut Package {
    package(m, 2)
}

fn talker_exe(m: &mut Manifest) -> &mut Executable {
    &mut talker_pkg(m).components[0].executables[0]
}

fn deployment(m: &mut Manifest, doc: usize) -> &mut DeploymentRequest {
    match &mut m.documents[doc] {
        Document::Deployment(d) => d,
        other => panic!("{other:?}"),
    }
}

fn dep_talker(m: &mut Manifest) -> &mut DeploymentRequest {
    deployment(m, 3)
}

fn dep_web(m: &mut Manifest) -> &mut DeploymentRequest {
    deployment(m, 4)
}

fn job(m: &mut Manifest) -> &mut DeploymentJobRequest {
    match &mut m.documents[5] {
        Document::DeploymentJob(j) => j,
        other => panic!("{other:?}"),
    }
}

fn config(m: &mut Manifest) -> &mut DeploymentConfig {
    &mut job(m).deployment_config
}

fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn n_entries(
    n: usize,
    key: impl Fn(usize) -> String,
) -> std::collections::BTreeMap<String, String> {
    (0..n).map(|i| (key(i), "v".to_owned())).collect()
}

fn wave(size: WaveSize) -> Wave {
    Wave {
        size,
        soak: None,
        manual_resume: false,
    }
}

/// The variant name of an error, from its Debug form.
fn variant(e: &ValidationError) -> String {
    let dbg = format!("{e:?}");
    dbg.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

type Expect = &'static [(usize, &'static str, &'static str)];

struct Case {
    name: &'static str,
    mutate: fn(&mut Manifest),
    expect: Expect,
}

macro_rules! case {
    ($name:literal, $mutate:expr, [$(($doc:literal, $variant:literal, $path:literal)),+ $(,)?]) => {
        Case { name: $name, mutate: $mutate, expect: &[$(($doc, $variant, $path)),+] }
    };
}

fn cases() -> Vec<Case> {
    vec![
        // Names.
        case!(
            "package name with capitals",
            |m| web_pkg(m).name = "Web".into(),
            [
                (2, "InvalidName", "spec.name"),
                (4, "UnknownPackage", "spec.package")
            ]
        ),
        case!(
            "component name with underscore",
            |m| web_pkg(m).components[0].name = "api_".into(),
            [(2, "InvalidName", "spec.components[0].name")]
        ),
        case!(
            "executable name of 64 characters",
            |m| talker_exe(m).name = "e".repeat(64),
            [(1, "InvalidName", "spec.components[0].executables[0].name")]
        ),
        case!(
            "robot name with a space",
            |m| fleet(m).robots[2].name = "robot 3".into(),
            [(0, "InvalidName", "spec.robots[2].name")]
        ),
        case!(
            "empty fleet name",
            |m| fleet(m).name = String::new(),
            [
                (0, "InvalidName", "spec.name"),
                (5, "UnknownFleet", "spec.fleet")
            ]
        ),
        case!(
            "deployment name ending in a dash",
            |m| dep_talker(m).name = "talker-".into(),
            [
                (3, "InvalidName", "spec.name"),
                (4, "UnknownDeployment", "spec.dependsOn[0]")
            ]
        ),
        case!(
            "routed network name with capitals",
            |m| dep_talker(m).routed_network.as_mut().unwrap().name = "Lab".into(),
            [(3, "InvalidName", "spec.routedNetwork.name")]
        ),
        case!(
            "installed application name invalid",
            |m| {
                fleet(m).robots[0]
                    .installed
                    .insert("Bad".into(), Version::new("1"));
            },
            [(0, "InvalidName", "spec.robots[0].installed.Bad")]
        ),
        // Labels.
        case!(
            "label key with a space",
            |m| fleet(m).labels = map(&[("bad key", "x")]),
            [(0, "InvalidLabelKey", r#"spec.labels["bad key"]"#)]
        ),
        case!(
            "label key with an empty name",
            |m| fleet(m).labels = map(&[("example.com/", "x")]),
            [(0, "InvalidLabelKey", r#"spec.labels["example.com/"]"#)]
        ),
        case!(
            "label key prefix with capitals",
            |m| fleet(m).labels = map(&[("Example.com/app", "x")]),
            [(0, "InvalidLabelKey", r#"spec.labels["Example.com/app"]"#)]
        ),
        case!(
            "label value starting with a dash",
            |m| dep_web(m).labels = map(&[("app", "-web")]),
            [(4, "InvalidLabelValue", "spec.labels.app")]
        ),
        case!(
            "label value of 64 characters",
            |m| {
                web_pkg(m).labels.insert("app".into(), "v".repeat(64));
            },
            [(2, "InvalidLabelValue", "spec.labels.app")]
        ),
        case!(
            "65 labels",
            |m| fleet(m).robots[1].labels = n_entries(65, |i| format!("k{i}")),
            [(0, "TooMany", "spec.robots[1].labels")]
        ),
        // Tags.
        case!(
            "tag key with the aws: prefix",
            |m| job(m).tags = map(&[("AWS:owner", "me")]),
            [(5, "InvalidTagKey", r#"spec.tags["AWS:owner"]"#)]
        ),
        case!(
            "empty tag key",
            |m| job(m).tags = map(&[("", "x")]),
            [(5, "InvalidTagKey", r#"spec.tags[""]"#)]
        ),
        case!(
            "tag key of 129 characters",
            |m| job(m).tags = map(&[(&"k".repeat(129), "x")]),
            [(
                5,
                "InvalidTagKey",
                "spec.tags.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
            )]
        ),
        case!(
            "tag value with a hash",
            |m| job(m).tags = map(&[("team", "#nav")]),
            [(5, "InvalidTagValue", "spec.tags.team")]
        ),
        case!(
            "tag value of 257 characters",
            |m| job(m).tags = map(&[("team", &"v".repeat(257))]),
            [(5, "InvalidTagValue", "spec.tags.team")]
        ),
        case!(
            "51 tags",
            |m| job(m).tags = n_entries(51, |i| format!("t{i}")),
            [(5, "TooMany", "spec.tags")]
        ),
        // Environment.
        case!(
            "AWS-prefixed variable on an executable",
            |m| {
                talker_exe(m).env.insert("AWS_X".into(), "1".into());
            },
            [(
                1,
                "ReservedEnvName",
                "spec.components[0].executables[0].env.AWS_X"
            )]
        ),
        case!(
            "AWS prefix without underscore is reserved too",
            |m| {
                talker_exe(m).env.insert("AWSOME".into(), "1".into());
            },
            [(
                1,
                "ReservedEnvName",
                "spec.components[0].executables[0].env.AWSOME"
            )]
        ),
        case!(
            "lower-case variable name",
            |m| {
                talker_exe(m).env.insert("topic".into(), "1".into());
            },
            [(
                1,
                "InvalidEnvName",
                "spec.components[0].executables[0].env.topic"
            )]
        ),
        case!(
            "variable name starting with a digit",
            |m| {
                talker_exe(m).env.insert("1TOPIC".into(), "1".into());
            },
            [(
                1,
                "InvalidEnvName",
                "spec.components[0].executables[0].env.1TOPIC"
            )]
        ),
        case!(
            "variable name with a dash",
            |m| {
                talker_exe(m).env.insert("MY-VAR".into(), "1".into());
            },
            [(
                1,
                "InvalidEnvName",
                "spec.components[0].executables[0].env.MY-VAR"
            )]
        ),
        case!(
            "empty variable value",
            |m| {
                talker_exe(m).env.insert("EMPTY".into(), String::new());
            },
            [(
                1,
                "EnvValueLength",
                "spec.components[0].executables[0].env.EMPTY"
            )]
        ),
        case!(
            "variable value of 1025 characters",
            |m| {
                talker_exe(m).env.insert("LONG".into(), "x".repeat(1025));
            },
            [(
                1,
                "EnvValueLength",
                "spec.components[0].executables[0].env.LONG"
            )]
        ),
        case!(
            "129 variables",
            |m| talker_exe(m).env = n_entries(129, |i| format!("V{i}")),
            [(1, "TooMany", "spec.components[0].executables[0].env")]
        ),
        case!(
            "AWS variable in the job's launch config",
            |m| {
                job(m)
                    .launch_config
                    .environment_variables
                    .insert("AWS_REGION".into(), "eu".into());
            },
            [(
                5,
                "ReservedEnvName",
                "spec.launchConfig.environmentVariables.AWS_REGION"
            )]
        ),
        case!(
            "bad variable in a deployment",
            |m| dep_talker(m).env = map(&[("bad", "1")]),
            [(3, "InvalidEnvName", "spec.env.bad")]
        ),
        // Versions.
        case!(
            "job for $LATEST",
            |m| job(m).application_version = Version::new("$LATEST"),
            [(5, "LatestVersion", "spec.applicationVersion")]
        ),
        case!(
            "job for a version that is not numbered",
            |m| job(m).application_version = Version::new("latest"),
            [(5, "VersionNotNumbered", "spec.applicationVersion")]
        ),
        case!(
            "deployment of $LATEST",
            |m| dep_talker(m).version = Version::new("$LATEST"),
            [(3, "LatestVersion", "spec.version")]
        ),
        case!(
            "package version 1.x",
            |m| web_pkg(m).version = Version::new("1.x"),
            [
                (2, "VersionNotNumbered", "spec.version"),
                (4, "UnknownPackage", "spec.package")
            ]
        ),
        case!(
            "installed version $LATEST",
            |m| {
                fleet(m).robots[0]
                    .installed
                    .insert("talker".into(), Version::new("$LATEST"));
            },
            [(0, "LatestVersion", "spec.robots[0].installed.talker")]
        ),
        // RoboMaker names and files.
        case!(
            "package name with a space",
            |m| job(m).launch_config.package_name = "talker pkg".into(),
            [(5, "InvalidRoboMakerName", "spec.launchConfig.packageName")]
        ),
        case!(
            "empty launch file",
            |m| job(m).launch_config.launch_file = String::new(),
            [(5, "InvalidRoboMakerName", "spec.launchConfig.launchFile")]
        ),
        case!(
            "launch file of 1025 characters",
            |m| job(m).launch_config.launch_file = "l".repeat(1025),
            [(5, "InvalidRoboMakerName", "spec.launchConfig.launchFile")]
        ),
        case!(
            "empty pre-launch file",
            |m| job(m).launch_config.pre_launch_file = Some(String::new()),
            [(5, "InvalidFilePath", "spec.launchConfig.preLaunchFile")]
        ),
        case!(
            "post-launch file with a newline",
            |m| job(m).launch_config.post_launch_file = Some("/a\nb".into()),
            [(5, "InvalidFilePath", "spec.launchConfig.postLaunchFile")]
        ),
        case!(
            "empty download condition file",
            |m| config(m).download_condition.as_mut().unwrap().file = String::new(),
            [(
                5,
                "InvalidFilePath",
                "spec.deploymentConfig.downloadCondition.file"
            )]
        ),
        case!(
            "empty device endpoint",
            |m| fleet(m).robots[0].endpoint = Some(String::new()),
            [(0, "InvalidFilePath", "spec.robots[0].endpoint")]
        ),
        // Percentages, durations, waves.
        case!(
            "concurrency 0 %",
            |m| config(m).concurrent_deployment_percentage = 0,
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.concurrentDeploymentPercentage"
            )]
        ),
        case!(
            "concurrency 101 %",
            |m| config(m).concurrent_deployment_percentage = 101,
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.concurrentDeploymentPercentage"
            )]
        ),
        case!(
            "threshold 0 %",
            |m| config(m).failure_threshold_percentage = 0,
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.failureThresholdPercentage"
            )]
        ),
        case!(
            "threshold 200 %",
            |m| config(m).failure_threshold_percentage = 200,
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.failureThresholdPercentage"
            )]
        ),
        case!(
            "robot timeout 59 s",
            |m| config(m).robot_deployment_timeout = Duration::from_secs(59),
            [(
                5,
                "DurationOutOfRange",
                "spec.deploymentConfig.robotDeploymentTimeout"
            )]
        ),
        case!(
            "robot timeout 7 days and 1 s",
            |m| config(m).robot_deployment_timeout = Duration::from_secs(7 * 86_400 + 1),
            [(
                5,
                "DurationOutOfRange",
                "spec.deploymentConfig.robotDeploymentTimeout"
            )]
        ),
        case!(
            "offline deadline 0",
            |m| config(m).offline_deadline = Some(Duration::ZERO),
            [(
                5,
                "DurationOutOfRange",
                "spec.deploymentConfig.offlineDeadline"
            )]
        ),
        case!(
            "wave of 0 robots",
            |m| config(m).waves = vec![wave(WaveSize::Robots(0))],
            [(5, "EmptyWave", "spec.deploymentConfig.waves[0].size")]
        ),
        case!(
            "wave of 0 %",
            |m| config(m).waves.push(wave(WaveSize::Percent(0))),
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.waves[1].size.percent"
            )]
        ),
        case!(
            "wave of 101 %",
            |m| config(m).waves = vec![wave(WaveSize::Percent(101))],
            [(
                5,
                "PercentageOutOfRange",
                "spec.deploymentConfig.waves[0].size.percent"
            )]
        ),
        case!(
            "101 waves",
            |m| config(m).waves = vec![wave(WaveSize::Percent(1)); 101],
            [(5, "TooMany", "spec.deploymentConfig.waves")]
        ),
        case!(
            "soak of 8 days",
            |m| config(m).waves[0].soak = Some(Duration::from_secs(8 * 86_400)),
            [(
                5,
                "DurationOutOfRange",
                "spec.deploymentConfig.waves[0].soak"
            )]
        ),
        // Digests.
        case!(
            "md5 digest",
            |m| config(m).download_condition.as_mut().unwrap().digest = Some("md5:abc".into()),
            [(
                5,
                "InvalidDigest",
                "spec.deploymentConfig.downloadCondition.digest"
            )]
        ),
        case!(
            "upper-case digest",
            |m| config(m).download_condition.as_mut().unwrap().digest =
                Some(format!("sha256:{}", "A".repeat(64))),
            [(
                5,
                "InvalidDigest",
                "spec.deploymentConfig.downloadCondition.digest"
            )]
        ),
        case!(
            "digest of 63 hex digits",
            |m| config(m).download_condition.as_mut().unwrap().digest =
                Some(format!("sha256:{}", "a".repeat(63))),
            [(
                5,
                "InvalidDigest",
                "spec.deploymentConfig.downloadCondition.digest"
            )]
        ),
        // Executables.
        case!(
            "docker executable without an image",
            |m| web_pkg(m).components[1].executables[0].image = None,
            [(2, "MissingImage", "spec.components[1].executables[0].image")]
        ),
        case!(
            "cloud executable without an image",
            |m| web_pkg(m).components[0].executables[0].image = None,
            [(2, "MissingImage", "spec.components[0].executables[0].image")]
        ),
        case!(
            "preinstalled executable with an image",
            |m| talker_exe(m).image = Some("busybox".into()),
            [(
                1,
                "ImageOnPreinstalled",
                "spec.components[0].executables[0].image"
            )]
        ),
        case!(
            "preinstalled executable without a command",
            |m| talker_exe(m).command.clear(),
            [(
                1,
                "MissingCommand",
                "spec.components[0].executables[0].command"
            )]
        ),
        case!(
            "preinstalled executable whose program is blank",
            |m| talker_exe(m).command = vec![" ".into(), "x".into()],
            [(
                1,
                "MissingCommand",
                "spec.components[0].executables[0].command"
            )]
        ),
        case!(
            "image with a space",
            |m| web_pkg(m).components[0].executables[0].image = Some("busy box".into()),
            [(2, "InvalidImage", "spec.components[0].executables[0].image")]
        ),
        case!(
            "empty image",
            |m| web_pkg(m).components[1].executables[0].image = Some(String::new()),
            [(2, "InvalidImage", "spec.components[1].executables[0].image")]
        ),
        case!(
            "container port 0",
            |m| web_pkg(m).components[0].executables[0].ports[0].container = 0,
            [(
                2,
                "InvalidPort",
                "spec.components[0].executables[0].ports[0].container"
            )]
        ),
        case!(
            "host port 0",
            |m| web_pkg(m).components[0].executables[0].ports[0].host = Some(0),
            [(
                2,
                "InvalidPort",
                "spec.components[0].executables[0].ports[0].host"
            )]
        ),
        case!(
            "relative working directory",
            |m| talker_exe(m).working_dir = Some("tmp".into()),
            [(
                1,
                "NotAbsolutePath",
                "spec.components[0].executables[0].workingDir"
            )]
        ),
        case!(
            "relative mount target",
            |m| web_pkg(m).components[1].executables[0].mounts[0].target = "data".into(),
            [(
                2,
                "NotAbsolutePath",
                "spec.components[1].executables[0].mounts[0].target"
            )]
        ),
        case!(
            "empty mount source",
            |m| web_pkg(m).components[1].executables[0].mounts[0].source = String::new(),
            [(
                2,
                "Empty",
                "spec.components[1].executables[0].mounts[0].source"
            )]
        ),
        case!(
            "package without components",
            |m| web_pkg(m).components.clear(),
            [
                (2, "Empty", "spec.components"),
                (4, "UnknownComponent", "spec.devices.agent")
            ]
        ),
        case!(
            "component without executables",
            |m| talker_pkg(m).components[0].executables.clear(),
            [(1, "Empty", "spec.components[0].executables")]
        ),
        case!(
            "ROS distro with capitals",
            |m| talker_pkg(m).components[0].ros = Some(Ros {
                distro: RosDistro("Humble".into())
            }),
            [
                (1, "InvalidRosDistro", "spec.components[0].ros.distro"),
                (3, "RosDistroMismatch", "spec.devices.talker")
            ]
        ),
        case!(
            "device ROS distro with capitals",
            |m| fleet(m).robots[2].ros_distro = Some(RosDistro("ROS2".into())),
            [(0, "InvalidRosDistro", "spec.robots[2].rosDistro")]
        ),
        // Uniqueness.
        case!(
            "two executables of one name",
            |m| {
                let e = talker_exe(m).clone();
                talker_pkg(m).components[0].executables.push(e);
            },
            [(1, "Duplicate", "spec.components[0].executables[1].name")]
        ),
        case!(
            "two components of one name",
            |m| {
                let c = web_pkg(m).components[0].clone();
                web_pkg(m).components.push(c);
            },
            [(2, "Duplicate", "spec.components[2].name")]
        ),
        case!(
            "two robots of one name in a fleet",
            |m| {
                let mut r = fleet(m).robots[2].clone();
                r.id = DeviceId::from_u128(99);
                fleet(m).robots.push(r);
            },
            [(0, "Duplicate", "spec.robots[3].name")]
        ),
        case!(
            "two robots of one id in a fleet",
            |m| {
                let mut r = fleet(m).robots[2].clone();
                r.name = "robot-004".into();
                fleet(m).robots.push(r);
            },
            [(0, "Duplicate", "spec.robots[3].id")]
        ),
        case!(
            "a dependency listed twice",
            |m| dep_web(m).depends_on.push("talker".into()),
            [(4, "Duplicate", "spec.dependsOn[1]")]
        ),
        case!(
            "two deployments of one name",
            |m| {
                let d = dep_talker(m).clone();
                m.push(d);
            },
            [(6, "Duplicate", "spec.name")]
        ),
        case!(
            "two packages of one name and version",
            |m| {
                let p = talker_pkg(m).clone();
                m.push(p);
            },
            [(6, "Duplicate", "spec.name")]
        ),
        case!(
            "a robot in two fleets",
            |m| {
                let r = fleet(m).robots[0].clone();
                m.push(Fleet {
                    name: "other".into(),
                    labels: Default::default(),
                    robots: vec![r],
                });
            },
            [
                (6, "Duplicate", "spec.robots[0].name"),
                (6, "Duplicate", "spec.robots[0].id")
            ]
        ),
        // Device selection.
        case!(
            "no device for a device component",
            |m| dep_talker(m).devices.clear(),
            [(3, "MissingDevice", "spec.devices")]
        ),
        case!(
            "a device nobody knows",
            |m| dep_talker(m).devices = map(&[("talker", "robot-999")]),
            [(3, "UnknownDevice", "spec.devices.talker")]
        ),
        case!(
            "a docker arm64 device for a preinstalled amd64 component",
            |m| dep_talker(m).devices = map(&[("talker", "robot-002")]),
            [
                (3, "ArchitectureMismatch", "spec.devices.talker"),
                (3, "RuntimeMismatch", "spec.devices.talker")
            ]
        ),
        case!(
            "a docker device without ROS for a preinstalled ROS component",
            |m| dep_talker(m).devices = map(&[("talker", "robot-003")]),
            [
                (3, "RuntimeMismatch", "spec.devices.talker"),
                (3, "RosDistroMismatch", "spec.devices.talker")
            ]
        ),
        case!(
            "the device's ROS distro differs",
            |m| fleet(m).robots[0].ros_distro = Some(RosDistro("noetic".into())),
            [(3, "RosDistroMismatch", "spec.devices.talker")]
        ),
        case!(
            "the device's architecture differs",
            |m| fleet(m).robots[0].architecture = Architecture::Arm32v7,
            [(3, "ArchitectureMismatch", "spec.devices.talker")]
        ),
        case!(
            "a device for a component the package lacks",
            |m| {
                dep_talker(m)
                    .devices
                    .insert("nope".into(), "robot-001".into());
            },
            [(3, "UnknownComponent", "spec.devices.nope")]
        ),
        case!(
            "a device for a cloud component",
            |m| {
                dep_web(m).devices.insert("api".into(), "robot-002".into());
            },
            [(4, "DeviceForCloudComponent", "spec.devices.api")]
        ),
        case!(
            "a ROS package without a routed network",
            |m| dep_talker(m).routed_network = None,
            [(3, "RoutedNetworkRequired", "spec.routedNetwork")]
        ),
        case!(
            "a package with a cloud component on a device network",
            |m| dep_web(m).routed_network = Some(RoutedNetwork {
                name: "lab-net".into(),
                placement: NetworkPlacement::Device
            }),
            [(
                4,
                "CloudRoutedNetworkRequired",
                "spec.routedNetwork.placement"
            )]
        ),
        case!(
            "a package nobody knows",
            |m| dep_talker(m).package = "nope".into(),
            [(3, "UnknownPackage", "spec.package")]
        ),
        case!(
            "a version nobody knows",
            |m| dep_web(m).version = Version::new("2.0.0"),
            [(4, "UnknownPackage", "spec.package")]
        ),
        // Dependencies and volumes.
        case!(
            "a dependency nobody knows",
            |m| dep_web(m).depends_on = vec!["nope".into()],
            [(4, "UnknownDeployment", "spec.dependsOn[0]")]
        ),
        case!(
            "a self-dependency",
            |m| dep_talker(m).depends_on = vec!["talker".into()],
            [(3, "SelfDependency", "spec.dependsOn[0]")]
        ),
        case!(
            "a dependency cycle",
            |m| dep_talker(m).depends_on = vec!["web".into()],
            [(3, "DependencyCycle", "spec.dependsOn[0]")]
        ),
        case!(
            "a volume from a deployment nobody knows",
            |m| dep_web(m).volumes = vec![VolumeAttachment {
                deployment: "nope".into(),
                component: "agent".into(),
                mount_path: "/data".into()
            }],
            [(4, "UnknownDeployment", "spec.volumes[0].deployment")]
        ),
        case!(
            "a volume from itself",
            |m| dep_web(m).volumes = vec![VolumeAttachment {
                deployment: "web".into(),
                component: "agent".into(),
                mount_path: "/data".into()
            }],
            [(4, "SelfDependency", "spec.volumes[0].deployment")]
        ),
        case!(
            "a volume into a component the package lacks",
            |m| dep_web(m).volumes = vec![VolumeAttachment {
                deployment: "talker".into(),
                component: "nope".into(),
                mount_path: "/data".into()
            }],
            [(4, "UnknownComponent", "spec.volumes[0].component")]
        ),
        case!(
            "a volume at a relative path",
            |m| dep_web(m).volumes = vec![VolumeAttachment {
                deployment: "talker".into(),
                component: "agent".into(),
                mount_path: "data".into()
            }],
            [(4, "NotAbsolutePath", "spec.volumes[0].mountPath")]
        ),
        // Job references.
        case!(
            "a job to a fleet nobody knows",
            |m| job(m).fleet = "nope".into(),
            [(5, "UnknownFleet", "spec.fleet")]
        ),
        case!(
            "a job of an application nobody knows",
            |m| job(m).application = "nope".into(),
            [(5, "UnknownPackage", "spec.application")]
        ),
    ]
}

#[test]
fn the_base_manifest_is_valid_and_quiet() {
    let report = validate_manifest(&base());
    assert!(report.is_ok(), "{report}");
    assert!(report.warnings.is_empty(), "{report}");
}

#[test]
fn every_bad_input_yields_exactly_its_errors() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut m = base();
        (case.mutate)(&mut m);
        let report = validate_manifest(&m);
        let got: Vec<(usize, String, String)> = report
            .errors
            .iter()
            .map(|i| {
                (
                    i.document.as_ref().map_or(usize::MAX, |d| d.index),
                    variant(&i.problem),
                    i.problem.path().to_string(),
                )
            })
            .collect();
        let want: Vec<(usize, String, String)> = case
            .expect
            .iter()
            .map(|(d, v, p)| (*d, v.to_string(), p.to_string()))
            .collect();
        if got != want {
            failures.push(format!(
                "{}:\n  want {want:?}\n  got  {got:?}\n{report}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_cycle_names_its_path_and_the_messages_name_values() {
    let mut m = base();
    dep_talker(&mut m).depends_on = vec!["web".into()];
    let report = validate_manifest(&m);
    assert_eq!(
        report.errors[0].problem,
        ValidationError::DependencyCycle {
            path: robodeploy_core::validate::FieldPath::spec()
                .field("dependsOn")
                .index(0),
            cycle: vec!["talker".into(), "web".into(), "talker".into()],
        }
    );
    assert_eq!(
        report.to_string(),
        "error: document 4 (Deployment \"talker\"): spec.dependsOn[0]: dependency cycle talker -> web -> talker"
    );
}
