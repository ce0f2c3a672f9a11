//! Every request entering the engine is checked by the manifest validator: a refusal is
//! `EngineError::Invalid` with the report naming the field, and nothing is stored or changed.

use std::sync::Arc;

use robodeploy_core::engine::{Engine, EngineError};
use robodeploy_core::model::{DeploymentJobRequest, DeploymentRequest, Device, Fleet, Package};
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_core::store::{MemoryStore, Store, Table};
use robodeploy_core::validate::{Report, ValidationError};
use serde_json::{Value, json};

fn package_json() -> Value {
    json!({
        "name": "demo", "version": "1",
        "components": [{
            "name": "main",
            "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
            "restartPolicy": "always",
            "executables": [{"name": "main", "command": ["/usr/bin/demo"]}]
        }]
    })
}

fn job_json(env: Value) -> Value {
    json!({
        "fleet": "lab", "application": "demo", "applicationVersion": "1",
        "launchConfig": {"packageName": "demo", "launchFile": "demo.launch",
                         "environmentVariables": env},
        "deploymentConfig": {"concurrentDeploymentPercentage": 50,
                             "failureThresholdPercentage": 50}
    })
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn device(name: &str) -> Device {
    from(json!({"name": name, "architecture": "amd64", "runtime": "preinstalled"}))
}

/// An engine on a store the test can look into, with robot r1, package demo@1 and fleet lab.
async fn engine() -> (Engine, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder().store(store.clone()).start();
    engine
        .add_device(device("r1"), Arc::new(MemoryRuntime::new("r1")))
        .await
        .unwrap();
    engine.add_package(from(package_json())).await.unwrap();
    engine
        .add_fleet(from(json!({"name": "lab", "robots": [device("r1")]})))
        .await
        .unwrap();
    (engine, store)
}

/// The report of a refused call; panics on anything else.
fn refused<T: std::fmt::Debug>(r: Result<T, EngineError>) -> Report {
    match r {
        Err(EngineError::Invalid(report)) => report,
        other => panic!("expected EngineError::Invalid, got {other:?}"),
    }
}

/// The only error of a report, with its path.
fn only(report: &Report) -> (&ValidationError, String) {
    assert_eq!(report.errors.len(), 1, "{report}");
    let e = &report.errors[0].problem;
    (e, e.path().to_string())
}

fn stored(store: &MemoryStore, table: Table) -> usize {
    store.scan(table).unwrap().len()
}

#[tokio::test]
async fn create_job_refuses_a_lower_case_environment_name_and_stores_nothing() {
    let (engine, store) = engine().await;
    let report = refused(
        engine
            .create_job(from(job_json(json!({"ros_domain": "7"}))), Some("t"))
            .await,
    );
    let (e, path) = only(&report);
    assert_eq!(
        e,
        &ValidationError::InvalidEnvName {
            path: e.path().clone(),
            name: "ros_domain".into()
        }
    );
    assert_eq!(path, "spec.launchConfig.environmentVariables.ros_domain");
    assert!(report.to_string().contains("must start with A-Z or '_'"));
    assert!(engine.jobs().await.unwrap().is_empty());
    assert_eq!(stored(&store, Table::Jobs), 0);
    assert_eq!(stored(&store, Table::Tokens), 0);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn create_job_refuses_an_aws_prefixed_environment_name() {
    let (engine, store) = engine().await;
    let report = refused(
        engine
            .create_job(from(job_json(json!({"AWS_REGION": "eu-west-1"}))), None)
            .await,
    );
    let (e, path) = only(&report);
    assert!(
        matches!(e, ValidationError::ReservedEnvName { name, .. } if name == "AWS_REGION"),
        "{e}"
    );
    assert_eq!(path, "spec.launchConfig.environmentVariables.AWS_REGION");
    assert!(engine.jobs().await.unwrap().is_empty());
    assert_eq!(stored(&store, Table::Jobs), 0);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn create_job_refuses_a_1025_character_value_and_accepts_1024() {
    let (engine, store) = engine().await;
    let report = refused(
        engine
            .create_job(from(job_json(json!({"MAP": "m".repeat(1025)}))), None)
            .await,
    );
    let (e, path) = only(&report);
    assert!(
        matches!(e, ValidationError::EnvValueLength { length: 1025, .. }),
        "{e}"
    );
    assert_eq!(path, "spec.launchConfig.environmentVariables.MAP");
    assert_eq!(stored(&store, Table::Jobs), 0);
    // The bound itself is accepted.
    let job: DeploymentJobRequest = from(job_json(json!({"MAP": "m".repeat(1024)})));
    engine.create_job(job, None).await.unwrap();
    assert_eq!(engine.jobs().await.unwrap().len(), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn create_job_reports_every_problem_at_once() {
    let (engine, _) = engine().await;
    let mut job = job_json(json!({"lower": "x", "AWS_KEY": "y"}));
    job["deploymentConfig"]["concurrentDeploymentPercentage"] = json!(0);
    job["tags"] = json!({"aws:owner": "me"});
    let report = refused(engine.create_job(from(job), None).await);
    let paths: Vec<String> = report.problems().map(|e| e.path().to_string()).collect();
    assert_eq!(
        paths,
        [
            "spec.launchConfig.environmentVariables.AWS_KEY",
            "spec.launchConfig.environmentVariables.lower",
            "spec.deploymentConfig.concurrentDeploymentPercentage",
            r#"spec.tags["aws:owner"]"#,
        ]
    );
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn add_package_refuses_an_empty_name() {
    let (engine, store) = engine().await;
    let mut p = package_json();
    p["name"] = json!("");
    let report = refused(engine.add_package(from(p)).await);
    let (e, path) = only(&report);
    assert_eq!(
        e,
        &ValidationError::InvalidName {
            path: e.path().clone(),
            value: String::new()
        }
    );
    assert_eq!(path, "spec.name");
    assert_eq!(engine.packages().await.unwrap().len(), 1);
    assert_eq!(stored(&store, Table::Packages), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn add_package_refuses_duplicate_component_names() {
    let (engine, store) = engine().await;
    let mut p = package_json();
    p["version"] = json!("2");
    let component = p["components"][0].clone();
    p["components"] = json!([component.clone(), component]);
    let report = refused(engine.add_package(from(p)).await);
    let (e, path) = only(&report);
    assert!(
        matches!(e, ValidationError::Duplicate { value, first, .. }
            if value == "main" && first == "spec.components[0].name"),
        "{e}"
    );
    assert_eq!(path, "spec.components[1].name");
    assert_eq!(engine.packages().await.unwrap().len(), 1);
    assert_eq!(stored(&store, Table::Packages), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn add_package_refuses_an_empty_command() {
    let (engine, store) = engine().await;
    for command in [json!([]), json!([""]), json!(["  "])] {
        let mut p = package_json();
        p["version"] = json!("3");
        p["components"][0]["executables"][0]["command"] = command.clone();
        let report = refused(engine.add_package(from(p)).await);
        let (e, path) = only(&report);
        assert!(
            matches!(e, ValidationError::MissingCommand { .. }),
            "{command}: {e}"
        );
        assert_eq!(path, "spec.components[0].executables[0].command");
    }
    assert_eq!(engine.packages().await.unwrap().len(), 1);
    assert_eq!(stored(&store, Table::Packages), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn deploy_refuses_a_bad_environment_and_starts_nothing() {
    let (engine, store) = engine().await;
    let request: DeploymentRequest = from(json!({
        "name": "d1", "package": "demo", "version": "1", "devices": {"main": "r1"},
        "env": {"AWS_SECRET": "x", "GOOD": ""}
    }));
    let report = refused(engine.deploy(request, Some("t")).await);
    let paths: Vec<String> = report.problems().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, ["spec.env.AWS_SECRET", "spec.env.GOOD"]);
    assert!(matches!(
        report.errors[1].problem,
        ValidationError::EnvValueLength { length: 0, .. }
    ));
    assert!(engine.deployments().await.unwrap().is_empty());
    assert_eq!(stored(&store, Table::Deployments), 0);
    assert_eq!(stored(&store, Table::Tokens), 0);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn add_device_and_add_devices_refuse_a_bad_device_and_register_none() {
    let (engine, store) = engine().await;
    let report = refused(
        engine
            .add_device(device("Robot_2"), Arc::new(MemoryRuntime::new("r2")))
            .await,
    );
    let (e, path) = only(&report);
    assert!(
        matches!(e, ValidationError::InvalidName { value, .. } if value == "Robot_2"),
        "{e}"
    );
    assert_eq!(path, "spec.name");
    // One bad entry refuses the whole batch.
    let mut bad = device("r4");
    bad.labels.insert("bad key!".into(), "v".into());
    let report = refused(
        engine
            .add_devices(vec![
                (device("r3"), Arc::new(MemoryRuntime::new("r3"))),
                (bad, Arc::new(MemoryRuntime::new("r4"))),
            ])
            .await,
    );
    let (e, path) = only(&report);
    assert!(matches!(e, ValidationError::InvalidLabelKey { .. }), "{e}");
    assert_eq!(path, r#"spec.labels["bad key!"]"#);
    let names: Vec<String> = engine
        .devices()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["r1"]);
    assert_eq!(stored(&store, Table::Devices), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn add_fleet_refuses_a_bad_fleet_and_stores_nothing() {
    let (engine, store) = engine().await;
    let fleet: Fleet = from(json!({"name": "Lab 2", "robots": [device("r1"), device("r1")]}));
    let report = refused(engine.add_fleet(fleet).await);
    let paths: Vec<String> = report.problems().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, ["spec.name", "spec.robots[1].name"]);
    assert_eq!(stored(&store, Table::Fleets), 1);
    let mut job: DeploymentJobRequest = from(job_json(json!({})));
    job.fleet = "Lab 2".into();
    assert!(matches!(
        engine.create_job(job, None).await,
        Err(EngineError::NoSuchFleet(f)) if f == "Lab 2"
    ));
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_valid_package_is_still_added_and_a_numbered_version_is_required() {
    let (engine, _) = engine().await;
    let mut p: Package = from(package_json());
    p.version = robodeploy_core::model::Version::new("$LATEST");
    let report = refused(engine.add_package(p).await);
    let (e, path) = only(&report);
    assert!(matches!(e, ValidationError::LatestVersion { .. }), "{e}");
    assert_eq!(path, "spec.version");
    let mut p: Package = from(package_json());
    p.version = robodeploy_core::model::Version::new("2");
    assert!(engine.add_package(p).await.unwrap());
    engine.shutdown().await.unwrap();
}

/// A package whose executable mounts `source` at /host.
fn mounting(source: &str) -> Package {
    let mut p = package_json();
    p["name"] = json!("mounter");
    p["components"][0]["executables"][0]["mounts"] = json!([{"source": source, "target": "/host"}]);
    from(p)
}

/// Mounting the host's root filesystem or a container engine's socket hands the executable the
/// host: the validator warns, and the engine refuses it (naming the field and the value) unless
/// its configuration allows it.
#[tokio::test]
async fn host_takeover_mounts_are_refused_unless_the_engine_allows_them() {
    use robodeploy_core::engine::EngineConfig;
    use robodeploy_core::validate::{ValidationWarning, validate_package};
    let path = "spec.components[0].executables[0].mounts[0].source";
    for (source, what) in [
        ("/", "the host's root filesystem"),
        ("//", "the host's root filesystem"),
        ("/etc/..", "the host's root filesystem"),
        ("/./", "the host's root filesystem"),
        ("/var/run/docker.sock", "a container engine's socket"),
        (
            "/run/containerd/containerd.sock",
            "a container engine's socket",
        ),
    ] {
        let report = validate_package(&mounting(source));
        assert!(report.errors.is_empty(), "{source}: {report}");
        assert_eq!(report.warnings.len(), 1, "{source}: {report}");
        match &report.warnings[0].problem {
            ValidationWarning::HostTakeoverMount {
                path: p,
                mount,
                what: w,
            } => {
                assert_eq!(
                    (p.to_string().as_str(), mount.as_str(), *w),
                    (path, source, what)
                );
            }
            other => panic!("{source}: {other:?}"),
        }

        let (engine, _) = engine().await;
        let report = refused(engine.add_package(mounting(source)).await);
        assert_eq!(report.errors.len(), 1, "{source}: {report}");
        match &report.errors[0].problem {
            ValidationError::HostTakeoverMountRefused { path: p, mount, .. } => {
                assert_eq!((p.to_string().as_str(), mount.as_str()), (path, source))
            }
            other => panic!("{source}: {other:?}"),
        }
        assert!(
            engine
                .package("mounter", &robodeploy_core::model::Version::new("1"))
                .await
                .is_err(),
            "{source}: a refused package is not stored"
        );

        let allowing = Engine::builder()
            .config(EngineConfig::default().with_host_takeover_mounts(true))
            .start();
        allowing.add_package(mounting(source)).await.unwrap();
    }
    // Ordinary binds are neither warned of nor refused.
    for source in [
        "/var/lib/robot",
        "/dev/ttyUSB0",
        "/run/docker",
        "/home/docker.socket",
    ] {
        let report = validate_package(&mounting(source));
        assert!(report.warnings.is_empty(), "{source}: {report}");
        let (engine, _) = engine().await;
        engine.add_package(mounting(source)).await.unwrap();
    }
}
