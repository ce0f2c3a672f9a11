//! Starting 1,000 executables through the engine, side by side with the process runtime alone
//! and with a bare spawn loop, in one criterion group (`engine_start`):
//!
//! - `bare_tokio_spawn`: a loop of 1,000 `tokio::process::Command::spawn("sleep 600")`.
//! - `runtime_concurrent`: 1,000 `ProcessRuntime::start` of `sleep 600` at once, until 1,000
//!   `Started` events (what the engine sits on).
//! - `engine_100x10`: 100 deployments of a package with 10 executables (`sleep 600`) on one
//!   process device, deployed at once, until all 100 are Running (phase Succeeded, every
//!   executable Running).
//! - `engine_1x1000`: one deployment of 1,000 executables, until it is Running.
//!
//! Only the starts are timed: the engine is created and its device added before the clock
//! starts; its shutdown (which stops every process) and the runtime's cleanup run after.
//! The shim is `target/release/robodeploy-process-shim` when built, else this binary serves as
//! its own shim (as in the `process_spawn` bench).

mod engine_common;
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use robodeploy_core::engine::{Engine, EngineConfig, EngineEvent};
use robodeploy_core::model::*;
use robodeploy_core::runtime::{InstanceSpec, Runtime, RuntimeEventKind};
use robodeploy_process::ProcessRuntime;

use engine_common::{device, device_runtime, package, request, root};

const COUNT: usize = 1_000;
const SLEEP: &str = "600";

/// Deploys `deployments` × `exes` executables on a fresh engine and returns how long it took
/// until every deployment was Running.
async fn engine_run(rt: &Arc<ProcessRuntime>, deployments: usize, exes: usize) -> Duration {
    let mut config = EngineConfig::default();
    // Room for every status change of 1,000 starting executables.
    config.event_capacity = 1 << 16;
    let engine = Engine::builder().config(config).start();
    engine
        .add_device(device(), rt.clone())
        .await
        .expect("device");
    let argv = ["sleep".to_owned(), SLEEP.to_owned()];
    let package = package(&format!("app-{exes}"), RestartPolicy::Always, exes, &argv);
    engine.add_package(package.clone()).await.expect("package");
    let mut events = engine.subscribe();
    let began = Instant::now();
    let mut ids = HashSet::with_capacity(deployments);
    for i in 0..deployments {
        let id = engine
            .deploy(request(format!("d{i}"), &package), None)
            .await
            .expect("deploy");
        ids.insert(id);
    }
    while !ids.is_empty() {
        match events.recv().await.expect("events") {
            EngineEvent::Deployment(s) if s.is_running() => {
                ids.remove(&s.id);
            }
            _ => {}
        }
    }
    let took = began.elapsed();
    engine.shutdown().await.expect("shutdown");
    took
}

fn start_1000(c: &mut Criterion) {
    let tokio = support::tokio();
    let rt = tokio.block_on(async { device_runtime("engine-start") });
    let mut group = c.benchmark_group("engine_start");
    group.sample_size(10);

    group.bench_function("bare_tokio_spawn", |b| {
        b.iter_custom(|iters| tokio.block_on(support::bare_spawns(iters, COUNT, SLEEP)))
    });

    let mut next = 0u128;
    group.bench_function("runtime_concurrent", |b| {
        b.iter_custom(|iters| {
            tokio.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut events = rt.events().await.expect("events");
                    let began = Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..COUNT {
                        next += 1;
                        let mut spec =
                            InstanceSpec::new(DeploymentId::from_u128(next), "c", "e", "p", "1");
                        spec.command = vec!["sleep".into(), SLEEP.into()];
                        let rt = Arc::clone(&rt);
                        tasks.spawn(async move { rt.start(&spec).await.expect("start") });
                    }
                    let ids: Vec<_> = tasks.join_all().await;
                    let mut started = 0;
                    while started < COUNT {
                        if events.recv().await.expect("events").kind == RuntimeEventKind::Started {
                            started += 1;
                        }
                    }
                    total += began.elapsed();
                    let mut tasks = tokio::task::JoinSet::new();
                    for id in ids {
                        let rt = Arc::clone(&rt);
                        tasks.spawn(async move { rt.remove(&id).await.expect("remove") });
                    }
                    tasks.join_all().await;
                }
                total
            })
        })
    });

    for (name, deployments, exes) in [("engine_100x10", 100, 10), ("engine_1x1000", 1, 1000)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                tokio.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += engine_run(&rt, deployments, exes).await;
                    }
                    total
                })
            })
        });
    }
    group.finish();
    drop(rt);
    let _ = std::fs::remove_dir_all(root("engine-start"));
}

criterion_group!(benches, start_1000);

fn main() {
    // When no shim binary was built, this binary is the shim.
    robodeploy_process::shim::run_if_requested();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
