//! The offline commands through the built binary: validate, plan, schema, help, version,
//! completions, the man page, usage errors, and output into a closed pipe.

mod common;

use std::process::{Command, Stdio};

use common::{FAILING_PLAN, TempDir, explain, json, robodeploy, sample, stdout};

#[test]
fn validate_accepts_every_sample_manifest() {
    let dir = TempDir::new("validate-ok");
    let mut seen = 0;
    for entry in std::fs::read_dir(sample("")).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str());
        if !matches!(ext, Some("yaml" | "json")) {
            continue;
        }
        seen += 1;
        let file = path.to_str().unwrap();
        let out = robodeploy(dir.path(), &["validate", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", explain(&out));
        assert!(stdout(&out).contains(", 0 errors, "), "{}", explain(&out));
        let out = robodeploy(dir.path(), &["validate", file, "-o", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        let v = json(&out);
        assert_eq!(v["valid"], true);
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(0));
    }
    assert_eq!(seen, 6, "sample manifests found");
    // The rollout sample's threshold is below its concurrency: a warning with its path.
    let out = robodeploy(
        &dir.0,
        &["validate", sample("fleet-rollout.yaml").to_str().unwrap()],
    );
    assert!(
        stdout(&out).contains(
            "warning: document 3 (DeploymentJob): spec.deploymentConfig.failureThresholdPercentage: failure threshold 5 %"
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
    let out = robodeploy(dir.path(), &["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    for line in [
        "error: document 2 (DeploymentJob): spec.deploymentConfig.concurrentDeploymentPercentage: 0 % is not a percentage from 1 to 100",
        "error: document 2 (DeploymentJob): spec.deploymentConfig.robotDeploymentTimeout: 10s",
        "error: document 2 (DeploymentJob): spec.application: package \"talker\"",
    ] {
        assert!(text.contains(line), "missing {line:?}: {}", explain(&out));
    }
    let out = robodeploy(
        dir.path(),
        &["-o", "json", "validate", bad.to_str().unwrap()],
    );
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
    // plan refuses it the same way.
    let out = robodeploy(dir.path(), &["plan", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));

    // A syntax problem: the line and column, in text and JSON.
    let typo = dir.0.join("typo.yaml");
    std::fs::write(
        &typo,
        "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robotz: []\n",
    )
    .unwrap();
    let out = robodeploy(
        dir.path(),
        &["validate", typo.to_str().unwrap(), "-o", "json"],
    );
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
    let out = robodeploy(dir.path(), &["plan", file]);
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

    let args = [&["plan", file][..], &FAILING_PLAN].concat();
    let first = robodeploy(dir.path(), &args);
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
    assert_eq!(robodeploy(dir.path(), &args).stdout, first.stdout);

    let out = robodeploy(dir.path(), &["plan", file, "--failure-rate", "1.5"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let out = robodeploy(
        dir.path(),
        &["plan", sample("hello.json").to_str().unwrap()],
    );
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
    for args in [&["help"][..], &["--help"], &["apply", "--help"]] {
        let out = robodeploy(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", explain(&out));
        let help = stdout(&out);
        for code in [
            "  0  success",
            "  1  failed",
            "  2  usage",
            "  3  the server",
        ] {
            assert!(help.contains(code), "{args:?}: {help}");
        }
    }
    let out = robodeploy(dir.path(), &["apply", "--help"]);
    assert!(stdout(&out).contains("--min-uptime"), "{}", explain(&out));
    let out = robodeploy(dir.path(), &["--version"]);
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (
            Some(0),
            format!("robodeploy {}\n", env!("CARGO_PKG_VERSION"))
        )
    );
    for args in [
        &["frobnicate"][..],
        &["logs"],
        &["get", "widgets"],
        &["apply", "-f", "x", "--timeout", "soon"],
        &["plan", "x", "--failure-rate", "1.5"],
        &["-o", "xml", "get", "jobs"],
    ] {
        let out = robodeploy(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", explain(&out));
    }
    let out = robodeploy(dir.path(), &["plan", "x", "--speed", "300..100"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the minimum first"),
        "{}",
        explain(&out)
    );
}

#[test]
fn no_server_is_exit_3_naming_the_url() {
    let dir = TempDir::new("no-server");
    let out = robodeploy(
        dir.path(),
        &["--server", "http://127.0.0.1:9", "get", "deployments"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert!(
        common::stderr(&out).contains("cannot reach the server at http://127.0.0.1:9"),
        "{}",
        explain(&out)
    );
    let out = robodeploy(dir.path(), &["--server", "ftp://x", "get", "jobs"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    let dir = TempDir::new("completions");
    let out = robodeploy(dir.path(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("_robodeploy()"), "{text}");
    for word in ["apply", "serve", "jobs", "--min-uptime"] {
        assert!(text.contains(word), "{word} missing from bash completions");
    }
    // Every shell's, as the build rendered them: each names the commands and their flags.
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = robodeploy(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", explain(&out));
        let text = stdout(&out);
        for word in ["robodeploy", "apply", "deprovision", "min-uptime"] {
            assert!(
                text.contains(word),
                "{word} missing from {shell} completions"
            );
        }
    }
    let out = robodeploy(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let out = robodeploy(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        text.contains(".TH robodeploy 1"),
        "{}",
        &text[..text.len().min(400)]
    );
    // Every command, and the exit codes every command's help ends with.
    for word in ["apply", "deprovision", "completions", "Exit codes:"] {
        assert!(text.contains(word), "{word} missing from the man page");
    }
}

/// `robodeploy ... | head -n1`: the reader goes away after one line; no panic, the command's
/// own exit code.
#[test]
fn output_survives_a_closed_pipe() {
    let dir = TempDir::new("pipe");
    let file = sample("fleet-rollout.yaml");
    for args in [
        vec!["plan", file.to_str().unwrap(), "-o", "json"],
        vec!["validate", file.to_str().unwrap(), "-o", "json"],
        vec!["completions", "zsh"],
        vec!["man"],
    ] {
        let mut child = Command::new(common::BIN)
            .current_dir(dir.path())
            .args(&args)
            .env_remove("ROBODEPLOY_CONFIG")
            .env("XDG_CONFIG_HOME", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the read end at once: every write fails with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", explain(&out));
        assert!(
            !common::stderr(&out).contains("panicked"),
            "{args:?}: {}",
            explain(&out)
        );
    }
}

/// `robodeploy ... > /dev/full`: stdout fails for another reason than a closed pipe; the command
/// does not claim success over a document that never got written: exit 3, naming stdout and why.
#[test]
fn output_into_a_full_disk_fails_the_command() {
    let dir = TempDir::new("full");
    let file = sample("fleet-rollout.yaml");
    for args in [
        vec!["schema"],
        vec!["plan", file.to_str().unwrap(), "-o", "json"],
        vec!["validate", file.to_str().unwrap()],
        vec!["--help"],
        vec!["apply", "--help"],
        vec!["--version"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = Command::new(common::BIN)
            .current_dir(dir.path())
            .args(&args)
            .env_remove("ROBODEPLOY_CONFIG")
            .env("XDG_CONFIG_HOME", dir.path())
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", explain(&out));
        let err = common::stderr(&out);
        assert!(
            err.lines()
                .any(|l| l.starts_with("robodeploy: stdout: No space left on device")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `schema` prints the JSON Schema of a manifest document; the copy the sample manifests name
/// (for editors) is that schema, and every YAML sample names it.
#[test]
fn the_samples_name_the_current_manifest_schema() {
    let dir = TempDir::new("schema");
    let out = robodeploy(dir.path(), &["schema"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let schema = json(&out);
    assert_eq!(schema["title"], "robodeploy manifest document");
    let committed = sample("schema/manifest.schema.json");
    let text = std::fs::read_to_string(&committed).expect("the committed schema");
    let on_disk: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        on_disk == schema,
        "examples/manifests/schema/manifest.schema.json is stale: regenerate it with \
         `cargo run -p robodeploy-cli -- schema > examples/manifests/schema/manifest.schema.json`"
    );
    let mut named = 0;
    for entry in std::fs::read_dir(sample("")).expect("samples") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let first = std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            first,
            "# yaml-language-server: $schema=./schema/manifest.schema.json",
            "{}",
            path.display()
        );
        named += 1;
    }
    assert_eq!(named, 5);
}
