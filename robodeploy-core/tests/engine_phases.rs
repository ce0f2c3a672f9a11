//! The engine publishes a deployment's phases in the seed's order: In progress (created,
//! nothing started yet), then Provisioning, then Succeeded (or Failed to start).

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineEvent, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(30);

/// Every phase published for the deployment, in order, repeats merged.
async fn phases_of(fail: bool) -> Vec<Phase> {
    let engine = Engine::builder().start();
    let rt = Arc::new(MemoryRuntime::new("r1"));
    if fail {
        rt.set_missing("/usr/bin/node", true);
    }
    engine
        .add_device(kit::device("r1", DeviceRuntime::Preinstalled), rt)
        .await
        .unwrap();
    engine
        .add_package(kit::package(
            "app",
            "1",
            RestartPolicy::Never,
            [kit::fake_exe("node")],
        ))
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let id = engine
        .deploy(kit::request("app", "app", "1", "r1"), None)
        .await
        .unwrap();
    let end = if fail {
        Until::Phase(Phase::FailedToStart)
    } else {
        Until::Running
    };
    engine.wait_for(id, end, T).await.unwrap();
    let mut phases: Vec<Phase> = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::Deployment(s) = event
            && s.id == id
            && phases.last() != Some(&s.phase)
        {
            phases.push(s.phase);
        }
    }
    engine.shutdown().await.unwrap();
    phases
}

#[tokio::test]
async fn in_progress_is_published_before_provisioning() {
    assert_eq!(
        phases_of(false).await,
        [Phase::InProgress, Phase::Provisioning, Phase::Succeeded]
    );
    assert_eq!(
        phases_of(true).await,
        [Phase::InProgress, Phase::Provisioning, Phase::FailedToStart]
    );
}
