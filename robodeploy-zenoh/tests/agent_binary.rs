//! The `robodeploy-agent` binary serving a process runtime: executables outlive it. An agent
//! killed with SIGKILL and started again serves the same runtime, and the engine adopts what
//! runs (same process, no restart) instead of starting it again.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{free_port, orchestrator, quick, until_up};
use robodeploy_core::engine::{Engine, EngineConfig, Until};
use robodeploy_core::model::{DeviceRuntime, ErrorCode, RestartPolicy, StatusKind};
use robodeploy_core::runtime::{InstanceId, InstanceState, Runtime};
use robodeploy_testkit::model::{device, exe, package, request};

const T: Duration = Duration::from_secs(30);

fn spawn_agent(port: u16, state: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_robodeploy-agent"))
        .args(["--robot", "r1", "--runtime", "process", "--state-dir"])
        .arg(state)
        .args(["--connect", &format!("tcp/127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the agent starts")
}

async fn pid_of(rt: &dyn Runtime, instance: &str) -> u32 {
    match rt
        .inspect(&InstanceId(instance.to_owned()))
        .await
        .unwrap()
        .state
    {
        InstanceState::Running { pid: Some(pid), .. } => pid,
        other => panic!("not running with a pid: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_killed_and_started_again_lets_the_engine_adopt_what_runs() {
    let state = std::env::temp_dir().join(format!("rd-agent-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let mut agent = spawn_agent(port, &state);
    let remote = Arc::new(o.runtime("r1", DeviceRuntime::Preinstalled).unwrap());
    until_up(remote.as_ref()).await;
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(Duration::from_millis(200)))
        .start();
    engine
        .add_device(device("r1", DeviceRuntime::Preinstalled), remote.clone())
        .await
        .unwrap();
    engine
        .add_package(package(
            "demo",
            "1",
            RestartPolicy::Always,
            [exe("sleeper", ["/bin/sleep", "600"])],
        ))
        .await
        .unwrap();
    let id = engine
        .deploy(request("d1", "demo", "1", "r1"), None)
        .await
        .unwrap();
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    let instance = s.executables[0].instance.clone().unwrap();
    let pid = pid_of(remote.as_ref(), &instance).await;

    agent.kill().unwrap();
    agent.wait().unwrap();
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    assert_eq!(s.errors[0].code, ErrorCode::DeviceOffline);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "the executable outlives its agent"
    );

    let mut again = spawn_agent(port, &state);
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(
        s.executables[0].instance.as_deref(),
        Some(instance.as_str())
    );
    assert_eq!(s.executables[0].restart_count, 0, "adopted, not restarted");
    assert_eq!(
        pid_of(remote.as_ref(), &instance).await,
        pid,
        "the same process"
    );

    // Deprovisioning through the new agent stops it.
    engine.shutdown().await.unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}/cmdline")).exists() || {
            // A zombie may linger for a moment under its supervisor.
            tokio::time::sleep(Duration::from_secs(1)).await;
            !Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read(format!("/proc/{pid}/cmdline"))
                    .unwrap_or_default()
                    .is_empty()
        }
    );
    again.kill().unwrap();
    again.wait().unwrap();
    let _ = std::fs::remove_dir_all(&state);
}
