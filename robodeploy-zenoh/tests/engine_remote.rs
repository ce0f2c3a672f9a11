//! An engine drives remote robots through their agents as it drives local ones: a robot whose
//! agent stops is offline (DEP_E151) within the documented bound, and when it returns the
//! engine looks again and adopts what runs; an orchestrator restarted from its store adopts
//! what its robots run, reached only through their agents. Nothing is started twice.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::agent_process::deploy_on_r1;
use common::{agent, free_port, memory_agent, orchestrator, quick};
use robodeploy_core::engine::{Engine, EngineConfig, Until};
use robodeploy_core::model::{DeviceRuntime, ErrorCode, ExecutableStatus, Reason, StatusKind};
use robodeploy_core::runtime::Runtime;
use robodeploy_core::store::RedbStore;
use robodeploy_testkit::model::fake_exe;

const T: Duration = Duration::from_secs(30);

fn config() -> EngineConfig {
    EngineConfig::default().with_health_interval(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_robot_whose_agent_stops_is_offline_and_its_return_adopts_what_runs() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (first, _s, local) = memory_agent(port, "r1").await;
    let engine = Engine::builder().config(config()).start();
    let remote: Arc<dyn Runtime> = Arc::new(o.runtime("r1", DeviceRuntime::Preinstalled).unwrap());
    let (id, instance) = deploy_on_r1(&engine, remote, fake_exe("node"), T).await;
    assert_eq!(local.running(), vec![instance.clone()]);

    // The agent stops: the token is withdrawn, the next health check (200 ms) says offline.
    let stopped = tokio::time::Instant::now();
    first.close().await;
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    let took = stopped.elapsed();
    assert!(took < Duration::from_secs(4), "offline after {took:?}");
    assert_eq!(
        s.executables[0].status,
        ExecutableStatus::Error {
            reason: Reason::DeviceOffline
        }
    );
    assert_eq!(s.errors[0].code, ErrorCode::DeviceOffline);
    assert_eq!(
        local.running(),
        vec![instance.clone()],
        "what runs keeps running"
    );

    // It returns: the engine inspects what runs there and adopts it.
    let (_again, _s2) = agent(port, "r1", local.clone()).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(
        s.executables[0].instance.as_deref(),
        Some(instance.as_str())
    );
    assert_eq!(s.executables[0].restart_count, 0);
    assert_eq!(local.start_count(), 1, "nothing started twice");

    // An exit while it is away is found when it returns, and the policy applies.
    let (third, _s3) = (_again, _s2);
    third.close().await;
    engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    local.exit(&instance, 1);
    let (_fourth, _s4) = agent(port, "r1", local.clone()).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.executables[0].restart_count, 1, "{s:?}");
    assert_eq!(local.start_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_orchestrator_restarted_from_its_store_adopts_what_its_robots_run() {
    let dir = std::env::temp_dir().join(format!("rd-zenoh-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let (_agent, _s, local) = {
        let o = orchestrator(port, quick()).await;
        let running = memory_agent(port, "r1").await;
        let store = Arc::new(RedbStore::open(dir.join("store.redb")).unwrap());
        let engine = Engine::builder().config(config()).store(store).start();
        let remote: Arc<dyn Runtime> =
            Arc::new(o.runtime("r1", DeviceRuntime::Preinstalled).unwrap());
        deploy_on_r1(&engine, remote, fake_exe("node"), T).await;
        // The orchestrator goes away, leaving everything running.
        engine.detach().await.unwrap();
        drop(engine);
        let _ = o.session().close().await;
        running
    };
    assert_eq!(local.start_count(), 1);

    // A new orchestrator on the same endpoint: the agent links again by itself.
    let o = Arc::new(orchestrator(port, quick()).await);
    let factory = {
        let o = o.clone();
        move |d: &robodeploy_core::model::Device, _: &str| -> Option<Arc<dyn Runtime>> {
            Some(Arc::new(o.runtime(&d.name, d.runtime).ok()?))
        }
    };
    let store = Arc::new(RedbStore::open(dir.join("store.redb")).unwrap());
    let engine = Engine::builder()
        .config(config())
        .store(store)
        .runtime_factory(factory)
        .start();
    let deployments = engine.deployments().await.unwrap();
    assert_eq!(deployments.len(), 1);
    let s = engine
        .wait_for(deployments[0].id, Until::Running, T)
        .await
        .unwrap();
    assert_eq!(s.executables[0].restart_count, 0);
    assert_eq!(local.start_count(), 1, "adopted, not started again");
    engine.detach().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
