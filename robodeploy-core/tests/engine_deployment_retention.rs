//! The last status of a deployment that ended is kept for the engine's deployment retention
//! after it ended, across restarts, then deleted from the store with the request token that
//! named it. Live deployments are never deleted.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineConfig, EngineError, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_core::store::{MemoryStore, Store, Table, WriteBatch};
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// An engine on `store` keeping ended deployments for `retention`, with robot r1 on `rt`.
async fn engine_on(
    store: &Arc<MemoryStore>,
    rt: &Arc<MemoryRuntime>,
    retention: Duration,
) -> Engine {
    let engine = Engine::builder()
        .config(
            EngineConfig::default()
                .with_health_interval(Duration::from_millis(200))
                .with_deployment_retention(retention),
        )
        .store(store.clone())
        .try_start()
        .unwrap();
    engine
        .add_device(kit::device("r1", DeviceRuntime::Preinstalled), rt.clone())
        .await
        .unwrap();
    engine
}

/// Deploys package `demo` 1 as `name` on r1 under `token` and waits until it runs.
async fn running(engine: &Engine, name: &str, token: &str) -> DeploymentId {
    let package = kit::package("demo", "1", RestartPolicy::Always, [kit::fake_exe("main")]);
    let _ = engine.add_package(package).await;
    let id = engine
        .deploy(kit::request(name, "demo", "1", "r1"), Some(token))
        .await
        .unwrap();
    engine.wait_for(id, Until::Running, T).await.unwrap();
    id
}

/// Deploys, then deprovisions, `name`: its id once it is Deprovisioned.
async fn ended(engine: &Engine, name: &str, token: &str) -> DeploymentId {
    let id = running(engine, name, token).await;
    engine.deprovision(id).await.unwrap();
    engine
        .wait_for(id, Until::Phase(Phase::DeploymentStopped), T)
        .await
        .unwrap();
    id
}

/// The store's rows of deployment `id`, by what follows the id in their keys.
fn rows_of(store: &MemoryStore, id: DeploymentId) -> Vec<String> {
    let prefix = format!("{id}/");
    store
        .scan(Table::Deployments)
        .unwrap()
        .into_iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

fn tokens(store: &MemoryStore) -> Vec<String> {
    store
        .scan(Table::Tokens)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// Waits (virtual time) until the store holds no row of `id`.
async fn until_deleted(store: &MemoryStore, id: DeploymentId) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !rows_of(store, id).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still stored past its retention: {:?}",
            rows_of(store, id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Moves the end stored for deployment `id` `by` into the past. A new engine's clock starts
/// from the wall time, which a test's paused clock does not move: the virtual days the previous
/// engine ran are taken off the stored end, so the new engine sees it as long ago as it was.
fn ended_earlier(store: &MemoryStore, id: DeploymentId, by: Duration) {
    let key = format!("{id}/ended");
    let stored = store
        .get(Table::Deployments, &key)
        .unwrap()
        .expect("an end");
    let millis: i64 = std::str::from_utf8(&stored).unwrap().parse().unwrap();
    let earlier = millis - i64::try_from(by.as_millis()).unwrap();
    let mut b = WriteBatch::default();
    b.put(Table::Deployments, key, earlier.to_string().into_bytes());
    store.write(b).unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_ended_deployment_is_kept_for_the_retention_from_its_end_across_restarts() {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store, &rt, 7 * DAY).await;
    // Two days running: the retention counts from the end, not the creation.
    let id = running(&engine, "d1", "tok-1").await;
    tokio::time::advance(2 * DAY).await;
    engine.deprovision(id).await.unwrap();
    engine
        .wait_for(id, Until::Phase(Phase::DeploymentStopped), T)
        .await
        .unwrap();
    assert_eq!(rows_of(&store, id), ["ended", "final"]);
    tokio::time::advance(6 * DAY).await;
    let status = engine.status(id).await.unwrap();
    assert_eq!(
        (status.phase, status.name.as_str()),
        (Phase::DeploymentStopped, "d1")
    );

    // Started again six days after the end, the engine reads the end back: its last status is
    // answered, and a day later (seven after the end) the next health check deletes it and its
    // token, with nobody asking.
    engine.detach().await.unwrap();
    ended_earlier(&store, id, 8 * DAY);
    let engine = engine_on(&store, &rt, 7 * DAY).await;
    assert_eq!(
        engine.status(id).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    assert_eq!(tokens(&store), ["tok-1"]);
    tokio::time::advance(DAY - Duration::from_secs(60)).await;
    assert_eq!(rows_of(&store, id), ["ended", "final"]);
    tokio::time::advance(Duration::from_secs(61)).await;
    until_deleted(&store, id).await;
    assert!(tokens(&store).is_empty(), "{:?}", tokens(&store));
    assert!(
        matches!(engine.status(id).await, Err(EngineError::NoSuchDeployment(d)) if d == id.to_string())
    );
    // The token is free again: it creates a new deployment.
    let again = running(&engine, "d1", "tok-1").await;
    assert_ne!(again, id);
    engine.detach().await.unwrap();

    // A restart does not bring it back.
    let engine = engine_on(&store, &rt, 7 * DAY).await;
    assert!(matches!(
        engine.status(id).await,
        Err(EngineError::NoSuchDeployment(_))
    ));
    engine.detach().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_live_deployment_is_never_deleted_and_others_are_kept_until_their_own_end() {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store, &rt, DAY).await;
    let live = running(&engine, "live", "tok-live").await;
    let first = ended(&engine, "first", "tok-first").await;
    tokio::time::advance(DAY / 2).await;
    let second = ended(&engine, "second", "tok-second").await;

    // A day after the first ended: it goes, the second (half a day younger) stays.
    tokio::time::advance(DAY / 2 + Duration::from_secs(1)).await;
    until_deleted(&store, first).await;
    assert_eq!(rows_of(&store, second), ["ended", "final"]);
    assert_eq!(
        engine.status(second).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    let mut left = tokens(&store);
    left.sort();
    assert_eq!(left, ["tok-live", "tok-second"]);

    // Far past every retention the live one still runs, answers, and keeps its token.
    tokio::time::advance(30 * DAY).await;
    until_deleted(&store, second).await;
    assert!(engine.status(live).await.unwrap().is_running());
    assert_eq!(tokens(&store), ["tok-live"]);
    assert_eq!(
        engine
            .deploy(kit::request("live", "demo", "1", "r1"), Some("tok-live"))
            .await
            .unwrap(),
        live
    );
    engine.detach().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_status_stored_without_its_end_counts_from_the_start_that_finds_it() {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store, &rt, 7 * DAY).await;
    let id = ended(&engine, "d1", "tok-1").await;
    engine.detach().await.unwrap();
    // As a store written before ends were recorded holds it: the status alone.
    let mut b = WriteBatch::default();
    b.delete(Table::Deployments, format!("{id}/ended"));
    store.write(b).unwrap();
    assert_eq!(rows_of(&store, id), ["final"]);

    // The start that finds it writes the end (so that the next one does not count again), and
    // keeps it seven days from then.
    let engine = engine_on(&store, &rt, 7 * DAY).await;
    assert_eq!(
        engine.status(id).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    assert_eq!(rows_of(&store, id), ["ended", "final"]);
    tokio::time::advance(7 * DAY - Duration::from_secs(60)).await;
    assert_eq!(
        engine.status(id).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    tokio::time::advance(Duration::from_secs(61)).await;
    until_deleted(&store, id).await;
    assert!(tokens(&store).is_empty());
    engine.detach().await.unwrap();
}
