//! A restarted engine carries on from its store: deployments adopted or restarted per policy,
//! restart counts kept, jobs carried on without deploying a robot twice, a deprovision under way
//! finished, an unreadable store refused. The engine "crashes" by detaching (nothing stopped, as
//! after a kill); the real-process kill tests are in robodeploy-process.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{
    Engine, EngineConfig, EngineError, EngineEvent, JobReport, RecoveryAction, Until,
};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_core::store::{MemoryStore, Store, StoreError, Table, WriteBatch};
use robodeploy_testkit::engine::add_package_and_fleet;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(60);

fn package(name: &str, version: &str, exes: &[&str], policy: RestartPolicy) -> Package {
    kit::package(name, version, policy, exes.iter().map(|e| kit::fake_exe(e)))
}

fn request(name: &str, device: &str) -> DeploymentRequest {
    kit::request(name, "demo", "1", device)
}

fn device(name: &str) -> Device {
    kit::device(name, DeviceRuntime::Preinstalled)
}

/// Adds package `demo` 1 (`exes` under `policy`) and deploys it as `d1` on robot `r1`.
async fn demo(
    engine: &Engine,
    exes: &[&str],
    policy: RestartPolicy,
    token: Option<&str>,
) -> DeploymentId {
    engine
        .add_package(package("demo", "1", exes, policy))
        .await
        .unwrap();
    engine.deploy(request("d1", "r1"), token).await.unwrap()
}

fn engine_on(store: &Arc<MemoryStore>) -> Engine {
    let cfg = EngineConfig::default().with_health_interval(Duration::from_millis(200));
    Engine::builder()
        .config(cfg)
        .store(store.clone())
        .try_start()
        .unwrap()
}

/// A new engine on `store`, given robot r1 again: the first thing it recovers is deployment
/// `id`'s instance, found exited.
async fn found_exited_on_recovery(
    store: &Arc<MemoryStore>,
    rt: &Arc<MemoryRuntime>,
    id: DeploymentId,
) -> Engine {
    let engine = engine_on(store);
    let mut events = engine.subscribe();
    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let actions = recovery_actions(&mut events, 1).await;
    assert!(
        matches!(&actions[0], RecoveryAction::FoundExited { deployment, .. } if *deployment == id),
        "{actions:?}"
    );
    engine
}

/// Recovery actions published until `n` of them arrived.
async fn recovery_actions(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    n: usize,
) -> Vec<RecoveryAction> {
    let mut out = Vec::new();
    while out.len() < n {
        if let EngineEvent::Recovery(a) = events.recv().await.unwrap() {
            out.push(*a);
        }
    }
    out
}

/// Waits until `id` was restarted once and runs again.
async fn restarted_once(engine: &Engine, id: DeploymentId) {
    let mut watch = engine.watch(id);
    while !watch
        .next()
        .await
        .is_some_and(|s| s.restart_count == 1 && s.is_running())
    {}
}

/// An engine on a fresh store deploys `demo` (one executable `a` under `policy`) on `r1`, waits
/// until it runs, and detaches (what a crash leaves). Returns the store, r1's runtime, the
/// deployment and a's instance.
async fn running_then_detached(
    policy: RestartPolicy,
) -> (Arc<MemoryStore>, Arc<MemoryRuntime>, DeploymentId, String) {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store);
    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let id = demo(&engine, &["a"], policy, None).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    let a = s.executables[0].instance.clone().unwrap();
    engine.detach().await.unwrap();
    (store, rt, id, a)
}

#[tokio::test(start_paused = true)]
async fn a_restarted_engine_adopts_what_runs_and_keeps_restart_counts() {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store);
    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let id = demo(&engine, &["a", "b"], RestartPolicy::Always, Some("tok")).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    let a = s.executables[0].instance.clone().unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    rt.exit(&a, 1);
    restarted_once(&engine, id).await;
    assert_eq!(rt.start_count(), 3);
    engine.detach().await.unwrap();

    let engine = engine_on(&store);
    let mut events = engine.subscribe();
    // Before its device is back, the deployment is known and waits.
    let waiting = engine.status(id).await.unwrap();
    assert_eq!(waiting.status, StatusKind::Unknown);
    assert_eq!(waiting.restart_count, 1);
    // The catalog and the token came back from the store.
    assert_eq!(engine.packages().await.unwrap().len(), 1);
    assert_eq!(
        engine
            .deploy(request("d1", "r1"), Some("tok"))
            .await
            .unwrap(),
        id
    );

    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let mut actions = recovery_actions(&mut events, 2).await;
    actions.sort_by_key(|a| format!("{a:?}"));
    for (action, exe) in actions.iter().zip(["a", "b"]) {
        match action {
            RecoveryAction::Adopted {
                deployment,
                executable,
                ..
            } => {
                assert_eq!((*deployment, executable.as_str()), (id, exe));
            }
            other => panic!("expected adoption, got {other:?}"),
        }
    }
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.restart_count, 1);
    assert_eq!(s.executables[0].restart_count, 1);
    assert_eq!(s.executables[0].instance.as_deref(), Some(a.as_str()));
    // Nothing was started again, and its name is still taken.
    assert_eq!(rt.start_count(), 3);
    assert_eq!(rt.running().len(), 2);
    assert!(matches!(
        engine.deploy(request("d1", "r1"), None).await,
        Err(EngineError::DuplicateName { id: taken, .. }) if taken == id
    ));

    // It is supervised as before: a crash is restarted and counted on top.
    tokio::time::sleep(Duration::from_secs(60)).await;
    rt.exit(&a, 1);
    let mut watch = engine.watch(id);
    while !watch
        .next()
        .await
        .is_some_and(|s| s.restart_count == 2 && s.is_running())
    {}
    engine.shutdown().await.unwrap();
    assert!(rt.running().is_empty());
}

#[tokio::test(start_paused = true)]
async fn what_died_while_the_engine_was_away_follows_its_restart_policy() {
    let (store, rt, id, a) = running_then_detached(RestartPolicy::OnFailure).await;
    // It crashes while nobody watches.
    tokio::time::sleep(Duration::from_secs(60)).await;
    rt.exit(&a, 3);

    let engine = found_exited_on_recovery(&store, &rt, id).await;
    restarted_once(&engine, id).await;
    assert_eq!(rt.start_count(), 2);
    engine.shutdown().await.unwrap();
}

/// The seed: a manual stop suspends Always and OnFailure until the device reboots. That holds
/// when no engine was running at the time: the runtime says how the instance ended, and the
/// engine that finds it on recovery does not restart it.
#[tokio::test(start_paused = true)]
async fn a_manual_stop_while_the_engine_was_away_is_not_restarted() {
    for policy in [RestartPolicy::Always, RestartPolicy::OnFailure] {
        let (store, rt, id, a) = running_then_detached(policy).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        rt.stop_manually(&a);

        let engine = found_exited_on_recovery(&store, &rt, id).await;
        let s = engine
            .wait_for(id, Until::Status(StatusKind::Error), T)
            .await
            .unwrap();
        assert_eq!(
            s.executables[0].status,
            ExecutableStatus::Error {
                reason: Reason::StoppedManually
            },
            "{policy:?}"
        );
        // Long past any restart delay: still down, started once, restarts 0.
        tokio::time::sleep(Duration::from_secs(600)).await;
        let s = engine.status(id).await.unwrap();
        assert_eq!(s.executables[0].restart_count, 0, "{policy:?}");
        assert_eq!(
            s.executables[0].status,
            ExecutableStatus::Error {
                reason: Reason::StoppedManually
            }
        );
        assert_eq!(rt.start_count(), 1, "{policy:?}");
        assert!(rt.running().is_empty(), "{policy:?}");
        engine.shutdown().await.unwrap();
    }
}

/// With a runtime factory, a restarted engine brings its stored devices back itself: the
/// deployment is adopted without any `add_device`, the device keeps its id, and a device the
/// factory does not make waits for the application as before.
#[tokio::test(start_paused = true)]
async fn a_runtime_factory_brings_stored_devices_back_at_start() {
    let store = Arc::new(MemoryStore::new());
    let (r1, r2) = (
        Arc::new(MemoryRuntime::new("r1")),
        Arc::new(MemoryRuntime::new("r2")),
    );
    let engine = engine_on(&store);
    engine.add_device(device("r1"), r1.clone()).await.unwrap();
    engine.add_device(device("r2"), r2.clone()).await.unwrap();
    let id = demo(&engine, &["a"], RestartPolicy::Always, None).await;
    let on_r2 = engine.deploy(request("d2", "r2"), None).await.unwrap();
    for d in [id, on_r2] {
        engine.wait_for(d, Until::Running, T).await.unwrap();
    }
    let before = engine.devices().await.unwrap();
    engine.detach().await.unwrap();

    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (seen, rt) = (asked.clone(), r1.clone());
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(Duration::from_millis(200)))
        .store(store.clone())
        .runtime_factory(move |d: &Device, runtime: &str| {
            seen.lock()
                .unwrap()
                .push((d.name.clone(), runtime.to_owned()));
            (d.name == "r1").then(|| rt.clone() as Arc<dyn robodeploy_core::runtime::Runtime>)
        })
        .try_start()
        .unwrap();
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.restart_count, 0);
    assert_eq!(r1.start_count(), 1, "adopted, not started again");
    let mut asked = asked.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        [
            ("r1".to_owned(), "memory:r1".to_owned()),
            ("r2".to_owned(), "memory:r2".to_owned())
        ]
    );
    let devices = engine.devices().await.unwrap();
    assert_eq!(devices.len(), 1, "only r1 is back: {devices:?}");
    assert_eq!(
        devices[0].id,
        before.iter().find(|d| d.name == "r1").unwrap().id
    );
    // r2's deployment waits for its device; registered by hand, it is adopted too.
    assert_eq!(
        engine.status(on_r2).await.unwrap().status,
        StatusKind::Unknown
    );
    engine.add_device(device("r2"), r2.clone()).await.unwrap();
    engine.wait_for(on_r2, Until::Running, T).await.unwrap();
    assert_eq!(r2.start_count(), 1);
    engine.shutdown().await.unwrap();
}

/// A receiver taken from the builder sees what the restarted engine did before anyone could
/// call it: with a factory the driver adopts on its first turns, which may run before
/// `try_start` returns (two worker threads here), and the receiver is read only afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builder_subscription_sees_the_recovery_of_the_first_turn() {
    let (store, rt, id, a) = running_then_detached(RestartPolicy::Always).await;
    let mut builder =
        Engine::builder()
            .store(store.clone())
            .runtime_factory(move |_: &Device, _: &str| {
                Some(rt.clone() as Arc<dyn robodeploy_core::runtime::Runtime>)
            });
    let mut events = builder.subscribe();
    let engine = builder.try_start().unwrap();
    engine.wait_for(id, Until::Running, T).await.unwrap();
    // Everything is done by now; a subscription taken now would hear nothing of it.
    let late = engine.subscribe();
    let adopted = recovery_actions(&mut events, 1).await;
    assert_eq!(
        adopted,
        [RecoveryAction::Adopted {
            deployment: id,
            component: "main".to_owned(),
            executable: "a".to_owned(),
            instance: a,
        }]
    );
    assert!(late.is_empty());
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_deprovision_under_way_is_finished_after_a_restart() {
    let store = Arc::new(MemoryStore::new());
    let rt = Arc::new(MemoryRuntime::new("r1"));
    let engine = engine_on(&store);
    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let id = demo(&engine, &["a", "b"], RestartPolicy::Always, None).await;
    engine.wait_for(id, Until::Running, T).await.unwrap();
    // The stops are decided and stored, and the runtime stalls: the engine dies before any
    // stop is answered.
    rt.set_stops_hang(true);
    engine.deprovision(id).await.unwrap();
    engine.detach().await.unwrap();
    rt.set_stops_hang(false);
    assert_eq!(rt.running().len(), 2);

    let engine = engine_on(&store);
    engine.add_device(device("r1"), rt.clone()).await.unwrap();
    let s = engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::DeploymentStopped);
    assert!(rt.running().is_empty());
    // Its last status is kept for queries; nothing of it is recovered again.
    engine.detach().await.unwrap();
    let engine = engine_on(&store);
    assert_eq!(
        engine.status(id).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    assert!(engine.deployments().await.unwrap().is_empty());
    engine.shutdown().await.unwrap();
}

fn job_request() -> DeploymentJobRequest {
    let script = |path: &str| Some(path.to_owned());
    kit::job(
        "fleet",
        "demo",
        script("/opt/pre.sh"),
        script("/opt/post.sh"),
        20,
        50,
    )
}

/// Runs a 10-robot job where robots 3 and 7 fail their pre-launch script, interrupting the
/// engine (detach, as a crash) once `interrupt_after` robots are in sync; returns the final
/// per-robot outcomes and the runtimes.
async fn job_run(
    interrupt_after: Option<usize>,
) -> (Vec<(String, RobotStatus)>, Vec<Arc<MemoryRuntime>>) {
    let store = Arc::new(MemoryStore::new());
    let names: Vec<String> = (0..10).map(|i| format!("robot-{i}")).collect();
    let rts: Vec<Arc<MemoryRuntime>> = names
        .iter()
        .map(|n| Arc::new(MemoryRuntime::new(n.as_str())))
        .collect();
    rts[3].set_task_exit("/opt/pre.sh", 1);
    rts[7].set_task_exit("/opt/pre.sh", 1);
    for rt in &rts {
        rt.set_task_time(Duration::from_secs(2));
    }
    let mut engine = engine_on(&store);
    for (n, rt) in names.iter().zip(&rts) {
        engine.add_device(device(n), rt.clone()).await.unwrap();
    }
    add_package_and_fleet(
        &engine,
        package("demo", "1", &["node"], RestartPolicy::Always),
    )
    .await;
    let id = engine.create_job(job_request(), Some("job")).await.unwrap();
    if let Some(n) = interrupt_after {
        let mut events = engine.subscribe();
        loop {
            let report = engine.job(id).await.unwrap();
            if report.count(RobotStatus::InSync) >= n {
                break;
            }
            let _ = events.recv().await;
        }
        let before = engine.job(id).await.unwrap();
        assert!(!before.status.is_terminal(), "interrupted too late");
        engine.detach().await.unwrap();
        engine = engine_on(&store);
        // The same token names the same job: nothing is created twice.
        assert_eq!(
            engine.create_job(job_request(), Some("job")).await.unwrap(),
            id
        );
        for (n, rt) in names.iter().zip(&rts) {
            engine.add_device(device(n), rt.clone()).await.unwrap();
        }
    }
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert!(report.status.is_terminal());
    let outcomes = report
        .robots
        .iter()
        .map(|r| (r.robot.clone(), r.status))
        .collect();
    engine.detach().await.unwrap();
    (outcomes, rts)
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_job_ends_as_an_uninterrupted_one_without_deploying_a_robot_twice() {
    let (reference, _) = job_run(None).await;
    assert_eq!(
        reference
            .iter()
            .filter(|(_, s)| *s == RobotStatus::Failed)
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>(),
        vec!["robot-3", "robot-7"]
    );
    for interrupt_after in [1, 2, 4, 6] {
        let (outcomes, rts) = job_run(Some(interrupt_after)).await;
        assert_eq!(
            outcomes, reference,
            "interrupted after {interrupt_after} in sync"
        );
        for (i, rt) in rts.iter().enumerate() {
            let expected = if i == 3 || i == 7 { 0 } else { 1 };
            assert_eq!(rt.running().len(), expected, "robot-{i}");
            assert_eq!(rt.start_count(), expected as u64, "robot-{i} started twice");
        }
    }
}

/// A store whose reads fail.
struct Broken;

fn corrupt() -> StoreError {
    StoreError::Corrupt {
        path: "/var/lib/robodeploy/state.redb".into(),
        reason: "checksum mismatch in page 7".into(),
    }
}

impl Store for Broken {
    fn write(&self, _: WriteBatch) -> Result<(), StoreError> {
        Err(corrupt())
    }
    fn get(&self, _: Table, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(corrupt())
    }
    fn scan(&self, _: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Err(corrupt())
    }
    fn scan_prefix(&self, _: Table, _: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Err(corrupt())
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_read_is_refused_at_start() {
    match Engine::builder().store(Arc::new(Broken)).try_start() {
        Err(EngineError::Store(StoreError::Corrupt { path, reason })) => {
            assert_eq!(path.to_str(), Some("/var/lib/robodeploy/state.redb"));
            assert_eq!(reason, "checksum mismatch in page 7");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a corrupt store was accepted"),
    }
    // `start` gives an engine that has shut down, never one that silently starts empty.
    let engine = Engine::builder().store(Arc::new(Broken)).start();
    assert!(matches!(
        engine.packages().await,
        Err(EngineError::Shutdown)
    ));
}

#[tokio::test]
async fn a_stored_record_that_does_not_decode_is_named() {
    let store = Arc::new(MemoryStore::new());
    let mut b = WriteBatch::default();
    b.put(Table::Packages, "demo@1", b"{not json".to_vec());
    store.write(b).unwrap();
    match Engine::builder().store(store).try_start() {
        Err(EngineError::Store(StoreError::Decode { table, key, .. })) => {
            assert_eq!((table, key.as_str()), (Table::Packages, "demo@1"));
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("an undecodable record was accepted"),
    }
}

/// On `engine` (with `store`): robot-0, package demo 1 and its fleet, and a job that
/// succeeded, whose record and journal the store holds.
async fn a_succeeded_job(engine: &Engine, store: &MemoryStore) -> JobReport {
    engine
        .add_device(device("robot-0"), Arc::new(MemoryRuntime::new("robot-0")))
        .await
        .unwrap();
    add_package_and_fleet(
        engine,
        package("demo", "1", &["node"], RestartPolicy::Always),
    )
    .await;
    let id = engine.create_job(job_request(), None).await.unwrap();
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Succeeded);
    assert!(
        stored_records(store, id) >= 2,
        "the job and its journal are stored"
    );
    report
}

/// How many records of job `id` (the job and its journal) `store` holds.
fn stored_records(store: &MemoryStore, id: JobId) -> usize {
    store
        .scan(Table::Jobs)
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.starts_with(&id.to_string()))
        .count()
}

#[tokio::test(start_paused = true)]
async fn a_job_past_its_retention_is_removed_from_the_store_and_not_recovered() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine_on(&store);
    let report = a_succeeded_job(&engine, &store).await;
    let id = report.id;
    let journal_keys = |store: &MemoryStore| stored_records(store, id);
    engine.detach().await.unwrap();

    // Within its retention it comes back after a restart.
    let engine = engine_on(&store);
    assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Succeeded);

    // 90 days after its creation (the default retention) it is gone, from the engine and from
    // the store, and a restart does not bring it back.
    tokio::time::advance(Duration::from_secs(90 * 24 * 3600 + 1)).await;
    assert!(matches!(engine.job(id).await, Err(EngineError::NoSuchJob(j)) if j == id));
    assert!(engine.jobs().await.unwrap().is_empty());
    assert_eq!(journal_keys(&store), 0);
    engine.detach().await.unwrap();
    let engine = engine_on(&store);
    assert!(matches!(engine.job(id).await, Err(EngineError::NoSuchJob(j)) if j == id));
    engine.detach().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_configured_job_retention_drops_an_ended_job_at_the_next_health_check() {
    let store = Arc::new(MemoryStore::new());
    let day = Duration::from_secs(24 * 3600);
    let start = |store: &Arc<MemoryStore>| {
        Engine::builder()
            .config(
                EngineConfig::default()
                    .with_health_interval(Duration::from_millis(200))
                    .with_job_retention(7 * day),
            )
            .store(store.clone())
            .try_start()
            .unwrap()
    };
    let engine = start(&store);
    let report = a_succeeded_job(&engine, &store).await;
    let id = report.id;
    let stored = |store: &MemoryStore| stored_records(store, id);
    // Its report says when it goes.
    assert_eq!(
        report.expires_at.since(report.created_at),
        7 * day,
        "expires 7 days after its creation"
    );

    // Six days on it is still there.
    tokio::time::advance(6 * day).await;
    assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Succeeded);

    // A day later, the next health check deletes it from the store with nobody asking.
    tokio::time::advance(day + Duration::from_secs(1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stored(&store) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job is still stored past its retention"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(engine.job(id).await, Err(EngineError::NoSuchJob(j)) if j == id));
    engine.detach().await.unwrap();
    let engine = start(&store);
    assert!(engine.jobs().await.unwrap().is_empty());
    engine.detach().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_token_of_a_job_past_its_retention_creates_a_new_job() {
    let store = Arc::new(MemoryStore::new());
    let day = Duration::from_secs(24 * 3600);
    let engine = Engine::builder()
        .config(
            EngineConfig::default()
                .with_health_interval(Duration::from_millis(200))
                .with_job_retention(day),
        )
        .store(store.clone())
        .try_start()
        .unwrap();
    let first = a_succeeded_job(&engine, &store).await.id;
    let again = engine
        .create_job(job_request(), Some("nightly"))
        .await
        .unwrap();
    assert_ne!(again, first);
    // The token names its job while the job is kept.
    assert_eq!(
        engine
            .create_job(job_request(), Some("nightly"))
            .await
            .unwrap(),
        again
    );
    engine.wait_for_job(again, T).await.unwrap();

    // Past the retention both are gone, and the token with its job: it creates a new one.
    tokio::time::advance(day + Duration::from_secs(1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stored_records(&store, again) > 0 {
        assert!(tokio::time::Instant::now() < deadline, "still stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        store.scan(Table::Tokens).unwrap().is_empty(),
        "the token is deleted"
    );
    let third = engine
        .create_job(job_request(), Some("nightly"))
        .await
        .unwrap();
    assert_ne!(third, again);
    assert_eq!(
        engine.wait_for_job(third, T).await.unwrap().status,
        JobStatus::Succeeded
    );
    engine.detach().await.unwrap();
}
