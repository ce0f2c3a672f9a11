//! The CLI end to end against a real `robodeploy serve`: the server supervises between commands,
//! apply is declarative and waits until things stay up, exit codes tell the truth, SIGTERM
//! leaves everything running for the next server to adopt, logs follow across restarts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, eventually, explain, idle, json, manifest as doc, processes, stdout};
use serde_json::Value;

/// A fleet of `robots` local robots named `<tag>-r<n>`, and a package `<tag>-app` whose one
/// executable runs `script` under `restart`.
fn manifest(tag: &str, robots: usize, restart: &str, script: &str) -> String {
    doc::fleet(&format!("{tag}-fleet"), &[], &doc::robots(tag, robots))
        + &doc::package(&format!("{tag}-app"), "1.0.0", Some(restart), script)
}

/// A deployment of `<tag>-app` 1.0.0 on robot 1, named `<tag>`.
fn deployment(tag: &str) -> String {
    doc::deployment(
        tag,
        &format!("{tag}-app"),
        "1.0.0",
        &format!("{tag}-r1"),
        &[],
    )
}

fn write(server: &Server, name: &str, text: &str) -> String {
    let path = server.dir.path().join(name);
    std::fs::write(&path, text).expect("write manifest");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The one deployment named `name`, as `get deployments NAME -o json` shows it.
fn status(server: &Server, name: &str) -> Value {
    let out = server.cli(&["get", "deployments", name, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    json(&out)[0].clone()
}

#[test]
fn apply_twice_changes_nothing_and_a_killed_executable_comes_back_without_a_command() {
    let server = Server::start("apply-twice");
    let marker = format!("rd-cli-twice-{}", std::process::id());
    let text = manifest("twice", 1, "always", &format!("echo up; {}", idle(&marker)))
        + &deployment("twice");
    let file = write(&server, "twice.yaml", &text);

    let out = server.apply_up(&file);
    let text = stdout(&out);
    for line in [
        "package twice-app@1.0.0 created",
        "robot twice-r1 created",
        "fleet twice-fleet created",
        "deployment twice: Succeeded, Running (up 1 s without a restart)",
        "applied: everything runs",
    ] {
        assert!(text.contains(line), "missing {line:?}: {}", explain(&out));
    }
    let first = processes(&marker);
    assert_eq!(first.len(), 1, "one executable running: {first:?}");

    // The same file again: nothing changes, and the output says so.
    let out = server.cli(&["apply", "-f", &file, "--min-uptime", "1s", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let v = json(&out);
    let changes: Vec<&str> = ["packages", "devices", "fleets", "deployments"]
        .iter()
        .flat_map(|k| v["applied"][k].as_array().expect(k))
        .map(|c| c["change"].as_str().expect("change"))
        .collect();
    assert_eq!(changes, ["unchanged"; 4], "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(processes(&marker), first, "nothing was started twice");
    let out = server.cli(&["apply", "-f", &file, "--no-wait"]);
    assert!(
        stdout(&out).contains("nothing to change: everything is as the manifests say"),
        "{}",
        explain(&out)
    );

    // Killed: the server restarts it on its own, no command involved.
    Command::new("kill")
        .args(["-KILL", &first[0].to_string()])
        .status()
        .expect("kill");
    assert!(
        eventually(Duration::from_secs(30), || {
            let now = processes(&marker);
            now.len() == 1 && now != first
        }),
        "the executable did not come back: {}",
        server.log()
    );
    assert!(eventually(Duration::from_secs(10), || {
        let s = status(&server, "twice");
        s["status"] == "Running" && s["restartCount"] == 1
    }));
    // The table says the same, under its named columns; the age in seconds.
    let out = server.cli(&["get", "deployments"]);
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAME", "PACKAGE", "PHASE", "STATUS", "RESTARTS", "ERRORS", "AGE"
        ],
        "{text}"
    );
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(
        rows[1][..6],
        ["twice", "twice-app@1.0.0", "Succeeded", "Running", "1", "-"],
        "{text}"
    );
    assert!(
        rows[1][6].ends_with('s') && rows[1][6].trim_end_matches('s').parse::<u64>().is_ok(),
        "{text}"
    );
}

#[test]
fn apply_exits_non_zero_when_a_program_does_not_stay_up() {
    let server = Server::start("apply-dies");
    // Up for a second, then exits: the engine reports it exited too early (and restarts it,
    // per its policy); apply does not call that applied.
    let text = manifest("flaky", 1, "always", "sleep 1; exit 3") + &deployment("flaky");
    let file = write(&server, "flaky.yaml", &text);
    let out = server.cli(&["apply", "-f", &file, "--min-uptime", "4s"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains("deployment flaky: FAILED: an executable is in error"),
        "{}",
        explain(&out)
    );
    assert!(
        text.contains("  DEP_E152: exited too early with code 3"),
        "{}",
        explain(&out)
    );
    assert!(text.contains("apply failed: not everything runs"), "{text}");
    assert!(!text.contains("applied: everything runs"), "{text}");

    // Without a restart policy it ends in Error: also a failure, with the seed's code.
    let text = manifest("dead", 1, "no", "echo last words; exit 3") + &deployment("dead");
    let file = write(&server, "dead.yaml", &text);
    let out = server.cli(&["apply", "-f", &file, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stdout(&out).contains("deployment dead: FAILED: an executable is in error"),
        "{}",
        explain(&out)
    );
    let s = status(&server, "dead");
    assert_eq!(s["status"], "Error", "{s}");
    // What it printed before it died is there to read, and to follow.
    let out = server.cli(&["logs", "dead"]);
    assert_eq!(
        (out.status.code(), stdout(&out).trim()),
        (Some(0), "[dead-r1 main/main] last words"),
        "{}",
        explain(&out)
    );
    let mut follow = server
        .command(&["logs", "dead", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logs --follow");
    let pipe = follow.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(pipe).read_line(&mut first);
        let _ = tx.send(first);
    });
    let first = rx.recv_timeout(Duration::from_secs(20));
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(
        first.as_deref().map(str::trim_end),
        Ok("[dead-r1 main/main] last words"),
        "logs --follow of an exited program"
    );
}

#[test]
fn sigterm_leaves_executables_running_and_the_next_server_adopts_them() {
    let mut server = Server::start("sigterm");
    let marker = format!("rd-cli-sigterm-{}", std::process::id());
    let text = manifest("keep", 1, "always", &idle(&marker)) + &deployment("keep");
    let file = write(&server, "keep.yaml", &text);
    server.apply_up(&file);
    let before = processes(&marker);
    assert_eq!(before.len(), 1);

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
    assert!(!server.state().join("endpoint").exists());
    assert_eq!(processes(&marker), before, "SIGTERM stopped an executable");
    let out = server.cli(&["get", "deployments"]);
    assert_eq!(out.status.code(), Some(3), "no server: {}", explain(&out));

    server.spawn();
    let s = status(&server, "keep");
    assert_eq!(
        (&s["phase"], &s["status"]),
        (&Value::from("Succeeded"), &Value::from("Running")),
        "{s}"
    );
    assert_eq!(s["restartCount"], 0, "adopted, not restarted: {s}");
    assert_eq!(processes(&marker), before, "the same process");
    let out = server.cli(&["apply", "-f", &file, "--no-wait"]);
    assert!(
        stdout(&out).contains("deployment keep ("),
        "{}",
        explain(&out)
    );
    assert!(stdout(&out).contains(") unchanged"), "{}", explain(&out));
}

#[test]
fn a_changed_deployment_is_replaced_and_delete_removes_what_the_file_applied() {
    let server = Server::start("replace");
    let text = manifest("rep", 1, "always", "echo one; exec sleep 600") + &deployment("rep");
    let file = write(&server, "rep.yaml", &text);
    server.apply_up(&file);
    let old = status(&server, "rep")["id"].clone();

    // The same package version with other content is refused, changing nothing.
    let changed = text.replace("echo one", "echo two");
    let file2 = write(&server, "rep2.yaml", &changed);
    let out = server.cli(&["apply", "-f", &file2]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("package rep-app@1.0.0 exists with other content"),
        "{}",
        explain(&out)
    );
    assert_eq!(status(&server, "rep")["id"], old);

    // A changed deployment (an environment variable more) replaces the old one.
    let env = text.replace(
        "  devices: {main: rep-r1}\n",
        "  devices: {main: rep-r1}\n  env: {MODE: fast}\n",
    );
    let file3 = write(&server, "rep3.yaml", &env);
    let out = server.cli(&["apply", "-f", &file3, "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("would be replaced"),
        "{}",
        explain(&out)
    );
    assert_eq!(
        status(&server, "rep")["id"],
        old,
        "a dry run changes nothing"
    );
    let out = server.cli(&["apply", "-f", &file3, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(stdout(&out).contains(") replaced"), "{}", explain(&out));
    let new = status(&server, "rep");
    assert_ne!(new["id"], old);
    assert_eq!(new["status"], "Running");
    let out = server.cli(&["get", "deployments", old.as_str().unwrap(), "-o", "json"]);
    assert_eq!(
        json(&out)[0]["phase"],
        "DeploymentStopped",
        "{}",
        explain(&out)
    );

    let out = server.cli(&["delete", "-f", &file3]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("deployment rep ("),
        "{}",
        explain(&out)
    );
    assert!(stdout(&out).contains(") deleted"), "{}", explain(&out));
    let out = server.cli(&["get", "deployments"]);
    assert_eq!(stdout(&out), "No deployments.\n", "{}", explain(&out));
    let out = server.cli(&["delete", "-f", &file3]);
    assert!(
        stdout(&out).contains("deployment rep absent"),
        "{}",
        explain(&out)
    );
}

#[test]
fn logs_follow_an_executable_across_its_restarts() {
    let server = Server::start("follow");
    let marker = format!("rd-cli-follow-{}", std::process::id());
    let text = manifest(
        "fol",
        1,
        "always",
        &format!("echo started $$; {}", idle(&marker)),
    ) + &deployment("fol");
    let file = write(&server, "fol.yaml", &text);
    server.apply_up(&file);
    // Each line behind its robot and executable: the package's component `main`, executable
    // `main`.
    let out = server.cli(&["logs", "fol"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).starts_with("[fol-r1 main/main] started "),
        "{}",
        explain(&out)
    );

    // With --component and --executable, behind its robot only.
    let mut follow = server
        .command(&[
            "logs",
            "fol",
            "--follow",
            "--component",
            "main",
            "--executable",
            "main",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logs --follow");
    let mut lines = BufReader::new(follow.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("read");
    assert!(first.starts_with("[fol-r1] started "), "{first}");

    let pid = processes(&marker);
    assert_eq!(pid.len(), 1);
    Command::new("kill")
        .args(["-KILL", &pid[0].to_string()])
        .status()
        .expect("kill");
    // The restarted instance's first line arrives on the same stream.
    let second = lines
        .next()
        .expect("a line after the restart")
        .expect("read");
    assert!(second.starts_with("[fol-r1] started "), "{second}");
    assert_ne!(second, first, "a new process wrote it");
    let _ = follow.kill();
    let _ = follow.wait();
}

#[test]
fn a_second_server_on_the_same_state_dir_is_refused() {
    let server = Server::start("two-servers");
    let out = Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
        .arg(server.state())
        .output()
        .expect("second serve");
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("another robodeploy server runs on this state directory"),
        "{}",
        explain(&out)
    );
    let out = Command::new(common::BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--state-dir"])
        .arg(server.dir.path().join("other"))
        .output()
        .expect("serve on 0.0.0.0");
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("--listen 0.0.0.0:0: the API listens on loopback only"),
        "{}",
        explain(&out)
    );
    // The token is the owner's only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(server.state().join("token"))
        .expect("token")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = std::fs::metadata(server.state())
        .expect("state")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

/// A fleet, a package version and a deployment job rolling it out, with a pre-launch script
/// that fails on the robots named in `failing`.
/// The last job `get jobs` lists.
fn last_job(server: &Server) -> Value {
    let jobs = json(&server.cli(&["get", "jobs", "-o", "json"]));
    jobs.as_array()
        .and_then(|j| j.last())
        .expect("the last job")
        .clone()
}

fn job_manifest(tag: &str, version: &str, failing: &str) -> String {
    let (fleet, app) = (format!("{tag}-fleet"), format!("{tag}-app"));
    let script = format!("echo $ROBODEPLOY_ROBOT runs {version}; while true; do sleep 1; done");
    let job = doc::Job {
        fleet: &fleet,
        application: &app,
        version,
        pre_launch: "pre.sh",
        env: &[("FAILING", failing)],
        concurrency: 100,
        threshold: 50,
        timeout: "2m",
    };
    doc::fleet(&fleet, &[], &doc::robots(tag, 3))
        + &doc::package(&app, version, Some("always"), &script)
        + &job.yaml()
}

#[test]
fn a_new_version_rolls_out_as_a_job_and_job_exit_codes_tell_the_truth() {
    let server = Server::start("jobs");
    // Relative to the manifest's directory, as the CLI resolves it.
    let script = write(
        &server,
        "pre.sh",
        "#!/bin/sh\nfor r in $FAILING; do [ \"$r\" = \"$ROBODEPLOY_ROBOT\" ] && { echo \"$r: not ready\" >&2; exit 1; }; done; exit 0\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let v1 = write(&server, "v1.yaml", &job_manifest("jb", "1.0.0", "none"));
    let out = server.cli(&["apply", "-f", &v1, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains("(jb-app 1.0.0 to fleet jb-fleet) created"),
        "{text}"
    );
    assert!(text.contains("applied: everything runs"), "{text}");
    let jobs = json(&server.cli(&["get", "jobs", "-o", "json"]));
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    let first = jobs[0]["id"].as_str().expect("job id").to_owned();
    assert_eq!(jobs[0]["status"], "Succeeded");

    // The same file again: the same job, nothing started.
    let out = server.cli(&["apply", "-f", &v1, "--min-uptime", "1s", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let v = json(&out);
    assert_eq!(v["applied"]["jobs"][0]["change"], "unchanged", "{v}");
    assert_eq!(v["applied"]["jobs"][0]["id"], first.as_str());

    // The whole job's output, each line with its robot and executable (the package's
    // component `main`, executable `main`).
    let out = server.cli(&["logs", &first]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    for i in 1..=3 {
        assert!(
            text.contains(&format!("[jb-r{i} main/main] jb-r{i} runs 1.0.0\n")),
            "{}",
            explain(&out)
        );
    }

    // Version 2 in the file: a new job replaces 1.0.0 robot by robot.
    let v2 = write(&server, "v2.yaml", &job_manifest("jb", "2.0.0", "none"));
    let out = server.cli(&["apply", "-f", &v2, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("(jb-app 2.0.0 to fleet jb-fleet) created"),
        "{}",
        explain(&out)
    );
    let robot = json(&server.cli(&["describe", "device", "jb-r2", "-o", "json"]));
    assert_eq!(robot["installed"]["jb-app"], "2.0.0", "{robot}");
    let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
    let versions: Vec<&str> = live
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| d["version"].as_str().expect("version"))
        .collect();
    assert_eq!(versions, ["2.0.0"; 3], "{live}");

    // Version 3 fails its pre-launch check on two robots of three: the job fails at its
    // threshold; apply and `jobs wait` exit 1 and say why.
    let v3 = write(
        &server,
        "v3.yaml",
        &job_manifest("jb", "3.0.0", "jb-r1 jb-r2"),
    );
    let out = server.cli(&["apply", "-f", &v3, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("PreLaunchFileFailure"), "{text}");
    assert!(text.contains("not ready"), "{text}");
    assert!(text.contains("apply failed"), "{text}");
    let last = last_job(&server);
    assert_eq!(last["status"], "Failed", "{last}");
    let out = server.cli(&["jobs", "wait", last["id"].as_str().expect("id")]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let out = server.cli(&["jobs", "wait", &first]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Version 4 fails on one robot of three: under the threshold, the job succeeds, but the
    // apply did not get what the file asked on that robot, so it exits 1 and names it;
    // `jobs wait` says the job succeeded and which robot failed.
    let v4 = write(&server, "v4.yaml", &job_manifest("jb", "4.0.0", "jb-r3"));
    let out = server.cli(&["apply", "-f", &v4, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains("succeeded within its failure threshold, but:"),
        "{text}"
    );
    assert!(text.contains("robot jb-r3: "), "{text}");
    assert!(text.contains("not ready"), "{text}");
    assert!(!text.contains("robot jb-r1: "), "{text}");
    assert!(text.contains("apply failed"), "{text}");
    let last = last_job(&server);
    assert_eq!(last["status"], "Succeeded", "{last}");
    let out = server.cli(&["jobs", "wait", last["id"].as_str().expect("id")]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("robot jb-r3: "), "{text}");
    assert!(
        text.contains("succeeded within its failure threshold (1 robot failed)"),
        "{text}"
    );
}

#[test]
fn an_apply_cut_short_by_a_killed_server_is_completed_by_applying_again() {
    let mut server = Server::start("interrupted");
    let marker = format!("rd-cli-cut-{}", std::process::id());
    let mut text = manifest("cut", 3, "always", &idle(&marker));
    for i in 0..30 {
        text.push_str(&doc::deployment(
            &format!("cut-{i:02}"),
            "cut-app",
            "1.0.0",
            &format!("cut-r{}", i % 3 + 1),
            &[],
        ));
    }
    let file = write(&server, "cut.yaml", &text);
    let mut apply = server
        .command(&["apply", "-f", &file, "--no-wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("apply");
    // Killed (SIGKILL, no chance to detach) once some deployments exist, before all do.
    assert!(
        eventually(Duration::from_secs(30), || !processes(&marker).is_empty()),
        "nothing started: {}",
        server.log()
    );
    Command::new("kill")
        .args(["-KILL", &server.pid().to_string()])
        .status()
        .expect("kill");
    let _ = apply.wait();
    server.forget();
    let started = processes(&marker).len();
    eprintln!("{started} of 30 deployments had started when the server was killed");

    server.spawn();
    let out = server.apply_up(&file);
    let text = stdout(&out);
    assert!(text.contains("applied: everything runs"), "{text}");
    // Every deployment once: those the first apply made were adopted, the rest created.
    let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
    let names: Vec<&str> = live
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    let expected: Vec<String> = (0..30).map(|i| format!("cut-{i:02}")).collect();
    assert_eq!(names, expected, "started before the kill: {started}");
    assert!(eventually(Duration::from_secs(10), || processes(&marker)
        .len()
        == 30));
    assert!(
        live.as_array()
            .expect("deployments")
            .iter()
            .all(|d| d["status"] == "Running" && d["restartCount"] == 0),
        "{live}"
    );
}

#[test]
fn jobs_rollback_returns_the_robots_of_a_job_to_the_version_they_ran_before() {
    let server = Server::start("rollback");
    let script = write(&server, "pre.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let v1 = write(&server, "v1.yaml", &job_manifest("rb", "1.0.0", "none"));
    server.apply_up(&v1);
    let v2 = write(&server, "v2.yaml", &job_manifest("rb", "2.0.0", "none"));
    server.apply_up(&v2);
    let jobs = json(&server.cli(&["get", "jobs", "-o", "json"]));
    let second = jobs[1]["id"].as_str().expect("job id").to_owned();
    assert_eq!(jobs[1]["version"], "2.0.0", "{jobs}");

    let out = server.cli(&["jobs", "rollback", &second, "--wait", "--timeout", "2m"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("rolling back 3 robots"), "{text}");
    assert!(
        text.contains("Canceled; 3 robots back on their previous version, 0 failed"),
        "{text}"
    );
    let report = json(&server.cli(&["get", "jobs", &second, "-o", "json"]))[0].clone();
    assert_eq!(report["status"], "Canceled", "{report}");
    assert_eq!(report["rollback"]["requested"], true, "{report}");
    assert_eq!(report["rollback"]["rolledBack"], 3, "{report}");
    for i in 1..=3 {
        let robot = json(&server.cli(&["describe", "device", &format!("rb-r{i}"), "-o", "json"]));
        assert_eq!(robot["installed"]["rb-app"], "1.0.0", "{robot}");
    }
    assert!(eventually(Duration::from_secs(30), || {
        let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
        live.as_array().is_some_and(|all| {
            all.len() == 3
                && all
                    .iter()
                    .all(|d| d["version"] == "1.0.0" && d["status"] == "Running")
        })
    }));

    // Nothing is left to roll back: refused, exit 1, and the job is unchanged.
    let out = server.cli(&["jobs", "rollback", &second]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to roll back"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_job_past_the_servers_retention_is_deleted_and_what_it_deployed_runs_on() {
    // A retention that is not a positive span is a usage error.
    let dir = common::TempDir::new("retention-bad");
    let out = common::robodeploy(dir.path(), &["serve", "--job-retention", "0s"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("a retention must be positive"),
        "{}",
        explain(&out)
    );

    let mut server = Server::unstarted("retention");
    server.spawn_with(&["--job-retention", "10s"]);
    let script = write(&server, "pre.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let file = write(&server, "job.yaml", &job_manifest("rt", "1.0.0", "none"));
    let out = server.cli(&["apply", "-f", &file, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let job = last_job(&server);
    assert_eq!(job["status"], "Succeeded", "{job}");
    let id = job["id"].as_str().expect("id").to_owned();

    // Ten seconds after its creation, at the next health check, it is gone: from the list,
    // by its id, and after a restart.
    let listed = |server: &Server| {
        json(&server.cli(&["get", "jobs", "-o", "json"]))
            .as_array()
            .map_or(usize::MAX, Vec::len)
    };
    assert!(
        eventually(Duration::from_secs(30), || listed(&server) == 0),
        "the job outlived its retention: {}",
        server.log()
    );
    let out = server.cli(&["describe", "job", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    server.terminate();
    server.spawn_with(&["--job-retention", "10s"]);
    assert_eq!(listed(&server), 0);

    // What it deployed is not the job's to take along: it runs on.
    let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
    let running = live
        .as_array()
        .expect("deployments")
        .iter()
        .filter(|d| d["status"] == "Running")
        .count();
    assert_eq!(running, 3, "{live}");
}

#[test]
fn a_deleted_deployment_is_shown_until_the_servers_retention_then_forgotten() {
    let dir = common::TempDir::new("dep-retention-bad");
    let out = common::robodeploy(dir.path(), &["serve", "--deployment-retention", "0s"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("a retention must be positive"),
        "{}",
        explain(&out)
    );

    let mut server = Server::unstarted("dep-retention");
    server.spawn_with(&["--deployment-retention", "8s"]);
    let text = manifest("dret", 1, "always", "exec sleep 600") + &deployment("dret");
    let file = write(&server, "dret.yaml", &text);
    server.apply_up(&file);
    let id = status(&server, "dret")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let out = server.cli(&["delete", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    // Within the retention its last status is shown by id...
    let shown = |server: &Server| server.cli(&["get", "deployments", &id, "-o", "json"]);
    let out = shown(&server);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(
        json(&out)[0]["phase"],
        "DeploymentStopped",
        "{}",
        explain(&out)
    );
    // ...and past it, at a health check, it is gone: by id, and after a restart.
    assert!(
        eventually(Duration::from_secs(30), || shown(&server).status.code()
            == Some(1)),
        "the deployment outlived its retention: {}",
        explain(&shown(&server))
    );
    server.terminate();
    server.spawn_with(&["--deployment-retention", "8s"]);
    let out = shown(&server);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
}

/// `events --watch` prints what happens as it happens, in words: a deployment reaching Running,
/// then its executable killed and restarted by the server (counted, singular), then its
/// deprovision.
#[test]
fn events_watch_prints_a_deployment_running_restarted_and_deprovisioned() {
    let server = Server::start("watch");
    let marker = format!("rd-cli-watch-{}", std::process::id());
    let file = write(
        &server,
        "watch.yaml",
        &(manifest("watch", 1, "always", &idle(&marker)) + &deployment("watch")),
    );
    let mut watch = server
        .command(&["events", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("events --watch");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = watch.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The first line that `wanted` accepts within 30 s, or the lines seen.
    let expect = |what: &str, wanted: &dyn Fn(&str) -> bool| {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no line {what}: {seen:#?}\n{}", server.log());
    };
    server.apply_up(&file);
    expect("for the deployment running", &|l| {
        l.starts_with("deployment watch: Succeeded, Running, 0 restarts")
    });
    let pid = processes(&marker);
    assert_eq!(pid.len(), 1, "{pid:?}");
    Command::new("kill")
        .args(["-KILL", &pid[0].to_string()])
        .status()
        .expect("kill");
    expect("for the restart", &|l| {
        l.starts_with("deployment watch: Succeeded, Running, 1 restart")
            && !l.contains("1 restarts")
    });
    let out = server.cli(&["delete", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    expect("for the deprovision", &|l| {
        l.starts_with("deployment watch: Deployment stopped, Stopped")
    });
    let _ = watch.kill();
    let _ = watch.wait();
}

/// `describe package` shows each version's components and executables, environment variables
/// by name only.
#[test]
fn describe_package_shows_components_and_executables_without_env_values() {
    let server = Server::start("describe-pkg");
    let canary = format!("canary-{}", std::process::id());
    let text = doc::package("pkg-app", "1.0.0", Some("always"), "sleep 1")
        + &doc::package("pkg-app", "2.0.0", None, "sleep 2").replace(
            "          command:",
            &format!("          env: {{SECRET_TOKEN: {canary}}}\n          command:"),
        );
    let file = write(&server, "pkg.yaml", &text);
    let out = server.cli(&["apply", "-f", &file, "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let out = server.cli(&["describe", "package", "pkg-app@2.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(
        stdout(&out),
        "package pkg-app@2.0.0\n  component main: on a preinstalled amd64 device, restart by \
         default\n    executable main: runs sh -c sleep 2; env SECRET_TOKEN\n",
        "{}",
        explain(&out)
    );
    let out = server.cli(&["describe", "package", "pkg-app"]);
    let text = stdout(&out);
    assert!(
        text.contains("package pkg-app@1.0.0\n  component main: on a preinstalled amd64 device, restart always\n"),
        "{text}"
    );
    assert!(text.contains("package pkg-app@2.0.0\n"), "{text}");
    assert!(!text.contains(&canary), "{text}");
    let out = server.cli(&["describe", "package", "pkg-app@3.0.0", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("no package"),
        "{}",
        explain(&out)
    );
    let out = server.cli(&["describe", "package", "pkg-app@1.0.0", "-o", "json"]);
    assert_eq!(json(&out)[0]["version"], "1.0.0", "{}", explain(&out));
}

/// A job whose first wave asks for a manual resume stops after it until `jobs resume`, then
/// deploys the rest.
#[test]
fn jobs_resume_lets_a_job_past_a_wave_that_waits_for_it() {
    let server = Server::start("resume");
    let script = write(&server, "pre.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let text = job_manifest("rs", "1.0.0", "none")
        + "    waves:\n      - {size: {robots: 1}, manualResume: true}\n";
    let file = write(&server, "waves.yaml", &text);
    let out = server.cli(&["apply", "-f", &file, "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let id = last_job(&server)["id"].as_str().expect("id").to_owned();
    let in_sync = |server: &Server| {
        let r = json(&server.cli(&["describe", "job", &id, "-o", "json"]));
        let n = r["robots"].as_array().map_or(0, |rs| {
            rs.iter().filter(|r| r["status"] == "InSync").count()
        });
        (n, r)
    };
    assert!(
        eventually(Duration::from_secs(60), || in_sync(&server).0 == 1),
        "{}",
        in_sync(&server).1
    );
    // It waits: nothing more is deployed.
    std::thread::sleep(Duration::from_secs(3));
    let (n, report) = in_sync(&server);
    assert_eq!(n, 1, "{report}");
    assert_eq!(report["status"], "InProgress", "{report}");
    // The report says why: the first wave (robot 1) completed and waits for a resume; the
    // second (the rest) has not started.
    let waves = |report: &Value| {
        report["waves"]
            .as_array()
            .expect("waves")
            .iter()
            .map(|w| {
                (
                    w["start"].as_u64().expect("start"),
                    w["end"].as_u64().expect("end"),
                    w["state"].as_str().expect("state").to_owned(),
                    w["manualResume"].as_bool().expect("manualResume"),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        waves(&report),
        [
            (0, 1, "AwaitingResume".to_owned(), true),
            (1, 3, "Waiting".to_owned(), false)
        ],
        "{report}"
    );
    let table = server.cli(&["describe", "job", &id]);
    let text = common::stdout(&table);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip_while(|l| !l.starts_with("WAVE"))
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["1", "1-1", "waiting for `jobs resume`", "0 of 1", "resume"],
            vec!["2", "2-3", "waiting", "0 of 1", "-"]
        ],
        "{text}"
    );

    let out = server.cli(&["jobs", "resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = server.cli(&["jobs", "wait", &id, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (n, report) = in_sync(&server);
    assert_eq!(
        (n, report["status"].as_str()),
        (3, Some("Succeeded")),
        "{report}"
    );
    assert_eq!(
        waves(&report),
        [
            (0, 1, "Completed".to_owned(), true),
            (1, 3, "Completed".to_owned(), false)
        ],
        "{report}"
    );
}

/// `logs JOB --follow`: every robot's output, each line behind its robot and executable, going
/// on across a restart of one robot's executable.
#[test]
fn logs_of_a_job_follow_every_robot_across_a_restart() {
    let server = Server::start("joblogs");
    let script = write(&server, "pre.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let file = write(&server, "job.yaml", &job_manifest("jl", "1.0.0", "none"));
    let out = server.cli(&["apply", "-f", &file, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let id = last_job(&server)["id"].as_str().expect("id").to_owned();
    let mut follow = server
        .command(&["logs", &id, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logs --follow");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = follow.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |wanted: &str, times: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while seen.iter().filter(|l: &&String| *l == wanted).count() < times {
            let left = deadline
                .checked_duration_since(std::time::Instant::now())
                .unwrap_or_else(|| panic!("no {wanted:?} ×{times}: {seen:#?}"));
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {wanted:?} ×{times}: {seen:#?}"),
            }
        }
    };
    for i in 1..=3 {
        wait_for(&format!("[jl-r{i} main/main] jl-r{i} runs 1.0.0"), 1);
    }
    // Robot 2's executable killed: the server restarts it, and its first line comes again.
    // Robot 2's: the one whose environment names it.
    let pids: Vec<u32> = processes("$ROBODEPLOY_ROBOT runs 1.0.0")
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|v| v == b"ROBODEPLOY_ROBOT=jl-r2")
            })
        })
        .collect();
    assert_eq!(pids.len(), 1, "robot 2's executable runs once: {pids:?}");
    Command::new("kill")
        .args(["-KILL", &pids[0].to_string()])
        .status()
        .expect("kill");
    wait_for("[jl-r2 main/main] jl-r2 runs 1.0.0", 2);
    let _ = follow.kill();
    let _ = follow.wait();
}

/// Runs the CLI against `server` with stdout's reader closed at once (`| head -n0`): it must end
/// within 20 s, exit 0 and not panic.
fn into_a_closed_pipe(server: &Server, args: &[&str]) {
    let errors = server.dir.path().join("closed-pipe.stderr");
    let mut child = server
        .command(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errors).expect("stderr file"))
        .spawn()
        .expect("spawn robodeploy");
    // Every write fails with EPIPE from now on.
    drop(child.stdout.take());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "robodeploy {} still ran 20 s after its reader went away:\n{}",
                args.join(" "),
                std::fs::read_to_string(&errors).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = std::fs::read_to_string(&errors).unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(0),
        "robodeploy {}: {err}",
        args.join(" ")
    );
    assert!(
        !err.contains("panicked"),
        "robodeploy {}: {err}",
        args.join(" ")
    );
}

/// The commands that read the server, into a closed pipe: no panic, the command's own exit code;
/// and the streams (`logs --follow`, `events --watch`) end once their reader is gone, also when
/// they have nothing more to print (a quiet executable, a quiet server).
#[test]
fn server_output_survives_a_closed_pipe_and_streams_end_with_their_reader() {
    let server = Server::start("pipe");
    let script = write(&server, "pre.sh", "#!/bin/sh\nexit 0\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Three robots; each executable prints one line at its start, then nothing.
    let file = write(&server, "job.yaml", &job_manifest("cp", "1.0.0", "none"));
    server.apply_up(&file);
    let job = last_job(&server)["id"].as_str().expect("id").to_owned();
    let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
    assert_eq!(live.as_array().map(Vec::len), Some(3), "{live}");
    let deployment = live[0]["name"].as_str().expect("name").to_owned();
    for args in [
        &["get", "deployments"][..],
        &["get", "deployments", "-o", "json"],
        &["get", "devices", "-o", "yaml"],
        &["describe", "job", &job],
        &["events"],
        &["events", "-o", "json"],
        &["logs", &deployment],
        &["logs", &job],
        // Streams with a line to write at once (each executable's first)...
        &["logs", &deployment, "--follow"],
        &["logs", &job, "--follow", "-o", "json"],
        // ...and with nothing to write: no earlier line, and none to come.
        &["logs", &deployment, "--follow", "--tail", "0"],
        &["logs", &job, "--follow", "--tail", "0"],
        &["events", "--watch"],
        &["events", "--watch", "-o", "json"],
    ] {
        into_a_closed_pipe(&server, args);
    }
}

/// `apply -f DIR` reads every manifest of the directory as one; `apply -f -` reads standard
/// input; both say what they changed, and the second finds nothing to change.
#[test]
fn apply_reads_a_directory_and_standard_input() {
    let server = Server::start("apply-dir");
    let dir = server.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("1-fleet.yaml"),
        doc::fleet("dir-fleet", &[], &doc::robots("dir", 1)),
    )
    .expect("write");
    std::fs::write(
        dir.join("2-app.yml"),
        doc::package(
            "dir-app",
            "1.0.0",
            Some("always"),
            "while true; do sleep 1; done",
        ),
    )
    .expect("write");
    std::fs::write(dir.join("notes.txt"), "not a manifest").expect("write");
    let out = server.cli(&["apply", "-f", dir.to_str().expect("utf-8"), "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    for line in [
        "fleet dir-fleet created",
        "robot dir-r1 created",
        "package dir-app@1.0.0 created",
    ] {
        assert!(stdout(&out).contains(line), "{line}: {}", explain(&out));
    }

    // A manifest is checked whole: the deployment comes with what it names.
    let deployment = std::fs::read_to_string(dir.join("1-fleet.yaml")).expect("read")
        + &std::fs::read_to_string(dir.join("2-app.yml")).expect("read")
        + &doc::deployment("dir", "dir-app", "1.0.0", "dir-r1", &[]);
    let mut apply = server
        .command(&["apply", "-f", "-", "--min-uptime", "1s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply -f -");
    use std::io::Write;
    apply
        .stdin
        .take()
        .expect("stdin")
        .write_all(deployment.as_bytes())
        .expect("write stdin");
    let out = apply.wait_with_output().expect("apply");
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("deployment dir: Succeeded, Running"),
        "{}",
        explain(&out)
    );
    let out = server.cli(&["apply", "-f", dir.to_str().expect("utf-8"), "--no-wait"]);
    assert!(
        stdout(&out).contains("nothing to change"),
        "{}",
        explain(&out)
    );
    let _ = server.cli(&["deprovision", "dir"]);
}
