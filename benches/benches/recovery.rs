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

use std::sync::Arc;
use std::time::{Duration, Instant};

use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent, RecoveryAction};
use robodeploy_core::model::*;
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_core::store::{MemoryStore, RedbStore, Store, Table, WriteBatch};

const DEVICES: usize = 100;
const PER_DEVICE: usize = 100;
const ROBOTS: usize = 100_000;

fn package(name: &str) -> Package {
    Package {
        name: name.into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: Placement::Device {
                runtime: DeviceRuntime::Preinstalled,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: vec![Executable {
                name: "node".into(),
                image: None,
                command: vec!["/usr/bin/node".into()],
                shell: false,
                working_dir: None,
                env: Default::default(),
                ports: vec![],
                mounts: vec![],
            }],
        }],
    }
}

/// Health checks out of the way; room for every event of the restore.
fn config() -> EngineConfig {
    let mut c = EngineConfig::default().with_health_interval(Duration::from_secs(3600));
    c.event_capacity = 1 << 20;
    c
}

fn device(name: &str) -> Device {
    Device::new(name, Architecture::Amd64, DeviceRuntime::Preinstalled)
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
        let req = DeploymentRequest {
            name: format!("dep-{i}"),
            package: "app".into(),
            version: Version::new("1"),
            labels: Default::default(),
            devices: [("main".to_owned(), devices[i % DEVICES].0.clone())].into(),
            depends_on: vec![],
            volumes: vec![],
            routed_network: None,
            restart_policy: None,
            env: Default::default(),
        };
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
    engine
        .add_fleet(robodeploy_core::model::Fleet {
            name: "fleet".into(),
            labels: Default::default(),
            robots: fleet,
        })
        .await
        .unwrap();
    let job = DeploymentJobRequest {
        fleet: "fleet".into(),
        application: "app".into(),
        application_version: Version::new("1"),
        launch_config: LaunchConfig {
            package_name: "app".into(),
            launch_file: "app.launch".into(),
            pre_launch_file: Some("/opt/pre.sh".into()),
            post_launch_file: None,
            environment_variables: Default::default(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: 10,
            failure_threshold_percentage: 5,
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    };
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

    // The restart.
    let t0 = Instant::now();
    let store = Arc::new(RedbStore::open(&path).unwrap());
    let opened = t0.elapsed();
    let engine = Engine::builder()
        .config(config())
        .store(store)
        .try_start()
        .unwrap();
    // The first answer comes once the load is done.
    let job = engine.jobs().await.unwrap();
    let loaded = t0.elapsed();
    assert_eq!(job.len(), 1);
    let in_flight = job[0].count(RobotStatus::Deploying);
    let mut events = engine.subscribe();
    // The application hands its whole fleet back in one call.
    let all = fleet
        .devices
        .iter()
        .chain(fleet.robots.iter())
        .map(|(name, rt)| (device(name), rt.clone() as Arc<dyn Runtime>))
        .collect();
    engine.add_devices(all).await.unwrap();
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
        "recovery/time: open {:.0} ms, load {:.0} ms, re-register {} devices {:.0} ms, \
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
    let _ = std::fs::remove_dir_all(&dir);
}
