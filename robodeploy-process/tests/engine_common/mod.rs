//! Helpers for the engine tests against real processes: an engine whose devices are process
//! runtimes on temporary roots, packages of shell one-liners, run counters, and waiting for a
//! deployment status that satisfies a predicate.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, EngineConfig, EngineEvent, Until};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_process::ProcessRuntime;
use robodeploy_testkit::model as kit;
use tokio::sync::broadcast;

use crate::common::{TempRoot, builder, processes_with_argv, unique};

/// An engine on `store` with [`fast_lifecycle`] and 200 ms health checks, and one process
/// device `r1` on `root`; the device's runtime too.
pub async fn engine_with_r1(
    store: Arc<dyn robodeploy_core::store::Store>,
    root: &TempRoot,
) -> (Engine, Arc<ProcessRuntime>) {
    let config = EngineConfig::default()
        .with_lifecycle(fast_lifecycle())
        .with_health_interval(Duration::from_millis(200));
    let engine = Engine::builder()
        .config(config)
        .store(store)
        .try_start()
        .expect("the engine starts");
    let rt = Arc::new(builder(root).build().expect("runtime"));
    engine
        .add_device(
            Device::new("r1", Architecture::Amd64, DeviceRuntime::Preinstalled),
            rt.clone(),
        )
        .await
        .expect("add device");
    (engine, rt)
}

/// How long any single wait in these tests may take before the test fails.
pub const T: Duration = Duration::from_secs(15);

/// Short supervision settings so restarts happen in milliseconds: first backoff 10 ms (×2,
/// capped at 200 ms), "exited too early" under 1 s, crash loop at 3 early exits within a minute,
/// a 1 s stop grace.
pub fn fast_lifecycle() -> LifecycleConfig {
    LifecycleConfig {
        initial_backoff: Duration::from_millis(10),
        backoff_factor: 2,
        max_backoff: Duration::from_millis(200),
        reset_after: Duration::from_secs(5),
        min_uptime: Duration::from_secs(1),
        crash_loop_exits: 3,
        crash_loop_window: Duration::from_secs(60),
        stop_grace: Duration::from_secs(1),
        stop_answer_margin: Duration::from_secs(5),
        history_capacity: 256,
    }
}

/// An engine whose devices are process runtimes, each on its own temporary root.
pub struct Harness {
    pub engine: Engine,
    pub runtimes: Vec<Arc<ProcessRuntime>>,
    /// Scratch space for scripts and run counters, deleted on drop.
    pub scratch: TempRoot,
    _roots: Vec<TempRoot>,
}

impl Harness {
    /// An engine with `lifecycle` and one process device per name.
    pub async fn new(devices: &[&str], lifecycle: LifecycleConfig) -> Self {
        let config = EngineConfig::default()
            .with_lifecycle(lifecycle)
            .with_health_interval(Duration::from_millis(200));
        Self::with_config(devices, config).await
    }

    /// An engine with `config` and one process device per name.
    pub async fn with_config(devices: &[&str], config: EngineConfig) -> Self {
        let engine = Engine::builder().config(config).start();
        let mut runtimes = Vec::new();
        let mut roots = Vec::new();
        for name in devices {
            let root = TempRoot::new(&format!("engine-{name}"));
            let rt = Arc::new(builder(&root).kill_on_drop(true).build().expect("runtime"));
            engine
                .add_device(
                    Device::new(*name, Architecture::Amd64, DeviceRuntime::Preinstalled),
                    rt.clone(),
                )
                .await
                .expect("add device");
            runtimes.push(rt);
            roots.push(root);
        }
        let scratch = TempRoot::new("engine-scratch");
        std::fs::create_dir_all(scratch.path()).expect("scratch dir");
        Harness {
            engine,
            runtimes,
            scratch,
            _roots: roots,
        }
    }

    /// A fresh file path in the scratch directory.
    pub fn file(&self, tag: &str) -> PathBuf {
        self.scratch.path().join(format!("{tag}-{}", unique()))
    }

    /// Adds a one-component package and deploys it on `device` as `name`.
    pub async fn deploy(
        &self,
        name: &str,
        device: &str,
        policy: RestartPolicy,
        exes: &[(&str, Vec<String>)],
    ) -> DeploymentId {
        self.deploy_after(name, device, policy, exes, &[]).await
    }

    /// Waits until deployment `id` is in Error, and returns that status.
    pub async fn in_error(&self, id: DeploymentId) -> DeploymentStatus {
        self.engine
            .wait_for(id, Until::Status(StatusKind::Error), T)
            .await
            .expect("the deployment to be in Error")
    }

    /// [`deploy`](Self::deploy), the deployment depending on the deployments named.
    pub async fn deploy_after(
        &self,
        name: &str,
        device: &str,
        policy: RestartPolicy,
        exes: &[(&str, Vec<String>)],
        depends_on: &[&str],
    ) -> DeploymentId {
        self.engine
            .add_package(package(name, policy, exes))
            .await
            .expect("add package");
        let mut req = request(name, device);
        req.depends_on = depends_on.iter().map(|d| d.to_string()).collect();
        self.engine.deploy(req, None).await.expect("deploy")
    }
}

/// Package `name` version 1: one device component `main` with these executables.
pub fn package(name: &str, policy: RestartPolicy, exes: &[(&str, Vec<String>)]) -> Package {
    let executables = exes.iter().map(|(name, argv)| kit::exe(name, argv.clone()));
    kit::package(name, "1", policy, executables)
}

/// A request deploying package `name` version 1 as deployment `name` on `device`.
pub fn request(name: &str, device: &str) -> DeploymentRequest {
    kit::request(name, name, "1", device)
}

/// A marker no other process on the machine has: `sleep <marker>` is a process the tests can
/// count by its exact argv.
pub fn marker() -> String {
    unique().to_string()
}

/// `sleep <marker>`.
pub fn sleeper(marker: &str) -> Vec<String> {
    vec!["sleep".into(), marker.into()]
}

/// How many `sleep <marker>` processes run, once that number is `expected` (waited for up to
/// [`T`]); the last count seen when it never is.
///
/// One look is never enough: processes start and end asynchronously, and a process that was
/// just started may not show its argv yet (the kernel lets the parent of a `vfork`-style spawn
/// go on as soon as `execve` has replaced the child's memory, and publishes the new argv a
/// moment later). So the count is taken again until it is the one expected or time is up, and
/// the caller asserts on the value returned.
pub async fn sleepers(marker: &str, expected: usize) -> usize {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let n = processes_with_argv(&["sleep", marker]).len();
        if n == expected || tokio::time::Instant::now() >= deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A program that counts its runs in `counter` and then behaves by its run number: run `n`
/// (from 1) runs `runs[n - 1]`, later runs the last entry. Each entry is a shell snippet.
pub fn scripted(counter: &Path, runs: &[&str]) -> Vec<String> {
    let mut body = String::from(
        "n=$(( $(cat \"$0\" 2>/dev/null || echo 0) + 1 )); echo $n > \"$0\"; case $n in ",
    );
    for (i, run) in runs.iter().enumerate() {
        if i + 1 == runs.len() {
            body.push_str(&format!("*) {run};; "));
        } else {
            body.push_str(&format!("{}) {run};; ", i + 1));
        }
    }
    body.push_str("esac");
    vec![
        "sh".into(),
        "-c".into(),
        body,
        counter.display().to_string(),
    ]
}

/// How many times a [`scripted`] program started.
pub fn runs(counter: &Path) -> u32 {
    std::fs::read_to_string(counter)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The first status of deployment `id` for which `pred` holds (the current one included), within
/// [`T`].
pub async fn wait_until(
    engine: &Engine,
    id: DeploymentId,
    what: &str,
    mut pred: impl FnMut(&DeploymentStatus) -> bool,
) -> DeploymentStatus {
    let mut events = engine.subscribe();
    let now = engine.status(id).await.expect("status");
    if pred(&now) {
        return now;
    }
    wait_event(&mut events, id, what, pred).await
}

/// The first status of deployment `id` published on `events` for which `pred` holds, within
/// [`T`]. Subscribe before deploying to see every status from the first.
pub async fn wait_event(
    events: &mut broadcast::Receiver<EngineEvent>,
    id: DeploymentId,
    what: &str,
    mut pred: impl FnMut(&DeploymentStatus) -> bool,
) -> DeploymentStatus {
    let mut last = None;
    let found = tokio::time::timeout(T, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Deployment(s)) if s.id == id => {
                    if pred(&s) {
                        return Some(*s);
                    }
                    last = Some(s);
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => panic!("missed {n} events"),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    match found {
        Ok(Some(s)) => s,
        _ => panic!("deployment {id} never reached: {what}; last status {last:#?}"),
    }
}

/// Sends `signal` to the process group led by the single process with argv `sleep <marker>`
/// (waiting up to [`T`] for there to be exactly one).
pub async fn signal_sleeper(marker: &str, signal: rustix::process::Signal) {
    sleepers(marker, 1).await;
    let pids = processes_with_argv(&["sleep", marker]);
    assert_eq!(
        pids.len(),
        1,
        "expected one `sleep {marker}`, found {pids:?}"
    );
    let pid = rustix::process::Pid::from_raw(pids[0] as i32).expect("pid");
    rustix::process::kill_process_group(pid, signal).expect("signal the group");
}

/// The executable report of `name`, which must exist.
pub fn exe<'a>(
    s: &'a DeploymentStatus,
    name: &str,
) -> &'a robodeploy_core::engine::ExecutableReport {
    s.executable(name)
        .unwrap_or_else(|| panic!("no executable {name} in {s:#?}"))
}

/// The error codes in force, in order.
pub fn codes(s: &DeploymentStatus) -> Vec<ErrorCode> {
    s.errors.iter().map(|e| e.code).collect()
}
