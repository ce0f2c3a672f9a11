//! A deployment's routed network and volume deployments must be running when it is created
//! (the seed: "If there are no Routed Network successfully running, you would not be able to
//! deploy the package. Please create a Routed Network first."; "Ensure that a running volume
//! deployment is available before you add one."). A refusal is `EngineError::Invalid` naming
//! the field, the deployment and its phase and status, and nothing is created.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_core::validate::{Report, ValidationError};
use robodeploy_testkit::engine::memory_device;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(30);

/// An engine with robot `r1` and packages `provider` (program `/usr/bin/provider`) and `app`.
async fn engine() -> (Engine, Arc<MemoryRuntime>) {
    let engine = Engine::builder().start();
    let rt = memory_device(&engine, "r1").await;
    for (name, program) in [("provider", "/usr/bin/provider"), ("app", "/usr/bin/app")] {
        let exe = kit::exe("main", [program]);
        engine
            .add_package(kit::package(name, "1", RestartPolicy::Never, [exe]))
            .await
            .unwrap();
    }
    (engine, rt)
}

fn app_on_network(network: &str) -> DeploymentRequest {
    let mut req = kit::request("app", "app", "1", "r1");
    req.routed_network = Some(RoutedNetwork {
        name: network.to_owned(),
        placement: NetworkPlacement::Device,
    });
    req
}

fn app_with_volume(deployment: &str) -> DeploymentRequest {
    let mut req = kit::request("app", "app", "1", "r1");
    req.volumes = vec![VolumeAttachment {
        deployment: deployment.to_owned(),
        component: req.devices.keys().next().unwrap().clone(),
        mount_path: "/data".into(),
    }];
    req
}

fn refused<T: std::fmt::Debug>(r: Result<T, EngineError>) -> ValidationError {
    match r {
        Err(EngineError::Invalid(report)) => only_error(&report),
        other => panic!("expected a validation refusal, got {other:?}"),
    }
}

fn only_error(report: &Report) -> ValidationError {
    assert_eq!(report.errors.len(), 1, "{report}");
    report.errors[0].problem.clone()
}

/// Deploys `provider` as `name`: Running, or FailedToStart when its program is missing.
async fn provider(engine: &Engine, rt: &MemoryRuntime, name: &str, works: bool) -> DeploymentId {
    rt.set_missing("/usr/bin/provider", !works);
    let id = engine
        .deploy(kit::request(name, "provider", "1", "r1"), None)
        .await
        .unwrap();
    let until = if works {
        Until::Running
    } else {
        Until::Phase(Phase::FailedToStart)
    };
    engine.wait_for(id, until, T).await.unwrap();
    id
}

async fn names(engine: &Engine) -> Vec<String> {
    let mut names: Vec<String> = engine
        .deployments()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    names
}

#[tokio::test(start_paused = true)]
async fn a_routed_network_must_exist_and_run() {
    let (engine, rt) = engine().await;
    let problem = refused(engine.deploy(app_on_network("lab-net"), None).await);
    assert_eq!(
        problem,
        ValidationError::RoutedNetworkNotFound {
            path: problem.path().clone(),
            network: "lab-net".into(),
        }
    );
    assert_eq!(problem.path().to_string(), "spec.routedNetwork.name");
    assert!(names(&engine).await.is_empty(), "nothing was created");

    let net = provider(&engine, &rt, "lab-net", false).await;
    let problem = refused(engine.deploy(app_on_network("lab-net"), None).await);
    assert_eq!(
        problem,
        ValidationError::RoutedNetworkNotRunning {
            path: problem.path().clone(),
            network: "lab-net".into(),
            phase: Phase::FailedToStart,
            status: StatusKind::Error,
        }
    );
    assert_eq!(problem.path().to_string(), "spec.routedNetwork.name");
    assert_eq!(names(&engine).await, ["lab-net"]);

    engine.deprovision(net).await.unwrap();
    engine.wait_for(net, Until::Stopped, T).await.unwrap();
    provider(&engine, &rt, "lab-net", true).await;
    let app = engine
        .deploy(app_on_network("lab-net"), None)
        .await
        .unwrap();
    engine.wait_for(app, Until::Running, T).await.unwrap();
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_volume_deployment_must_run() {
    let (engine, rt) = engine().await;
    // Unknown: refused by the validator as any unknown deployment is.
    let problem = refused(engine.deploy(app_with_volume("store"), None).await);
    assert!(
        matches!(&problem, ValidationError::UnknownDeployment { deployment, .. } if deployment == "store"),
        "{problem:?}"
    );
    let store = provider(&engine, &rt, "store", false).await;
    let problem = refused(engine.deploy(app_with_volume("store"), None).await);
    assert_eq!(
        problem,
        ValidationError::VolumeDeploymentNotRunning {
            path: problem.path().clone(),
            deployment: "store".into(),
            phase: Phase::FailedToStart,
            status: StatusKind::Error,
        }
    );
    assert_eq!(problem.path().to_string(), "spec.volumes[0].deployment");
    assert_eq!(names(&engine).await, ["store"]);

    engine.deprovision(store).await.unwrap();
    engine.wait_for(store, Until::Stopped, T).await.unwrap();
    provider(&engine, &rt, "store", true).await;
    let app = engine.deploy(app_with_volume("store"), None).await.unwrap();
    engine.wait_for(app, Until::Running, T).await.unwrap();
    engine.shutdown().await.unwrap();
}
