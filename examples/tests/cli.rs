//! The `robodeploy` CLI end to end, through the built binary: validate, plan, apply, status,
//! logs and deprovision across separate invocations, with real processes counted in /proc.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("robodeploy-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(std::fs::canonicalize(&dir).expect("canonical temp dir"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sample(name: &str) -> PathBuf {
    Path::new(robodeploy_examples::MANIFEST_DIR).join(name)
}

/// Runs the CLI in `cwd` (executables apply starts inherit it, which is how they are counted).
fn robodeploy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_robodeploy"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run robodeploy")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn explain(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", explain(out)))
}

/// Processes whose command line names `needle` (the supervisors: their argument is their
/// robot's runtime root under the state directory), and processes whose working directory is
/// `cwd` (the executables and their children: the supervisors work in their roots).
fn processes(needle: &str, cwd: &Path) -> (usize, usize) {
    let (mut by_cmdline, mut by_cwd) = (0, 0);
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let path = entry.path();
        let is_pid = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid || path.file_name() == Some(std::process::id().to_string().as_ref()) {
            continue;
        }
        if std::fs::read(path.join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        {
            by_cmdline += 1;
        }
        if std::fs::read_link(path.join("cwd")).is_ok_and(|d| d == cwd) {
            by_cwd += 1;
        }
    }
    (by_cmdline, by_cwd)
}

/// Waits until `f` holds, at most `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

#[test]
fn validate_accepts_every_sample_manifest() {
    let dir = TempDir::new("validate-ok");
    let mut seen = 0;
    for entry in std::fs::read_dir(robodeploy_examples::MANIFEST_DIR).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str());
        if !matches!(ext, Some("yaml" | "json")) {
            continue;
        }
        seen += 1;
        let file = path.to_str().unwrap();
        let out = robodeploy(&dir.0, &["validate", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", explain(&out));
        assert!(stdout(&out).contains(", 0 errors, "), "{}", explain(&out));
        let out = robodeploy(&dir.0, &["validate", file, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        let v = json(&out);
        assert_eq!(v["valid"], true);
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(0));
    }
    assert_eq!(seen, 5, "sample manifests found");
    // The rollout sample's threshold is below its concurrency: a warning with its path.
    let out = robodeploy(
        &dir.0,
        &["validate", sample("fleet-rollout.yaml").to_str().unwrap()],
    );
    assert!(
        stdout(&out).contains(
            "warning: document 2 (DeploymentJob): spec.deploymentConfig.failureThresholdPercentage: failure threshold 5 %"
        ),
        "{}",
        explain(&out)
    );
}

const BAD: &str = "\
apiVersion: robodeploy/v1
kind: Fleet
spec:
  name: lab
  robots:
    - {name: r1, architecture: amd64, runtime: preinstalled}
---
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: lab
  application: talker
  applicationVersion: \"1.0.0\"
  launchConfig: {packageName: talker, launchFile: talker.launch.py}
  deploymentConfig:
    concurrentDeploymentPercentage: 0
    failureThresholdPercentage: 5
    robotDeploymentTimeout: 10s
";

#[test]
fn validate_rejects_a_bad_manifest_naming_every_field() {
    let dir = TempDir::new("validate-bad");
    let bad = dir.0.join("bad.yaml");
    std::fs::write(&bad, BAD).unwrap();
    let out = robodeploy(&dir.0, &["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    for line in [
        "error: document 1 (DeploymentJob): spec.deploymentConfig.concurrentDeploymentPercentage: 0 % is outside 1..=100",
        "error: document 1 (DeploymentJob): spec.deploymentConfig.robotDeploymentTimeout: 10s",
        "error: document 1 (DeploymentJob): spec.application: package \"talker\"",
    ] {
        assert!(text.contains(line), "missing {line:?}: {}", explain(&out));
    }
    let out = robodeploy(&dir.0, &["--json", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    let paths: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "spec.deploymentConfig.concurrentDeploymentPercentage",
            "spec.deploymentConfig.robotDeploymentTimeout",
            "spec.application"
        ]
    );
    assert_eq!(v["errors"][0]["document"]["kind"], "DeploymentJob");
    // plan and apply refuse it the same way.
    for cmd in ["plan", "apply"] {
        let out = robodeploy(&dir.0, &[cmd, bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", explain(&out));
    }
    assert!(
        !dir.0.join(".robodeploy").exists(),
        "apply of an invalid file created state"
    );

    // A syntax problem: the line and column, in text and JSON.
    let typo = dir.0.join("typo.yaml");
    std::fs::write(
        &typo,
        "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robotz: []\n",
    )
    .unwrap();
    let out = robodeploy(&dir.0, &["validate", typo.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let v = json(&out);
    assert_eq!(
        (
            v["parseError"]["line"].as_u64(),
            v["parseError"]["column"].as_u64()
        ),
        (Some(5), Some(3))
    );
    assert!(
        v["parseError"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `robotz`")
    );
}

#[test]
fn plan_projects_the_rollout_deterministically() {
    let dir = TempDir::new("plan");
    let file = sample("fleet-rollout.yaml");
    let file = file.to_str().unwrap();
    let out = robodeploy(&dir.0, &["plan", file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "plan: talker 1.0.0 to fleet warehouse (20 robots), 2 at once, halt at 1 failed"
        ),
        "{text}"
    );
    assert!(text.contains("projected: Succeeded after "), "{text}");
    assert!(text.contains("robots by status: InSync 20\n"), "{text}");

    let args = [
        "plan",
        file,
        "--json",
        "--failure-rate",
        "0.3",
        "--seed",
        "4",
    ];
    let first = robodeploy(&dir.0, &args);
    assert_eq!(first.status.code(), Some(0), "{}", explain(&first));
    let v = json(&first);
    let plan = &v[0];
    assert_eq!(plan["fleet"], "warehouse");
    assert_eq!(plan["robotNames"].as_array().map(Vec::len), Some(20));
    let report = &plan["simulation"]["report"];
    assert_eq!(plan["simulation"]["seed"], 4);
    assert_eq!(report["fleetSize"], 20);
    assert_eq!(report["inFlightLimit"], 2);
    assert_eq!(report["failureThreshold"], 1);
    assert_eq!(report["status"], "Failed");
    assert_eq!(report["failureCode"], "FailureThresholdBreached");
    // Same seed, same projection, byte for byte.
    assert_eq!(robodeploy(&dir.0, &args).stdout, first.stdout);

    let out = robodeploy(&dir.0, &["plan", file, "--failure-rate", "1.5"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let out = robodeploy(&dir.0, &["plan", sample("hello.json").to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no job to plan: {}",
        explain(&out)
    );
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    let dir = TempDir::new("usage");
    let out = robodeploy(&dir.0, &["help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for code in [
        "  0  success",
        "  1  failed",
        "  2  usage",
        "  3  runtime or engine error",
    ] {
        assert!(help.contains(code), "{help}");
    }
    for args in [
        &["frobnicate"][..],
        &["logs"],
        &["status", "--tail", "3"],
        &["apply", "x", "--timeout", "soon"],
    ] {
        let out = robodeploy(&dir.0, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", explain(&out));
    }
    // Nothing applied: status says so; naming a deployment finds nothing.
    let out = robodeploy(&dir.0, &["status", "--json"]);
    assert_eq!(
        (out.status.code(), json(&out)),
        (Some(0), Value::Array(Vec::new()))
    );
    let out = robodeploy(&dir.0, &["deprovision", "hello"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
}

#[test]
fn apply_then_status_logs_and_deprovision_in_later_invocations() {
    let dir = TempDir::new("apply");
    let state = dir.0.join("state");
    let state_arg = state.to_str().unwrap();
    let file = sample("talker-listener.yaml");
    let file = file.to_str().unwrap();
    let out = robodeploy(&dir.0, &["apply", file, "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains("talker: Succeeded, Running (talker 1.0.0, id "),
        "{text}"
    );
    assert!(
        text.contains("listener: Succeeded, Running (listener 1.0.0, id "),
        "{text}"
    );

    // The state directory holds every environment value: owner-only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "state dir mode {mode:o}");

    // apply has exited; both executables run on under their robot's supervisor.
    let (supervisors, in_dir) = processes(state_arg, &dir.0);
    assert_eq!(supervisors, 1, "one supervisor for the one robot");
    assert!(in_dir >= 2, "two executables at least, found {in_dir}");

    let out = robodeploy(&dir.0, &["status", "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.contains("talker: Succeeded, Running (talker 1.0.0, id "),
        "{text}"
    );
    assert!(
        text.contains("  listener/listener on robot-001: Running, restarts 0, pid "),
        "{text}"
    );
    let out = robodeploy(&dir.0, &["status", "--json", "--state-dir", state_arg]);
    let v = json(&out);
    let states: Vec<(&str, &str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let state = d["instances"][0]["state"]["state"].as_str().unwrap();
            (
                d["name"].as_str().unwrap(),
                d["status"].as_str().unwrap(),
                state,
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("lab-net", "Running", "running"),
            ("listener", "Running", "running"),
            ("talker", "Running", "running")
        ]
    );

    // Applying the same file again would start everything twice: refused.
    let out = robodeploy(&dir.0, &["apply", file, "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already applied"),
        "{}",
        explain(&out)
    );

    let mut logs = String::new();
    assert!(
        eventually(Duration::from_secs(10), || {
            let out = robodeploy(
                &dir.0,
                &["logs", "talker", "--tail", "2", "--state-dir", state_arg],
            );
            logs = stdout(&out);
            out.status.success() && logs.lines().count() == 2
        }),
        "two lines of talker output: {logs}"
    );
    assert!(
        logs.lines().all(|l| l == "talker: hello from robot-001"),
        "{logs}"
    );
    let out = robodeploy(
        &dir.0,
        &[
            "--json",
            "logs",
            "listener",
            "--component",
            "listener",
            "--executable",
            "listener",
            "--tail",
            "1",
            "--state-dir",
            state_arg,
        ],
    );
    let line: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("{e}: {}", explain(&out)));
    assert_eq!(
        (line["component"].as_str(), line["stream"].as_str()),
        (Some("listener"), Some("stdout"))
    );
    assert_eq!(line["line"], "listener: heard chatter");
    let out = robodeploy(
        &dir.0,
        &[
            "logs",
            "talker",
            "--component",
            "nope",
            "--state-dir",
            state_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));

    let out = robodeploy(
        &dir.0,
        &["deprovision", "listener", "--state-dir", state_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("deprovisioned listener ("),
        "{}",
        explain(&out)
    );
    let out = robodeploy(
        &dir.0,
        &["--json", "deprovision", "talker", "--state-dir", state_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let v = json(&out);
    assert_eq!(v[0]["name"], "talker");
    assert_eq!(v[0]["instances"].as_array().map(Vec::len), Some(1));
    let out = robodeploy(
        &dir.0,
        &["deprovision", "lab-net", "--state-dir", state_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let out = robodeploy(&dir.0, &["status", "--state-dir", state_arg]);
    assert!(
        stdout(&out).starts_with("nothing applied under"),
        "{}",
        explain(&out)
    );
    // No executable, child or supervisor is left.
    let mut left = (0, 0);
    assert!(
        eventually(Duration::from_secs(10), || {
            left = processes(state_arg, &dir.0);
            left == (0, 0)
        }),
        "left running (supervisors, in dir): {left:?}"
    );
}

#[test]
fn apply_of_a_job_stores_each_robot_and_deprovision_by_job_id_stops_them_all() {
    let dir = TempDir::new("job");
    let state = dir.0.join("state");
    let state_arg = state.to_str().unwrap();
    let v = apply_json(&dir, state_arg, "fleet-rollout.yaml");
    let job = &v["jobs"][0];
    assert_eq!(job["status"], "Succeeded");
    let robots = job["robots"].as_array().unwrap();
    assert_eq!(robots.len(), 20);
    assert!(robots.iter().all(|r| r["status"] == "InSync"), "{job}");
    assert_eq!(
        processes(state_arg, &dir.0).0,
        20,
        "one supervisor per robot"
    );

    let out = robodeploy(&dir.0, &["--json", "status", "--state-dir", state_arg]);
    let v = json(&out);
    let deployments = v.as_array().unwrap();
    assert_eq!(deployments.len(), 20);
    assert!(
        deployments
            .iter()
            .all(|d| d["status"] == "Running" && d["job"] == job["id"]),
        "{v}"
    );

    let out = robodeploy(
        &dir.0,
        &[
            "deprovision",
            job["id"].as_str().unwrap(),
            "--state-dir",
            state_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("deprovisioned talker-1.0.0-amr-"))
            .count(),
        20
    );
    let mut left = (0, 0);
    assert!(
        eventually(Duration::from_secs(10), || {
            left = processes(state_arg, &dir.0);
            left == (0, 0)
        }),
        "left running (supervisors, in dir): {left:?}"
    );
}

/// The pids of processes running in `cwd` whose command line contains `needle`.
fn pids_of(needle: &str, cwd: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let named = std::fs::read(path.join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle));
        if named && std::fs::read_link(path.join("cwd")).is_ok_and(|d| d == cwd) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// `robodeploy --json apply` of a sample manifest into `state_arg`, which must succeed; what it
/// printed.
fn apply_json(dir: &TempDir, state_arg: &str, sample_name: &str) -> Value {
    let file = sample(sample_name);
    let file = file.to_str().unwrap();
    let out = robodeploy(&dir.0, &["--json", "apply", file, "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    json(&out)
}

/// Name → (id, instance) of each deployment in a JSON array of deployment statuses.
fn instances_by_name(deployments: &Value) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = deployments
        .as_array()
        .expect("an array of deployments")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
                d["executables"][0]["instance"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn later_invocations_adopt_what_apply_started_from_the_store_and_deprovision_ends_it() {
    let dir = TempDir::new("adopt");
    let state = dir.0.join("state");
    let state_arg = state.to_str().unwrap();
    let applied = apply_json(&dir, state_arg, "talker-listener.yaml");
    let started = instances_by_name(&applied["deployments"]);
    assert_eq!(
        started.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["lab-net", "listener", "talker"]
    );
    assert!(state.join("state.redb").is_file());
    assert!(!state.join("deployments.json").exists());
    // The executables as apply left them: one talker and one listener shell, one relay of
    // the routed network (`sleep 2147483647` once its shell has exec'd).
    let talker = pids_of("talker: hello from", &dir.0);
    let listener = pids_of("listener: heard", &dir.0);
    let relay = pids_of("2147483647", &dir.0);
    assert_eq!(
        (talker.len(), listener.len(), relay.len()),
        (1, 1, 1),
        "{talker:?} {listener:?} {relay:?}"
    );

    // Two later invocations, each a new engine on the store: both adopt, neither restarts.
    for round in 0..2 {
        let out = robodeploy(&dir.0, &["--json", "status", "--state-dir", state_arg]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            explain(&out)
        );
        let v = json(&out);
        assert_eq!(instances_by_name(&v), started, "round {round}");
        for d in v.as_array().unwrap() {
            let name = d["name"].as_str().unwrap();
            assert_eq!(
                (
                    d["phase"].as_str(),
                    d["status"].as_str(),
                    d["restartCount"].as_u64(),
                    d["executables"][0]["restartCount"].as_u64(),
                ),
                (Some("Succeeded"), Some("Running"), Some(0), Some(0)),
                "round {round}: {d}"
            );
            let pid = d["instances"][0]["state"]["pid"].as_u64().map(|p| p as u32);
            let expected = match name {
                "talker" => &talker,
                "listener" => &listener,
                _ => &relay,
            };
            assert_eq!(pid, Some(expected[0]), "round {round}: {name}: {d}");
        }
    }
    assert_eq!(pids_of("talker: hello from", &dir.0), talker);
    assert_eq!(pids_of("listener: heard", &dir.0), listener);
    assert_eq!(
        processes(state_arg, &dir.0).0,
        1,
        "one supervisor for the one robot"
    );

    // Three commands at once on one state directory: they take turns, none fails.
    let runs: Vec<_> = (0..3)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_robodeploy"))
                .current_dir(&dir.0)
                .args(["--json", "status", "talker", "--state-dir", state_arg])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run robodeploy")
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().expect("wait for robodeploy");
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        assert_eq!(json(&out)[0]["status"], "Running", "{}", explain(&out));
    }

    // The talker (restart policy always) killed between commands: the next status restarts
    // it, once, and the count carries over to the one after.
    let killed = Command::new("kill")
        .args(["-KILL", &talker[0].to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let mut restarted = Vec::new();
    for round in 0..2 {
        let out = robodeploy(
            &dir.0,
            &["--json", "status", "talker", "--state-dir", state_arg],
        );
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        let v = json(&out);
        assert_eq!(
            (
                v[0]["status"].as_str(),
                v[0]["restartCount"].as_u64(),
                v[0]["executables"][0]["instance"].as_str(),
            ),
            (Some("Running"), Some(1), Some(started[2].2.as_str())), // talker
            "round {round}: {v}"
        );
        let pid = v[0]["instances"][0]["state"]["pid"].as_u64().unwrap() as u32;
        assert_ne!(pid, talker[0], "round {round}: {v}");
        restarted.push(pid);
    }
    assert_eq!(restarted[0], restarted[1], "restarted once only");
    assert_eq!(pids_of("talker: hello from", &dir.0), [restarted[0]]);

    // Deprovision by name and by id, each in its own invocation.
    let talker_id = &started.iter().find(|s| s.0 == "talker").unwrap().1;
    for target in ["listener", talker_id.as_str(), "lab-net"] {
        let out = robodeploy(
            &dir.0,
            &["--json", "deprovision", target, "--state-dir", state_arg],
        );
        assert_eq!(out.status.code(), Some(0), "{target}: {}", explain(&out));
        assert_eq!(json(&out)[0]["instances"].as_array().map(Vec::len), Some(1));
    }
    let mut left = (0, 0);
    assert!(
        eventually(Duration::from_secs(10), || {
            left = processes(state_arg, &dir.0);
            left == (0, 0)
        }),
        "left running (supervisors, in dir): {left:?}"
    );

    // Afterwards: nothing live; the id still shows the deployment's last state, stopped.
    let out = robodeploy(&dir.0, &["--json", "status", "--state-dir", state_arg]);
    assert_eq!(
        (out.status.code(), json(&out)),
        (Some(0), Value::Array(Vec::new()))
    );
    let out = robodeploy(&dir.0, &["status", "--state-dir", state_arg]);
    assert!(
        stdout(&out).starts_with("nothing applied under"),
        "{}",
        explain(&out)
    );
    let out = robodeploy(
        &dir.0,
        &["--json", "status", talker_id, "--state-dir", state_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let v = json(&out);
    assert_eq!(
        (v[0]["name"].as_str(), v[0]["phase"].as_str()),
        (Some("talker"), Some("DeploymentStopped")),
        "{v}"
    );
    assert_eq!(v[0]["instances"].as_array().map(Vec::len), Some(0), "{v}");
    // The name is free again; deprovisioning it again is refused.
    let out = robodeploy(&dir.0, &["deprovision", "talker", "--state-dir", state_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let out = robodeploy(
        &dir.0,
        &["deprovision", talker_id, "--state-dir", state_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("deprovisioned already"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_damaged_store_is_an_error_naming_the_file_and_is_left_as_it_is() {
    let dir = TempDir::new("damaged");
    let state = dir.0.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let store = state.join("state.redb");
    std::fs::write(&store, b"not a robodeploy store, not a redb file either").unwrap();
    let before = std::fs::read(&store).unwrap();
    for args in [
        &["status"][..],
        &["status", "talker"],
        &["deprovision", "talker"],
        &["logs", "talker"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--state-dir", state.to_str().unwrap()]);
        let out = robodeploy(&dir.0, &args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", explain(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("robodeploy: store {}: ", store.display()))
                && stderr.contains("corrupt"),
            "{args:?}: {}",
            explain(&out)
        );
    }
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the file was changed"
    );
}

/// A state directory that cannot be looked at is an error (exit 3) naming the store, never
/// "nothing applied" with exit 0. (Tests run as root, whom permissions do not stop: the store
/// path is made unreachable by a file where a directory should be.)
#[test]
fn an_unreadable_state_dir_is_an_error_not_nothing_applied() {
    let dir = TempDir::new("unreadable");
    let file = dir.0.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let state = file.join("state");
    let out = robodeploy(&dir.0, &["status", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert!(
        !stdout(&out).contains("nothing applied"),
        "{}",
        explain(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&state.join("state.redb").display().to_string()),
        "{}",
        explain(&out)
    );
    // A directory where the store should be is no store either.
    let state = dir.0.join("state");
    std::fs::create_dir_all(state.join("state.redb")).unwrap();
    let out = robodeploy(&dir.0, &["status", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    // An empty state directory still means nothing was applied.
    let empty = dir.0.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = robodeploy(&dir.0, &["status", "--state-dir", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("nothing applied"),
        "{}",
        explain(&out)
    );
}

/// Names from a manifest reach the terminal with their control characters escaped: a name
/// holding an escape sequence cannot clear the screen or rewrite earlier lines.
#[test]
fn validate_escapes_control_characters_in_names() {
    let dir = TempDir::new("escape");
    let file = dir.0.join("evil.yaml");
    std::fs::write(
        &file,
        "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: \"evil\\e[2J\\rname\"\n  version: \"1\"\n  components: []\n",
    )
    .unwrap();
    let out = robodeploy(&dir.0, &["validate", file.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert!(text.contains("Package evil\\u{1b}[2J\\rname"), "{text:?}");
}
