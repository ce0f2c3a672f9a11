//! The rollout scheduler driven by the simulator: a simulated rollout of 1,000,000 robots (10 %
//! concurrency, 1 % failures, 5 % threshold), its memory per robot, and the makespan of a
//! heterogeneous fleet against its lower bound.
//!
//! Memory is measured with a counting global allocator (peak_alloc): the peak heap growth while
//! one simulation is built, run to the end and reported, divided by the robots. It is printed
//! before criterion's timings.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use peak_alloc::PeakAlloc;
use robodeploy_core::model::{DeploymentConfig, JobStatus};
use robodeploy_core::sim::{Dist, FleetModel, SimOptions, SimReport, Simulation, TimelineDetail};

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

const ROBOTS: u32 = 1_000_000;

fn config() -> DeploymentConfig {
    DeploymentConfig {
        concurrent_deployment_percentage: 10,
        failure_threshold_percentage: 5,
        ..DeploymentConfig::default()
    }
}

fn simulate(robots: u32, model: FleetModel, seed: u64) -> SimReport {
    let options = SimOptions {
        seed,
        timeline: TimelineDetail::Off,
        ..SimOptions::default()
    };
    Simulation::new(&config(), robots, None, model, options)
        .expect("a valid config and model")
        .run()
}

/// The heterogeneous fleet of BENCHMARKS.md: the default step durations (about 41 s to 168 s
/// per deployment) scaled by a per-robot speed drawn uniformly from 50 % to 400 %.
fn heterogeneous() -> FleetModel {
    FleetModel {
        speed_percent: Dist::Uniform {
            min_ms: 50,
            max_ms: 400,
        },
        ..FleetModel::default()
    }
}

fn print_figures() {
    let before = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let out = simulate(ROBOTS, FleetModel::default().with_failure_rate(0.01), 1);
    let peak = PEAK.peak_usage() - before;
    assert_eq!(out.report.status, JobStatus::Succeeded);
    println!(
        "rollout/memory: {} robots, peak heap {} bytes = {:.1} bytes/robot (report included); \
         in sync {}, failed {}",
        ROBOTS,
        peak,
        peak as f64 / f64::from(ROBOTS),
        out.report.counts.in_sync,
        out.report.counts.failed,
    );
    drop(out);
    for robots in [1_000u32, 10_000, 100_000] {
        let s = simulate(robots, heterogeneous(), 2).stats;
        println!(
            "rollout/makespan: {robots} robots, {} slots: makespan {} ms, lower bound {} ms, \
             ratio {:.4}, Graham bound {} ms",
            s.slots,
            s.makespan_ms,
            s.lower_bound_ms(),
            s.makespan_ms as f64 / s.lower_bound_ms() as f64,
            s.graham_bound_ms(),
        );
    }
}

fn bench(c: &mut Criterion) {
    print_figures();
    let mut group = c.benchmark_group("rollout");
    group.sample_size(10);
    group.bench_function("simulate_1m_robots", |b| {
        b.iter(|| {
            simulate(
                black_box(ROBOTS),
                FleetModel::default().with_failure_rate(0.01),
                1,
            )
        })
    });
    group.bench_function("simulate_10k_robots", |b| {
        b.iter(|| {
            simulate(
                black_box(10_000),
                FleetModel::default().with_failure_rate(0.01),
                1,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
