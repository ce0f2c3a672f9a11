//! What the transport tests share: a free port, an orchestrator with an embedded router on it,
//! and agents linked to it.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_zenoh::{Agent, LinkConfig, Orchestrator, Timeouts};

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An orchestrator whose embedded router listens on loopback, with short call timeouts.
pub async fn orchestrator(port: u16, timeouts: Timeouts) -> Orchestrator {
    let session = LinkConfig::router([format!("tcp/127.0.0.1:{port}")])
        .open()
        .await
        .expect("the router opens");
    Orchestrator::attach(session, timeouts)
        .await
        .expect("the orchestrator watches")
}

/// Call timeouts short enough for tests.
pub fn quick() -> Timeouts {
    Timeouts {
        call: Duration::from_secs(2),
        prepare: Duration::from_secs(2),
        exec: Duration::from_secs(2),
    }
}

/// An agent for `robot` serving `runtime`, linked to the router on `port`.
pub async fn agent(port: u16, robot: &str, runtime: Arc<dyn Runtime>) -> (Agent, zenoh::Session) {
    let session = LinkConfig::client([format!("tcp/127.0.0.1:{port}")])
        .open()
        .await
        .expect("the agent's session opens");
    let agent = Agent::serve(&session, robot, runtime)
        .await
        .expect("the agent serves");
    (agent, session)
}

/// An agent serving a fresh in-memory runtime; returns it too.
pub async fn memory_agent(port: u16, robot: &str) -> (Agent, zenoh::Session, Arc<MemoryRuntime>) {
    let rt = Arc::new(MemoryRuntime::new(robot));
    let (agent, session) = agent(port, robot, rt.clone()).await;
    (agent, session, rt)
}

/// Polls `check` every 20 ms until it holds, at most `within`; returns how long it took.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub mod agent_process;
pub mod netns;
pub mod pki;

/// Waits until `rt` answers its health check (its agent is up and greeted), at most 30 s.
pub async fn until_up(rt: &dyn Runtime) {
    eventually(
        Duration::from_secs(30),
        "the robot's agent is up",
        || async { rt.health().await.is_ok() },
    )
    .await;
}
