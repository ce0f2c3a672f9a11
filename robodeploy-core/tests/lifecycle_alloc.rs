//! Steady-state event handling allocates nothing: a counting global allocator watches a
//! deployment of 10 engine-enforced executables crash and restart (late and early exits, crash
//! loop, healthy resets, device offline and back) after warm-up.

use std::alloc::System;
use std::time::Duration;

use robodeploy_core::lifecycle::*;
use robodeploy_core::model::RestartPolicy;
use robodeploy_core::time::Time;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One round: every executable exits (`uptime_ms` after it started), is restarted by the backoff
/// timer and starts again. Returns the events handled.
fn round(d: &mut Deployment, t: &mut i64, uptime_ms: i64) -> usize {
    let mut events = 0;
    *t += uptime_ms;
    for exe in 0..d.executable_count() as u16 {
        d.handle(
            Event::Exited(ExecutableIndex(exe), 1),
            Time::from_millis(*t),
        )
        .unwrap();
        events += 1;
    }
    while let Some(at) = d.poll_timeout() {
        if at.as_millis() > *t + 120_000 {
            break;
        }
        *t = (*t).max(at.as_millis());
        d.handle_timeout(Time::from_millis(*t));
        events += 1;
        while let Some(cmd) = d.poll_command() {
            if let Command::Restart { exe, .. } = cmd {
                d.handle(Event::Started(exe), Time::from_millis(*t))
                    .unwrap();
                events += 1;
            }
        }
    }
    events
}

#[test]
fn steady_state_event_handling_allocates_nothing() {
    let exes = (0..10)
        .map(|i| ExecutableSpec::device("c", format!("e{i}"), "robot", RestartPolicy::Always))
        .collect();
    let mut spec = DeploymentSpec::new("d", exes);
    spec.config.history_capacity = 64;
    let mut d = Deployment::new(spec, Time::EPOCH).unwrap();
    let robot = d.device_index("robot").unwrap();
    d.handle(Event::Deploy, Time::EPOCH).unwrap();
    let prepared: Vec<Command> = std::iter::from_fn(|| d.poll_command()).collect();
    for cmd in prepared {
        d.handle(Event::Prepared(cmd.executable()), Time::EPOCH)
            .unwrap();
        d.handle(Event::Started(cmd.executable()), Time::EPOCH)
            .unwrap();
    }
    while d.poll_command().is_some() {}
    let mut t = 0;
    // Warm-up: fill the history ring and reach the backoff cap once.
    for _ in 0..20 {
        round(&mut d, &mut t, 30_000);
    }

    let region = Region::new(GLOBAL);
    let mut events = 0;
    for i in 0..200 {
        // Late exits, early exits into a crash loop, and healthy periods that reset both.
        let uptime = [30_000, 500, 500, 500, 500, 500, 61_000][i % 7];
        events += round(&mut d, &mut t, uptime);
        if i % 50 == 0 {
            d.handle(Event::DeviceOffline(robot), Time::from_millis(t))
                .unwrap();
            d.handle(Event::DeviceOnline(robot), Time::from_millis(t))
                .unwrap();
            while let Some(cmd) = d.poll_command() {
                d.handle(Event::Started(cmd.executable()), Time::from_millis(t))
                    .unwrap();
            }
            events += 2;
        }
        let _ = (
            d.status(),
            d.phase(),
            d.total_restart_count(),
            d.next_restart_time(),
        );
    }
    let stats = region.change();
    assert!(events > 4_000, "only {events} events");
    assert!(d.total_restart_count() > 2_000);
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "{events} events allocated: {stats:?}"
    );
    assert_eq!(d.config().max_backoff, Duration::from_secs(60));
}
