//! A deployment job over 20 remote robots, each served by its own `robodeploy-agent` process:
//! pre- and post-launch scripts run on the robots with the job's environment, the launch
//! command runs there, logs and exec reach through the agents, and deprovisioning stops
//! everything.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use common::agent_process::{self, Link};
use common::{free_port, orchestrator, quick, until_up};
use robodeploy_core::engine::{Engine, EngineConfig, Launcher};
use robodeploy_core::model::*;
use robodeploy_core::runtime::LogOptions;
use robodeploy_testkit::model::{exe, fleet, package};

const ROBOTS: usize = 20;
const T: Duration = Duration::from_secs(120);

fn script(path: &Path, body: &str) -> String {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// The agent of `robot` on the process runtime, its state under `dir`, linked to the router
/// on loopback `port`.
fn spawn_agent(port: u16, robot: &str, dir: &Path) -> Child {
    agent_process::spawn_agent(
        Command::new(agent_process::agent_binary()),
        robot,
        &dir.join(robot),
        &Link::loopback(port),
    )
}

/// How many processes run `sleep <marker>`.
fn sleepers(marker: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c == format!("sleep\0{marker}\0").as_bytes())
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_rolls_out_to_twenty_remote_robots_with_scripts_logs_and_exec() {
    let dir = std::env::temp_dir().join(format!("rd-fleet-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("notes")).unwrap();
    let notes = dir.join("notes");
    // A sleep long enough to outlive the test, told apart from every other by its length.
    let marker = format!("{}", 100_000 + std::process::id() % 100_000);

    let port = free_port();
    let o = Arc::new(orchestrator(port, quick()).await);
    let names: Vec<String> = (0..ROBOTS).map(|i| format!("robot-{i:02}")).collect();
    let mut agents: Vec<Child> = names.iter().map(|r| spawn_agent(port, r, &dir)).collect();

    let launcher = Launcher {
        template: vec![
            "sh".into(),
            "-c".into(),
            "echo \"launched {package} $SITE\" >> \"$0/$ROBODEPLOY_ROBOT\"; echo ready; exec sleep {launch_file}".into(),
            notes.display().to_string(),
        ],
    };
    let engine = Engine::builder()
        .config(
            EngineConfig::default()
                .with_health_interval(Duration::from_millis(250))
                .with_launcher(launcher),
        )
        .start();
    let mut robots = Vec::new();
    for name in &names {
        let mut device = Device::new(
            name.clone(),
            Architecture::Amd64,
            DeviceRuntime::Preinstalled,
        );
        device.connection = Some(Connection::Agent(name.clone()));
        let rt = o.runtime_of(&device).unwrap();
        until_up(&rt).await;
        engine
            .add_device(device.clone(), Arc::new(rt))
            .await
            .unwrap();
        robots.push(device);
    }
    engine.add_fleet(fleet("fleet", robots)).await.unwrap();
    engine
        .add_package(package(
            "app",
            "1",
            RestartPolicy::Always,
            [exe("node", [Launcher::LAUNCH])],
        ))
        .await
        .unwrap();
    let note = |what: &str| {
        format!(
            "echo \"{what} $SITE\" >> \"{}/$ROBODEPLOY_ROBOT\"",
            notes.display()
        )
    };
    let pre = script(&dir.join("pre"), &note("pre"));
    let post = script(&dir.join("post"), &note("post"));
    let mut job = robodeploy_testkit::model::job("fleet", "app", Some(pre), Some(post), 25, 10);
    job.launch_config.launch_file = marker.clone();
    job.launch_config.environment_variables = [("SITE".to_owned(), "lab".to_owned())].into();
    let id = engine.create_job(job, None).await.unwrap();
    let report = engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:#?}");
    assert_eq!(report.in_flight_limit, 5);
    assert_eq!(report.count(RobotStatus::InSync), ROBOTS);
    // Each launch is a shell that execs `sleep`: counted once every one has, with a deadline.
    common::eventually(
        Duration::from_secs(10),
        "every robot runs its sleeper",
        || async { sleepers(&marker) == ROBOTS },
    )
    .await;
    for robot in &names {
        robodeploy_testkit::engine::assert_scripts_noted(&notes, robot);
    }

    // Logs and exec reach through the agent of one robot.
    let first = report.robots[0].deployment.expect("a deployment per robot");
    let mut logs = engine
        .logs(first, "main", "node", LogOptions::default())
        .await
        .unwrap();
    let line = tokio::time::timeout(Duration::from_secs(10), logs.recv())
        .await
        .unwrap()
        .expect("a line");
    assert_eq!(line.line, "ready");
    let out = engine
        .exec(
            first,
            "main",
            "node",
            &["sh".into(), "-c".into(), "echo $SITE".into()],
        )
        .await
        .unwrap();
    assert_eq!((out.exit_code, out.stdout.trim()), (0, "lab"));

    // Deprovisioning everything stops every robot's executable, through its agent.
    engine.shutdown().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sleepers(&marker) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sleepers(&marker), 0);
    for a in &mut agents {
        let _ = a.kill();
        let _ = a.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
