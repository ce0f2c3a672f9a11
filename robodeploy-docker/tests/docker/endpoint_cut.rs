//! An engine-level endpoint cut: an `Engine` runs a long-lived container on a device whose
//! Docker endpoint is a TCP proxy in front of the machine's socket. The test kills the proxy
//! (listener and live connections), expects the deployment to report DEP_E151 while the
//! endpoint is away and the engine to keep answering, restores the proxy on the same port, and
//! expects the deployment back to Running with the very same container, never restarted.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, EngineConfig, EngineEvent, Until};
use robodeploy_core::model::*;
use tokio::sync::broadcast;

use crate::proxy::{Proxy, through};
use crate::support::{Leftovers, docker, image};

const T: Duration = Duration::from_secs(60);
const DEVICE: &str = "dock-cut";

fn package(name: &str) -> Package {
    Package {
        name: name.into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: Placement::Device {
                runtime: DeviceRuntime::Docker,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: vec![Executable {
                name: "sleeper".into(),
                image: Some(image()),
                command: vec!["sleep".into(), "600".into()],
                shell: false,
                working_dir: None,
                env: Default::default(),
                ports: vec![],
                mounts: vec![],
            }],
        }],
    }
}

fn request(name: &str) -> DeploymentRequest {
    DeploymentRequest {
        name: name.into(),
        package: name.into(),
        version: Version::new("1"),
        labels: Default::default(),
        devices: [("main".to_owned(), DEVICE.to_owned())].into(),
        depends_on: vec![],
        volumes: vec![],
        routed_network: None,
        restart_policy: None,
        env: Default::default(),
    }
}

fn offline(s: &DeploymentStatus) -> bool {
    s.errors.iter().any(|e| e.code == ErrorCode::DeviceOffline)
}

/// Polls the deployment until `want` holds; every poll must be answered (the engine lives).
async fn until(
    engine: &Engine,
    id: DeploymentId,
    what: &str,
    want: impl Fn(&DeploymentStatus) -> bool,
) -> DeploymentStatus {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let s = engine.status(id).await.expect("the engine answers");
        if want(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not {what} within {T:?}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next `Device` event about [`DEVICE`].
async fn device_event(events: &mut broadcast::Receiver<EngineEvent>) -> bool {
    loop {
        match tokio::time::timeout(T, events.recv())
            .await
            .expect("a device event")
        {
            Ok(EngineEvent::Device { device, online }) if device == DEVICE => return online,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("event stream: {e}"),
        }
    }
}

/// The container's id, restart count, start time and whether it runs, from the local socket.
async fn container(id: &str) -> (String, i64, String, bool) {
    let c = docker()
        .await
        .inspect_container(id, None)
        .await
        .expect("inspect");
    let state = c.state.expect("state");
    (
        c.id.expect("id"),
        c.restart_count.expect("restart count"),
        state.started_at.expect("started at"),
        state.running.expect("running"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_endpoint_is_offline_then_running_again_with_nothing_restarted() {
    let _local = runtime_or_skip!();
    let proxy = Proxy::start(0).await;
    let config = EngineConfig::default().with_health_interval(Duration::from_millis(200));
    let engine = Engine::builder().config(config).start();
    let mut events = engine.subscribe();
    engine
        .add_device(
            Device::new(DEVICE, Architecture::Amd64, DeviceRuntime::Docker),
            Arc::new(through(proxy.port)),
        )
        .await
        .expect("add device");
    let name = format!("cut-{}", DeploymentId::new_random());
    engine
        .add_package(package(&name))
        .await
        .expect("add package");
    let id = engine.deploy(request(&name), None).await.expect("deploy");
    let _leftovers = Leftovers::new(id);

    let before = engine
        .wait_for(id, Until::Running, T)
        .await
        .expect("running");
    let exe = &before.executables[0];
    let instance = exe.instance.clone().expect("a container");
    assert_eq!((exe.restart_count, before.restart_count), (0, 0));
    let (cid, restarts, started_at, running) = container(&instance).await;
    assert_eq!((restarts, running), (0, true));

    // The endpoint goes away: listener and every live connection.
    let port = proxy.kill().await;
    assert!(
        !device_event(&mut events).await,
        "expected the device offline"
    );
    let away = until(&engine, id, "DEP_E151", offline).await;
    assert!(!away.is_running(), "{away:?}");
    // The container itself runs on, untouched, on the robot.
    assert_eq!(
        container(&instance).await,
        (cid.clone(), 0, started_at.clone(), true)
    );
    // A few more failed health checks change nothing and break nothing.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(offline(
        &engine.status(id).await.expect("the engine answers")
    ));

    // The endpoint comes back on the same port.
    let proxy = Proxy::start(port).await;
    assert!(
        device_event(&mut events).await,
        "expected the device online"
    );
    let back = until(&engine, id, "Running without errors", |s| {
        s.is_running() && s.errors.is_empty()
    })
    .await;
    let exe = &back.executables[0];
    assert_eq!(exe.instance.as_deref(), Some(instance.as_str()), "{back:?}");
    assert_eq!((exe.restart_count, back.restart_count), (0, 0), "{back:?}");
    assert_eq!(container(&instance).await, (cid, 0, started_at, true));
    // Still the one container: nothing was started twice.
    let mine = docker()
        .await
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(
                [(
                    "label".to_owned(),
                    vec![format!(
                        "{}={id}",
                        robodeploy_core::runtime::labels::DEPLOYMENT
                    )],
                )]
                .into(),
            ),
            ..Default::default()
        }))
        .await
        .expect("list");
    assert_eq!(mine.len(), 1, "{mine:?}");

    engine.deprovision(id).await.expect("deprovision");
    engine
        .wait_for(id, Until::Stopped, T)
        .await
        .expect("stopped");
    engine.shutdown().await.expect("shutdown");
    drop(proxy);
}
