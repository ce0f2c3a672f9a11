//! The engine endpoint disappearing mid-deployment and coming back: a TCP proxy on 127.0.0.1 in
//! front of the engine's socket, started and killed by the test.

use std::time::Duration;

use bollard::query_parameters::StopContainerOptions;
use robodeploy_core::model::{DeploymentId, ErrorCode, RestartPolicy};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError, RuntimeEventKind};
use robodeploy_docker::DockerRuntime;

use crate::proxy::{Proxy, through};
use crate::support::{Leftovers, deprovision, docker, spec, wait_event};

async fn until_healthy(rt: &DockerRuntime) {
    for _ in 0..100 {
        if rt.health().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the runtime did not recover");
}

fn assert_unreachable(r: Result<impl std::fmt::Debug, RuntimeError>) {
    match r {
        Err(e @ RuntimeError::Unreachable { .. }) => {
            assert_eq!(e.error_code(false, true), ErrorCode::DeviceOffline);
            assert_eq!(e.error_code(true, true), ErrorCode::InternalCloud(201));
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_vanishing_mid_deployment_is_unreachable_and_recovers() {
    let _local = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let proxy = Proxy::start(0).await;
    let rt = through(proxy.port);
    rt.health().await.expect("healthy through the proxy");

    let mut first = spec(dep, "c", "first", &["sleep", "600"]);
    first.restart_policy = RestartPolicy::Always;
    let second = spec(dep, "c", "second", &["sleep", "600"]);
    let mut events = rt.events().await.expect("events");
    rt.prepare(&first).await.expect("prepare");
    rt.prepare(&second).await.expect("prepare");
    let id = rt.start(&first).await.expect("start first");
    wait_event(&mut events, &id, Duration::from_secs(20), |k| {
        *k == RuntimeEventKind::Started
    })
    .await;

    // The link goes down mid-deployment.
    let port = proxy.kill().await;
    assert_unreachable(rt.health().await);
    assert_unreachable(rt.start(&second).await);
    assert_unreachable(rt.inspect(&id).await);
    assert_unreachable(rt.list(&Default::default()).await);

    // Meanwhile someone stops the container on the robot itself.
    docker()
        .await
        .stop_container(
            &id.0,
            Some(StopContainerOptions {
                t: Some(1),
                signal: None,
            }),
        )
        .await
        .expect("local docker stop");

    // The link comes back: calls work again and the event stream resumes without losing what
    // happened while it was down.
    let proxy = Proxy::start(port).await;
    until_healthy(&rt).await;
    let stop = wait_event(&mut events, &id, Duration::from_secs(30), |k| {
        matches!(k, RuntimeEventKind::Exited { .. })
    })
    .await;
    assert!(
        matches!(
            stop.kind,
            RuntimeEventKind::Exited {
                stopped_manually: true,
                ..
            }
        ),
        "{stop:?}"
    );
    assert!(matches!(
        rt.inspect(&id).await.unwrap().state,
        InstanceState::Exited { .. }
    ));
    let id2 = rt
        .start(&second)
        .await
        .expect("start second after recovery");
    wait_event(&mut events, &id2, Duration::from_secs(20), |k| {
        *k == RuntimeEventKind::Started
    })
    .await;

    deprovision(&rt, dep).await;
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_built_while_the_engine_is_down_connects_when_it_appears() {
    let _local = runtime_or_skip!();
    // Reserve a port, then close it: nothing listens there.
    let port = Proxy::start(0).await.kill().await;
    let rt = through(port);
    assert_unreachable(rt.health().await);
    assert_unreachable(rt.events().await.map(|_| ()));
    let proxy = Proxy::start(port).await;
    until_healthy(&rt).await;
    // The API version was negotiated on the way: a call beyond ping works.
    rt.list(&Default::default())
        .await
        .expect("list after recovery");
    drop(proxy);
}
