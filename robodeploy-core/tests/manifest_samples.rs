//! The bundled sample manifests (examples/manifests/) parse, validate clean, and survive a round
//! trip through YAML and JSON.

use std::path::PathBuf;

use robodeploy_core::manifest::{Document, Manifest};
use robodeploy_core::model::{DeviceRuntime, Placement};
use robodeploy_core::validate::{ValidationWarning, validate_manifest};
use robodeploy_testkit::samples::{sample_files, samples_dir};

fn sample(name: &str) -> Manifest {
    Manifest::load(samples_dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn all_samples() -> Vec<PathBuf> {
    sample_files()
}

#[test]
fn every_sample_parses_and_validates_without_errors() {
    let files = all_samples();
    assert_eq!(files.len(), 6, "{files:?}");
    for file in files {
        let m = Manifest::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let report = validate_manifest(&m);
        assert!(report.is_ok(), "{}:\n{report}", file.display());
    }
}

#[test]
fn only_the_rollout_jobs_warn_and_only_about_their_threshold() {
    for file in all_samples() {
        let report = validate_manifest(&Manifest::load(&file).unwrap());
        let warnings: Vec<_> = report.warnings.iter().map(|w| &w.problem).collect();
        if file.ends_with("fleet-rollout.yaml") || file.ends_with("quickstart.yaml") {
            assert_eq!(warnings.len(), 1, "{report}");
            assert!(matches!(
                warnings[0],
                ValidationWarning::ThresholdBelowConcurrency {
                    threshold: 5,
                    concurrency: 10,
                    ..
                }
            ));
        } else {
            assert!(warnings.is_empty(), "{}: {report}", file.display());
        }
    }
}

#[test]
fn every_sample_round_trips_through_yaml_and_json() {
    for file in all_samples() {
        let m = Manifest::load(&file).unwrap();
        assert_eq!(Manifest::parse_yaml(&m.to_yaml().unwrap()).unwrap(), m);
        assert_eq!(Manifest::parse_json(&m.to_json().unwrap()).unwrap(), m);
    }
}

#[test]
fn talker_listener_is_two_ros_deployments_with_a_dependency_on_a_routed_network() {
    let m = sample("talker-listener.yaml");
    let deps: Vec<_> = m.deployments().collect();
    let names: Vec<_> = deps.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["lab-net", "talker", "listener"]);
    assert_eq!(deps[2].depends_on, ["talker"]);
    for d in &deps[1..] {
        assert_eq!(d.routed_network.as_ref().unwrap().name, "lab-net");
        assert_eq!(d.must_be_running().collect::<Vec<_>>(), ["lab-net"]);
    }
    assert!(deps[0].routed_network.is_none());
    for p in m.packages() {
        let c = &p.components[0];
        // The network's relay is no ROS component; the talker and listener are.
        assert_eq!(c.ros.is_some(), p.name != "lab-net", "{}", p.name);
        assert_eq!(
            c.placement,
            Placement::Device {
                runtime: DeviceRuntime::Preinstalled,
                architecture: robodeploy_core::model::Architecture::Amd64
            }
        );
        // Real commands: the program is a shell every Linux has.
        let e = &c.executables[0];
        assert!(e.image.is_none());
        assert!(e.command[0] == "sh" || e.shell, "{e:?}");
    }
}

#[test]
fn the_docker_variant_uses_busybox() {
    let m = sample("talker-listener-docker.yaml");
    let images: Vec<_> = m
        .packages()
        .flat_map(|p| &p.components)
        .flat_map(|c| &c.executables)
        .map(|e| e.image.as_deref())
        .collect();
    assert_eq!(images, [Some("busybox:latest"); 3]);
    assert_eq!(m.deployments().next().unwrap().name, "docker-lab-net");
    assert_eq!(
        m.deployments().nth(2).unwrap().depends_on,
        ["talker-docker"]
    );
}

#[test]
fn the_rollout_job_is_the_seed_example_shape() {
    let m = sample("fleet-rollout.yaml");
    let job = m.jobs().next().unwrap();
    let fleet = m.fleets().next().unwrap();
    assert_eq!(fleet.robots.len(), 20);
    assert_eq!(job.deployment_config.concurrent_deployment_percentage, 10);
    assert_eq!(job.deployment_config.failure_threshold_percentage, 5);
    assert_eq!(job.deployment_config.max_in_flight(fleet.robots.len()), 2);
    let pre = job.launch_config.pre_launch_file.as_deref().unwrap();
    assert!(samples_dir().join(pre).is_file(), "{pre} is bundled");
    let dl = &job
        .deployment_config
        .download_condition
        .as_ref()
        .unwrap()
        .file;
    assert!(samples_dir().join(dl).is_file(), "{dl} is bundled");
}

#[test]
fn the_json_sample_is_one_of_each() {
    let m = sample("hello.json");
    let kinds: Vec<_> = m.documents.iter().map(Document::kind).collect();
    use robodeploy_core::manifest::Kind::*;
    assert_eq!(kinds, [Fleet, Package, Deployment]);
}

#[test]
fn camera_limits_gives_a_container_and_a_process_their_limits() {
    use robodeploy_core::manifest::Document;
    let m = sample("camera-limits.yaml");
    let exe = |name: &str| {
        m.documents
            .iter()
            .find_map(|d| match d {
                Document::Package(p) if p.name == name => {
                    Some(p.components[0].executables[0].limits.clone())
                }
                _ => None,
            })
            .unwrap()
    };
    let camera = exe("camera");
    assert_eq!(camera.cpu.unwrap().cpu_millis(), Ok(500));
    assert_eq!(camera.memory.unwrap().memory_bytes(), Ok(256 << 20));
    assert_eq!(
        camera
            .devices
            .iter()
            .map(|d| (d.host(), d.container()))
            .collect::<Vec<_>>(),
        [
            ("/dev/video0", "/dev/video0"),
            ("/dev/ttyUSB0", "/dev/ttyACM0")
        ]
    );
    assert!(camera.host_network && camera.read_only_root_filesystem && !camera.privileged);
    assert_eq!(camera.user.as_deref(), Some("1000:1000"));
    assert_eq!(camera.capabilities, ["SYS_NICE"]);
    let logger = exe("logger");
    assert_eq!(logger.memory.as_ref().unwrap().memory_bytes(), Ok(64 << 20));
    assert_eq!(
        (logger.user.as_deref(), &logger.cpu),
        (Some("robot"), &None)
    );
    assert!(logger.container_only().is_empty());
}
