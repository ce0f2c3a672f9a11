//! Crash-to-running-again latency under OnFailure: the engine (over the process runtime)
//! against supervisord, supervising the same program in the same run.
//!
//! The program is a bash one-liner that appends `start <t>` when it starts, runs 0.2 s, appends
//! `exit <t>` and exits 1, where `<t>` is bash's `$EPOCHREALTIME` (read without forking). One
//! sample is the time from an `exit` line to the next `start` line: the supervisor noticing
//! the exit, deciding to restart and spawning the program again, plus bash's own start-up,
//! which is the same for both supervisors. Measuring inside the program makes the figure the
//! same thing for both: neither supervisor's own notion of "running" is trusted.
//!
//! - engine: OnFailure, initial backoff 0 (restart at once: the first restart, with no backoff
//!   yet), factor 1, so every restart is such a first restart; minimum uptime 100 ms so a 0.2 s
//!   run is not an early exit.
//! - supervisord: `autorestart=unexpected`, `exitcodes=0` (restart on a non-zero exit, as
//!   OnFailure), `startsecs=0` (so a short run is not a failed start with supervisord's own
//!   growing backoff), `startretries=1000`.
//! - runtime: the process runtime alone, restarted by hand on each `Exited` event (`remove`,
//!   `start`): the floor the engine sits on.
//!
//! Run: `pip install supervisor`, then `cargo bench -p robodeploy-benches --bench
//! engine_restart`. Without `supervisord` on `PATH`, only the engine is measured. `SAMPLES`
//! (default 40) sets the restarts measured per supervisor.

mod engine_common;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineConfig};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::{DeploymentId, RestartPolicy};
use robodeploy_core::runtime::{InstanceSpec, Runtime, RuntimeEventKind};

use engine_common::{device, device_runtime, package, request, root};

/// The program: records its start and exit times in the file given as `$0`.
const PROGRAM: &str =
    r#"echo "start $EPOCHREALTIME" >> "$0"; sleep 0.2; echo "exit $EPOCHREALTIME" >> "$0"; exit 1"#;

fn argv(record: &Path) -> Vec<String> {
    vec![
        "bash".into(),
        "-c".into(),
        PROGRAM.into(),
        record.display().to_string(),
    ]
}

/// Exit-to-next-start gaps in a record file, in microseconds.
fn gaps(record: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    let mut out = Vec::new();
    let mut exit: Option<f64> = None;
    for line in text.lines() {
        let Some((kind, t)) = line.split_once(' ') else {
            continue;
        };
        let Ok(t) = t.parse::<f64>() else { continue };
        match kind {
            "exit" => exit = Some(t),
            "start" => {
                if let Some(e) = exit.take() {
                    out.push((t - e) * 1e6);
                }
            }
            _ => {}
        }
    }
    out
}

/// Waits until the record holds `n` gaps (at most 2 minutes).
async fn wait_gaps(record: &Path, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while gaps(record).len() < n {
        assert!(tokio::time::Instant::now() < deadline, "too few restarts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn engine_gaps(dir: &Path, samples: usize) -> Vec<f64> {
    let record = dir.join("engine.record");
    let lifecycle = LifecycleConfig {
        initial_backoff: Duration::ZERO,
        backoff_factor: 1,
        max_backoff: Duration::from_millis(1),
        reset_after: Duration::from_millis(100),
        min_uptime: Duration::from_millis(100),
        ..LifecycleConfig::default()
    };
    let engine = Engine::builder()
        .config(EngineConfig::default().with_lifecycle(lifecycle))
        .start();
    let rt = device_runtime("engine-restart");
    engine
        .add_device(device(), rt.clone())
        .await
        .expect("device");
    let pkg = package("crasher", RestartPolicy::OnFailure, 1, &argv(&record));
    engine.add_package(pkg.clone()).await.expect("package");
    engine
        .deploy(request("crasher".into(), &pkg), None)
        .await
        .expect("deploy");
    wait_gaps(&record, samples).await;
    engine.shutdown().await.expect("shutdown");
    drop(rt);
    let _ = std::fs::remove_dir_all(root("engine-restart"));
    gaps(&record).into_iter().take(samples).collect()
}

/// The process runtime alone, restarted by hand as fast as possible: on each `Exited` event,
/// `remove` and `start` again. What the engine adds is the difference to this.
async fn runtime_gaps(dir: &Path, samples: usize) -> Vec<f64> {
    let record = dir.join("runtime.record");
    let rt = device_runtime("runtime-restart");
    let mut spec = InstanceSpec::new(DeploymentId::from_u128(1), "main", "e0", "crasher", "1");
    spec.command = argv(&record);
    let mut events = rt.events().await.expect("events");
    let mut id = rt.start(&spec).await.expect("start");
    while gaps(&record).len() < samples {
        let ev = events.recv().await.expect("events");
        if ev.instance == id && matches!(ev.kind, RuntimeEventKind::Exited { .. }) {
            rt.remove(&id).await.expect("remove");
            id = rt.start(&spec).await.expect("start");
        }
    }
    rt.remove(&id).await.expect("remove");
    drop(rt);
    let _ = std::fs::remove_dir_all(root("runtime-restart"));
    gaps(&record).into_iter().take(samples).collect()
}

async fn supervisord_gaps(dir: &Path, samples: usize) -> Option<Vec<f64>> {
    let record = dir.join("supervisord.record");
    let command = argv(&record)
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let d = dir.display();
    let conf = format!(
        "[supervisord]\nnodaemon=true\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
         childlogdir={d}\n\n[program:crasher]\ncommand={command}\nautostart=true\n\
         autorestart=unexpected\nexitcodes=0\nstartsecs=0\nstartretries=1000\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n"
    )
    // supervisord expands %(...)s in its config.
    .replace('%', "%%");
    let conf_path = dir.join("supervisord.conf");
    std::fs::write(&conf_path, conf).expect("write config");
    let mut child = match tokio::process::Command::new("supervisord")
        .arg("-c")
        .arg(&conf_path)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("supervisord not run ({e}): `pip install supervisor` to compare");
            return None;
        }
    };
    wait_gaps(&record, samples).await;
    // SIGTERM: supervisord stops its program and exits.
    if let Some(pid) = child
        .id()
        .and_then(|p| rustix::process::Pid::from_raw(p as i32))
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    Some(gaps(&record).into_iter().take(samples).collect())
}

fn summary(name: &str, mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] / 1000.0;
    let median = at(0.5);
    println!(
        "{name:<12} n={:<3} median {median:>7.2} ms   p10 {:>7.2} ms   p90 {:>7.2} ms   min {:>7.2} ms   max {:>7.2} ms",
        v.len(),
        at(0.1),
        at(0.9),
        at(0.0),
        at(1.0),
    );
    median
}

fn main() {
    // When no shim binary was built, this binary is the shim.
    robodeploy_process::shim::run_if_requested();
    let samples: usize = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
        .max(5);
    let dir: PathBuf = root("engine-restart-records");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("record dir");
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (engine, runtime, supervisord) = tokio.block_on(async {
        let engine = engine_gaps(&dir, samples).await;
        let runtime = runtime_gaps(&dir, samples).await;
        let supervisord = supervisord_gaps(&dir, samples).await;
        (engine, runtime, supervisord)
    });
    println!("crash-to-running-again (exit line to next start line, {samples} restarts each):");
    let e = summary("engine", engine);
    let r = summary("runtime", runtime);
    println!("engine / runtime median ratio: {:.3}", e / r);
    if let Some(s) = supervisord {
        let s = summary("supervisord", s);
        println!("engine / supervisord median ratio: {:.3}", e / s);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
