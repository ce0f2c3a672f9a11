//! A shared component (one ROS master per device, whoever deploys it first) belongs to the
//! deployments that exist: one that fails after its request was resolved registers nothing,
//! so deprovisioning the last real user stops the shared instance.

use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError, Until};
use robodeploy_core::model::*;
use robodeploy_testkit::engine::memory_device;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(30);

fn master() -> Component {
    Component::new("master", kit::PREINSTALLED)
        .with_shared(true)
        .with_restart_policy(RestartPolicy::Always)
        .with_executable(kit::fake_exe("roscore"))
}

#[tokio::test]
async fn a_deployment_that_fails_after_resolving_leaves_no_shared_registration() {
    let engine = Engine::builder().start();
    let rt = memory_device(&engine, "r1").await;
    let robot = Package::new("robot", "1")
        .with_component(master())
        .with_component(
            Component::new("node", kit::PREINSTALLED)
                .with_restart_policy(RestartPolicy::Always)
                .with_executable(kit::fake_exe("talker")),
        );
    // Its second component runs in the cloud, and this engine has no cloud runtime: the
    // request resolves its shared master, then fails.
    let web = Package::new("web", "1")
        .with_component(master())
        .with_component(
            Component::new("web", Placement::Cloud)
                .with_executable(Executable::new("server").with_image("web:1")),
        );
    engine.add_package(robot).await.unwrap();
    engine.add_package(web).await.unwrap();

    let a = engine
        .deploy(
            DeploymentRequest::new("a", "robot", "1")
                .with_device("master", "r1")
                .with_device("node", "r1"),
            None,
        )
        .await
        .unwrap();
    engine.wait_for(a, Until::Running, T).await.unwrap();
    let err = engine
        .deploy(
            DeploymentRequest::new("b", "web", "1").with_device("master", "r1"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NoRuntime(_)), "{err:?}");
    assert_eq!(rt.running().len(), 2, "{:?}", rt.running());

    // `a` is the master's only user: deprovisioning it stops the master too.
    engine.deprovision(a).await.unwrap();
    let s = engine.wait_for(a, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::DeploymentStopped);
    assert_eq!(rt.running(), Vec::<String>::new());
}
