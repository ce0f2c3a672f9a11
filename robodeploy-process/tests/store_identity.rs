//! A deleted store does not duplicate executables: an engine started on a new store (the old
//! file deleted while its executables kept running) refuses to start a second copy of an
//! executable the previous store started, says why in the deployment's status, and starts it
//! once the old instance is gone.

mod common;
mod engine_common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::TempRoot;
use engine_common::{T, engine_with_r1, exe, marker, package, request, sleeper, sleepers};
use robodeploy_core::engine::{Engine, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::{InstanceState, Runtime, labels};
use robodeploy_core::store::{RedbStore, store_id};
use robodeploy_process::ProcessRuntime;

/// An engine on the store file `path`, with one process device `r1` on `root`; the engine's
/// store id and the device's runtime.
async fn engine_on(path: &Path, root: &TempRoot) -> (Engine, String, Arc<ProcessRuntime>) {
    let store = Arc::new(RedbStore::open(path).expect("store"));
    let id = store_id(store.as_ref()).expect("store id");
    let (engine, rt) = engine_with_r1(store, root).await;
    (engine, id, rt)
}

#[tokio::test]
async fn a_new_store_refuses_to_run_twice_what_a_deleted_store_left_running() {
    let root = TempRoot::new("store-identity");
    let files = TempRoot::new("store-identity-files");
    std::fs::create_dir_all(files.path()).unwrap();
    let path = files.path().join("state.redb");
    let m = marker();

    let (first, first_store, _) = engine_on(&path, &root).await;
    first
        .add_package(package("app", RestartPolicy::Always, &[("e", sleeper(&m))]))
        .await
        .unwrap();
    let old = first.deploy(request("app", "r1"), None).await.unwrap();
    first.wait_for(old, Until::Running, T).await.unwrap();
    assert_eq!(sleepers(&m, 1).await, 1);
    // Detached: the executable keeps running; then the store file is deleted.
    first.detach().await.unwrap();
    drop(first);
    std::fs::remove_file(&path).unwrap();

    let (second, second_store, rt) = engine_on(&path, &root).await;
    assert_ne!(second_store, first_store, "a new store has a new id");
    // The instance the first store started carries that store's id and the deployment's name.
    let listed = rt.list(&Default::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let running = &listed[0];
    assert_eq!(running.labels[labels::STORE], first_store);
    assert_eq!(running.labels[labels::DEPLOYMENT_NAME], "app");
    assert!(matches!(running.state, InstanceState::Running { .. }));

    second
        .add_package(package("app", RestartPolicy::Always, &[("e", sleeper(&m))]))
        .await
        .unwrap();
    let new = second.deploy(request("app", "r1"), None).await.unwrap();
    assert_ne!(new, old);
    let s = second
        .wait_for(new, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert_eq!(s.errors.len(), 1, "{s:#?}");
    let e = &s.errors[0];
    assert_eq!(e.code, ErrorCode::Internal(410));
    assert_eq!(
        (e.component.as_deref(), e.executable.as_deref()),
        (Some("main"), Some("e"))
    );
    let detail = e.detail.as_deref().unwrap_or_default();
    for part in [
        format!("instance {}", running.id),
        format!("another store ({first_store}"),
        format!("this engine's store is {second_store}"),
        "stop and remove that instance".to_owned(),
    ] {
        assert!(detail.contains(&part), "{part:?} not in {detail:?}");
    }
    assert_eq!(exe(&s, "e").instance, None);
    // Several restart periods later: still one copy, the one the first store started.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sleepers(&m, 1).await, 1);
    let listed = rt.list(&Default::default()).await.unwrap();
    assert_eq!(
        listed.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&running.id)
    );

    // The operator removes the old copy and deploys again: the new store's own copy starts.
    rt.stop(&running.id, Duration::from_secs(5)).await.unwrap();
    rt.remove(&running.id).await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
    second.deprovision(new).await.unwrap();
    second.wait_for(new, Until::Stopped, T).await.unwrap();
    let new = second.deploy(request("app", "r1"), None).await.unwrap();
    let s = second.wait_for(new, Until::Running, T).await.unwrap();
    assert!(s.errors.is_empty(), "{s:#?}");
    assert_eq!(sleepers(&m, 1).await, 1);
    let listed = rt.list(&Default::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].labels[labels::STORE], second_store);
    assert_ne!(listed[0].id, running.id);

    second.deprovision(new).await.unwrap();
    second.wait_for(new, Until::Stopped, T).await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
    second.shutdown().await.unwrap();
}
