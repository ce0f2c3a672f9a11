//! A robot reached through the device agent, registered from a manifest (`connection: {agent:
//! …}`) on a `robodeploy serve --remote`: the agent connects out to the server's embedded Zenoh
//! router, and the deployment runs on the robot's own process runtime.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, eventually, explain, json, manifest as doc, stdout};

/// The device agent binary: beside this crate's binary when the workspace was built, else
/// built now.
fn agent_binary() -> PathBuf {
    let dir = PathBuf::from(common::BIN)
        .parent()
        .expect("target dir")
        .to_owned();
    let agent = dir.join("robodeploy-agent");
    if !agent.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "robodeploy-zenoh",
                "--bin",
                "robodeploy-agent",
            ])
            .status()
            .expect("cargo build the agent");
        assert!(status.success(), "the agent did not build");
    }
    agent
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn a_robot_behind_its_agent_is_registered_from_a_manifest() {
    let port = free_port();
    let mut server = Server::unstarted("remote");
    let link = server.dir.path().join("link.yaml");
    std::fs::write(
        &link,
        format!("mode: router\nlisten: [\"tcp/127.0.0.1:{port}\"]\nlease: 2s\n"),
    )
    .expect("link file");
    server.spawn_with(&["--remote", link.to_str().expect("utf-8")]);
    let out = server.cli(&["get", "devices"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let robot_state = server.dir.path().join("robot");
    let _agent = Agent(
        Command::new(agent_binary())
            .args(["--robot", "far-1", "--runtime", "process", "--state-dir"])
            .arg(&robot_state)
            .args(["--connect", &format!("tcp/127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the agent starts"),
    );
    let marker = format!("rd-cli-remote-{}", std::process::id());
    let fleet = doc::fleet("far", &[], &[doc::remote_robot("far-1")]);
    let manifest = fleet.clone()
        + &doc::package(
            "far-app",
            "1.0.0",
            Some("always"),
            &format!("echo far away; while true; do sleep 1; done # {marker}"),
        )
        + &doc::deployment("far", "far-app", "1.0.0", "far-1", &[]);
    let file = server.dir.path().join("far.yaml");
    std::fs::write(&file, manifest).expect("write");
    let file = file.to_str().expect("utf-8");
    // The robot first (a deployment on a robot that has not answered yet fails to start, as
    // on an offline device), then, once its agent answers, everything.
    let fleet_only = server.dir.path().join("far-fleet.yaml");
    std::fs::write(&fleet_only, fleet).expect("write");
    let out = server.cli(&[
        "apply",
        "-f",
        fleet_only.to_str().expect("utf-8"),
        "--no-wait",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // A registered device counts as online until a health check (every 2 s) says otherwise:
    // wait past the first check, then for the agent's answer.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        eventually(Duration::from_secs(30), || {
            json(&server.cli(&["get", "devices", "-o", "json"]))[0]["online"] == true
        }),
        "the robot did not come online: {}",
        server.log()
    );
    let out = server.cli(&[
        "apply",
        "-f",
        file,
        "--min-uptime",
        "1s",
        "--timeout",
        "60s",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        explain(&out),
        server.log()
    );
    assert!(
        stdout(&out).contains("deployment far: Succeeded, Running"),
        "{}",
        explain(&out)
    );
    let devices = json(&server.cli(&["get", "devices", "-o", "json"]));
    assert_eq!(devices[0]["connection"]["agent"], "far-1", "{devices}");
    // It runs under the agent's own runtime root, on the robot's side.
    assert!(eventually(Duration::from_secs(10), || {
        robot_state.join("instances").exists() && !common::processes(&marker).is_empty()
    }));
    let out = server.cli(&["logs", "far", "--executable", "main"]);
    assert_eq!(stdout(&out), "far away\n", "{}", explain(&out));
    let out = server.cli(&["delete", "-f", file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(eventually(Duration::from_secs(10), || common::processes(
        &marker
    )
    .is_empty()));

    // A server without a remote link refuses such a robot, naming the field.
    let plain = Server::start("remote-plain");
    let out = plain.cli(&["apply", "-f", file]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("spec.robots[0].connection"),
        "{}",
        explain(&out)
    );
    assert!(
        common::stderr(&out).contains("--remote FILE"),
        "{}",
        explain(&out)
    );
}
