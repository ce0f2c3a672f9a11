//! The README's first command: a real rollout to a local fleet of 50 simulated robots.
//!
//! Each robot is a process runtime with its own directory, so the talker really runs 50 times
//! on this machine. The job comes from `examples/manifests/quickstart.yaml`: 10 % of the fleet
//! at once, halt at 5 % failed; two robots fail their pre-launch check on purpose. Live progress
//! shows while it runs, then a per-robot summary; everything is stopped before it exits.
//!
//! The engine keeps its state in the durable default store, one redb file (`state.redb`) in the
//! quickstart's temporary directory beside the robots' directories: every decision is written
//! there before it is acted on, so an engine started again on it would carry the job on (see
//! the engine's recovery docs). The directory is removed at the end.
//!
//! Run: `cargo run -p robodeploy-examples --bin quickstart` (add `-- --robots N` for another
//! fleet size).

use robodeploy_examples::say;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use robodeploy_core::engine::{Engine, EngineEvent, JobReport};
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::{
    Architecture, Device, DeviceRuntime, JobStatus, ProgressStep, RobotStatus,
};
use robodeploy_core::store::RedbStore;
use robodeploy_process::{ProcessRuntime, Shim};

fn main() -> std::process::ExitCode {
    // This program is also the process runtime's supervisor (one per robot's root).
    robodeploy_process::shim::run_if_requested();
    let robots = std::env::args()
        .skip_while(|a| a != "--robots")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50usize);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("quickstart: cannot start tokio: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(robots)) {
        // The exit code tells the truth: only a job that succeeded is a success.
        Ok(report) if report.status == JobStatus::Succeeded => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("quickstart: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the rollout in a fresh temporary directory, removed afterwards whatever happened.
async fn run(robots: usize) -> Result<JobReport, Box<dyn std::error::Error>> {
    let root = std::env::temp_dir().join(format!("robodeploy-quickstart-{}", std::process::id()));
    let report = rollout(robots, &root).await;
    let _ = std::fs::remove_dir_all(&root);
    report
}

async fn rollout(
    robots: usize,
    root: &std::path::Path,
) -> Result<JobReport, Box<dyn std::error::Error>> {
    let manifest_path = PathBuf::from(robodeploy_examples::MANIFEST_DIR).join("quickstart.yaml");
    let manifest = Manifest::load(&manifest_path)?;
    let package = manifest
        .packages()
        .next()
        .ok_or("no package in the manifest")?
        .clone();
    let mut job = manifest
        .jobs()
        .next()
        .ok_or("no job in the manifest")?
        .clone();
    if let Some(dir) = manifest_path.parent() {
        job.resolve_paths(dir);
    }

    std::fs::create_dir_all(root)?;
    let store = RedbStore::open(root.join("state.redb"))?;
    let engine = Engine::builder().store(Arc::new(store)).try_start()?;
    engine.add_package(package.clone()).await?;
    let mut fleet = manifest
        .fleets()
        .find(|f| f.name == job.fleet)
        .ok_or("the job's fleet is not in the manifest")?
        .clone();
    // `--robots N` grows or shrinks the fleet with robots named like the manifest's.
    fleet.robots = (1..=robots)
        .map(|i| {
            fleet.robots.get(i - 1).cloned().unwrap_or_else(|| {
                Device::new(
                    format!("robot-{i:03}"),
                    Architecture::Amd64,
                    DeviceRuntime::Preinstalled,
                )
            })
        })
        .collect();
    let arch = Architecture::host().unwrap_or(Architecture::Amd64);
    for device in &mut fleet.robots {
        let name = device.name.clone();
        let runtime = ProcessRuntime::builder(root.join(&name))
            .shim(Shim::CurrentExe)
            .kill_on_drop(true)
            .build()?;
        engine.add_device(device.clone(), Arc::new(runtime)).await?;
    }
    engine.add_fleet(fleet).await?;
    if arch != Architecture::Amd64 {
        eprintln!("note: this machine is {arch}; the sample package and fleet are amd64");
    }

    say!(
        "robodeploy quickstart: {} {} to {robots} local robots ({} % at once, halt at {} % failed)",
        job.application,
        job.application_version,
        job.deployment_config.concurrent_deployment_percentage,
        job.deployment_config.failure_threshold_percentage
    );
    let started = Instant::now();
    let mut events = engine.subscribe();
    let id = engine.create_job(job, None).await?;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let report = loop {
        tokio::select! {
            _ = tick.tick() => {}
            ev = events.recv() => {
                if let Ok(EngineEvent::Job { job, status }) = ev
                    && job == id && status.is_terminal() {
                        break engine.job(id).await?;
                    }
                continue;
            }
        }
        let report = engine.job(id).await?;
        draw_progress(&report, started.elapsed());
        if report.status.is_terminal() {
            break report;
        }
        if started.elapsed() > Duration::from_secs(120) {
            engine.cancel_job(id).await?;
        }
    };
    draw_progress(&report, started.elapsed());
    say!();
    print_summary(&report, started.elapsed());
    engine.shutdown().await?;
    Ok(report)
}

/// One line: a bar of robots done, and how many are at each step.
fn draw_progress(report: &JobReport, elapsed: Duration) {
    let total = report.robots.len().max(1);
    let done = report
        .robots
        .iter()
        .filter(|r| r.status.is_terminal())
        .count();
    let width = 30;
    let filled = done * width / total;
    let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
    let mut steps = String::new();
    for step in [
        ProgressStep::Validating,
        ProgressStep::ExecutingPreLaunch,
        ProgressStep::Launching,
        ProgressStep::ExecutingPostLaunch,
    ] {
        let n = report
            .robots
            .iter()
            .filter(|r| r.status == RobotStatus::Deploying && r.step == step)
            .count();
        if n > 0 {
            steps.push_str(&format!(" {step}:{n}"));
        }
    }
    // A reader that went away only loses the bar (no panic, as with `say!`).
    let _ = write!(
        std::io::stdout(),
        "\r[{bar}] {done}/{total} {:>5.1}s  in sync {}  failed {}{steps}          ",
        elapsed.as_secs_f64(),
        report.count(RobotStatus::InSync),
        report.count(RobotStatus::Failed),
    );
    let _ = std::io::stdout().flush();
}

fn print_summary(report: &JobReport, elapsed: Duration) {
    say!("\nrobot      status       step                  detail");
    for r in &report.robots {
        let detail = match (&r.failure, &r.failure_detail) {
            (Some(code), Some(d)) => format!("{code}: {d}"),
            (Some(code), None) => code.to_string(),
            _ => String::new(),
        };
        say!(
            "{:<10} {:<12} {:<21} {detail}",
            r.robot,
            format!("{:?}", r.status),
            r.step.to_string()
        );
    }
    let verdict = match report.status {
        JobStatus::Succeeded => "Succeeded",
        JobStatus::Failed => "Failed",
        JobStatus::Canceled => "Canceled",
        _ => "unfinished",
    };
    say!(
        "\njob {}: {verdict}{} in {:.1}s: {} in sync, {} failed, {} not deployed",
        report.id,
        report
            .failure
            .map(|f| format!(" ({f})"))
            .unwrap_or_default(),
        elapsed.as_secs_f64(),
        report.count(RobotStatus::InSync),
        report.count(RobotStatus::Failed),
        report.robots.len() - report.count(RobotStatus::InSync) - report.count(RobotStatus::Failed),
    );
}
