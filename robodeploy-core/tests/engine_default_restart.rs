//! The default restart policy (seed 000): "Unlike deployments running on the cloud, which
//! automatically restart if stopped due to an error, deployments that are running on devices do
//! not automatically restart if exited due to an error or when devices are rebooted."

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, Until};
use robodeploy_core::model::{
    Component, ExecutableStatus, Package, Reason, RestartPolicy, StatusKind,
};
use robodeploy_core::runtime::MemoryRuntime;
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A package with a device component and a cloud component, neither with a restart policy.
fn package() -> Package {
    from(json!({
        "name": "demo", "version": "1",
        "components": [
            {"name": "robot",
             "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
             "executables": [{"name": "node", "command": ["/usr/bin/node"]}]},
            {"name": "web", "placement": {"kind": "cloud"},
             "executables": [{"name": "api", "image": "demo/api:1"}]}
        ]
    }))
}

struct Setup {
    engine: Engine,
    robot: Arc<MemoryRuntime>,
    cloud: Arc<MemoryRuntime>,
}

async fn setup() -> Setup {
    let engine = Engine::builder().start();
    let robot = Arc::new(MemoryRuntime::new("r1"));
    let cloud = Arc::new(MemoryRuntime::new("cloud"));
    engine
        .add_device(
            from(json!({"name": "r1", "architecture": "amd64", "runtime": "preinstalled"})),
            robot.clone(),
        )
        .await
        .unwrap();
    engine.set_cloud_runtime(cloud.clone()).await.unwrap();
    engine.add_package(package()).await.unwrap();
    Setup {
        engine,
        robot,
        cloud,
    }
}

fn executable<'a>(
    s: &'a DeploymentStatus,
    component: &str,
) -> &'a robodeploy_core::engine::ExecutableReport {
    s.executables
        .iter()
        .find(|e| e.component == component)
        .unwrap()
}

#[test]
fn a_component_without_a_policy_keeps_none_and_runs_under_the_seeds_default() {
    let p = package();
    let (device, cloud): (&Component, &Component) = (&p.components[0], &p.components[1]);
    assert_eq!(device.restart_policy, None);
    assert_eq!(device.effective_restart_policy(None), RestartPolicy::Never);
    assert_eq!(cloud.effective_restart_policy(None), RestartPolicy::Always);
    assert_eq!(
        cloud.effective_restart_policy(Some(RestartPolicy::Never)),
        RestartPolicy::Always
    );
    // What the user wrote round-trips: no key in, no key out; a policy in, the same out.
    let text = serde_json::to_value(&p).unwrap();
    assert!(text["components"][0].get("restartPolicy").is_none());
    let mut with = package();
    with.components[0].restart_policy = Some(RestartPolicy::OnFailure);
    let text = serde_json::to_value(&with).unwrap();
    assert_eq!(text["components"][0]["restartPolicy"], "on-failure");
    assert_eq!(serde_json::from_value::<Package>(text).unwrap(), with);
}

/// Deployment d1 of demo 1, its device component on r1, no restart policy set.
fn d1_on_r1() -> serde_json::Value {
    json!({"name": "d1", "package": "demo", "version": "1", "devices": {"robot": "r1"}})
}

/// Deploys the request this JSON describes.
async fn deploy(
    engine: &Engine,
    request: serde_json::Value,
) -> robodeploy_core::model::DeploymentId {
    engine.deploy(from(request), None).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_device_component_without_a_policy_is_not_restarted_after_an_error_but_a_cloud_one_is() {
    let Setup {
        engine,
        robot,
        cloud,
    } = setup().await;
    let id = deploy(&engine, d1_on_r1()).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    let on_robot = executable(&s, "robot").instance.clone().unwrap();
    let in_cloud = executable(&s, "web").instance.clone().unwrap();
    // Past the minimum uptime, both exit with an error.
    tokio::time::sleep(Duration::from_secs(60)).await;
    robot.exit(&on_robot, 1);
    cloud.exit(&in_cloud, 1);

    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert_eq!(
        executable(&s, "robot").status,
        ExecutableStatus::Error {
            reason: Reason::Failed { exit_code: 1 }
        }
    );
    assert_eq!(executable(&s, "robot").restart_count, 0);
    // The cloud executable comes back (restart count 1) while the device one stays down.
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let s = engine.status(id).await.unwrap();
        let web = executable(&s, "web");
        if web.restart_count == 1 && web.status == ExecutableStatus::Running {
            assert_eq!(executable(&s, "robot").restart_count, 0);
            assert!(matches!(
                executable(&s, "robot").status,
                ExecutableStatus::Error { .. }
            ));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long after, still not restarted: one start on the robot, two in the cloud.
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(robot.start_count(), 1);
    assert_eq!(cloud.start_count(), 2);
    let s = engine.status(id).await.unwrap();
    assert_eq!(s.restart_count, 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_device_reboot_does_not_restart_a_component_without_a_policy() {
    let Setup { engine, robot, .. } = setup().await;
    let id = deploy(&engine, d1_on_r1()).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    robot.exit(executable(&s, "robot").instance.as_deref().unwrap(), 0);
    engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    engine.device_rebooted("r1").await.unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(robot.start_count(), 1);
    assert_eq!(engine.status(id).await.unwrap().restart_count, 0);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_deployment_override_or_a_component_policy_replaces_the_default() {
    let Setup { engine, robot, .. } = setup().await;
    let id = deploy(
        &engine,
        json!({"name": "d1", "package": "demo", "version": "1",
                        "devices": {"robot": "r1"}, "restartPolicy": "on-failure"}),
    )
    .await;
    exits_and_is_restarted_once(&engine, &robot, id, 2).await;
    assert_eq!(robot.start_count(), 2);

    let mut p = package();
    p.version = robodeploy_core::model::Version::new("2");
    p.components[0].restart_policy = Some(RestartPolicy::Always);
    engine.add_package(p).await.unwrap();
    let id = deploy(
        &engine,
        json!({"name": "d2", "package": "demo", "version": "2",
                        "devices": {"robot": "r1"}}),
    )
    .await;
    exits_and_is_restarted_once(&engine, &robot, id, 0).await;
    engine.shutdown().await.unwrap();
}

/// Once `id` runs, its `robot` executable exits with `code` after the minimum uptime; waits
/// until it was restarted once and runs again.
async fn exits_and_is_restarted_once(
    engine: &Engine,
    robot: &MemoryRuntime,
    id: robodeploy_core::model::DeploymentId,
    code: i32,
) {
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    robot.exit(executable(&s, "robot").instance.as_deref().unwrap(), code);
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let s = engine.status(id).await.unwrap();
        if executable(&s, "robot").restart_count == 1 && s.is_running() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
