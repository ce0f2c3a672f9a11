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
use robodeploy_core::model::{DeviceRuntime, RestartPolicy};
use robodeploy_core::runtime::{InstanceState, Runtime, labels};
use robodeploy_process::{ProcessRuntime, Shim};
use robodeploy_testkit::engine::add_package_and_fleet;
use robodeploy_testkit::kill::{
    AGENT_ROOT, Outcome, Rng, agent_engine, run_agents, run_job, stored_deployments,
};
use robodeploy_testkit::model::{device, exe, job, package};

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
/// the outcome as lines and exits leaving the executables running.
async fn agent(root: PathBuf) {
    let engine = agent_engine(&root);
    for i in 0..ROBOTS {
        let device = device(&robot(i), DeviceRuntime::Preinstalled);
        engine
            .add_device(device, Arc::new(runtime(&root, i)))
            .await
            .expect("device");
    }
    let app = package(
        "app",
        "1",
        RestartPolicy::Always,
        [exe("node", ["sleep", "600"])],
    );
    add_package_and_fleet(&engine, app).await;
    let script = |name: &str| Some(root.join(name).display().to_string());
    let job = job("fleet", "app", script("pre.sh"), script("post.sh"), 30, 50);
    run_job(engine, job, Duration::from_secs(120)).await;
}

/// Robot `i`'s process runtime under `root/robots`.
fn runtime(root: &Path, i: usize) -> ProcessRuntime {
    ProcessRuntime::builder(root.join("robots").join(robot(i)))
        .shim(Shim::Program(SHIM.into()))
        .build()
        .expect("runtime")
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

/// Runs the job on a fresh fleet under `root`, killing the agent at each of `kills` (delays
/// after its start), then lets a last agent run to the end. Returns the outcome it printed.
async fn run(root: &Path, kills: &[u64]) -> Outcome {
    prepare(root);
    run_agents(root, &[], kills).await
}

/// What the store and the runtimes hold once the job ended: deployments per robot, instances
/// running per robot with their start times.
async fn inspect_fleet(
    root: &Path,
) -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, usize>) {
    let per_robot = stored_deployments(root);
    let mut running = BTreeMap::new();
    for i in 0..ROBOTS {
        let rt = runtime(root, i);
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
        let rt = runtime(root, i);
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
