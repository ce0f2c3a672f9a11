//! A job interrupted while its robots run their pre-launch scripts: canceled by a user, or its
//! server killed with SIGKILL. Either way the job stays visible, and no script outlives it: a
//! script and the programs it started end with the job, and a restarted server never runs a
//! robot's script twice at once.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::{Server, eventually, explain, json, manifest as doc, processes};
use serde_json::Value;

/// A three-robot fleet, a package and a job whose pre-launch script starts a child that runs
/// until killed (`marker` in its command line) and waits for it.
fn setup(server: &Server, tag: &str, marker: &str) -> String {
    let script = server.dir.path().join("pre.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nsh -c 'while true; do sleep 1; done # {marker}'\n"),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (fleet, app) = (format!("{tag}-fleet"), format!("{tag}-app"));
    let job = doc::Job {
        fleet: &fleet,
        application: &app,
        version: "1.0.0",
        pre_launch: "pre.sh",
        env: &[],
        concurrency: 100,
        threshold: 100,
        timeout: "10m",
    };
    let text = doc::fleet(&fleet, &[], &doc::robots(tag, 3))
        + &doc::package(&app, "1.0.0", None, "while true; do sleep 1; done")
        + &job.yaml();
    let file = server.dir.path().join("job.yaml");
    std::fs::write(&file, text).expect("write manifest");
    let file = file.to_str().expect("utf-8 path").to_owned();
    let out = server.cli(&["apply", "-f", &file, "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        eventually(Duration::from_secs(60), || processes(marker).len() == 3),
        "the scripts did not start: {:?}\n{}",
        processes(marker),
        server.log()
    );
    the_job(server)["id"].as_str().expect("job id").to_owned()
}

/// The server's one job.
fn the_job(server: &Server) -> Value {
    let out = server.cli(&["get", "jobs", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let jobs = json(&out);
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    jobs[0].clone()
}

#[test]
fn a_job_canceled_during_its_pre_launch_scripts_stays_visible_and_leaves_no_script_running() {
    let server = Server::start("pre-cancel");
    let marker = format!("rd-cli-pre-cancel-{}", std::process::id());
    let id = setup(&server, "pc", &marker);
    assert_eq!(the_job(&server)["status"], "InProgress");

    let out = server.cli(&["jobs", "cancel", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        eventually(Duration::from_secs(30), || processes(&marker).is_empty()),
        "scripts outlived the canceled job: {:?}",
        processes(&marker)
    );
    let job = the_job(&server);
    assert_eq!(job["id"], id.as_str());
    assert_eq!(job["status"], "Canceled", "{job}");
    // No robot was deployed: the scripts never finished.
    let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
    assert_eq!(live, Value::Array(vec![]), "{live}");
}

#[test]
fn a_job_whose_server_is_killed_during_its_pre_launch_scripts_stays_visible_and_runs_no_script_twice()
 {
    let mut server = Server::start("pre-kill");
    let marker = format!("rd-cli-pre-kill-{}", std::process::id());
    let id = setup(&server, "pk", &marker);
    let before = processes(&marker);

    Command::new("kill")
        .args(["-KILL", &server.pid().to_string()])
        .status()
        .expect("kill");
    server.forget();
    server.spawn();

    // Visible after the restart, still in progress.
    let job = the_job(&server);
    assert_eq!(job["id"], id.as_str());
    assert_eq!(job["status"], "InProgress", "{job}");
    // Each robot's script runs at most once at a time: the restarted server adopted or
    // replaced the scripts the killed one started, never added to them.
    for _ in 0..30 {
        let now = processes(&marker);
        assert!(
            now.len() <= 3,
            "scripts before the kill {before:?}, now {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let out = server.cli(&["jobs", "cancel", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        eventually(Duration::from_secs(30), || processes(&marker).is_empty()),
        "scripts outlived the job: {:?}",
        processes(&marker)
    );
    assert_eq!(the_job(&server)["status"], "Canceled");
}
