//! The harness of the tests that SIGKILL an engine in the middle of a job (one for processes,
//! one for containers). The test binary runs itself as a child "agent": an engine on a store
//! in a directory, which creates (or, after a restart, finds again by its token) the job, waits
//! for its end and prints the outcome as lines. The test kills agents at chosen instants, lets
//! a last one finish and reads what it printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent, JobReport};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::{DeploymentJobRequest, RobotStatus};
use robodeploy_core::store::{RedbStore, Store, Table};

use crate::model::COMPONENT;

/// Set in the child: the directory of the store (and fleet) it runs its engine on.
pub const AGENT_ROOT: &str = "ROBODEPLOY_TEST_AGENT_ROOT";

/// The agent's engine on `root/store.redb`: health checked every 200 ms, a one-second stop
/// grace. Its deployment errors and recovery actions are printed as `event …` lines, for a
/// failure's post-mortem.
pub fn agent_engine(root: &Path) -> Engine {
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
    engine
}

/// Creates the agent's job (or, after a restart, finds it again by its token), waits at most
/// `within` for its end, and reports as [`report_and_detach`] does.
pub async fn run_job(engine: Engine, job: DeploymentJobRequest, within: Duration) {
    let id = engine
        .create_job(job, Some("kill-test-job"))
        .await
        .expect("job");
    let report = engine.wait_for_job(id, within).await.expect("job end");
    report_and_detach(engine, &report).await;
}

/// Prints how the job ended (`job <status>`, `robot <name> <status> <failure>`, `detail …`)
/// and, once the deployments of the robots in sync are back (after a restart they return when
/// their runtimes have been listed; at most a minute), each deployment as
/// `deployment <id> <device> <restarts>`. Then detaches: everything keeps running.
pub async fn report_and_detach(engine: Engine, report: &JobReport) {
    println!("job {:?}", report.status);
    for r in &report.robots {
        println!("robot {} {:?} {:?}", r.robot, r.status, r.failure);
        if let Some(d) = &r.failure_detail {
            println!("detail {}: {d}", r.robot);
        }
    }
    let in_sync = report
        .robots
        .iter()
        .filter(|r| r.status == RobotStatus::InSync)
        .count();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut deployments = engine.deployments().await.expect("deployments");
    while deployments.len() < in_sync && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        deployments = engine.deployments().await.expect("deployments");
    }
    for d in deployments {
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

/// What the agents of one run printed.
#[derive(Debug)]
pub struct Outcome {
    /// Every agent's output, each after a `--- agent N` line.
    pub text: String,
    /// robot → `<status> <failure>` as the last agent printed them.
    pub robots: BTreeMap<String, String>,
    /// robot (device name) → restart count of its deployment.
    pub restarts: BTreeMap<String, u64>,
}

/// Starts an agent (this test binary with [`AGENT_ROOT`] set to `root`, and `env`) whose output
/// goes to `root/agent-N.log`, N counting the agents of a root.
pub fn spawn_agent(root: &Path, env: &[(&str, &str)]) -> Child {
    let n = std::fs::read_dir(root)
        .expect("the run's directory")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        })
        .count();
    let log = std::fs::File::create(root.join(format!("agent-{n}.log"))).expect("agent log");
    Command::new(std::env::current_exe().expect("the test binary"))
        .env(AGENT_ROOT, root)
        .envs(env.iter().copied())
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning an agent")
}

/// Every agent's log under `root`, in order.
pub fn agent_logs(root: &Path) -> String {
    let mut out = String::new();
    for n in 0.. {
        let Ok(text) = std::fs::read_to_string(root.join(format!("agent-{n}.log"))) else {
            break;
        };
        out.push_str(&format!("--- agent {n}\n{text}"));
    }
    out
}

/// The robots' outcomes and the deployments' restart counts an agent printed.
pub fn parse(out: &str) -> (BTreeMap<String, String>, BTreeMap<String, u64>) {
    let mut robots = BTreeMap::new();
    let mut restarts = BTreeMap::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["robot", name, rest @ ..] => {
                robots.insert((*name).to_owned(), rest.join(" "));
            }
            ["deployment", _, device, count] => {
                let count = count.parse().expect("a restart count");
                restarts.insert((*device).to_owned(), count);
            }
            _ => {}
        }
    }
    (robots, restarts)
}

/// Runs the job under `root`: an agent SIGKILLed at each of `kills` (milliseconds after its
/// start), then a last agent left to finish, which must exit successfully having printed
/// `job Succeeded`. Says how many kills landed before the job ended.
pub async fn run_agents(root: &Path, env: &[(&str, &str)], kills: &[u64]) -> Outcome {
    for &delay in kills {
        let mut child = spawn_agent(root, env);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // SIGKILL: no destructor, no flush, nothing of the engine's runs after this.
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut child = spawn_agent(root, env);
    let status = tokio::task::spawn_blocking(move || child.wait().expect("the last agent"))
        .await
        .expect("waiting for the last agent");
    let text = agent_logs(root);
    assert!(status.success(), "the last agent failed: {text}");
    let agents: Vec<&str> = text.split("--- agent").skip(1).collect();
    let mid_job = agents[..kills.len()]
        .iter()
        .filter(|a| !a.contains("\njob "))
        .count();
    if !kills.is_empty() {
        println!(
            "  {mid_job} of {} kills landed before the job ended",
            kills.len()
        );
    }
    let last = text.rsplit("--- agent").next().unwrap_or_default();
    assert!(last.contains("job Succeeded"), "{text}");
    let (robots, restarts) = parse(last);
    Outcome {
        text,
        robots,
        restarts,
    }
}

/// A small deterministic generator (xorshift64*), so kill instants replay from a seed.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

/// Deployment ids per robot in the store at `root/store.redb`: a live deployment keeps its
/// request under its id, one that ended keeps its last status under `id/final`. Both count.
pub fn stored_deployments(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let store = RedbStore::open(root.join("store.redb")).expect("store");
    let mut per_robot: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, value) in store
        .scan(Table::Deployments)
        .expect("scanning deployments")
    {
        let v: serde_json::Value = serde_json::from_slice(&value).expect("a stored deployment");
        let (id, device) = match key.split_once('/') {
            None => (key.clone(), v["request"]["devices"][COMPONENT].as_str()),
            Some((id, "final")) => (id.to_owned(), v["executables"][0]["device"].as_str()),
            Some(_) => continue,
        };
        per_robot
            .entry(device.expect("a device").to_owned())
            .or_default()
            .insert(id);
    }
    per_robot
}
