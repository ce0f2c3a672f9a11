//! The `robodeploy-agent` binary serving a process runtime: executables outlive it. An agent
//! killed with SIGKILL and started again serves the same runtime, and the engine adopts what
//! runs (same process, no restart) instead of starting it again.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use common::agent_process::{self, Link, assert_adopted, sleeper_on_r1};
use common::{free_port, orchestrator, quick, until_up};
use robodeploy_core::engine::Until;
use robodeploy_core::model::{DeviceRuntime, ErrorCode, StatusKind};

const T: Duration = Duration::from_secs(30);

/// The agent of `r1` on the process runtime, linked to the router on loopback `port`.
fn spawn_agent(port: u16, state: &Path) -> Child {
    agent_process::spawn_agent(
        Command::new(agent_process::agent_binary()),
        "r1",
        state,
        &Link::loopback(port),
    )
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
    let (engine, id, instance, pid) =
        sleeper_on_r1(remote.clone(), Duration::from_millis(200), T).await;

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
    assert_adopted(&s, remote.as_ref(), &instance, pid).await;

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
    let _ = std::fs::remove_file(state.with_extension("log"));
}
