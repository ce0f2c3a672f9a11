//! A fleet of remote robots on one engine (issue 13): the same deployment job over N robots
//! (10 % at once, a pre-launch script each) on local memory runtimes, then on N agents, each
//! with its own Zenoh session, serving memory runtimes through the engine's embedded router on
//! loopback. All in this process, one run, in that order.
//!
//! Printed: the job's time both ways and their ratio; the process's RSS as the agents link
//! (what N Zenoh sessions cost) and as the engine registers the N remote robots (what one
//! remote robot costs the engine: its `ZenohRuntime`, watch and device), each per robot; the
//! router's established TCP connections (from `/proc/net/tcp`).
//!
//! ```text
//! cargo bench -p robodeploy-benches --bench zenoh_fleet            # 1,000 robots
//! ROBODEPLOY_FLEET_ROBOTS=200 cargo bench -p robodeploy-benches --bench zenoh_fleet
//! ```

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::free_port;

use robodeploy_core::engine::{Engine, EngineConfig};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_testkit::model as kit;
use robodeploy_zenoh::{Agent, LinkConfig};

fn robots() -> usize {
    std::env::var("ROBODEPLOY_FLEET_ROBOTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

/// This process's resident set, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Established TCP connections whose local port is `port` (the router's side of each link).
fn router_connections(port: u16) -> usize {
    let hex = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1].ends_with(&hex) && f[3] == "01"
        })
        .count()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn engine() -> Engine {
    let lifecycle = LifecycleConfig {
        min_uptime: Duration::from_millis(100),
        ..LifecycleConfig::default()
    };
    Engine::builder()
        .config(EngineConfig::default().with_lifecycle(lifecycle))
        .start()
}

fn robot(i: usize) -> String {
    format!("robot-{i:04}")
}

/// Adds the package and the fleet of `devices`, runs the job to its end: its time.
async fn job(engine: &Engine, devices: Vec<Device>) -> Duration {
    engine
        .add_package(kit::package(
            "app",
            "1",
            RestartPolicy::Always,
            [kit::fake_exe("node")],
        ))
        .await
        .expect("package");
    engine
        .add_fleet(kit::fleet("fleet", devices))
        .await
        .expect("fleet");
    let began = Instant::now();
    let id = engine
        .create_job(
            kit::job("fleet", "app", Some("/opt/pre.sh".into()), None, 10, 5),
            None,
        )
        .await
        .expect("job");
    let report = engine
        .wait_for_job(id, Duration::from_secs(3600))
        .await
        .expect("the job ends");
    let took = began.elapsed();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:?}");
    took
}

async fn local(n: usize) -> Duration {
    let engine = engine();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let d = kit::device(&robot(i), DeviceRuntime::Preinstalled);
        let rt = Arc::new(MemoryRuntime::new(robot(i).as_str()));
        engine.add_device(d.clone(), rt).await.expect("device");
        devices.push(d);
    }
    let took = job(&engine, devices).await;
    engine.shutdown().await.expect("shutdown");
    took
}

async fn remote(n: usize) -> Duration {
    let port = free_port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let orchestrator = support::orchestrator_on(port).await;

    let before_agents = rss_mib();
    let linking = Instant::now();
    let mut agents = Vec::with_capacity(n);
    for i in 0..n {
        let session = LinkConfig::client([endpoint.clone()])
            .open()
            .await
            .expect("an agent's session opens");
        let rt: Arc<dyn Runtime> = Arc::new(MemoryRuntime::new(robot(i).as_str()));
        let agent = Agent::serve(&session, &robot(i), rt)
            .await
            .expect("the agent serves");
        agents.push((agent, session));
    }
    while orchestrator.robots_up().len() < n {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after_agents = rss_mib();
    println!(
        "zenoh_fleet/agents: {n} sessions linked and up in {:.1} s; RSS {before_agents:.1} → \
         {after_agents:.1} MiB ({:.0} KiB per agent session, in this process); router \
         connections {}",
        linking.elapsed().as_secs_f64(),
        (after_agents - before_agents) * 1024.0 / n as f64,
        router_connections(port)
    );

    let engine = engine();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let d = kit::device(&robot(i), DeviceRuntime::Preinstalled);
        let rt = orchestrator
            .runtime(&robot(i), DeviceRuntime::Preinstalled)
            .expect("a robot name");
        engine
            .add_device(d.clone(), Arc::new(rt))
            .await
            .expect("device");
        devices.push(d);
    }
    // Let the engine's first health checks reach every robot.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_engine = rss_mib();
    println!(
        "zenoh_fleet/engine: {n} remote robots registered; RSS {after_agents:.1} → \
         {after_engine:.1} MiB ({:.0} KiB per remote robot)",
        (after_engine - after_agents) * 1024.0 / n as f64
    );
    let took = job(&engine, devices).await;
    println!(
        "zenoh_fleet/after the job: RSS {:.1} MiB; router connections {}",
        rss_mib(),
        router_connections(port)
    );
    engine.shutdown().await.expect("shutdown");
    for (agent, session) in agents {
        agent.close().await;
        let _ = session.close().await;
    }
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = robots();
    println!("zenoh_fleet: {n} robots, 10 % at once; load {}", load());
    let l = local(n).await;
    println!(
        "zenoh_fleet/local: job over {n} memory runtimes in {:.2} s; load {}",
        l.as_secs_f64(),
        load()
    );
    let r = remote(n).await;
    println!(
        "zenoh_fleet/remote: job over {n} agents in {:.2} s; load {}",
        r.as_secs_f64(),
        load()
    );
    println!(
        "zenoh_fleet: remote / local = {:.2}x",
        r.as_secs_f64() / l.as_secs_f64()
    );
}
