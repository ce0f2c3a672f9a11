//! Events handled per second by one lifecycle machine of 10 engine-enforced executables in steady
//! state: each executable exits after running 30 s, the backoff timer fires, the machine emits
//! `Restart`, the runtime answers `Started`. One round is 10 exits, 1 timeout and 10 starts, with
//! every command drained, i.e. 21 events.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use robodeploy_core::lifecycle::{
    Command, Deployment, DeploymentSpec, Event, ExecutableIndex, ExecutableSpec,
};
use robodeploy_core::model::RestartPolicy;
use robodeploy_core::time::Time;

const EXECUTABLES: u16 = 10;
const EVENTS_PER_ROUND: u64 = 2 * EXECUTABLES as u64 + 1;

fn running_deployment() -> Deployment {
    let exes = (0..EXECUTABLES)
        .map(|i| ExecutableSpec::device("c", format!("e{i}"), "robot", RestartPolicy::Always))
        .collect();
    let mut d = Deployment::new(DeploymentSpec::new("bench", exes), Time::EPOCH).unwrap();
    d.handle(Event::Deploy, Time::EPOCH).unwrap();
    for i in 0..EXECUTABLES {
        let exe = ExecutableIndex(i);
        d.handle(Event::Prepared(exe), Time::EPOCH).unwrap();
        d.handle(Event::Started(exe), Time::EPOCH).unwrap();
    }
    while d.poll_command().is_some() {}
    d
}

/// One round of 21 events. Not inlined, so `valgrind --tool=callgrind --toggle-collect='*round*'`
/// can count its instructions.
#[inline(never)]
fn round(d: &mut Deployment, t: &mut i64) {
    *t += 30_000;
    for i in 0..EXECUTABLES {
        d.handle(Event::Exited(ExecutableIndex(i), 1), Time::from_millis(*t))
            .unwrap();
    }
    // Every exit scheduled its restart at the same instant: one timeout fires them all.
    let at = d.poll_timeout().unwrap();
    *t = at.as_millis();
    d.handle_timeout(at);
    while let Some(cmd) = d.poll_command() {
        if let Command::Restart { exe, .. } = cmd {
            d.handle(Event::Started(exe), at).unwrap();
        }
    }
}

fn steady_state(c: &mut Criterion) {
    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(EVENTS_PER_ROUND));
    g.bench_function("steady_state_10_executables", |b| {
        let mut d = running_deployment();
        let mut t = 0;
        for _ in 0..100 {
            round(&mut d, &mut t);
        }
        b.iter(|| {
            round(black_box(&mut d), &mut t);
        });
        assert!(d.total_restart_count() > 0);
    });
    g.finish();
}

criterion_group!(benches, steady_state);
criterion_main!(benches);
