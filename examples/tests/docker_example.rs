//! The Docker example deploys the sample talker and listener on the local engine, reads the
//! listener's log, and deprovisions both. Skips loudly without an engine, unless
//! `ROBODEPLOY_REQUIRE_DOCKER=1` (CI), where a missing engine fails the test.

use std::process::Command;

use robodeploy_testkit::skip;

#[test]
fn docker_example_deploys_talker_and_listener_and_cleans_up() {
    if !skip::docker_socket_present() {
        skip::skip_without_docker("no DOCKER_HOST, no /var/run/docker.sock");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_docker"))
        .output()
        .expect("run the docker example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "docker example failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("talker-docker: Succeeded / Running"),
        "{stdout}"
    );
    assert!(
        stdout.contains("listener-docker: Succeeded / Running"),
        "{stdout}"
    );
    assert!(stdout.contains("listener: heard chatter"), "{stdout}");
    assert!(
        stdout.contains("listener-docker: Deployment stopped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("talker-docker: Deployment stopped"),
        "{stdout}"
    );
}
