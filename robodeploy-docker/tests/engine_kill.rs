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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, RemoveContainerOptions};
use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::Placement as ComponentPlacement;
use robodeploy_core::model::*;
use robodeploy_core::runtime::{Runtime, labels};
use robodeploy_core::store::{RedbStore, Store, Table};
use robodeploy_docker::test_image::{DEFAULT_BUSYBOX, busybox_rootfs_with};
use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement, TASK_LABEL};

/// Set in the child: the directory of the store it runs its engine on.
const AGENT_ROOT: &str = "ROBODEPLOY_TEST_AGENT_ROOT";
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
        let rt = DockerRuntime::local(Placement::Device).expect("runtime");
        let device = Device::new(robot(i), Architecture::Amd64, DeviceRuntime::Docker);
        engine
            .add_device(device.clone(), Arc::new(rt))
            .await
            .expect("device");
        devices.push(device);
    }
    engine
        .add_package(app(&package, &image))
        .await
        .expect("package");
    engine
        .add_fleet(Fleet {
            name: "fleet".into(),
            labels: Default::default(),
            robots: devices,
        })
        .await
        .expect("fleet");
    let id = engine
        .create_job(job(&package), Some("kill-test-job"))
        .await
        .expect("job");
    let report = engine
        .wait_for_job(id, Duration::from_secs(180))
        .await
        .expect("job end");
    println!("job {:?}", report.status);
    for r in &report.robots {
        println!("robot {} {:?} {:?}", r.robot, r.status, r.failure);
        if let Some(d) = &r.failure_detail {
            println!("detail {}: {d}", r.robot);
        }
    }
    // After a restart, deployments come back once their runtimes have been listed: wait for
    // those of the robots in sync (each has one) before printing them.
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
            d.executables[0].device.clone().unwrap_or_default(),
            d.restart_count
        );
    }
    engine.detach().await.expect("detach");
}

/// A long-running container; Docker enforces its restart policy.
fn app(package: &str, image: &str) -> Package {
    Package {
        name: package.into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: ComponentPlacement::Device {
                runtime: DeviceRuntime::Docker,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: vec![Executable {
                name: "node".into(),
                image: Some(image.into()),
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

fn job(package: &str) -> DeploymentJobRequest {
    DeploymentJobRequest {
        fleet: "fleet".into(),
        application: package.into(),
        application_version: Version::new("1"),
        launch_config: LaunchConfig {
            package_name: package.into(),
            launch_file: "app.launch".into(),
            pre_launch_file: Some("/scripts/pre.sh".into()),
            post_launch_file: Some("/scripts/post.sh".into()),
            environment_variables: Default::default(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: 34,
            failure_threshold_percentage: 50,
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    }
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

/// The test image (busybox plus the scripts), tagged by a digest of the scripts so an image of
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
        let tar = busybox_rootfs_with(Path::new(DEFAULT_BUSYBOX), &refs)
            .expect("reading busybox (apt-get install busybox-static)");
        rt.import_rootfs(IMAGE_REPO, &tag, tar)
            .await
            .expect("importing the test image");
    }
    image
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

struct Outcome {
    /// What every agent printed.
    text: String,
    /// robot → "Status Failure".
    robots: BTreeMap<String, String>,
    /// robot → restart count of its deployment.
    restarts: BTreeMap<String, u64>,
}

/// Starts an agent whose output goes to `root/agent-N.log` (N counts the agents of a root).
fn spawn_agent(fleet: &TestFleet, image: &str) -> std::process::Child {
    let n = std::fs::read_dir(&fleet.root)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        })
        .count();
    let log = std::fs::File::create(fleet.root.join(format!("agent-{n}.log"))).unwrap();
    std::process::Command::new(std::env::current_exe().unwrap())
        .env(AGENT_ROOT, &fleet.root)
        .env(AGENT_PACKAGE, &fleet.package)
        .env(AGENT_IMAGE, image)
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

fn parse(out: &str) -> (BTreeMap<String, String>, BTreeMap<String, u64>) {
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
    (robots, restarts)
}

/// Runs the job on a fresh fleet, killing the agent at each of `kills` (delays after its start),
/// then lets a last agent run to the end. Returns the outcome it printed.
async fn run(fleet: &TestFleet, image: &str, kills: &[u64]) -> Outcome {
    for &delay in kills {
        let mut child = spawn_agent(fleet, image);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // SIGKILL: no destructor, no flush, nothing of the engine's runs after this.
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut child = spawn_agent(fleet, image);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let text = agent_logs(&fleet.root);
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

/// Deployment ids per robot in the store: a live deployment keeps its request under its id, one
/// that ended keeps its last status under `id/final`. Both count.
fn stored_deployments(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let store = RedbStore::open(root.join("store.redb")).unwrap();
    let mut per_robot: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
    per_robot
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
    let rt = DockerRuntime::local(Placement::Device).expect("local Docker client");
    if let Err(e) = rt.health().await {
        assert!(
            !std::env::var("ROBODEPLOY_REQUIRE_DOCKER").is_ok_and(|v| v == "1"),
            "ROBODEPLOY_REQUIRE_DOCKER=1 but no Docker engine answers: {e}"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: no Docker engine reachable ({e}). \
             Set ROBODEPLOY_REQUIRE_DOCKER=1 to make this a failure. !!!!!!!!\n"
        );
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
