//! A manifest with Docker robots, applied through the CLI to a real `robodeploy serve`: the
//! server makes a Docker client for each robot and runs the containers; a container whose
//! program crashes comes back with no command. Skips loudly without an engine, unless
//! `ROBODEPLOY_REQUIRE_DOCKER=1` (CI), where a missing engine fails the test.

mod common;

use std::time::Duration;

use common::{Server, eventually, explain, json, manifest as doc, stdout};
use robodeploy_docker::{DockerRuntime, Placement};
use robodeploy_testkit::skip;

const IMAGE: &str = "robodeploy-cli-test";

#[test]
fn docker_robots_in_a_file_are_served() {
    if !skip::docker_socket_present() {
        skip::skip_without_docker("no DOCKER_HOST, no /var/run/docker.sock");
        return;
    }
    // No registry here: the image is made from the host's own commands.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(async {
            let runtime = DockerRuntime::local(Placement::Device).expect("docker client");
            robodeploy_docker::test_image::ensure_image(&runtime, IMAGE, "1")
                .await
                .expect("test image");
        });
    let server = Server::start("docker");
    let script = "echo container up; if [ ! -f /tmp/started ]; then : > /tmp/started; \
                  while [ ! -f /tmp/crash ]; do sleep 1; done; exit 3; fi; \
                  while true; do sleep 1; done";
    let manifest = doc::fleet("dock", &[], &[doc::docker_robot("dock-cli-1")])
        + &doc::docker_package(
            "dock-app",
            "1.0.0",
            &format!("{IMAGE}:1"),
            Some("always"),
            script,
        )
        + &doc::deployment("dock-cli", "dock-app", "1.0.0", "dock-cli-1", &[]);
    let file = server.dir.path().join("dock.yaml");
    std::fs::write(&file, manifest).expect("write");
    let file = file.to_str().expect("utf-8");
    let out = server.cli(&["apply", "-f", file, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("deployment dock-cli: Succeeded, Running"),
        "{}",
        explain(&out)
    );
    let out = server.cli(&["get", "devices", "-o", "json"]);
    assert_eq!(json(&out)[0]["runtime"], "docker", "{}", explain(&out));
    let out = server.cli(&["logs", "dock-cli", "--executable", "main"]);
    assert_eq!(
        stdout(&out),
        "[dock-cli-1 main/main] container up\n",
        "{}",
        explain(&out)
    );
    std::thread::sleep(Duration::from_secs(11)); // past the engine's minimum uptime: a crash, not an early exit

    let status = json(&server.cli(&["get", "deployments", "dock-cli", "-o", "json"]));
    assert!(
        status[0]["executables"][0]["instance"].is_string(),
        "a container: {status}"
    );
    // The program crashes once (exits 3 on its own; `docker kill` would be a manual stop, which
    // the seed says is not restarted): the server restarts it per its policy, with no command.
    // (A container restarts with its file system kept: the second run finds /tmp/started.)
    // Through `robodeploy exec` (the engine's exec on the container): no Docker CLI needed.
    let crashed = server.cli(&["exec", "dock-cli", "--", "sh", "-c", ": > /tmp/crash"]);
    assert_eq!(crashed.status.code(), Some(0), "{}", explain(&crashed));
    {
        assert!(
            eventually(Duration::from_secs(60), || {
                let s = json(&server.cli(&["get", "deployments", "dock-cli", "-o", "json"]));
                s[0]["restartCount"] == 1 && s[0]["status"] == "Running"
            }),
            "the container did not come back: {}\n{}",
            stdout(&server.cli(&["describe", "deployment", "dock-cli"])),
            server.log()
        );
    }
    let out = server.cli(&["delete", "-f", file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}
