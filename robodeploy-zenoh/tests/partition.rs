//! A robot on another host (its own network namespace), linked with mutual TLS: when the link
//! is cut the engine reports the robot offline (DEP_E151) within the lease plus one health
//! interval, the robot's executables keep running, and when the link heals the agent links
//! again by itself and the engine adopts what runs: nothing is started twice.

mod common;

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use common::agent_process::{self, Link, assert_adopted, sleeper_on_r1};
use common::netns::Netns;
use common::pki::Ca;
use common::{free_port, quick, until_up};
use robodeploy_core::engine::{Engine, EngineConfig, Until};
use robodeploy_core::model::{DeviceRuntime, ErrorCode, RestartPolicy, StatusKind};
use robodeploy_testkit::model::{device, exe, package};
use robodeploy_zenoh::{LinkConfig, Orchestrator};

const T: Duration = Duration::from_secs(30);
const LEASE: Duration = Duration::from_secs(2);
const HEALTH: Duration = Duration::from_millis(250);
/// What the bound allows beyond lease + health interval: the lease is checked once per
/// keep-alive period (a quarter of it), and a loaded CI machine schedules late.
const SLACK: Duration = Duration::from_secs(2);

/// The agent of `robot` linking to the router at `host:port` with `tls` and a 2 s lease, its
/// state under `dir`, started through `command`.
fn agent_command(
    command: std::process::Command,
    robot: &str,
    host: &str,
    port: u16,
    dir: &Path,
    tls: &robodeploy_zenoh::TlsFiles,
) -> Child {
    let link = Link {
        connect: format!("tls/{host}:{port}"),
        tls: Some(tls),
        lease: Some("2s"),
    };
    agent_process::spawn_agent(command, robot, &dir.join("state").join(robot), &link)
}

/// An orchestrator whose embedded router listens on this host's side of `ns`, over mutual
/// TLS (certificates under `dir`) with the test's lease; its CA (to issue the robots') and
/// port.
async fn tls_orchestrator(ns: &Netns, dir: &Path) -> (Orchestrator, Ca, u16) {
    let ca = Ca::new("robodeploy test CA");
    let router_tls = ca.issue(&dir.join("pki"), "orchestrator", &[&ns.host_ip]);
    let port = free_port();
    let link = LinkConfig {
        lease: LEASE,
        ..LinkConfig::router([format!("tls/{}:{port}", ns.host_ip)]).with_tls(router_tls)
    };
    let o = Orchestrator::attach(link.open().await.unwrap(), quick())
        .await
        .unwrap();
    (o, ca, port)
}

/// The agent of r1 inside `ns`.
fn spawn_agent(ns: &Netns, port: u16, dir: &Path, tls: &robodeploy_zenoh::TlsFiles) -> Child {
    let command = ns.command(agent_process::agent_binary());
    agent_command(command, "r1", &ns.host_ip, port, dir, tls)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_link_is_offline_within_the_lease_and_a_healed_one_adopts_what_runs() {
    let Some(ns) = Netns::create(1) else { return };
    let dir = std::env::temp_dir().join(format!("rd-partition-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (o, ca, port) = tls_orchestrator(&ns, &dir).await;
    let robot_tls = ca.issue(&dir.join("pki"), "r1", &["r1"]);
    let mut agent = spawn_agent(&ns, port, &dir, &robot_tls);
    let remote = Arc::new(o.runtime("r1", DeviceRuntime::Preinstalled).unwrap());
    until_up(remote.as_ref()).await;
    let (engine, id, instance, pid) = sleeper_on_r1(remote.clone(), HEALTH, T).await;

    let cut = tokio::time::Instant::now();
    ns.cut();
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), T)
        .await
        .unwrap();
    let noticed = cut.elapsed();
    eprintln!("offline noticed {noticed:?} after the cut");
    assert_eq!(s.errors[0].code, ErrorCode::DeviceOffline);
    // The documented bound: the lease, one health interval, and the link's keep-alive slack.
    assert!(
        noticed <= LEASE + HEALTH + SLACK,
        "offline noticed after {noticed:?}"
    );
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "it keeps running"
    );

    let healed = tokio::time::Instant::now();
    ns.heal();
    let s = engine.wait_for(id, Until::Running, T).await.unwrap();
    eprintln!(
        "running again (adopted) {:?} after the heal",
        healed.elapsed()
    );
    assert_adopted(&s, remote.as_ref(), &instance, pid).await;

    engine.shutdown().await.unwrap();
    agent.kill().unwrap();
    agent.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_robot_cut_off_mid_job_is_deferred_without_holding_a_slot_and_the_job_finishes() {
    use robodeploy_core::engine::EngineEvent;
    use robodeploy_core::model::{JobStatus, RobotStatus};
    use robodeploy_testkit::model::{fleet, job};

    let Some(ns) = Netns::create(2) else { return };
    let dir = std::env::temp_dir().join(format!("rd-partition-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (o, ca, port) = tls_orchestrator(&ns, &dir).await;
    // r1 on the other side of the link; r2 and r3 on this host.
    let names = ["r1", "r2", "r3"];
    let mut agents = Agents(Vec::new());
    for robot in names {
        let tls = ca.issue(&dir.join("pki"), robot, &[robot]);
        let command = if robot == "r1" {
            ns.command(agent_process::agent_binary())
        } else {
            std::process::Command::new(agent_process::agent_binary())
        };
        agents
            .0
            .push(agent_command(command, robot, &ns.host_ip, port, &dir, &tls));
    }
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(HEALTH))
        .start();
    let mut devices = Vec::new();
    for robot in names {
        let rt = o.runtime(robot, DeviceRuntime::Preinstalled).unwrap();
        until_up(&rt).await;
        let d = device(robot, DeviceRuntime::Preinstalled);
        engine.add_device(d.clone(), Arc::new(rt)).await.unwrap();
        devices.push(d);
    }
    engine.add_fleet(fleet("fleet", devices)).await.unwrap();
    engine
        .add_package(package(
            "app",
            "1",
            RestartPolicy::Always,
            [exe("node", ["/bin/sleep", "600"])],
        ))
        .await
        .unwrap();
    let pre = dir.join("pre.sh");
    std::fs::write(&pre, "#!/bin/sh\nsleep 1\n").unwrap();
    std::fs::set_permissions(&pre, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut events = engine.subscribe();
    // One robot at a time (34 % of 3), in fleet order: r1 first.
    let id = engine
        .create_job(
            job(
                "fleet",
                "app",
                Some(pre.display().to_string()),
                None,
                34,
                100,
            ),
            None,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cut = tokio::time::Instant::now();
    ns.cut();
    loop {
        match tokio::time::timeout(T, events.recv()).await {
            Ok(Ok(EngineEvent::Device {
                device,
                online: false,
            })) if device == "r1" => break,
            Ok(Ok(_)) => {}
            other => panic!("no offline event for r1: {other:?}"),
        }
    }
    let noticed = cut.elapsed();
    eprintln!("mid-job: offline noticed {noticed:?} after the cut");
    assert!(noticed <= LEASE + HEALTH + SLACK, "{noticed:?}");
    // While r1 is away its slot goes to the others: both finish before it returns.
    let others_done = tokio::time::timeout(T, async {
        loop {
            let r = engine.job(id).await.unwrap();
            let done = |n: &str| {
                r.robots
                    .iter()
                    .any(|x| x.robot == n && x.status == RobotStatus::InSync)
            };
            if done("r2") && done("r3") {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("r2 and r3 deploy while r1 is cut off");
    assert_ne!(
        others_done.status,
        JobStatus::Succeeded,
        "r1 is not done yet: {others_done:#?}"
    );
    ns.heal();
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:#?}");
    assert_eq!(report.count(RobotStatus::InSync), 3);
    engine.shutdown().await.unwrap();
    drop(agents);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Agent processes, killed when dropped (a failed assertion included).
struct Agents(Vec<Child>);

impl Drop for Agents {
    fn drop(&mut self) {
        for a in &mut self.0 {
            let _ = a.kill();
            let _ = a.wait();
        }
    }
}
