//! What several benches share: their tokio runtime, a scratch directory, a free loopback port,
//! an orchestrator on an embedded Zenoh router, and the bare spawn loop the process benches
//! measure themselves against. Each bench uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use robodeploy_zenoh::{LinkConfig, Orchestrator, Timeouts};
use tokio::runtime::Runtime as Tokio;

/// A two-worker multi-thread runtime (the machine's cores), with I/O and timers.
pub(crate) fn tokio() -> Tokio {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A scratch directory for the bench tagged `tag`, unique to this process.
pub(crate) fn root(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("robodeploy-bench-{tag}-{}", std::process::id()))
}

/// A loopback TCP port free at the time of asking.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An orchestrator whose session is an embedded router listening on `tcp/127.0.0.1:port`.
pub(crate) async fn orchestrator_on(port: u16) -> Orchestrator {
    let session = LinkConfig::router([format!("tcp/127.0.0.1:{port}")])
        .open()
        .await
        .expect("the router opens");
    Orchestrator::attach(session, Timeouts::default())
        .await
        .expect("the orchestrator watches")
}

/// `iters` rounds of `count` bare `tokio::process::Command` spawns of `sleep SECONDS`: the time
/// the spawns took (killing and reaping the children between rounds is not counted).
pub(crate) async fn bare_spawns(iters: u64, count: usize, seconds: &str) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let began = Instant::now();
        let mut children = Vec::with_capacity(count);
        for _ in 0..count {
            let child = tokio::process::Command::new("sleep")
                .arg(seconds)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            children.push(child);
        }
        total += began.elapsed();
        for child in &mut children {
            let _ = child.start_kill();
        }
        for mut child in children {
            let _ = child.wait().await;
        }
    }
    total
}
