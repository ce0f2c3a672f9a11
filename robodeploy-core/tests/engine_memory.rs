//! The engine against the in-memory runtime: lifecycle, restarts, dependencies, jobs, tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use robodeploy_core::engine::{DeviceError, Engine, EngineConfig, EngineError, Until};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_core::store::{MemoryStore, Store, StoreError, Table, WriteBatch};
use robodeploy_testkit::engine::add_package_and_fleet;
use robodeploy_testkit::model as kit;

const T: Duration = Duration::from_secs(30);

fn package(name: &str, version: &str, exes: &[&str], policy: RestartPolicy) -> Package {
    kit::package(name, version, policy, exes.iter().map(|e| kit::fake_exe(e)))
}

fn request(name: &str, pkg: &str, version: &str, device: &str) -> DeploymentRequest {
    kit::request(name, pkg, version, device)
}

/// Adds package `demo` 1 (`exes` under `policy`) and deploys it as `d1` on robot `r1`.
async fn demo(engine: &Engine, exes: &[&str], policy: RestartPolicy) -> DeploymentId {
    engine
        .add_package(package("demo", "1", exes, policy))
        .await
        .unwrap();
    engine
        .deploy(request("d1", "demo", "1", "r1"), None)
        .await
        .unwrap()
}

async fn engine_with(devices: &[&str]) -> (Engine, Vec<Arc<MemoryRuntime>>) {
    let cfg = EngineConfig::default()
        .with_health_interval(Duration::from_millis(200))
        .with_lifecycle(LifecycleConfig::default());
    let engine = Engine::builder().config(cfg).start();
    let mut rts = Vec::new();
    for d in devices {
        let rt = Arc::new(MemoryRuntime::new(*d));
        engine
            .add_device(
                Device::new(*d, Architecture::Amd64, DeviceRuntime::Preinstalled),
                rt.clone(),
            )
            .await
            .unwrap();
        rts.push(rt);
    }
    (engine, rts)
}

#[tokio::test(start_paused = true)]
async fn deploy_reaches_running_and_deprovision_stops_everything() {
    let (engine, rts) = engine_with(&["r1"]).await;
    let id = demo(&engine, &["a", "b"], RestartPolicy::Always).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.phase, Phase::Succeeded);
    assert_eq!(s.executables.len(), 2);
    assert_eq!(rts[0].running().len(), 2);
    engine.deprovision(id).await.unwrap();
    let s = engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::DeploymentStopped);
    assert!(rts[0].running().is_empty());
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_crash_under_always_is_restarted_and_counted() {
    let (engine, rts) = engine_with(&["r1"]).await;
    let id = demo(&engine, &["a"], RestartPolicy::Always).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    let name = s.executables[0].instance.clone().unwrap();
    // Let it run past the minimum uptime, then crash.
    tokio::time::sleep(Duration::from_secs(60)).await;
    rts[0].exit(&name, 1);
    let mut watch = engine.watch(id);
    loop {
        let s = watch.next().await.unwrap();
        if s.restart_count == 1 && s.is_running() {
            break;
        }
    }
    assert_eq!(rts[0].start_count(), 2);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn never_policy_leaves_a_failed_executable_in_error() {
    let (engine, rts) = engine_with(&["r1"]).await;
    let id = demo(&engine, &["a"], RestartPolicy::Never).await;
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    rts[0].exit(s.executables[0].instance.as_deref().unwrap(), 3);
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert_eq!(s.restart_count, 0);
    assert_eq!(
        s.executables[0].status,
        ExecutableStatus::Error {
            reason: Reason::Failed { exit_code: 3 }
        }
    );
    assert_eq!(s.errors[0].code, ErrorCode::DeviceExecutableFailed);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(rts[0].start_count(), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_missing_binary_fails_to_start_with_e161_and_is_not_retried() {
    let (engine, rts) = engine_with(&["r1"]).await;
    rts[0].set_missing("/usr/bin/ghost", true);
    let id = demo(&engine, &["ghost"], RestartPolicy::Always).await;
    let s = engine
        .wait_for(id, Until::Phase(Phase::FailedToStart), T)
        .await
        .unwrap();
    assert_eq!(s.errors[0].code, ErrorCode::DeviceImageNotFound);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(rts[0].start_count(), 0);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_device_shows_e151_and_recovers() {
    let (engine, rts) = engine_with(&["r1"]).await;
    let id = demo(&engine, &["a"], RestartPolicy::Always).await;
    engine.wait_for(id, Until::Running, T).await.unwrap();
    rts[0].set_reachable(false);
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert!(
        s.errors.iter().any(|e| e.code == ErrorCode::DeviceOffline),
        "{s:?}"
    );
    rts[0].set_reachable(true);
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert!(s.errors.is_empty());
    // It kept running: nothing was started again.
    assert_eq!(rts[0].start_count(), 1);
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn tokens_make_deploy_idempotent_and_names_unique() {
    let (engine, rts) = engine_with(&["r1"]).await;
    engine
        .add_package(package("demo", "1", &["a"], RestartPolicy::Always))
        .await
        .unwrap();
    let a = engine
        .deploy(request("d1", "demo", "1", "r1"), Some("tok"))
        .await
        .unwrap();
    let b = engine
        .deploy(request("d1", "demo", "1", "r1"), Some("tok"))
        .await
        .unwrap();
    assert_eq!(a, b);
    match engine.deploy(request("d1", "demo", "1", "r1"), None).await {
        Err(EngineError::DuplicateName { id, .. }) => assert_eq!(id, a),
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    engine.wait_for(a, Until::Running, T).await.unwrap();
    assert_eq!(rts[0].start_count(), 1);
    // A package in use cannot be deleted.
    assert!(matches!(
        engine.delete_package("demo", &Version::new("1")).await,
        Err(EngineError::Catalog(_))
    ));
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_dependency_in_error_gives_e156_to_its_dependent() {
    let (engine, rts) = engine_with(&["r1"]).await;
    engine
        .add_package(package("base", "1", &["master"], RestartPolicy::Never))
        .await
        .unwrap();
    engine
        .add_package(package("app", "1", &["node"], RestartPolicy::Always))
        .await
        .unwrap();
    let base = engine
        .deploy(request("base", "base", "1", "r1"), None)
        .await
        .unwrap();
    let mut req = request("app", "app", "1", "r1");
    req.depends_on = vec!["base".into()];
    let app = engine.deploy(req, None).await.unwrap();
    engine.wait_for(base, Until::Running, T).await.unwrap();
    engine.wait_for(app, Until::Running, T).await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let s = engine.status(base).await.unwrap();
    rts[0].exit(s.executables[0].instance.as_deref().unwrap(), 1);
    let s = engine
        .wait_for(app, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert!(
        s.errors
            .iter()
            .any(|e| e.code == ErrorCode::DependencyInError),
        "{s:?}"
    );
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_job_with_failing_pre_launch_scripts_breaches_its_threshold() {
    let names: Vec<String> = (0..20).map(|i| format!("robot-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (engine, rts) = engine_with(&refs).await;
    // Every robot's pre-launch script fails.
    for rt in &rts {
        rt.set_task_exit("/opt/pre.sh", 1);
    }
    add_package_and_fleet(
        &engine,
        package("app", "1", &["node"], RestartPolicy::Always),
    )
    .await;
    let job = kit::job("fleet", "app", Some("/opt/pre.sh".into()), None, 10, 10);
    let id = engine.create_job(job, None).await.unwrap();
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Failed);
    assert_eq!(report.failure, Some(FailureCode::FailureThresholdBreached));
    let failed = report.count(RobotStatus::Failed);
    // 20 robots, 10 % → 2 at once; threshold 10 % → 2 failures halt it; at most 2 in flight.
    assert!((2..=4).contains(&failed), "failed {failed}");
    assert!(
        report
            .robots
            .iter()
            .filter(|r| r.status == RobotStatus::Failed)
            .all(|r| r.failure == Some(FailureCode::PreLaunchFileFailure))
    );
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_job_deploys_every_robot_and_reports_in_sync() {
    let names: Vec<String> = (0..10).map(|i| format!("robot-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (engine, rts) = engine_with(&refs).await;
    add_package_and_fleet(
        &engine,
        package("app", "1", &["node"], RestartPolicy::Always),
    )
    .await;
    let job = kit::job(
        "fleet",
        "app",
        Some("/opt/pre.sh".into()),
        Some("/opt/post.sh".into()),
        30,
        50,
    );
    let id = engine
        .create_job(job.clone(), Some("job-token"))
        .await
        .unwrap();
    assert_eq!(engine.create_job(job, Some("job-token")).await.unwrap(), id);
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:?}");
    assert_eq!(report.count(RobotStatus::InSync), 10);
    for rt in &rts {
        assert_eq!(rt.running().len(), 1);
        assert_eq!(
            rt.tasks_run(),
            vec![
                vec!["/opt/pre.sh".to_owned()],
                vec!["/opt/post.sh".to_owned()]
            ]
        );
    }
    let devices = engine.devices().await.unwrap();
    assert!(
        devices
            .iter()
            .all(|d| d.installed.get("app") == Some(&Version::new("1")))
    );
    engine.shutdown().await.unwrap();
}

/// A store whose writes fail while `failing` is set.
struct FlakyStore {
    inner: MemoryStore,
    failing: AtomicBool,
    writes: AtomicUsize,
}

impl Store for FlakyStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Io {
                message: "commit test.redb: No space left on device (os error 28)".into(),
                source: None,
            });
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(batch)
    }
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(table, key)
    }
    fn scan(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan(table)
    }
    fn scan_prefix(
        &self,
        table: Table,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan_prefix(table, prefix)
    }
}

fn robot(name: &str) -> (Device, Arc<dyn Runtime>) {
    (
        Device::new(name, Architecture::Amd64, DeviceRuntime::Preinstalled),
        Arc::new(MemoryRuntime::new(name)),
    )
}

fn names(devices: &[Device]) -> Vec<&str> {
    let mut names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    names
}

#[tokio::test(start_paused = true)]
async fn add_devices_registers_all_in_one_write_or_none() {
    let store = Arc::new(FlakyStore {
        inner: MemoryStore::new(),
        failing: AtomicBool::new(false),
        writes: AtomicUsize::new(0),
    });
    let engine = Engine::builder().store(store.clone()).start();
    let a = robot("a");
    let a_again = (a.0.clone(), a.1.clone());
    engine.add_devices(vec![a]).await.unwrap();
    let before = store.writes.load(Ordering::SeqCst);

    // A different device (another id) under a registered name refuses the whole call.
    let other_a = robot("a");
    let err = engine
        .add_devices(vec![robot("b"), other_a, robot("c")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::Device(DeviceError::Conflict(n)) if n == "a"),
        "{err:?}"
    );
    assert_eq!(names(&engine.devices().await.unwrap()), ["a"]);
    assert_eq!(store.writes.load(Ordering::SeqCst), before);

    // Two different devices under one new name in the same call: refused too.
    let err = engine
        .add_devices(vec![robot("d"), robot("d")])
        .await
        .unwrap_err();
    assert!(matches!(&err, EngineError::Device(DeviceError::Conflict(n)) if n == "d"));
    assert_eq!(names(&engine.devices().await.unwrap()), ["a"]);

    // A store that fails registers none and says why.
    store.failing.store(true, Ordering::SeqCst);
    let err = engine
        .add_devices(vec![robot("b"), robot("c")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert_eq!(names(&engine.devices().await.unwrap()), ["a"]);
    assert!(store.inner.get(Table::Devices, "b").unwrap().is_none());
    store.failing.store(false, Ordering::SeqCst);

    // The same device twice, and one already registered: registered once, all in one write.
    let b = robot("b");
    let b_again = (b.0.clone(), b.1.clone());
    let added = engine
        .add_devices(vec![b, robot("c"), b_again, a_again])
        .await
        .unwrap();
    assert_eq!(added, [true, true, false, false]);
    assert_eq!(names(&engine.devices().await.unwrap()), ["a", "b", "c"]);
    assert_eq!(store.writes.load(Ordering::SeqCst), before + 1);
    for name in ["b", "c"] {
        assert!(store.inner.get(Table::Devices, name).unwrap().is_some());
    }

    // The registered devices run deployments.
    engine
        .add_package(package("app", "1", &["n"], RestartPolicy::Always))
        .await
        .unwrap();
    let id = engine
        .deploy(request("on-c", "app", "1", "c"), None)
        .await
        .unwrap();
    engine
        .wait_for(id, Until::Running, T)
        .await
        .expect("running on a device added in bulk");
}
