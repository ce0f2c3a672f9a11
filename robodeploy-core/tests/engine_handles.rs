//! What an engine's handles promise: dropping the last one detaches (executables keep running,
//! only `shutdown` deprovisions), and a `Watch` that fell behind is given the current status.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineConfig, EngineError, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(30);

/// An engine (event buffer of `events`) with robot `r1` on a memory runtime and package `demo` 1
/// (executables `a` and `b`, restart Always).
async fn engine_with_demo(events: usize) -> (Engine, Arc<MemoryRuntime>) {
    let mut cfg = EngineConfig::default();
    cfg.event_capacity = events;
    let engine = Engine::builder().config(cfg).start();
    let rt = Arc::new(MemoryRuntime::new("r1"));
    engine
        .add_device(
            Device::new("r1", Architecture::Amd64, DeviceRuntime::Preinstalled),
            rt.clone(),
        )
        .await
        .unwrap();
    let exes = ["a", "b"].map(kit::fake_exe);
    engine
        .add_package(kit::package("demo", "1", RestartPolicy::Always, exes))
        .await
        .unwrap();
    (engine, rt)
}

async fn deploy(engine: &Engine, name: &str) -> DeploymentId {
    engine
        .deploy(kit::request(name, "demo", "1", "r1"), None)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_handle_detaches_and_shutdown_deprovisions() {
    // Detach, drop, shutdown: only the last stops the executables.
    for way in ["detach", "drop", "shutdown"] {
        let (engine, rt) = engine_with_demo(4096).await;
        let id = deploy(&engine, "d1").await;
        engine.wait_for(id, Until::Running, T).await.unwrap();
        let mut events = engine.subscribe();
        let watch = engine.watch(id);
        match way {
            "detach" => {
                let other = engine.clone();
                engine.detach().await.unwrap();
                assert!(matches!(other.status(id).await, Err(EngineError::Shutdown)));
            }
            "drop" => {}
            _ => engine.shutdown().await.unwrap(),
        }
        drop(engine);
        // A watch or a subscription does not keep the engine alive: both end once it is gone.
        let ended = tokio::time::timeout(T, async { while events.recv().await.is_ok() {} }).await;
        assert!(ended.is_ok(), "{way}: the event stream did not close");
        drop(watch);
        let expected = if way == "shutdown" { 0 } else { 2 };
        assert_eq!(rt.running().len(), expected, "{way}");
        assert_eq!(rt.start_count(), 2, "{way}: nothing restarted");
    }
}

#[tokio::test(start_paused = true)]
async fn a_watch_that_fell_behind_is_given_the_current_status() {
    let (engine, rt) = engine_with_demo(16).await;
    let id = deploy(&engine, "d1").await;
    let mut watch = engine.watch(id);
    engine.wait_for(id, Until::Running, T).await.unwrap();
    // d1 is deprovisioned, then far more events than the buffer holds follow, none read by
    // the watch (other deployments come and go): every change of d1 is pushed out of the buffer.
    engine.deprovision(id).await.unwrap();
    engine.wait_for(id, Until::Stopped, T).await.unwrap();
    for i in 0..20 {
        let other = deploy(&engine, &format!("other-{i}")).await;
        engine.wait_for(other, Until::Running, T).await.unwrap();
        engine.deprovision(other).await.unwrap();
        engine.wait_for(other, Until::Stopped, T).await.unwrap();
    }
    // The first thing the watch says is where d1 is now, not a change it happened to keep.
    let s = tokio::time::timeout(T, watch.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.id, id);
    assert_eq!(s.phase, Phase::DeploymentStopped);
    assert!(rt.running().is_empty());
    engine.shutdown().await.unwrap();
    drop(engine);
    let ended = tokio::time::timeout(T, async { while watch.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the watch did not end with the engine");
}
