//! Environment values stay secret through the server's doors (issue 16): a deployment and a
//! deployment job carry a canary value, and it appears in no output of the CLI (every format of
//! every command that reads the server), no answer of the HTTP API (the event stream included),
//! no refusal, no line of the server's own log at its most verbose level, and no file of the
//! state directory but the store and the instance records, which are 0600 in a 0700 directory.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Server, explain, json, manifest as doc};

const CANARY: &str = "canary-7d31-through-every-door";

/// The fleet, a deployment carrying `svc_env` and a job carrying `job_env`.
fn manifest(dir: &Path, svc_env: &[(&str, &str)], job_env: &[(&str, &str)]) -> String {
    let pre = dir.join("pre.sh");
    let job = doc::Job {
        fleet: "sec-fleet",
        application: "sec-app",
        version: "1.0.0",
        pre_launch: pre.to_str().expect("utf-8 path"),
        env: job_env,
        concurrency: 100,
        threshold: 50,
        timeout: "2m",
    };
    let idle = "; while true; do sleep 1; done";
    doc::fleet(
        "sec-fleet",
        &[],
        &[doc::robot("sec-r1"), doc::robot("sec-r2")],
    ) + &doc::package(
        "sec-svc",
        "1.0.0",
        Some("always"),
        &format!("test -n \"$API_TOKEN\" && echo svc has its token{idle}"),
    ) + &doc::deployment("sec-svc", "sec-svc", "1.0.0", "sec-r1", svc_env)
        + &doc::package(
            "sec-app",
            "1.0.0",
            Some("always"),
            &format!("test -n \"$JOB_TOKEN\" && echo app has its token{idle}"),
        )
        + &job.yaml()
}

/// Everything an HTTP GET answers (head and body), read until the server closes or `limit`
/// passes (streams never end), or `stop` is set.
fn http_get(addr: &str, token: &str, path: &str, limit: Duration, stop: &AtomicBool) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send");
    let deadline = Instant::now() + limit;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("read {path}: {e}"),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// Every file under `dir` but the store and the instance records, as `(path, content)`; checks
/// that those two are 0600.
fn files(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        if meta.is_dir() {
            files(&path, out);
            continue;
        }
        if !meta.is_file() {
            continue; // sockets, links
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "state.redb" || name == "instance.json" {
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{} holds environment values",
                path.display()
            );
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        out.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
}

/// Runs the CLI against `server` and keeps what it printed (both streams) in `seen`.
fn run(server: &Server, seen: &mut Vec<(String, String)>, args: &[&str]) -> std::process::Output {
    let out = server.cli(args);
    seen.push((
        format!("robodeploy {}", args.join(" ")),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ));
    out
}

#[test]
fn a_canary_environment_value_is_in_no_output_of_the_cli_the_api_or_the_server() {
    let mut server = Server::unstarted("secrets");
    server.spawn_with_env(&[], &[("ROBODEPLOY_LOG", "trace")]);
    let dir = server.dir.path().to_owned();
    let pre = dir.join("pre.sh");
    std::fs::write(&pre, "#!/bin/sh\ntest -n \"$JOB_TOKEN\"\n").expect("script");
    std::fs::set_permissions(&pre, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let file = dir.join("secrets.yaml");
    std::fs::write(
        &file,
        manifest(&dir, &[("API_TOKEN", CANARY)], &[("JOB_TOKEN", CANARY)]),
    )
    .expect("manifest");
    let file = file.to_str().expect("utf-8 path");
    let (url, token) = server.endpoint();
    let addr = url.trim_start_matches("http://").to_owned();

    // The event stream, read from before the apply until the end of the test.
    let stop = Arc::new(AtomicBool::new(false));
    let events = {
        let (addr, token, stop) = (addr.clone(), token.clone(), stop.clone());
        std::thread::spawn(move || {
            http_get(&addr, &token, "/v1/events", Duration::from_secs(120), &stop)
        })
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut cli = |args: &[&str]| run(&server, &mut seen, args);

    // Exit 0: every robot's pre-launch script found the job's value (it fails without it).
    let out = cli(&["apply", "-f", file, "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    // The executables and the script did get the value.
    let out = cli(&["logs", "sec-svc"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("svc has its token"),
        "{}",
        explain(&out)
    );
    let jobs = json(&cli(&["get", "jobs", "-o", "json"]));
    let job = jobs[0]["id"].as_str().expect("job id").to_owned();
    let out = cli(&["logs", &job]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("[sec-r1 main/main] app has its token\n")
            && text.contains("[sec-r2 main/main] app has its token\n"),
        "{}",
        explain(&out)
    );

    for format in ["table", "json", "yaml"] {
        for what in ["deployments", "jobs", "devices", "fleets", "packages"] {
            cli(&["get", what, "-o", format]);
        }
        cli(&["describe", "deployment", "sec-svc", "-o", format]);
        cli(&["describe", "job", &job, "-o", format]);
        cli(&["describe", "device", "sec-r1", "-o", format]);
        cli(&["events", "-o", format]);
        cli(&["jobs", "wait", &job, "-o", format]);
        cli(&["apply", "-f", file, "--dry-run", "-o", format]);
    }
    cli(&["exec", "sec-svc", "--", "echo", "exec ran"]);

    // Refusals: a value too long, under a name that breaks the rules.
    let long = format!("{CANARY}{}", "x".repeat(1100));
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        manifest(
            &dir,
            &[("API_TOKEN", &long), ("lower_case", CANARY)],
            &[("AWS_TOKEN", CANARY), ("JOB_TOKEN", &long)],
        ),
    )
    .expect("manifest");
    let bad = bad.to_str().expect("utf-8 path");
    let out = cli(&["apply", "-f", bad]);
    assert_ne!(out.status.code(), Some(0), "{}", explain(&out));
    let out = cli(&["validate", bad]);
    assert_ne!(out.status.code(), Some(0), "{}", explain(&out));

    // The API's answers.
    let never = AtomicBool::new(false);
    let mut paths = vec![
        "/v1/deployments".to_owned(),
        "/v1/deployments/sec-svc".to_owned(),
        "/v1/jobs".to_owned(),
        format!("/v1/jobs/{job}"),
        format!("/v1/jobs/{job}/timeline.svg"),
        "/v1/devices".to_owned(),
        "/v1/fleets".to_owned(),
        "/v1/packages".to_owned(),
        "/v1/server".to_owned(),
        "/".to_owned(),
    ];
    for d in json(&server.cli(&["get", "deployments", "-o", "json"]))
        .as_array()
        .expect("deployments")
    {
        paths.push(format!("/v1/deployments/{}", d["id"].as_str().expect("id")));
    }
    for path in &paths {
        let text = http_get(&addr, &token, path, Duration::from_secs(30), &never);
        assert!(text.starts_with("HTTP/1.1 200"), "GET {path}: {text}");
        seen.push((format!("GET {path}"), text));
    }

    // The end of the deployments, while the event stream still reads.
    let mut cli = |args: &[&str]| run(&server, &mut seen, args);
    let out = cli(&["delete", "-f", file]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let stream = events.join().expect("event reader");
    assert!(
        stream.contains("sec-svc") && stream.contains("DeploymentStopped"),
        "the event stream saw the deployments: {stream}"
    );
    seen.push(("GET /v1/events".to_owned(), stream));
    assert_eq!(server.terminate(), Some(0));
    let log = server.log();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "ROBODEPLOY_LOG=trace logs: {log}"
    );
    seen.push(("the server's log".to_owned(), log));

    let state = server.state();
    assert_eq!(
        std::fs::metadata(&state)
            .expect("state dir")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    files(&state, &mut seen);

    let leaks: Vec<&(String, String)> = seen.iter().filter(|(_, t)| t.contains(CANARY)).collect();
    assert!(
        leaks.is_empty(),
        "the canary leaked into: {:#?}",
        leaks
            .iter()
            .map(|(w, t)| {
                let at = t.find(CANARY).unwrap_or(0);
                let before = &t.as_bytes()[at.saturating_sub(200)..at];
                (w, String::from_utf8_lossy(before).into_owned())
            })
            .collect::<Vec<_>>()
    );
}
