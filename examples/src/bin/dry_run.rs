//! Dry-run a deployment job against your fleet before touching a robot: the simulator drives the
//! real rollout scheduler over a modelled fleet on a virtual clock and prints what would happen.
//!
//! ```text
//! cargo run -p robodeploy-examples --bin dry_run                 # a 200-robot fleet, canary first
//! cargo run -p robodeploy-examples --bin dry_run -- --failure-rate 0.2 --seed 3
//! cargo run --release -p robodeploy-examples --bin dry_run -- --robots 1000000 --failure-rate 0.01
//! cargo run -p robodeploy-examples --bin dry_run -- --json       # the full report and timeline
//! ```

use robodeploy_examples::say;
use std::collections::BTreeMap;
use std::process::ExitCode;

use robodeploy_core::model::{
    Architecture, DeploymentJobRequest, Device, DeviceRuntime, Fleet, Version,
};
use robodeploy_core::rollout::RobotOutcome;
use robodeploy_core::sim::{FleetModel, SimOptions, SimReport, Simulation, TimelineDetail};

/// The job a user would submit: canary robot, then 10 %, then the rest; roll back on failure.
const JOB: &str = r#"
fleet: warehouse
application: picker
applicationVersion: "2.0.0"
launchConfig: {packageName: picker, launchFile: picker.launch.py, postLaunchFile: check.sh}
deploymentConfig:
  concurrentDeploymentPercentage: 10
  failureThresholdPercentage: 5
  robotDeploymentTimeout: 30m
  offlineDeadline: 2h
  autoRollback: true
  waves:
    - {size: {robots: 1}, soak: 10m}
    - {size: {percent: 10}, soak: 5m}
"#;

struct Args {
    robots: Option<u32>,
    failure_rate: f64,
    seed: u64,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        robots: None,
        failure_rate: 0.03,
        seed: 1,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--robots" => {
                let v = value("--robots")?;
                args.robots = Some(v.parse().map_err(|e| format!("--robots {v}: {e}"))?);
            }
            "--failure-rate" => {
                let v = value("--failure-rate")?;
                args.failure_rate = v.parse().map_err(|e| format!("--failure-rate {v}: {e}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                args.seed = v.parse().map_err(|e| format!("--seed {v}: {e}"))?;
            }
            "--json" => args.json = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Your fleet as the registry knows it: 200 robots on version 1.4.0, a few offline right now.
fn my_fleet() -> Fleet {
    let robots = (0..200)
        .map(|i| {
            let mut d = Device::new(
                format!("picker-{i:03}"),
                Architecture::Arm64v8,
                DeviceRuntime::Docker,
            );
            d.online = i % 40 != 7;
            d.installed
                .insert("picker".to_owned(), Version::new("1.4.0"));
            d
        })
        .collect();
    Fleet {
        name: "warehouse".to_owned(),
        labels: BTreeMap::new(),
        robots,
    }
}

fn summarise(out: &SimReport, wall: std::time::Duration, heap: usize) {
    let r = &out.report;
    say!(
        "job {:?}{} after {:.1} min of virtual time ({} robots, {} at once, halt at {} failed)",
        r.status,
        r.failure_code
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        out.stats.makespan_ms as f64 / 60_000.0,
        r.fleet_size,
        r.in_flight_limit,
        r.failure_threshold,
    );
    // Deployment outcomes (robots rolled back afterwards keep theirs).
    let count =
        |f: &dyn Fn(&RobotOutcome) -> bool| r.robots.iter().filter(|x| f(&x.outcome)).count();
    let c = r.counts;
    say!(
        "robots: {} deployed, {} failed, {} not deployed; now {} rolled back, {} rollback failed",
        count(&|o| *o == RobotOutcome::InSync),
        count(&|o| matches!(o, RobotOutcome::Failed { .. })),
        count(&|o| matches!(o, RobotOutcome::NotDeployed { .. })),
        c.rolled_back,
        c.rollback_failed
    );
    for (i, w) in r.waves.iter().enumerate() {
        say!(
            "wave {}: robots {}-{} ({}), failed {}, {}",
            i + 1,
            w.plan.start + 1,
            w.plan.end,
            w.plan.len(),
            w.failed,
            match (w.started_at, w.completed_at) {
                (Some(s), Some(e)) => format!("{s} → {e}"),
                (Some(s), None) => format!("started {s}, not completed"),
                _ => "not started".to_owned(),
            }
        );
    }
    if let Some(rb) = r.rollback {
        say!("rollback of {} robots ({:?})", rb.robots, rb.reason);
    }
    for entry in out.timeline.iter().take(12) {
        say!("  {}  {:?}", entry.at, entry.what);
    }
    say!(
        "simulated {} events in {:.3} s wall time; simulator heap {:.1} bytes/robot",
        out.stats.events,
        wall.as_secs_f64(),
        heap as f64 / f64::from(r.fleet_size),
    );
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dry_run: {e}");
            return ExitCode::from(2);
        }
    };
    let job: DeploymentJobRequest = match serde_saphyr::from_str(JOB) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("dry_run: the job does not parse: {e}");
            return ExitCode::FAILURE;
        }
    };
    let model = FleetModel::default().with_failure_rate(args.failure_rate);
    let options = SimOptions {
        seed: args.seed,
        timeline: if args.robots.is_some() {
            TimelineDetail::Off
        } else {
            TimelineDetail::Job
        },
        ..SimOptions::default()
    };
    let sim = match args.robots {
        Some(n) => {
            let mut config = job.deployment_config.clone();
            config.waves.clear();
            config.auto_rollback = false;
            Simulation::new(&config, n, None, model, options)
        }
        None => Simulation::for_fleet(&job, &my_fleet(), model, options),
    };
    let mut sim = match sim {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dry_run: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    while sim.step() {}
    let heap = sim.heap_bytes();
    let out = sim.finish();
    let wall = started.elapsed();
    if args.json {
        match serde_json::to_string_pretty(&out) {
            Ok(json) => say!("{json}"),
            Err(e) => {
                eprintln!("dry_run: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        summarise(&out, wall, heap);
    }
    ExitCode::SUCCESS
}
