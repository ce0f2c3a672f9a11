//! Starting executables through the process runtime versus a bare spawn loop, and the runtime's
//! crash-to-running-again latency.
//!
//! - `process_spawn/bare_tokio_spawn`: a loop of 1,000 `tokio::process::Command::spawn` of
//!   `sleep 60` (each spawn returns once `sleep` was executed).
//! - `process_spawn/runtime_sequential` and `runtime_concurrent`: 1,000 `start`s of `sleep 60`
//!   through a `ProcessRuntime`, one after the other or all at once, until 1,000 `Started`
//!   events arrived.
//! - `process_restart/crash_to_running`: SIGKILL a running instance's group, wait for its
//!   `Exited` event, remove it, start its replacement, until its `Started` event.
//!
//! Only the starts are timed; stopping and reaping run between samples. The shim is
//! `target/release/robodeploy-process-shim` when built (`cargo build --release -p
//! robodeploy-process`), else this bench binary serves as its own shim.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use robodeploy_core::model::DeploymentId;
use robodeploy_core::runtime::{
    EventReceiver, InstanceId, InstanceSpec, InstanceState, Runtime, RuntimeEventKind,
};
use robodeploy_process::{ProcessRuntime, Shim};
use support::{root, tokio};

const COUNT: usize = 1_000;

fn process_runtime(tag: &str) -> Arc<ProcessRuntime> {
    let _ = std::fs::remove_dir_all(root(tag));
    let shim = match ProcessRuntime::builder(root(tag)).build() {
        Ok(_) => Shim::Find,
        Err(_) => Shim::CurrentExe,
    };
    let rt = ProcessRuntime::builder(root(tag))
        .shim(shim)
        .kill_on_drop(true)
        .build()
        .expect("process runtime");
    Arc::new(rt)
}

fn sleeper(n: u128) -> InstanceSpec {
    let mut spec = InstanceSpec::new(DeploymentId::from_u128(n), "bench", "sleeper", "bench", "1");
    spec.command = vec!["sleep".into(), "60".into()];
    spec
}

async fn started(events: &mut EventReceiver, count: usize) {
    let mut seen = 0;
    while seen < count {
        let ev = events.recv().await.expect("events");
        if ev.kind == RuntimeEventKind::Started {
            seen += 1;
        }
    }
}

/// Kills and removes every instance of the runtime (not timed).
async fn clear(rt: &Arc<ProcessRuntime>) {
    let ids: Vec<InstanceId> = rt
        .list(&Default::default())
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let rt = Arc::clone(rt);
        tasks.spawn(async move { rt.remove(&id).await.expect("remove") });
    }
    while tasks.join_next().await.is_some() {}
}

fn spawn_1000(c: &mut Criterion) {
    let tokio = tokio();
    let mut group = c.benchmark_group("process_spawn");
    group.sample_size(10);

    group.bench_function("bare_tokio_spawn", |b| {
        b.iter_custom(|iters| tokio.block_on(support::bare_spawns(iters, COUNT, "60")))
    });

    let rt = tokio.block_on(async { process_runtime("spawn") });
    let mut next = 0u128;
    for concurrent in [false, true] {
        let name = if concurrent {
            "runtime_concurrent"
        } else {
            "runtime_sequential"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                tokio.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut events = rt.events().await.expect("events");
                        let specs: Vec<InstanceSpec> = (0..COUNT)
                            .map(|_| {
                                next += 1;
                                sleeper(next)
                            })
                            .collect();
                        let began = Instant::now();
                        if concurrent {
                            let mut tasks = tokio::task::JoinSet::new();
                            for spec in specs {
                                let rt = Arc::clone(&rt);
                                tasks.spawn(async move { rt.start(&spec).await.expect("start") });
                            }
                            while tasks.join_next().await.is_some() {}
                        } else {
                            for spec in &specs {
                                rt.start(spec).await.expect("start");
                            }
                        }
                        started(&mut events, COUNT).await;
                        total += began.elapsed();
                        clear(&rt).await;
                    }
                    total
                })
            })
        });
    }
    group.finish();
    drop(rt);
    let _ = std::fs::remove_dir_all(root("spawn"));
}

fn crash_to_running(c: &mut Criterion) {
    let tokio = tokio();
    let rt = tokio.block_on(async { process_runtime("restart") });
    let spec = sleeper(1);
    let mut group = c.benchmark_group("process_restart");
    group.bench_function("crash_to_running", |b| {
        b.iter_custom(|iters| {
            tokio.block_on(async {
                let mut events = rt.events().await.expect("events");
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let id = rt.start(&spec).await.expect("start");
                    let info = rt.inspect(&id).await.expect("inspect");
                    let InstanceState::Running { pid: Some(pid), .. } = info.state else {
                        panic!("not running: {:?}", info.state);
                    };
                    let pgid = rustix::process::Pid::from_raw(pid as i32).expect("pid");
                    let began = Instant::now();
                    rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL)
                        .expect("kill");
                    loop {
                        let ev = events.recv().await.expect("events");
                        if matches!(ev.kind, RuntimeEventKind::Exited { .. }) {
                            break;
                        }
                    }
                    rt.remove(&id).await.expect("remove");
                    rt.start(&spec).await.expect("restart");
                    loop {
                        let ev = events.recv().await.expect("events");
                        if ev.kind == RuntimeEventKind::Started && ev.instance == id {
                            break;
                        }
                    }
                    total += began.elapsed();
                    rt.remove(&id).await.expect("remove");
                }
                total
            })
        })
    });
    group.finish();
    drop(rt);
    let _ = std::fs::remove_dir_all(root("restart"));
}

criterion_group!(benches, spawn_1000, crash_to_running);

fn main() {
    // When no shim binary was built, this binary is the shim.
    robodeploy_process::shim::run_if_requested();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
