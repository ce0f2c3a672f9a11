//! Each rule with the seed documents' own examples and its boundaries.

use std::time::Duration;

use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::*;
use robodeploy_core::validate::*;

/// The job of the RoboMaker seed's CLI example, with the version made numbered, and a fleet and
/// package for it.
fn seed_job(version: &str, concurrency: u8, threshold: u8) -> Manifest {
    Manifest::parse_yaml(&format!(
        r#"
apiVersion: robodeploy/v1
kind: Fleet
spec: {{name: my-fleet, robots: []}}
---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: my-robot
  version: "1"
  components:
    - name: main
      placement: {{kind: device, runtime: preinstalled, architecture: amd64}}
      executables: [{{name: main, command: [sleep, "1"]}}]
---
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: my-fleet
  application: my-robot
  applicationVersion: "{version}"
  launchConfig: {{packageName: cloudwatch_robot, launchFile: cloudwatch_deploy.launch}}
  deploymentConfig:
    concurrentDeploymentPercentage: {concurrency}
    failureThresholdPercentage: {threshold}
"#
    ))
    .unwrap()
}

fn problems(m: &Manifest) -> Vec<ValidationError> {
    validate_manifest(m).problems().cloned().collect()
}

#[test]
fn the_seed_cli_example_is_refused_for_latest_only() {
    // `applicationVersion="$LATEST"`: the seed's own example, which the console refuses.
    let errs = problems(&seed_job("$LATEST", 100, 100));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(matches!(errs[0], ValidationError::LatestVersion { .. }));
    assert_eq!(errs[0].path().to_string(), "spec.applicationVersion");
    // With a numbered version, everything else in it is valid, with the default 5 h timeout.
    let m = seed_job("1", 100, 100);
    assert!(problems(&m).is_empty());
    assert_eq!(
        m.jobs()
            .next()
            .unwrap()
            .deployment_config
            .robot_deployment_timeout,
        Duration::from_secs(5 * 3600)
    );
}

#[test]
fn two_hundred_robots_at_ten_percent_is_twenty_at_once() {
    let config = DeploymentConfig {
        concurrent_deployment_percentage: 10,
        ..DeploymentConfig::default()
    };
    assert_eq!(config.max_in_flight(200), 20);
    assert_eq!(config.max_in_flight(199), 20, "19.9 rounds up");
    assert_eq!(config.max_in_flight(9), 1, "never below one");
    assert_eq!(config.max_in_flight(0), 0);
    let all = DeploymentConfig::default();
    assert_eq!(all.max_in_flight(200), 200);
    let one = DeploymentConfig {
        concurrent_deployment_percentage: 1,
        ..DeploymentConfig::default()
    };
    assert_eq!(one.max_in_flight(1_000_000), 10_000);
    assert_eq!(one.max_in_flight(usize::MAX), usize::MAX.div_ceil(100));
}

#[test]
fn threshold_below_concurrency_warns_as_the_seed_does() {
    let report = validate_manifest(&seed_job("1", 10, 5));
    assert!(report.is_ok(), "a warning, not an error: {report}");
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(
        report.warnings[0].problem,
        ValidationWarning::ThresholdBelowConcurrency {
            path: FieldPath::spec()
                .field("deploymentConfig")
                .field("failureThresholdPercentage"),
            threshold: 5,
            concurrency: 10,
        }
    );
    // Equal or larger: the job halts at the threshold, no warning.
    for threshold in [10, 11, 100] {
        assert!(
            validate_manifest(&seed_job("1", 10, threshold))
                .warnings
                .is_empty()
        );
    }
}

#[test]
fn percentages_are_one_to_a_hundred() {
    for (c, t, ok) in [
        (1, 1, true),
        (100, 100, true),
        (0, 50, false),
        (50, 0, false),
        (101, 100, false),
        (100, 255, false),
    ] {
        // Over 100 does not even read from a manifest; built in Rust, validation refuses it.
        let mut m = seed_job("1", 10, 10);
        if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut()
        {
            j.deployment_config.concurrent_deployment_percentage = c;
            j.deployment_config.failure_threshold_percentage = t;
        }
        assert_eq!(problems(&m).is_empty(), ok, "{c} {t}");
    }
}

fn job_with_timeout(timeout: Duration) -> Report {
    let mut m = seed_job("1", 10, 10);
    if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut() {
        j.deployment_config.robot_deployment_timeout = timeout;
    }
    validate_manifest(&m)
}

#[test]
fn robot_timeout_is_one_minute_to_seven_days() {
    assert!(job_with_timeout(MIN_ROBOT_TIMEOUT).is_ok());
    assert!(job_with_timeout(MAX_ROBOT_TIMEOUT).is_ok());
    assert!(job_with_timeout(Duration::from_secs(5 * 3600)).is_ok());
    let short = job_with_timeout(Duration::from_secs(59));
    assert_eq!(
        short.errors[0].problem,
        ValidationError::DurationOutOfRange {
            path: FieldPath::spec()
                .field("deploymentConfig")
                .field("robotDeploymentTimeout"),
            value: Duration::from_secs(59),
            min: MIN_ROBOT_TIMEOUT,
            max: MAX_ROBOT_TIMEOUT,
        }
    );
    assert!(
        short.to_string().contains("59s is not between 1m and 168h"),
        "{short}"
    );
    assert!(!job_with_timeout(MAX_ROBOT_TIMEOUT + Duration::from_millis(1)).is_ok());
}

fn env_errors(name: &str, value: &str) -> Vec<ValidationError> {
    let mut m = seed_job("1", 10, 10);
    if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut() {
        j.launch_config
            .environment_variables
            .insert(name.into(), value.into());
    }
    problems(&m)
}

#[test]
fn environment_variable_names_follow_robomaker() {
    // "must start with A-Z or underscore and consist of A-Z, 0-9 and underscore"
    for ok in ["A", "_", "_A1", "ROS_DOMAIN_ID", "A_9_Z", "MY_AWS"] {
        assert!(env_errors(ok, "x").is_empty(), "{ok}");
    }
    for bad in ["", "a", "9A", "A-B", "A B", "Ä", "A.B", "a_B"] {
        let errs = env_errors(bad, "x");
        assert!(
            matches!(errs.as_slice(), [ValidationError::InvalidEnvName { name, .. }] if name == bad),
            "{bad:?}: {errs:?}"
        );
    }
    // "Names beginning with AWS are reserved"
    for reserved in ["AWS", "AWS_REGION", "AWSX"] {
        let errs = env_errors(reserved, "x");
        assert!(
            matches!(errs.as_slice(), [ValidationError::ReservedEnvName { .. }]),
            "{reserved}: {errs:?}"
        );
    }
}

#[test]
fn environment_variable_values_are_1_to_1024_characters() {
    assert!(env_errors("V", &"x".repeat(1024)).is_empty());
    assert!(
        env_errors("V", &"é".repeat(1024)).is_empty(),
        "characters, not bytes"
    );
    assert!(matches!(
        env_errors("V", &"x".repeat(1025)).as_slice(),
        [ValidationError::EnvValueLength { length: 1025, .. }]
    ));
    assert!(matches!(
        env_errors("V", "").as_slice(),
        [ValidationError::EnvValueLength { length: 0, .. }]
    ));
}

#[test]
fn environment_size_is_bounded() {
    let mut m = seed_job("1", 10, 10);
    if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut() {
        j.launch_config.environment_variables = (0..limits::MAX_ENV_VARS)
            .map(|i| (format!("V{i}"), "x".to_owned()))
            .collect();
    }
    assert!(problems(&m).is_empty());
    if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut() {
        j.launch_config
            .environment_variables
            .insert("ONE_MORE".into(), "x".into());
    }
    assert!(matches!(
        problems(&m).as_slice(),
        [ValidationError::TooMany {
            count: 129,
            max: 128,
            ..
        }]
    ));
}

#[test]
fn robomaker_names_allow_its_character_set() {
    for ok in ["cloudwatch_robot", "talker.launch.py", "a-b_c.D9"] {
        let mut m = seed_job("1", 10, 10);
        if let Some(robodeploy_core::manifest::Document::DeploymentJob(j)) = m.documents.last_mut()
        {
            j.launch_config.package_name = ok.into();
            j.launch_config.launch_file = ok.into();
        }
        assert!(problems(&m).is_empty(), "{ok}");
    }
}

#[test]
fn versions_must_be_numbered() {
    for ok in ["1", "1.2.0", "v2.0.1-rc1", "10.0+build.5"] {
        // Numbered: the only complaint left is that no package has that version.
        let errs = problems(&seed_job(ok, 10, 10));
        let unknown_only = errs
            .iter()
            .all(|e| matches!(e, ValidationError::UnknownPackage { .. }));
        assert!(
            unknown_only && errs.len() == usize::from(ok != "1"),
            "{ok}: {errs:?}"
        );
    }
    for bad in ["", "latest", "1..2", "1.", "v", "x1"] {
        let errs = problems(&seed_job(bad, 10, 10));
        assert!(
            matches!(
                errs.as_slice(),
                [ValidationError::VersionNotNumbered { .. }]
            ),
            "{bad:?}: {errs:?}"
        );
    }
}

#[test]
fn architecture_and_ros_mismatches_are_dep_e162() {
    let path = FieldPath::spec().field("devices").key("main");
    let arch = ValidationError::ArchitectureMismatch {
        path: path.clone(),
        device: "r".into(),
        device_architecture: Architecture::Arm64v8,
        component_architecture: Architecture::Amd64,
    };
    let ros = ValidationError::RosDistroMismatch {
        path: path.clone(),
        device: "r".into(),
        device_distro: None,
        component_distro: RosDistro("humble".into()),
    };
    let runtime = ValidationError::RuntimeMismatch {
        path,
        device: "r".into(),
        device_runtime: DeviceRuntime::Docker,
        component_runtime: DeviceRuntime::Preinstalled,
    };
    assert_eq!(arch.error_code(), Some(ErrorCode::Validation));
    assert_eq!(
        ros.error_code().map(|c| c.to_string()).as_deref(),
        Some("DEP_E162")
    );
    assert_eq!(runtime.error_code(), None);
    assert_eq!(
        ros.to_string(),
        "spec.devices.main: device \"r\" has ROS distro none but the component needs humble"
    );
}

#[test]
fn offline_devices_warn() {
    let m = Manifest::parse_yaml(
        r#"
apiVersion: robodeploy/v1
kind: Fleet
spec: {name: lab, robots: [{name: r1, architecture: amd64, runtime: preinstalled, online: false}]}
---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: p
  version: "1"
  components: [{name: c, placement: {kind: device, runtime: preinstalled, architecture: amd64},
                executables: [{name: e, command: [sleep, "1"]}]}]
---
apiVersion: robodeploy/v1
kind: Deployment
spec: {name: d, package: p, version: "1", devices: {c: r1}}
"#,
    )
    .unwrap();
    let report = validate_manifest(&m);
    assert!(report.is_ok());
    assert!(matches!(
        &report.warnings[0].problem,
        ValidationWarning::DeviceOffline { device, .. } if device == "r1"
    ));
}

#[test]
fn every_problem_is_collected_not_only_the_first() {
    let m = Manifest::parse_yaml(
        r#"
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: Bad_Fleet
  application: app
  applicationVersion: $LATEST
  launchConfig: {packageName: "a b", launchFile: ""}
  deploymentConfig: {concurrentDeploymentPercentage: 0, failureThresholdPercentage: 0,
                     robotDeploymentTimeout: 1s}
  tags: {"aws:x": y}
"#,
    )
    .unwrap();
    let report = validate_manifest(&m);
    let paths: Vec<String> = report.problems().map(|e| e.path().to_string()).collect();
    assert_eq!(
        paths,
        [
            "spec.fleet",
            "spec.applicationVersion",
            "spec.launchConfig.packageName",
            "spec.launchConfig.launchFile",
            "spec.deploymentConfig.concurrentDeploymentPercentage",
            "spec.deploymentConfig.failureThresholdPercentage",
            "spec.deploymentConfig.robotDeploymentTimeout",
            r#"spec.tags["aws:x"]"#,
            "spec.fleet",
        ]
    );
    assert!(report.clone().into_result().is_err());
    assert_eq!(report.to_string().lines().count(), 9);
}

#[test]
fn a_context_supplies_what_another_file_defines() {
    let fleet_and_package = seed_job("1", 10, 10);
    let mut only_job = fleet_and_package.clone();
    only_job.documents.drain(..2);
    assert_eq!(
        validate_manifest(&only_job).errors.len(),
        2,
        "fleet and package unknown"
    );
    let ctx = ValidationContext::new().with_manifest(&fleet_and_package);
    assert!(ctx.validate_manifest(&only_job).is_ok());
    assert!(ctx.has_fleet("my-fleet"));
    assert!(ctx.package("my-robot", &Version::new("1")).is_some());
    let job = only_job.jobs().next().unwrap();
    assert!(ctx.validate_job(job).is_ok());
    assert!(
        ValidationContext::new().validate_job(job).errors[0]
            .document
            .is_none()
    );
}

#[test]
fn cycles_through_known_deployments_are_found() {
    let mut ctx = ValidationContext::new();
    let existing = DeploymentRequest {
        name: "a".into(),
        package: "p".into(),
        version: Version::new("1"),
        labels: Default::default(),
        devices: Default::default(),
        depends_on: vec!["b".into()],
        volumes: vec![],
        routed_network: None,
        restart_policy: None,
        env: Default::default(),
    };
    ctx.add_deployment(&existing);
    let b = DeploymentRequest {
        name: "b".into(),
        depends_on: vec!["a".into()],
        ..existing.clone()
    };
    let report = ctx.validate_deployment(&b);
    let cycle = report
        .problems()
        .find_map(|e| match e {
            ValidationError::DependencyCycle { cycle, .. } => Some(cycle.clone()),
            _ => None,
        })
        .expect("cycle reported");
    assert_eq!(cycle, ["b", "a", "b"]);
}

#[test]
fn label_and_name_rules_accept_kubernetes_style_values() {
    let mut f = Fleet {
        name: "a".repeat(63),
        labels: [
            ("app.kubernetes.io/name", "talker"),
            ("site", ""),
            ("Tier_1.x", "A-b_c.9"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        robots: vec![Device::new(
            "r-1",
            Architecture::Amd64,
            DeviceRuntime::Docker,
        )],
    };
    assert!(validate_fleet(&f).is_ok(), "{}", validate_fleet(&f));
    f.name.push('a');
    assert!(!validate_fleet(&f).is_ok());
}

#[test]
fn a_robot_reached_through_an_agent_names_it_as_a_name() {
    let fleet = |agent: &str| {
        Manifest::parse_yaml(&format!(
            r#"
apiVersion: robodeploy/v1
kind: Fleet
spec:
  name: lab
  robots:
    - {{name: r1, architecture: arm64v8, runtime: docker, connection: {{agent: "{agent}"}}}}
"#
        ))
        .unwrap()
    };
    let m = fleet("r1");
    assert!(problems(&m).is_empty(), "{:?}", problems(&m));
    let robot = &m.fleets().next().unwrap().robots[0];
    assert_eq!(robot.connection, Some(Connection::Agent("r1".into())));
    // A name that would reach other robots' keys is refused where it entered, by its path.
    for bad in ["", "r1/rt", "*", "r$", "R1"] {
        let errs = problems(&fleet(bad));
        assert_eq!(errs.len(), 1, "{bad:?}: {errs:?}");
        assert!(matches!(&errs[0], ValidationError::InvalidName { value, .. } if value == bad));
        assert_eq!(
            errs[0].path().to_string(),
            "spec.robots[0].connection.agent",
            "{bad:?}"
        );
    }
    // Only the kinds of connection there are.
    let e = Manifest::parse_yaml(
        "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robots:\n    - {name: r1, architecture: arm64v8, runtime: docker, connection: {ssh: r1}}\n",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown variant `ssh`, expected one of agent"),
        "{e}"
    );
}
