//! Kill the engine anywhere, lose nothing, with containers: this test runs an engine in a child
//! process (itself, re-executed) that rolls out a job to a fleet of Docker robots (each a device
//! served by its own [`DockerRuntime`] on the local engine) with a durable store, and SIGKILLs
//! it at seeded random instants in the middle of the job, restarting it each time, until the job
//! ends. Then it checks, against a run without kills:
//!
//! - every robot ends with the same outcome (the same robots fail their pre-launch script, which
//!   runs as a one-off container of the application's image);
//! - no robot was deployed twice (one deployment per in-sync robot in the store);
//! - exactly one running container per in-sync robot and none for the failed ones, no exited or
//!   half-made container, no one-off script container left behind (one a kill left created and
//!   never started is removed by the runtime's sweep of abandoned task containers);
//! - nothing was restarted (restart counts 0, in the engine and in Docker);
//! - once the fleet is torn down, no container of the test is left.
//!
//! Each run uses its own package name, and every container the test looks at carries it (as the
//! `io.robodeploy.package` label, or in a script container's environment), so parallel tests'
//! containers are never counted nor removed. Without a Docker engine the test is skipped loudly,
//! or fails when `ROBODEPLOY_REQUIRE_DOCKER=1`. `ROBODEPLOY_KILL_SEED` replays another seed; each
//! run prints the kill instants it used.

use robodeploy_testkit::skip::docker_or_skip;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, RemoveContainerOptions};
use robodeploy_core::model::{DeviceRuntime, RestartPolicy};
use robodeploy_core::runtime::{Runtime, labels};
use robodeploy_docker::test_image::rootfs_with;
use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement, TASK_LABEL};
use robodeploy_testkit::engine::add_package_and_fleet;
use robodeploy_testkit::kill::{
    AGENT_ROOT, Outcome, Rng, agent_engine, run_agents, run_job, stored_deployments,
};
use robodeploy_testkit::model::{DOCKER, device, exe, job, package_on};

/// Set in the child: the package (application) name of this run.
const AGENT_PACKAGE: &str = "ROBODEPLOY_TEST_AGENT_PACKAGE";
/// Set in the child: the image the application and its scripts run in.
const AGENT_IMAGE: &str = "ROBODEPLOY_TEST_AGENT_IMAGE";
const IMAGE_REPO: &str = "robodeploy-test/busybox-kill";
const ROBOTS: usize = 6;
/// Robots whose pre-launch script fails.
const FAILING: [usize; 2] = [1, 4];
const RUNS: u64 = 3;
const KILLS_PER_RUN: usize = 5;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match std::env::var_os(AGENT_ROOT) {
        Some(root) => rt.block_on(agent(
            root.into(),
            std::env::var(AGENT_PACKAGE).unwrap(),
            std::env::var(AGENT_IMAGE).unwrap(),
        )),
        None => {
            rt.block_on(a_container_job_survives_sigkill_at_random_points());
            println!("test a_container_job_survives_sigkill_at_random_points ... ok");
        }
    }
}

fn robot(i: usize) -> String {
    format!("robot-{i}")
}

/// The child: an engine on `root/store.redb` with one Docker runtime per robot, which creates
/// (or, after a restart, finds again by its token) the job, waits for its end, prints the outcome
/// as lines and exits leaving the containers running.
async fn agent(root: PathBuf, package: String, image: String) {
    let engine = agent_engine(&root);
    for i in 0..ROBOTS {
        let rt = DockerRuntime::local(Placement::Device).expect("runtime");
        let device = device(&robot(i), DeviceRuntime::Docker);
        engine
            .add_device(device, Arc::new(rt))
            .await
            .expect("device");
    }
    // A long-running container; Docker enforces its restart policy.
    let node = exe("node", ["sleep", "600"]).with_image(image);
    let app = package_on(&package, "1", DOCKER, RestartPolicy::Always, [node]);
    add_package_and_fleet(&engine, app).await;
    let script = |path: &str| Some(path.to_owned());
    let job = job(
        "fleet",
        &package,
        script("/scripts/pre.sh"),
        script("/scripts/post.sh"),
        34,
        50,
    );
    run_job(engine, job, Duration::from_secs(180)).await;
}

/// The job's scripts, baked into the image: pre-launch takes a moment and fails on the FAILING
/// robots (by `ROBODEPLOY_ROBOT`, which the engine sets), post-launch succeeds.
fn scripts() -> Vec<(&'static str, Vec<u8>)> {
    let failing: Vec<String> = FAILING.iter().map(|&i| robot(i)).collect();
    let pre = format!(
        "#!/bin/sh\nsleep 0.2\ncase \"$ROBODEPLOY_ROBOT\" in {}) echo \"no $ROBODEPLOY_ROBOT\" >&2; exit 1;; esac\nexit 0\n",
        failing.join("|")
    );
    let post = "#!/bin/sh\nsleep 0.1\nexit 0\n".to_owned();
    vec![
        ("/scripts/pre.sh", pre.into_bytes()),
        ("/scripts/post.sh", post.into_bytes()),
    ]
}

/// The test image (the host's commands plus the scripts), tagged by a digest of the scripts so an image of
/// older scripts is never reused. Built once; later runs find it.
async fn ensure_image(rt: &DockerRuntime) -> String {
    let files = scripts();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, data) in &files {
        for b in path.as_bytes().iter().chain(data) {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let tag = format!("{hash:016x}");
    let image = format!("{IMAGE_REPO}:{tag}");
    if !rt.has_image(&image).await.expect("asking for the image") {
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (*p, d.as_slice())).collect();
        let tar = rootfs_with(&refs).expect("making the test image's root filesystem");
        rt.import_rootfs(IMAGE_REPO, &tag, tar)
            .await
            .expect("importing the test image");
    }
    image
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One run's fleet: its directory (store and agent logs) and its package name, unique to this
/// process and run. On drop, force-removes every container of the package (a safety net: the
/// test tears down and checks through the runtime first) and deletes the directory.
struct TestFleet {
    root: PathBuf,
    package: String,
}

impl TestFleet {
    fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let unique = format!("{:x}{:x}{n}", std::process::id(), nanos % 0x10_0000);
        let root = std::env::temp_dir().join(format!("robodeploy-docker-kill-{tag}-{unique}"));
        std::fs::create_dir_all(&root).unwrap();
        TestFleet {
            root,
            package: format!("killapp-{unique}"),
        }
    }
}

impl Drop for TestFleet {
    fn drop(&mut self) {
        let package = self.package.clone();
        let sweep = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(async {
                let Ok(docker) = docker().await else {
                    return;
                };
                let (apps, tasks) = containers_of(&docker, &package).await;
                let tasks = tasks.iter().filter_map(|t| t.split(' ').next());
                for id in apps.iter().map(|c| c.id.as_str()).chain(tasks) {
                    let _ = docker
                        .remove_container(
                            id,
                            Some(RemoveContainerOptions {
                                force: true,
                                v: true,
                                ..RemoveContainerOptions::default()
                            }),
                        )
                        .await;
                }
            });
        });
        let _ = sweep.join();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn docker() -> Result<Docker, bollard::errors::Error> {
    Docker::connect_with_defaults()?.negotiate_version().await
}

/// One application container, as Docker reports it.
#[derive(Debug)]
struct Container {
    id: String,
    deployment: String,
    running: bool,
    restart_count: i64,
}

/// Every container of `package` on the engine, running or not: the application's (by label)
/// and the one-off script containers (by the application the engine put in their environment).
async fn containers_of(docker: &Docker, package: &str) -> (Vec<Container>, Vec<String>) {
    let list = |label: String| {
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("label".to_owned(), vec![label])])),
            ..ListContainersOptions::default()
        }))
    };
    let mut apps = Vec::new();
    for c in list(format!("{}={package}", labels::PACKAGE))
        .await
        .expect("listing containers")
    {
        let Some(id) = c.id else { continue };
        let Ok(i) = docker.inspect_container(&id, None).await else {
            continue; // removed meanwhile
        };
        apps.push(Container {
            deployment: c
                .labels
                .and_then(|l| l.get(labels::DEPLOYMENT).cloned())
                .unwrap_or_default(),
            running: i.state.and_then(|s| s.running).unwrap_or(false),
            restart_count: i.restart_count.unwrap_or(0),
            id,
        });
    }
    let mut tasks = Vec::new();
    let mark = format!("ROBODEPLOY_APPLICATION={package}");
    for c in list(format!("{TASK_LABEL}=true"))
        .await
        .expect("listing task containers")
    {
        let Some(id) = c.id else { continue };
        let Ok(i) = docker.inspect_container(&id, None).await else {
            continue;
        };
        if i.config
            .and_then(|c| c.env)
            .is_some_and(|env| env.contains(&mark))
        {
            let state = i.state.and_then(|s| s.status).map(|s| s.to_string());
            tasks.push(format!("{id} ({})", state.unwrap_or_default()));
        }
    }
    (apps, tasks)
}

/// Runs the job on a fresh fleet, killing the agent at each of `kills` (delays after its start),
/// then lets a last agent run to the end. Returns the outcome it printed.
async fn run(fleet: &TestFleet, image: &str, kills: &[u64]) -> Outcome {
    let env = [
        (AGENT_PACKAGE, fleet.package.as_str()),
        (AGENT_IMAGE, image),
    ];
    run_agents(&fleet.root, &env, kills).await
}

/// Checks the store and the engine's containers once the job ended (see the module docs).
async fn check_fleet(fleet: &TestFleet, outcome: &Outcome, what: &str) {
    let failed: BTreeSet<String> = FAILING.iter().map(|&i| robot(i)).collect();
    assert!(
        outcome.restarts.values().all(|&n| n == 0),
        "{what}: restarts {:?}\n{}",
        outcome.restarts,
        outcome.text
    );
    let deployments = stored_deployments(&fleet.root);
    let robot_of: HashMap<&str, &str> = deployments
        .iter()
        .flat_map(|(r, ids)| ids.iter().map(move |id| (id.as_str(), r.as_str())))
        .collect();
    let docker = docker().await.unwrap();
    let (_, tasks) = containers_of(&docker, &fleet.package).await;
    // Script containers remove themselves when they exit, even after a kill. One the killed
    // engine had created but not started yet is the one thing a kill can leave (Docker removes
    // only what ran): the runtime removes it once it is older than its abandoned-task age, when
    // it lists its instances. With an age of 2 s, and 3 s waited, every such container is gone.
    let (never_started, ran): (Vec<&String>, Vec<&String>) =
        tasks.iter().partition(|t| t.ends_with("(created)"));
    assert_eq!(
        ran,
        Vec::<&String>::new(),
        "{what}: script containers left behind\n{}",
        outcome.text
    );
    if !never_started.is_empty() {
        println!(
            "  {what}: {} script container(s) created, never started, by a killed agent; swept",
            never_started.len()
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        let config = DockerConfig::new(Endpoint::Local, Placement::Device)
            .with_abandoned_task_age(Duration::from_secs(2));
        let sweeper = DockerRuntime::new(config).expect("local Docker client");
        sweeper.list(&BTreeMap::new()).await.expect("listing");
    }
    let (apps, tasks) = containers_of(&docker, &fleet.package).await;
    assert_eq!(
        tasks,
        Vec::<String>::new(),
        "{what}: abandoned script containers were not swept\n{}",
        outcome.text
    );
    let mut running: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &apps {
        let robot = robot_of.get(c.deployment.as_str()).copied();
        assert!(
            robot.is_some() && c.running && c.restart_count == 0,
            "{what}: container {c:?} (of robot {robot:?}) should not be there like this\n{}",
            outcome.text
        );
        *running.entry(robot.unwrap_or_default()).or_default() += 1;
    }
    for i in 0..ROBOTS {
        let name = robot(i);
        let in_sync = !failed.contains(&name);
        let deployed = deployments.get(&name).map_or(0, BTreeSet::len);
        assert_eq!(
            deployed,
            usize::from(in_sync),
            "{what}: {name} deployed {deployed} times\n{}",
            outcome.text
        );
        let up = running.get(name.as_str()).copied().unwrap_or(0);
        assert_eq!(
            up,
            usize::from(in_sync),
            "{what}: {name} runs {up} containers\n{}",
            outcome.text
        );
    }
}

/// Stops and removes every container of the fleet through the runtime, then checks that none
/// of the package is left on the engine.
async fn tear_down(rt: &DockerRuntime, fleet: &TestFleet) {
    let selector = BTreeMap::from([(labels::PACKAGE.to_owned(), fleet.package.clone())]);
    for inst in rt.list(&selector).await.unwrap() {
        rt.stop(&inst.id, Duration::from_secs(1)).await.unwrap();
        rt.remove(&inst.id).await.unwrap();
    }
    let docker = docker().await.unwrap();
    let (apps, tasks) = containers_of(&docker, &fleet.package).await;
    assert!(
        apps.is_empty() && tasks.is_empty(),
        "left over: {apps:?} {tasks:?}"
    );
}

async fn a_container_job_survives_sigkill_at_random_points() {
    let Some(rt) = docker_or_skip(DockerRuntime::local(Placement::Device)) else {
        return;
    };
    if docker_or_skip(rt.health().await).is_none() {
        return;
    }
    let image = ensure_image(&rt).await;
    let seed: u64 = std::env::var("ROBODEPLOY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xd0c_2026);

    // The reference: no kills. Its duration places the kills of the other runs mid-job.
    let reference_fleet = TestFleet::new("reference");
    let started = Instant::now();
    let reference = run(&reference_fleet, &image, &[]).await;
    let job_ms = started.elapsed().as_millis() as u64;
    println!("reference job: {job_ms} ms");
    let expected_failed: BTreeSet<String> = FAILING.iter().map(|&i| robot(i)).collect();
    let failed: BTreeSet<String> = reference
        .robots
        .iter()
        .filter(|(_, s)| s.starts_with("Failed"))
        .map(|(r, _)| r.clone())
        .collect();
    assert_eq!(failed, expected_failed, "{}", reference.text);
    assert_eq!(reference.robots.len(), ROBOTS, "{}", reference.text);
    check_fleet(&reference_fleet, &reference, "reference").await;
    tear_down(&rt, &reference_fleet).await;
    drop(reference_fleet);

    let mut rng = Rng(seed | 1);
    // Each agent spends part of its life starting and recovering: kills spaced by a twelfth to a
    // third of a job keep most of them inside the job.
    let (lo, hi) = (job_ms / 12, job_ms / 3);
    let mut total_kills = 0;
    for run_no in 0..RUNS {
        let fleet = TestFleet::new(&format!("run{run_no}"));
        let kills: Vec<u64> = (0..KILLS_PER_RUN).map(|_| rng.between(lo, hi)).collect();
        println!("run {run_no}: SIGKILL after {kills:?} ms (seed {seed})");
        let outcome = run(&fleet, &image, &kills).await;
        total_kills += kills.len();
        assert_eq!(
            outcome.robots, reference.robots,
            "run {run_no}, kills {kills:?}\n{}",
            outcome.text
        );
        check_fleet(&fleet, &outcome, &format!("run {run_no}, kills {kills:?}")).await;
        tear_down(&rt, &fleet).await;
    }
    assert!(total_kills >= 10);
}
