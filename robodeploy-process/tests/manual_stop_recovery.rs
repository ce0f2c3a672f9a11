//! A manual stop made while no engine runs (an operator's SIGTERM to the process group) holds
//! after the next engine starts: the supervisor records that the exit came from outside, the
//! runtime reports it on inspect, and the engine that recovers the deployment does not restart
//! it under Always or OnFailure (the seed: they do not apply again until the device reboots).

mod common;
mod engine_common;

use std::sync::Arc;
use std::time::Duration;

use common::TempRoot;
use engine_common::{
    T, codes, engine_with_r1, exe, marker, package, request, signal_sleeper, sleeper, sleepers,
};
use robodeploy_core::engine::{Engine, Until};
use robodeploy_core::model::*;
use robodeploy_core::store::MemoryStore;
use rustix::process::Signal;

/// An engine on `store` with one process device `r1` on `root`.
async fn engine_on(store: &Arc<MemoryStore>, root: &TempRoot) -> Engine {
    engine_with_r1(store.clone(), root).await.0
}

#[tokio::test]
async fn a_manual_stop_while_no_engine_ran_is_not_undone_by_the_next() {
    for policy in [RestartPolicy::Always, RestartPolicy::OnFailure] {
        let store = Arc::new(MemoryStore::new());
        let root = TempRoot::new("manual-stop-recovery");
        let m = marker();
        let engine = engine_on(&store, &root).await;
        engine
            .add_package(package("app", policy, &[("e", sleeper(&m))]))
            .await
            .unwrap();
        let id = engine.deploy(request("app", "r1"), None).await.unwrap();
        engine.wait_for(id, Until::Running, T).await.unwrap();
        engine.detach().await.unwrap();

        // The operator stops it while nothing watches.
        signal_sleeper(&m, Signal::TERM).await;
        assert_eq!(sleepers(&m, 0).await, 0, "{policy:?}");

        let engine = engine_on(&store, &root).await;
        let s = engine
            .wait_for(id, Until::Status(StatusKind::Error), T)
            .await
            .unwrap();
        assert_eq!(
            exe(&s, "e").status,
            ExecutableStatus::Error {
                reason: Reason::StoppedManually
            },
            "{policy:?}"
        );
        assert_eq!(codes(&s), [ErrorCode::DeviceExecutableFailed], "{policy:?}");
        // Several restart periods later: still down, never started again.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let s = engine.status(id).await.unwrap();
        assert_eq!(s.restart_count, 0, "{policy:?}");
        assert_eq!(sleepers(&m, 0).await, 0, "{policy:?}");
        engine.shutdown().await.unwrap();
    }
}
