//! The engine endpoint disappearing mid-deployment and coming back: a TCP proxy on 127.0.0.1 in
//! front of the engine's socket, started and killed by the test.

use std::time::Duration;

use bollard::query_parameters::StopContainerOptions;
use robodeploy_core::model::{DeploymentId, ErrorCode, RestartPolicy};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError, RuntimeEventKind};
use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement};
use tokio::net::{TcpListener, UnixStream};
use tokio::task::JoinSet;

use crate::support::{Leftovers, deprovision, docker, spec, wait_event};

fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// Forwards 127.0.0.1:port to the engine's socket. Dropping it (or `kill`) closes the
/// listener and every forwarded connection, as a robot dropping off the network would.
struct Proxy {
    port: u16,
    tasks: JoinSet<()>,
}

impl Proxy {
    async fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut tcp, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut unix) = UnixStream::connect(engine_socket()).await {
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                    }
                });
            }
        });
        Proxy { port, tasks }
    }

    async fn kill(mut self) -> u16 {
        self.tasks.shutdown().await;
        self.port
    }
}

fn through(port: u16) -> DockerRuntime {
    let cfg = DockerConfig::new(
        Endpoint::Tcp(format!("tcp://127.0.0.1:{port}")),
        Placement::Device,
    )
    .with_request_timeout(Duration::from_secs(10));
    DockerRuntime::new(cfg).unwrap()
}

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
            assert_eq!(e.error_code(false), ErrorCode::DeviceOffline);
            assert_eq!(e.error_code(true), ErrorCode::DeviceOffline);
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
