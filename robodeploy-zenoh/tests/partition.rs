//! A robot on another host (its own network namespace), linked with mutual TLS: when the link
//! is cut the engine reports the robot offline (DEP_E151) within the lease plus one health
//! interval, the robot's executables keep running, and when the link heals the agent links
//! again by itself and the engine adopts what runs: nothing is started twice.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::netns::Netns;
use common::pki::Ca;
use common::{free_port, quick, until_up};
use robodeploy_core::engine::{Engine, EngineConfig, Until};
use robodeploy_core::model::{DeviceRuntime, ErrorCode, RestartPolicy, StatusKind};
use robodeploy_core::runtime::{InstanceId, InstanceState, Runtime};
use robodeploy_testkit::model::{device, exe, package, request};
use robodeploy_zenoh::{LinkConfig, Orchestrator};

const T: Duration = Duration::from_secs(30);
const LEASE: Duration = Duration::from_secs(2);
const HEALTH: Duration = Duration::from_millis(250);

fn spawn_agent(ns: &Netns, port: u16, dir: &Path, tls: &robodeploy_zenoh::TlsFiles) -> Child {
    ns.command(env!("CARGO_BIN_EXE_robodeploy-agent"))
        .args(["--robot", "r1", "--runtime", "process", "--state-dir"])
        .arg(dir.join("state"))
        .args(["--connect", &format!("tls/{}:{port}", ns.host_ip)])
        .arg("--tls-ca")
        .arg(&tls.ca)
        .arg("--tls-cert")
        .arg(&tls.certificate)
        .arg("--tls-key")
        .arg(&tls.key)
        .args(["--lease", "2s"])
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
async fn a_cut_link_is_offline_within_the_lease_and_a_healed_one_adopts_what_runs() {
    let Some(ns) = Netns::create(1) else { return };
    let dir = std::env::temp_dir().join(format!("rd-partition-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ca = Ca::new("robodeploy test CA");
    let router_tls = ca.issue(&dir.join("pki"), "orchestrator", &[&ns.host_ip]);
    let robot_tls = ca.issue(&dir.join("pki"), "r1", &["r1"]);
    let port = free_port();
    let link = LinkConfig {
        lease: LEASE,
        ..LinkConfig::router([format!("tls/{}:{port}", ns.host_ip)]).with_tls(router_tls)
    };
    let o = Orchestrator::attach(link.open().await.unwrap(), quick())
        .await
        .unwrap();
    let mut agent = spawn_agent(&ns, port, &dir, &robot_tls);
    let remote = Arc::new(o.runtime("r1", DeviceRuntime::Preinstalled).unwrap());
    until_up(remote.as_ref()).await;
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(HEALTH))
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
        noticed <= LEASE + HEALTH + Duration::from_secs(1),
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

    engine.shutdown().await.unwrap();
    agent.kill().unwrap();
    agent.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
