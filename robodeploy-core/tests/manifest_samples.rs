//! The bundled sample manifests (examples/manifests/) parse, validate clean, and survive a round
//! trip through YAML and JSON.

use std::path::{Path, PathBuf};

use robodeploy_core::manifest::{Document, Format, Manifest};
use robodeploy_core::model::{DeviceRuntime, Placement};
use robodeploy_core::validate::{ValidationWarning, validate_manifest};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/manifests")
}

fn sample(name: &str) -> Manifest {
    Manifest::load(samples_dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn all_samples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| Format::from_path(p).is_some())
        .collect();
    files.sort();
    files
}

#[test]
fn every_sample_parses_and_validates_without_errors() {
    let files = all_samples();
    assert_eq!(files.len(), 5, "{files:?}");
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
