//! A start whose answer is lost (the robot started the executable, then its link went down
//! mid-call, as when a router restarts) is in doubt, not failed: the engine tries it again once
//! the robot answers, adopts the instance it finds under its name, and never runs it twice. A
//! deprovision that comes meanwhile stops what the start returns. (A job's robot in the same
//! case: `engine_job_unreachable.rs`.)

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineEvent, RecoveryAction, Until};
use robodeploy_core::model::{DeploymentId, Phase, RestartPolicy, StatusKind};
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::engine::memory_device;
use robodeploy_testkit::model::{fake_exe, package, request};

const T: Duration = Duration::from_secs(30);

/// An engine with robot `r1` and the package `app`.
async fn engine_with_app() -> (Engine, Arc<MemoryRuntime>) {
    let engine = Engine::builder().start();
    let rt = memory_device(&engine, "r1").await;
    engine
        .add_package(package(
            "app",
            "1",
            RestartPolicy::Always,
            [fake_exe("node")],
        ))
        .await
        .unwrap();
    (engine, rt)
}

/// An engine with robot `r1`, deploying `app` there; the start's answer is lost.
async fn deployed_with_a_lost_start() -> (Engine, Arc<MemoryRuntime>, DeploymentId) {
    let (engine, rt) = engine_with_app().await;
    rt.lose_next_start_answer();
    let id = engine
        .deploy(request("d", "app", "1", "r1"), None)
        .await
        .unwrap();
    (engine, rt, id)
}

#[tokio::test(start_paused = true)]
async fn a_lost_start_answer_is_settled_by_trying_again_and_adopting_the_instance() {
    let (engine, rt, id) = deployed_with_a_lost_start().await;
    // The robot runs it; the engine does not know yet, and shows the robot offline.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());
    let s = engine.status(id).await.unwrap();
    assert_ne!(s.status, StatusKind::Running, "{s:#?}");
    assert_eq!(rt.start_count(), 1);

    rt.set_reachable(true);
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.phase, Phase::Succeeded, "{s:#?}");
    assert!(s.errors.is_empty(), "{s:#?}");
    let restarts: u32 = s.executables.iter().map(|e| e.restart_count).sum();
    assert_eq!(restarts, 0, "{s:#?}");
    assert_eq!(rt.start_count(), 1, "started once, adopted after");
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_deprovision_while_a_start_is_in_doubt_stops_what_the_start_made() {
    let (engine, rt, id) = deployed_with_a_lost_start().await;
    // Past a health check: the robot reads offline when the deprovision comes.
    tokio::time::sleep(Duration::from_secs(5)).await;
    engine.deprovision(id).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());

    rt.set_reachable(true);
    let s = engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::DeploymentStopped, "{s:#?}");
    assert_eq!(rt.running(), Vec::<String>::new());
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn what_a_deprovision_could_not_stop_on_an_offline_robot_is_stopped_when_it_answers() {
    let (engine, rt) = engine_with_app().await;
    let mut events = engine.subscribe();
    let id = engine
        .deploy(request("d", "app", "1", "r1"), None)
        .await
        .unwrap();
    engine.wait_for(id, Until::Running, T).await.unwrap();
    rt.set_reachable(false);
    engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    engine.deprovision(id).await.unwrap();
    let s = engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::PartiallyDeprovisioned, "{s:#?}");
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());

    // The robot answers again: what was left there is stopped, and said so.
    rt.set_reachable(true);
    let orphan = loop {
        match tokio::time::timeout(T, events.recv()).await {
            Ok(Ok(EngineEvent::Recovery(action))) => match *action {
                RecoveryAction::StoppedOrphan {
                    deployment,
                    instance,
                } => break (deployment, instance),
                _ => continue,
            },
            Ok(Ok(_)) => continue,
            other => panic!("no orphan stopped: {other:?}"),
        }
    };
    assert_eq!(orphan.0, id);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rt.running(), Vec::<String>::new());
    engine.shutdown().await.unwrap();
}
