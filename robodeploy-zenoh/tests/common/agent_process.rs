//! The `robodeploy-agent` binary started as a test's robot, and what the engine tests deploy
//! on it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{DeploymentStatus, Engine, Until};
use robodeploy_core::model::{DeploymentId, DeviceRuntime, Executable, RestartPolicy};
use robodeploy_core::runtime::{InstanceId, InstanceState, Runtime};
use robodeploy_testkit::model::{device, package, request};
use robodeploy_zenoh::TlsFiles;

/// The agent binary, to run directly or to hand to a wrapper (`Netns::command`).
pub fn agent_binary() -> &'static str {
    env!("CARGO_BIN_EXE_robodeploy-agent")
}

/// How an agent links: the router's endpoint, with mutual TLS and a lease when given.
pub struct Link<'a> {
    /// E.g. `tcp/127.0.0.1:7447`.
    pub connect: String,
    /// The agent's certificate, key and CA.
    pub tls: Option<&'a TlsFiles>,
    /// The session lease (`--lease`), e.g. `2s`.
    pub lease: Option<&'a str>,
}

impl Link<'_> {
    /// Plain TCP to a router on loopback `port`.
    pub fn loopback(port: u16) -> Link<'static> {
        Link {
            connect: format!("tcp/127.0.0.1:{port}"),
            tls: None,
            lease: None,
        }
    }
}

/// Starts `command` (the agent binary or a wrapper of it) as the agent of `robot` on the
/// process runtime, its state in `state`, linked as `link` says. Its log goes to
/// `<state>.log`, beside the state directory.
pub fn spawn_agent(mut command: Command, robot: &str, state: &Path, link: &Link<'_>) -> Child {
    command
        .args(["--robot", robot, "--runtime", "process", "--state-dir"])
        .arg(state)
        .args(["--connect", &link.connect]);
    if let Some(tls) = link.tls {
        command
            .arg("--tls-ca")
            .arg(&tls.ca)
            .arg("--tls-cert")
            .arg(&tls.certificate)
            .arg("--tls-key")
            .arg(&tls.key);
    }
    if let Some(lease) = link.lease {
        command.args(["--lease", lease]);
    }
    if let Some(parent) = state.parent() {
        std::fs::create_dir_all(parent).expect("the agent's parent directory");
    }
    let log = std::fs::File::create(state.with_extension("log")).expect("the agent's log");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the agent starts")
}

/// The pid of `instance` on `rt`, which must be running.
pub async fn pid_of(rt: &dyn Runtime, instance: &str) -> u32 {
    match rt
        .inspect(&InstanceId(instance.to_owned()))
        .await
        .expect("inspect")
        .state
    {
        InstanceState::Running { pid: Some(pid), .. } => pid,
        other => panic!("not running with a pid: {other:?}"),
    }
}

/// On `engine`: robot `r1` reached through `remote`, package `demo` 1 whose one executable is
/// `exe` under `Always`, and deployment `d1` of it once the robot is up, waited Running (within
/// `within`). Returns the deployment and its executable's instance.
pub async fn deploy_on_r1(
    engine: &Engine,
    remote: Arc<dyn Runtime>,
    exe: Executable,
    within: Duration,
) -> (DeploymentId, String) {
    // An agent that is serving is not yet seen by the orchestrator: its token crosses the
    // router first. Deploying before then fails as the seed says for an offline robot (E151).
    super::until_up(remote.as_ref()).await;
    engine
        .add_device(device("r1", DeviceRuntime::Preinstalled), remote)
        .await
        .expect("r1 registers");
    engine
        .add_package(package("demo", "1", RestartPolicy::Always, [exe]))
        .await
        .expect("the package registers");
    let id = engine
        .deploy(request("d1", "demo", "1", "r1"), None)
        .await
        .expect("d1 deploys");
    let s = match engine.wait_for(id, Until::Running, within).await {
        Ok(s) => s,
        Err(e) => panic!("d1 runs: {e:?}; it is {:?}", engine.status(id).await),
    };
    let instance = s.executables[0].instance.clone().expect("an instance");
    (id, instance)
}

/// Asserts that `status` runs `instance` as before, not restarted, and that its process on
/// `rt` is still `pid`: adopted, not started again.
pub async fn assert_adopted(status: &DeploymentStatus, rt: &dyn Runtime, instance: &str, pid: u32) {
    assert_eq!(status.executables[0].instance.as_deref(), Some(instance));
    assert_eq!(
        status.executables[0].restart_count, 0,
        "adopted, not restarted"
    );
    assert_eq!(pid_of(rt, instance).await, pid, "the same process");
}

/// A sleeper deployed through `remote` and running: an engine checking health every `health`,
/// [`deploy_on_r1`] of `/bin/sleep 600`, and the process's pid. Returns the engine, the
/// deployment, its instance and the pid.
pub async fn sleeper_on_r1(
    remote: Arc<dyn Runtime>,
    health: Duration,
    within: Duration,
) -> (Engine, DeploymentId, String, u32) {
    let engine = Engine::builder()
        .config(robodeploy_core::engine::EngineConfig::default().with_health_interval(health))
        .start();
    let sleeper = robodeploy_testkit::model::exe("sleeper", ["/bin/sleep", "600"]);
    let (id, instance) = deploy_on_r1(&engine, remote.clone(), sleeper, within).await;
    let pid = pid_of(remote.as_ref(), &instance).await;
    (engine, id, instance, pid)
}
