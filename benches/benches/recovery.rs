//! How long a restarted engine takes to resume, and what its store costs.
//!
//! Setup: an engine on in-memory runtimes deploys 10,000 deployments (100 devices × 100) and
//! starts a deployment job over a fleet of 100,000 robots (10 % concurrency) whose pre-launch
//! scripts take long enough that the whole first wave (10,000 robots) is in flight. The engine
//! then stops without stopping anything ([`Engine::detach`]: what a SIGKILL leaves, since every
//! decision is written before it is acted on), and what its store holds is copied into a redb
//! file.
//!
//! Measured: a new engine opening that file ([`RedbStore::open`]), loading it
//! ([`EngineBuilder::try_start`]: catalog, devices, deployments, the job's journal replayed),
//! the application registering its 100,100 devices again (one `add_devices` call), and the engine reconciling each
//! runtime's inventory until every deployment is Running again (adopted, nothing restarted)
//! and every robot in flight is carried on. Printed: each part's time, the total, and the
//! store's size per deployment and per robot.
//!
//! ```text
//! cargo bench -p robodeploy-benches --bench recovery
//! ```
//!
//! [`EngineBuilder::try_start`]: robodeploy_core::engine::EngineBuilder::try_start

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent, RecoveryAction};
use robodeploy_core::model::*;
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_core::store::{MemoryStore, RedbStore, Store, Table, WriteBatch};
use robodeploy_testkit::model as kit;

const DEVICES: usize = 100;
const PER_DEVICE: usize = 100;
const ROBOTS: usize = 100_000;

fn package(name: &str) -> Package {
    kit::package(name, "1", RestartPolicy::Always, [kit::fake_exe("node")])
}

/// Health checks out of the way; room for every event of the restore.
fn config() -> EngineConfig {
    let mut c = EngineConfig::default().with_health_interval(Duration::from_secs(3600));
    c.event_capacity = 1 << 20;
    c
}

fn device(name: &str) -> Device {
    kit::device(name, DeviceRuntime::Preinstalled)
}

struct Fleet100k {
    devices: Vec<(String, Arc<MemoryRuntime>)>,
    robots: Vec<(String, Arc<MemoryRuntime>)>,
}

/// Fills `store` through a live engine, then detaches it. Returns the runtimes.
async fn populate(store: Arc<MemoryStore>) -> Fleet100k {
    let engine = Engine::builder()
        .config(config())
        .store(store)
        .try_start()
        .unwrap();
    engine.add_package(package("app")).await.unwrap();
    let mut devices = Vec::new();
    for d in 0..DEVICES {
        let name = format!("device-{d}");
        let rt = Arc::new(MemoryRuntime::new(name.as_str()));
        engine.add_device(device(&name), rt.clone()).await.unwrap();
        devices.push((name, rt));
    }
    let mut events = engine.subscribe();
    for i in 0..DEVICES * PER_DEVICE {
        let req = kit::request(&format!("dep-{i}"), "app", "1", &devices[i % DEVICES].0);
        engine.deploy(req, None).await.unwrap();
    }
    let mut running = std::collections::HashSet::new();
    while running.len() < DEVICES * PER_DEVICE {
        match events.recv().await {
            Ok(EngineEvent::Deployment(s)) if s.is_running() => {
                running.insert(s.id);
            }
            Ok(_) => {}
            Err(_) => {
                running = engine
                    .deployments()
                    .await
                    .unwrap()
                    .iter()
                    .filter(|s| s.is_running())
                    .map(|s| s.id)
                    .collect();
            }
        }
    }
    let mut robots = Vec::new();
    let mut fleet = Vec::new();
    for r in 0..ROBOTS {
        let name = format!("robot-{r}");
        let rt = Arc::new(MemoryRuntime::new(name.as_str()));
        // The first wave stays in flight: its pre-launch scripts outlast the setup.
        rt.set_task_time(Duration::from_secs(3600));
        let d = device(&name);
        engine.add_device(d.clone(), rt.clone()).await.unwrap();
        fleet.push(d);
        robots.push((name, rt));
    }
    engine.add_fleet(kit::fleet("fleet", fleet)).await.unwrap();
    let job = kit::job("fleet", "app", Some("/opt/pre.sh".into()), None, 10, 5);
    let id = engine.create_job(job, None).await.unwrap();
    loop {
        let r = engine.job(id).await.unwrap();
        if r.count(RobotStatus::Deploying) >= ROBOTS / 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.detach().await.unwrap();
    Fleet100k { devices, robots }
}

fn table_bytes(store: &dyn Store, table: Table) -> usize {
    store
        .scan(table)
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let memory = Arc::new(MemoryStore::new());
    let setup = Instant::now();
    let fleet = populate(memory.clone()).await;
    println!("recovery/setup: {:.1} s", setup.elapsed().as_secs_f64());

    let dir =
        std::env::temp_dir().join(format!("robodeploy-recovery-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.redb");
    {
        let redb = RedbStore::open(&path).unwrap();
        for table in Table::ALL {
            if table == Table::Meta {
                continue;
            }
            let mut batch = WriteBatch::default();
            for (k, v) in memory.scan(table).unwrap() {
                batch.put(table, k, v);
            }
            redb.write(batch).unwrap();
        }
    }
    let file = std::fs::metadata(&path).unwrap().len() as f64;
    let deployments_bytes = table_bytes(memory.as_ref(), Table::Deployments) as f64;
    let jobs_bytes = table_bytes(memory.as_ref(), Table::Jobs) as f64;
    let devices_bytes = table_bytes(memory.as_ref(), Table::Devices) as f64;
    let n_deployments = (DEVICES * PER_DEVICE) as f64;
    println!(
        "recovery/store: file {:.1} MB; records: deployments {:.0} B each, job {:.0} B per robot \
         (journal and request), devices {:.0} B each",
        file / 1e6,
        deployments_bytes / n_deployments,
        jobs_bytes / ROBOTS as f64,
        devices_bytes / (DEVICES + ROBOTS) as f64,
    );
    drop(memory);
    // The same store twice: once resumed with the fleet handed back in one `add_devices` call,
    // once with a runtime factory that brings the stored devices back while the engine loads.
    let copy = dir.join("state-copy.redb");
    std::fs::copy(&path, &copy).unwrap();
    let runtimes: HashMap<String, Arc<MemoryRuntime>> = fleet
        .devices
        .iter()
        .chain(fleet.robots.iter())
        .cloned()
        .collect();
    restart(&path, &runtimes, Register::AddDevices).await;
    restart(&copy, &runtimes, Register::Factory).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// How the restarted engine gets its devices' runtimes back.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Register {
    /// The application hands its whole fleet back in one `add_devices` call.
    AddDevices,
    /// A runtime factory given to the builder makes each stored device's runtime at start.
    Factory,
}

/// A restart on the store at `path`, timed until every deployment is adopted and Running and
/// every robot in flight is carried on.
async fn restart(
    path: &std::path::Path,
    runtimes: &HashMap<String, Arc<MemoryRuntime>>,
    how: Register,
) {
    let t0 = Instant::now();
    let store = Arc::new(RedbStore::open(path).unwrap());
    let opened = t0.elapsed();
    let mut builder = Engine::builder().config(config()).store(store);
    if how == Register::Factory {
        let runtimes = runtimes.clone();
        builder = builder.runtime_factory(move |d: &Device, _: &str| {
            runtimes
                .get(&d.name)
                .map(|rt| rt.clone() as Arc<dyn Runtime>)
        });
    }
    // Subscribed before the driver has had a turn: no recovery event is missed.
    let mut events = builder.subscribe();
    let engine = builder.try_start().unwrap();
    // The first answer comes once the load is done.
    let job = engine.jobs().await.unwrap();
    let loaded = t0.elapsed();
    assert_eq!(job.len(), 1);
    let in_flight = job[0].count(RobotStatus::Deploying);
    if how == Register::AddDevices {
        let all = runtimes
            .iter()
            .map(|(name, rt)| (device(name), rt.clone() as Arc<dyn Runtime>))
            .collect();
        engine.add_devices(all).await.unwrap();
    }
    let registered = t0.elapsed();
    // Resumed: every deployment adopted and reported Running again (its restored machine
    // inspected what it adopted), every robot in flight carried on.
    let (mut adopted, mut resumed) = (0usize, 0usize);
    let mut running = std::collections::HashSet::new();
    while adopted < DEVICES * PER_DEVICE
        || resumed < in_flight
        || running.len() < DEVICES * PER_DEVICE
    {
        match events.recv().await {
            Ok(EngineEvent::Recovery(a)) => match *a {
                RecoveryAction::Adopted { .. } => adopted += 1,
                RecoveryAction::RobotResumed { .. } => resumed += 1,
                other => panic!("unexpected recovery action {other:?}"),
            },
            Ok(EngineEvent::Deployment(s)) if s.is_running() && s.restart_count == 0 => {
                running.insert(s.id);
            }
            Ok(_) => {}
            Err(e) => panic!("missed recovery events: {e}"),
        }
    }
    let reconciled = t0.elapsed();
    // Every deployment is Running, from the engine's own answer too.
    let all = engine.deployments().await.unwrap();
    let running = all
        .iter()
        .filter(|s| s.is_running() && s.restart_count == 0)
        .count();
    let resumed_at = t0.elapsed();
    if let Some(other) = all
        .iter()
        .find(|s| !(s.is_running() && s.restart_count == 0))
    {
        panic!(
            "{running} of {} deployments running; for example {other:?}",
            all.len()
        );
    }
    assert_eq!(running, DEVICES * PER_DEVICE);
    println!(
        "recovery/time ({how:?}): open {:.0} ms, load {:.0} ms, re-register {} devices {:.0} ms, \
         reconcile {:.0} ms; total to resume {:.0} ms ({} deployments adopted, {} robots in \
         flight carried on)",
        opened.as_secs_f64() * 1e3,
        (loaded - opened).as_secs_f64() * 1e3,
        DEVICES + ROBOTS,
        (registered - loaded).as_secs_f64() * 1e3,
        (reconciled - registered).as_secs_f64() * 1e3,
        resumed_at.as_secs_f64() * 1e3,
        adopted,
        resumed,
    );
    engine.detach().await.unwrap();
}
