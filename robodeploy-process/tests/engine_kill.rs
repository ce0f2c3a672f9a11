//! Kill the engine anywhere, lose nothing: this test runs an engine in a child process (itself,
//! re-executed) that rolls out a job to a fleet of local process robots with a durable store,
//! and SIGKILLs it at seeded random instants, restarting it each time, until the job ends. Then
//! it checks, against a run without kills:
//!
//! - every robot ends with the same outcome (the same two robots fail their pre-launch script);
//! - no robot was deployed twice (one deployment per robot in the store, one instance running);
//! - nothing was restarted that kept running (restart counts 0, instance pids unchanged since
//!   they started), and no process is left over once the fleet is torn down.
//!
//! `ROBODEPLOY_KILL_SEED` replays another seed; each run prints the kill instants it used.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{SHIM, TempRoot};
use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_core::runtime::{InstanceState, Runtime, labels};
use robodeploy_core::store::{RedbStore, Store, Table};
use robodeploy_process::{ProcessRuntime, Shim};

/// Set in the child: the directory of the fleet and store it runs its engine on.
const AGENT_ROOT: &str = "ROBODEPLOY_TEST_AGENT_ROOT";
const ROBOTS: usize = 10;
/// Robots whose pre-launch script fails.
const FAILING: [usize; 2] = [3, 8];
const RUNS: u64 = 6;
const KILLS_PER_RUN: usize = 9;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::var_os(AGENT_ROOT) {
        Some(root) => rt.block_on(agent(root.into())),
        None => {
            rt.block_on(a_job_survives_sigkill_at_random_points());
            println!("test a_job_survives_sigkill_at_random_points ... ok");
        }
    }
}

fn robot(i: usize) -> String {
    format!("robot-{i}")
}

/// The child: an engine on `root/store.redb` with one process runtime per robot, which
/// creates (or, after a restart, finds again by its token) the job, waits for its end, prints
/// the outcome as JSON lines and exits leaving the executables running.
async fn agent(root: PathBuf) {
    let store = Arc::new(RedbStore::open(root.join("store.redb")).expect("store"));
    let config = EngineConfig::default()
        .with_health_interval(Duration::from_millis(200))
        .with_lifecycle(LifecycleConfig {
            stop_grace: Duration::from_secs(1),
            ..LifecycleConfig::default()
        });
    let engine = Engine::builder()
        .config(config)
        .store(store)
        .try_start()
        .expect("engine");
    // What this agent saw, for a failure's post-mortem (the test prints the logs it kept).
    let mut events = engine.subscribe();
    tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            match e {
                EngineEvent::Recovery(a) => println!("event {a:?}"),
                EngineEvent::Deployment(s) if !s.errors.is_empty() => {
                    println!(
                        "event {} {:?} {:?} {:?}",
                        s.name, s.phase, s.status, s.errors
                    )
                }
                _ => {}
            }
        }
    });
    let mut devices = Vec::new();
    for i in 0..ROBOTS {
        let rt = ProcessRuntime::builder(root.join("robots").join(robot(i)))
            .shim(Shim::Program(SHIM.into()))
            .build()
            .expect("runtime");
        let device = Device::new(robot(i), Architecture::Amd64, DeviceRuntime::Preinstalled);
        engine
            .add_device(device.clone(), Arc::new(rt))
            .await
            .expect("device");
        devices.push(device);
    }
    engine.add_package(app()).await.expect("package");
    engine
        .add_fleet(Fleet {
            name: "fleet".into(),
            labels: Default::default(),
            robots: devices,
        })
        .await
        .expect("fleet");
    let id = engine
        .create_job(job(&root), Some("kill-test-job"))
        .await
        .expect("job");
    let report = engine
        .wait_for_job(id, Duration::from_secs(120))
        .await
        .expect("job end");
    println!("job {:?}", report.status);
    for r in &report.robots {
        println!("robot {} {:?} {:?}", r.robot, r.status, r.failure);
        if let Some(d) = &r.failure_detail {
            println!("detail {}: {d}", r.robot);
        }
    }
    for d in engine.deployments().await.expect("deployments") {
        println!(
            "deployment {} {} {}",
            d.id,
            d.executables
                .first()
                .and_then(|e| e.device.clone())
                .unwrap_or_else(|| format!("(waiting: {:?})", d.status)),
            d.restart_count
        );
    }
    engine.detach().await.expect("detach");
}

fn app() -> Package {
    Package {
        name: "app".into(),
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
                command: vec!["sleep".into(), "600".into()],
                shell: false,
                working_dir: None,
                env: Default::default(),
                ports: vec![],
                mounts: vec![],
            }],
        }],
    }
}

fn job(root: &Path) -> DeploymentJobRequest {
    DeploymentJobRequest {
        fleet: "fleet".into(),
        application: "app".into(),
        application_version: Version::new("1"),
        launch_config: LaunchConfig {
            package_name: "app".into(),
            launch_file: "app.launch".into(),
            pre_launch_file: Some(root.join("pre.sh").display().to_string()),
            post_launch_file: Some(root.join("post.sh").display().to_string()),
            environment_variables: Default::default(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: 30,
            failure_threshold_percentage: 50,
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    }
}

/// Writes the fleet's scripts: pre-launch takes a moment and fails on the FAILING robots.
fn prepare(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let failing: Vec<String> = FAILING.iter().map(|&i| robot(i)).collect();
    let pre = format!(
        "#!/bin/sh\nsleep 0.1\ncase \"$ROBODEPLOY_ROBOT\" in {}) exit 1;; esac\nexit 0\n",
        failing.join("|")
    );
    let post = "#!/bin/sh\nsleep 0.05\nexit 0\n";
    for (name, text) in [("pre.sh", pre.as_str()), ("post.sh", post)] {
        let p = root.join(name);
        std::fs::write(&p, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A small deterministic generator (xorshift64*), so kill instants replay from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

struct Outcome {
    /// What the last agent printed.
    text: String,
    /// robot → "Status Failure".
    robots: BTreeMap<String, String>,
    /// robot → restart count of its deployment.
    restarts: BTreeMap<String, u64>,
}

/// Starts an agent whose output goes to `root/agent-N.log` (N counts the agents of a root).
fn spawn_agent(root: &Path) -> std::process::Child {
    let n = std::fs::read_dir(root)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        })
        .count();
    let log = std::fs::File::create(root.join(format!("agent-{n}.log"))).unwrap();
    std::process::Command::new(std::env::current_exe().unwrap())
        .env(AGENT_ROOT, root)
        .stdout(log)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Every agent's log under `root`, in order.
fn agent_logs(root: &Path) -> String {
    let mut out = String::new();
    for n in 0.. {
        let Ok(text) = std::fs::read_to_string(root.join(format!("agent-{n}.log"))) else {
            break;
        };
        out.push_str(&format!("--- agent {n}\n{text}"));
    }
    out
}

fn parse(out: &str) -> Outcome {
    let mut robots = BTreeMap::new();
    let mut restarts = BTreeMap::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["robot", name, rest @ ..] => {
                robots.insert((*name).to_owned(), rest.join(" "));
            }
            ["deployment", _, device, count] => {
                restarts.insert((*device).to_owned(), count.parse().unwrap());
            }
            _ => {}
        }
    }
    Outcome {
        text: out.to_owned(),
        robots,
        restarts,
    }
}

/// Runs the job on a fresh fleet under `root`, killing the agent at each of `kills` (delays
/// after its start), then lets a last agent run to the end. Returns the outcome it printed.
async fn run(root: &Path, kills: &[u64]) -> Outcome {
    prepare(root);
    for &delay in kills {
        let mut child = spawn_agent(root);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let pid = child.id() as i32;
        // SIGKILL: no destructor, no flush, nothing of the engine's runs after this.
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::Signal::KILL,
        );
        let _ = child.wait();
    }
    let mut child = spawn_agent(root);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let text = agent_logs(root);
    assert!(status.success(), "the last agent failed: {text}");
    let last = text.rsplit("--- agent").next().unwrap_or_default();
    assert!(last.contains("job Succeeded"), "{text}");
    let mut outcome = parse(last);
    outcome.text = text;
    outcome
}

/// What the store and the runtimes hold once the job ended: deployments per robot, instances
/// running per robot with their start times.
async fn inspect_fleet(
    root: &Path,
) -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, usize>) {
    let store = RedbStore::open(root.join("store.redb")).unwrap();
    let mut per_robot: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // A live deployment keeps its request under its id; one that ended keeps its last status
    // under `id/final`. Both count.
    for (key, value) in store.scan(Table::Deployments).unwrap() {
        let v: serde_json::Value = serde_json::from_slice(&value).unwrap();
        let (id, device) = match key.split_once('/') {
            None => (key.clone(), v["request"]["devices"]["main"].as_str()),
            Some((id, "final")) => (id.to_owned(), v["executables"][0]["device"].as_str()),
            Some(_) => continue,
        };
        per_robot
            .entry(device.unwrap().to_owned())
            .or_default()
            .insert(id);
    }
    let mut running = BTreeMap::new();
    for i in 0..ROBOTS {
        let rt = ProcessRuntime::builder(root.join("robots").join(robot(i)))
            .shim(Shim::Program(SHIM.into()))
            .build()
            .unwrap();
        let all = rt
            .list(&BTreeMap::from([(
                labels::MANAGED.to_owned(),
                "true".to_owned(),
            )]))
            .await
            .unwrap();
        let up = all
            .iter()
            .filter(|i| matches!(i.state, InstanceState::Running { .. }))
            .count();
        running.insert(robot(i), up);
    }
    (per_robot, running)
}

/// Stops every instance the fleet runs, then checks no process of it is left.
async fn tear_down(root: &Path) {
    for i in 0..ROBOTS {
        let rt = ProcessRuntime::builder(root.join("robots").join(robot(i)))
            .shim(Shim::Program(SHIM.into()))
            .build()
            .unwrap();
        for inst in rt.list(&BTreeMap::new()).await.unwrap() {
            rt.stop(&inst.id, Duration::from_secs(2)).await.unwrap();
            rt.remove(&inst.id).await.unwrap();
        }
    }
    let needle = root.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                    .unwrap_or(false)
            })
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "processes left over: {left:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_job_survives_sigkill_at_random_points() {
    let seed: u64 = std::env::var("ROBODEPLOY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let reference_root = TempRoot::new("kill-reference");
    let reference = run(reference_root.path(), &[]).await;
    let expected_failed: BTreeSet<String> = FAILING.iter().map(|&i| robot(i)).collect();
    let failed: BTreeSet<String> = reference
        .robots
        .iter()
        .filter(|(_, s)| s.starts_with("Failed"))
        .map(|(r, _)| r.clone())
        .collect();
    assert_eq!(failed, expected_failed);
    tear_down(reference_root.path()).await;

    let mut rng = Rng(seed | 1);
    let mut total_kills = 0;
    for run_no in 0..RUNS {
        let root = TempRoot::new(&format!("kill-{run_no}"));
        let kills: Vec<u64> = (0..KILLS_PER_RUN).map(|_| rng.between(20, 450)).collect();
        println!("run {run_no}: SIGKILL after {kills:?} ms (seed {seed})");
        let outcome = run(root.path(), &kills).await;
        total_kills += kills.len();
        assert_eq!(
            outcome.robots, reference.robots,
            "run {run_no}, kills {kills:?}\n{}",
            outcome.text
        );
        // Nothing that kept running was restarted.
        assert!(
            outcome.restarts.values().all(|&n| n == 0),
            "run {run_no}: restarts {:?}",
            outcome.restarts
        );
        let (deployments, running) = inspect_fleet(root.path()).await;
        for i in 0..ROBOTS {
            let name = robot(i);
            let in_sync = !expected_failed.contains(&name);
            let deployed = deployments.get(&name).map_or(0, BTreeSet::len);
            assert_eq!(
                deployed,
                usize::from(in_sync),
                "run {run_no}: {name} deployed {deployed} times (kills {kills:?})"
            );
            assert_eq!(
                running[&name],
                usize::from(in_sync),
                "run {run_no}: {name} runs {} instances (kills {kills:?})",
                running[&name]
            );
        }
        tear_down(root.path()).await;
    }
    assert!(total_kills >= 50);
}
