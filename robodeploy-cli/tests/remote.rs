//! A robot reached through the device agent, registered from a manifest (`connection: {agent:
//! …}`) on a `robodeploy serve --remote`: the agent connects out to the server's embedded Zenoh
//! router, and the deployment runs on the robot's own process runtime.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, eventually, explain, json, manifest as doc, stdout};

/// The device agent binary.
fn agent_binary() -> PathBuf {
    sibling_binary("robodeploy-agent")
}

/// A binary of robodeploy-zenoh: beside this crate's binary when the workspace was built, else
/// built now.
fn sibling_binary(name: &str) -> PathBuf {
    let dir = PathBuf::from(common::BIN)
        .parent()
        .expect("target dir")
        .to_owned();
    let binary = dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "-p", "robodeploy-zenoh", "--bin", name])
            .status()
            .expect("cargo build");
        assert!(status.success(), "{name} did not build");
    }
    binary
}

/// A child process (an agent or a router), killed with SIGKILL when dropped.
struct Proc(Child);

impl Drop for Proc {
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

/// Writes the server's link file: an embedded router on loopback `port`, lease 2 s; its path.
fn link_file(server: &Server, port: u16) -> String {
    let link = server.dir.path().join("link.yaml");
    std::fs::write(
        &link,
        format!("mode: router\nlisten: [\"tcp/127.0.0.1:{port}\"]\nlease: 2s\n"),
    )
    .expect("link file");
    link.to_str().expect("utf-8").to_owned()
}

#[test]
fn a_robot_behind_its_agent_is_registered_from_a_manifest() {
    let port = free_port();
    let mut server = Server::unstarted("remote");
    let link = link_file(&server, port);
    server.spawn_with(&["--remote", &link]);
    let out = server.cli(&["get", "devices"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let robots_dir = server.dir.path().join("robots");
    let robot_state = robots_dir.join("far-1");
    let _agent = spawn_agent("far-1", &robots_dir, port);
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
    // --executable alone may match one executable in each of several components: the prefix
    // keeps naming it.
    assert_eq!(
        stdout(&out),
        "[far-1 main/main] far away\n",
        "{}",
        explain(&out)
    );
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

/// Starts robot `robot`'s agent (process runtime, state under `dir`) as a client of the
/// router on `port`.
fn spawn_agent(robot: &str, dir: &std::path::Path, port: u16) -> Proc {
    Proc(
        Command::new(agent_binary())
            .args(["--robot", robot, "--runtime", "process", "--state-dir"])
            .arg(dir.join(robot))
            .args(["--connect", &format!("tcp/127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the agent starts"),
    )
}

/// The kill points of a run: SIGKILL the server once `first` robots run the application, and
/// again once `second` do. From `ROBODEPLOY_TEST_SEED` (printed, to replay a run), else 7.
fn kill_points(robots: usize) -> (u64, usize, usize) {
    let seed = std::env::var("ROBODEPLOY_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7u64);
    // A small mix (splitmix64's finalizer) so neighbouring seeds kill at different points.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let first = 1 + (z % (robots as u64 / 2)) as usize;
    let second = first + 1 + ((z >> 16) % (robots - first - 1) as u64) as usize;
    (seed, first, second)
}

#[test]
fn a_server_and_its_router_killed_mid_job_twice_finish_the_job_over_remote_robots_starting_nothing_twice()
 {
    job_through_kills("remote-kill", [Victim::Server, Victim::Server]);
}

/// The user's own router (`robodeploy-router`, a process of its own; the server and the agents
/// its clients) killed mid-job, then the agent of the robot whose turn it is: the job finishes,
/// nothing runs twice.
#[test]
fn a_separate_router_and_an_agent_killed_mid_job_finish_the_job_starting_nothing_twice() {
    job_through_kills("router-kill", [Victim::Router, Victim::Agent]);
}

/// What a kill point kills (SIGKILL), to be started again at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Victim {
    /// `robodeploy serve`, and its embedded router with it.
    Server,
    /// The separate router the server and the agents link to.
    Router,
    /// The agent of the robot whose pre-launch script runs.
    Agent,
}

/// The router binary: beside this crate's binary when the workspace was built, else built now.
fn router_binary() -> PathBuf {
    sibling_binary("robodeploy-router")
}

/// A `robodeploy-router` on loopback `port`, lease 2 s.
fn spawn_router(port: u16) -> Proc {
    Proc(
        Command::new(router_binary())
            .args([
                "--listen",
                &format!("tcp/127.0.0.1:{port}"),
                "--lease",
                "2s",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the router starts"),
    )
}

/// A job one robot at a time over six remote robots, with a SIGKILL of each of `victims` at
/// seeded points while robots run their pre-launch scripts. With a [`Victim::Router`] the
/// server and the agents are clients of a separate router; otherwise of the server's embedded
/// one. The job must finish with nobody applying again, every robot deployed once.
fn job_through_kills(tag: &str, victims: [Victim; 2]) {
    const ROBOTS: usize = 6;
    let (seed, first, second) = kill_points(ROBOTS);
    eprintln!(
        "ROBODEPLOY_TEST_SEED={seed}: {victims:?} killed at {first} then {second} robots running"
    );
    let port = free_port();
    let mut server = Server::unstarted(tag);
    let separate = victims.contains(&Victim::Router);
    let mut router = separate.then(|| spawn_router(port));
    let link = if separate {
        let link = server.dir.path().join("link.yaml");
        std::fs::write(
            &link,
            format!("mode: client\nconnect: [\"tcp/127.0.0.1:{port}\"]\nlease: 2s\n"),
        )
        .expect("link file");
        link.to_str().expect("utf-8").to_owned()
    } else {
        link_file(&server, port)
    };
    let serve_args = ["--remote", link.as_str()];
    server.spawn_with(&serve_args);

    let robots: Vec<String> = (1..=ROBOTS).map(|i| format!("{tag}-r{i}")).collect();
    let agents_dir = server.dir.path().join("robots");
    let mut agents: Vec<Proc> = robots
        .iter()
        .map(|r| spawn_agent(r, &agents_dir, port))
        .collect();
    let remote: Vec<String> = robots.iter().map(|r| doc::remote_robot(r)).collect();
    let fleet = doc::fleet("kill-fleet", &[], &remote);
    let fleet_file = server.dir.path().join("fleet.yaml");
    std::fs::write(&fleet_file, &fleet).expect("write");
    let out = server.cli(&[
        "apply",
        "-f",
        fleet_file.to_str().expect("utf-8"),
        "--no-wait",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let online = |server: &Server| {
        json(&server.cli(&["get", "devices", "-o", "json"]))
            .as_array()
            .map_or(0, |d| d.iter().filter(|d| d["online"] == true).count())
    };
    // Past the first health check (which marks robots whose agent has not answered offline),
    // every robot online.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        eventually(Duration::from_secs(60), || online(&server) == ROBOTS),
        "the robots did not come online: {}",
        server.log()
    );

    // A job one robot at a time; each robot's pre-launch script notes that it ran, and takes
    // two seconds, so each kill falls inside the next robot's script.
    let marker = format!("rd-cli-{tag}-{}", std::process::id());
    let runs = server.dir.path().join("pre-runs");
    std::fs::create_dir_all(&runs).expect("runs dir");
    let pre = server.dir.path().join("pre.sh");
    std::fs::write(
        &pre,
        format!(
            "#!/bin/sh\necho ran >> {}/$ROBODEPLOY_ROBOT\nsleep 2\n",
            runs.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pre, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let job = doc::Job {
        fleet: "kill-fleet",
        application: "kill-app",
        version: "1.0.0",
        pre_launch: pre.to_str().expect("utf-8"),
        env: &[],
        concurrency: 17,
        threshold: 1,
        timeout: "2m",
    };
    let text = fleet
        + &doc::package("kill-app", "1.0.0", Some("always"), &common::idle(&marker))
        + &job.yaml();
    let file = server.dir.path().join("job.yaml");
    std::fs::write(&file, text).expect("write");
    let file = file.to_str().expect("utf-8");
    let out = server.cli(&["apply", "-f", file, "--no-wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    for (at, victim) in [first, second].into_iter().zip(victims) {
        assert!(
            eventually(Duration::from_secs(90), || common::processes(&marker).len()
                >= at),
            "{at} robots never ran the application; jobs {}, devices {}, server log: {}",
            stdout(&server.cli(&["get", "jobs", "-o", "json"])),
            stdout(&server.cli(&["get", "devices", "-o", "json"])),
            server.log()
        );
        match victim {
            Victim::Server => {
                Command::new("kill")
                    .args(["-KILL", &server.pid().to_string()])
                    .status()
                    .expect("kill");
                server.forget();
                // The embedded router went with it; the agents link to the next one.
                server.spawn_with(&serve_args);
            }
            Victim::Router => {
                drop(router.take());
                std::thread::sleep(Duration::from_secs(1));
                router = Some(spawn_router(port));
            }
            Victim::Agent => {
                // The robot whose turn it is: `at` run the application, one at a time.
                let i = at.min(ROBOTS - 1);
                let _ = agents[i].0.kill();
                let _ = agents[i].0.wait();
                agents[i] = spawn_agent(&robots[i], &agents_dir, port);
            }
        }
        eprintln!(
            "{victim:?} killed with {} robots running",
            common::processes(&marker).len()
        );
    }
    // The job finishes with nobody applying again: every robot deployed, once.
    let job = |server: &Server| {
        json(&server.cli(&["get", "jobs", "-o", "json"]))
            .as_array()
            .and_then(|j| j.first().cloned())
            .unwrap_or_default()
    };
    assert!(
        eventually(Duration::from_secs(180), || job(&server)["status"]
            == "Succeeded"),
        "the job did not finish: {}\n{}",
        job(&server),
        server.log()
    );
    let report = job(&server);
    let id = report["id"].as_str().expect("id");
    let report = json(&server.cli(&["describe", "job", id, "-o", "json"]));
    let robots_done: Vec<&str> = report["robots"]
        .as_array()
        .expect("robots")
        .iter()
        .filter(|r| r["status"] == "InSync")
        .map(|r| r["robot"].as_str().expect("robot"))
        .collect();
    assert_eq!(robots_done, robots, "{report}");
    assert!(
        eventually(Duration::from_secs(10), || common::processes(&marker).len()
            == ROBOTS),
        "{:?}",
        common::processes(&marker)
    );
    // Stable: nothing else starts later.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        common::processes(&marker).len(),
        ROBOTS,
        "{:?}",
        common::processes(&marker)
    );
    // Every deployment Running again, none restarted: a robot whose agent was killed after
    // its turn reads offline (DEP_E151) until its agent is back and the engine has looked.
    let running = |server: &Server| {
        let live = json(&server.cli(&["get", "deployments", "-o", "json"]));
        let all = live.as_array().is_some_and(|l| {
            l.len() == ROBOTS
                && l.iter()
                    .all(|d| d["status"] == "Running" && d["restartCount"] == 0)
        });
        (all, live)
    };
    assert!(
        eventually(Duration::from_secs(60), || running(&server).0),
        "{}",
        running(&server).1
    );
    // Every robot's script ran; one cut short by a kill may have run again, never at once.
    for r in &robots {
        let ran = std::fs::read_to_string(runs.join(r)).unwrap_or_default();
        assert!(
            (1..=3).contains(&ran.lines().count()),
            "{r}'s pre-launch script ran {} times",
            ran.lines().count()
        );
    }
}
