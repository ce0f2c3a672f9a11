//! The engine supervising real processes: every restart policy and its exceptions (manual
//! stop, device reboot), early exits (E152), crash loops (E163) and a binary missing from
//! `$PATH` (E161), asserted by value against what the seed says.
//!
//! Real time with short settings ([`fast_lifecycle`]): restarts within milliseconds, "exited
//! too early" under 1 s of uptime, a crash loop at 3 early exits.

mod common;
mod engine_common;

use std::time::Duration;

use engine_common::{
    Harness, codes, exe, fast_lifecycle, marker, runs, scripted, signal_sleeper, sleeper, sleepers,
    wait_event, wait_until,
};
use robodeploy_core::engine::Until;
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_core::runtime::Runtime;
use rustix::process::Signal;

/// Long enough for several backoff periods of [`fast_lifecycle`] to pass.
const SETTLE: Duration = Duration::from_millis(400);

/// One policy case: the first run exits with `code` after the minimum uptime, later runs keep
/// running. Returns nothing; asserts whether it was restarted, and how it reads if not.
async fn policy_case(h: &Harness, policy: RestartPolicy, code: i32, restarted: Option<Reason>) {
    let name = format!("{policy:?}-exit-{code}").to_lowercase();
    let counter = h.file(&name);
    let m = marker();
    let first = format!("sleep 1.2; exit {code}");
    let later = format!("exec sleep {m}");
    let argv = scripted(&counter, &[&first, &later]);
    let id = h.deploy(&name, "r1", policy, &[("e", argv)]).await;
    match restarted {
        None => {
            let s = wait_until(&h.engine, id, "restarted once and running", |s| {
                s.restart_count == 1 && s.is_running()
            })
            .await;
            assert_eq!(exe(&s, "e").restart_count, 1, "{name}");
            assert!(s.errors.is_empty(), "{name}: {s:#?}");
            tokio::time::sleep(SETTLE).await;
            let s = h.engine.status(id).await.unwrap();
            assert_eq!((s.restart_count, runs(&counter)), (1, 2), "{name}");
            assert_eq!(sleepers(&m, 1).await, 1, "{name}");
        }
        Some(reason) => {
            let s = h.in_error(id).await;
            assert_eq!(
                exe(&s, "e").status,
                ExecutableStatus::Error { reason },
                "{name}"
            );
            assert_eq!(codes(&s), [ErrorCode::DeviceExecutableFailed], "{name}");
            tokio::time::sleep(SETTLE).await;
            let s = h.engine.status(id).await.unwrap();
            assert_eq!((s.restart_count, runs(&counter)), (0, 1), "{name}");
            assert_eq!(
                s.phase,
                Phase::Succeeded,
                "{name}: the phase stays after a failure"
            );
        }
    }
}

#[tokio::test]
async fn each_restart_policy_against_each_kind_of_exit() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    use RestartPolicy::*;
    tokio::join!(
        // Always: whatever the exit code.
        policy_case(&h, Always, 3, None),
        policy_case(&h, Always, 0, None),
        // OnFailure: only a non-zero exit.
        policy_case(&h, OnFailure, 1, None),
        policy_case(&h, OnFailure, 0, Some(Reason::Completed)),
        // Never: not at all.
        policy_case(&h, Never, 1, Some(Reason::Failed { exit_code: 1 })),
        policy_case(&h, Never, 0, Some(Reason::Completed)),
    );
    h.engine.shutdown().await.unwrap();
}

/// An operator's SIGTERM to the process group is a manual stop: Always and OnFailure leave it
/// down until the device reboots, and then only Always starts it again.
#[tokio::test]
async fn a_manual_stop_suspends_restarts_until_the_device_reboots() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let (ma, mo) = (marker(), marker());
    let (a, o) = ([("e", sleeper(&ma))], [("e", sleeper(&mo))]);
    let (always, on_failure) = tokio::join!(
        h.deploy("always", "r1", RestartPolicy::Always, &a),
        h.deploy("onfail", "r1", RestartPolicy::OnFailure, &o),
    );
    for id in [always, on_failure] {
        h.engine
            .wait_for(id, Until::Running, engine_common::T)
            .await
            .unwrap();
    }
    signal_sleeper(&ma, Signal::TERM).await;
    signal_sleeper(&mo, Signal::TERM).await;
    for id in [always, on_failure] {
        let s = wait_until(&h.engine, id, "stopped manually", |s| {
            s.status == StatusKind::Error
        })
        .await;
        assert_eq!(
            exe(&s, "e").status,
            ExecutableStatus::Error {
                reason: Reason::StoppedManually
            }
        );
        assert_eq!(codes(&s), [ErrorCode::DeviceExecutableFailed]);
    }
    tokio::time::sleep(SETTLE).await;
    for id in [always, on_failure] {
        assert_eq!(h.engine.status(id).await.unwrap().restart_count, 0);
    }
    assert_eq!((sleepers(&ma, 0).await, sleepers(&mo, 0).await), (0, 0));

    h.engine.device_rebooted("r1").await.unwrap();
    let s = wait_until(&h.engine, always, "running again after the reboot", |s| {
        s.is_running()
    })
    .await;
    assert_eq!(s.restart_count, 1);
    assert!(s.errors.is_empty(), "{s:#?}");
    tokio::time::sleep(SETTLE).await;
    let s = h.engine.status(on_failure).await.unwrap();
    assert_eq!(
        (s.status, s.restart_count),
        (StatusKind::Error, 0),
        "{s:#?}"
    );
    assert_eq!((sleepers(&ma, 1).await, sleepers(&mo, 0).await), (1, 0));
    h.engine.shutdown().await.unwrap();
    assert_eq!(sleepers(&ma, 0).await, 0);
}

/// A reboot reported while the process still runs (a runtime that cannot tell reboots) starts
/// it again under Always; the old process is replaced, never doubled.
#[tokio::test]
async fn a_reboot_restarts_under_always_without_doubling_the_process() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let m = marker();
    let id = h
        .deploy("always", "r1", RestartPolicy::Always, &[("e", sleeper(&m))])
        .await;
    let before = h
        .engine
        .wait_for(id, Until::Running, engine_common::T)
        .await
        .unwrap();
    h.engine.device_rebooted("r1").await.unwrap();
    let s = wait_until(&h.engine, id, "restarted after the reboot", |s| {
        s.restart_count == 1 && s.is_running()
    })
    .await;
    assert_eq!(exe(&s, "e").instance, exe(&before, "e").instance);
    tokio::time::sleep(SETTLE).await;
    assert_eq!(sleepers(&m, 1).await, 1);
    assert_eq!(h.engine.status(id).await.unwrap().restart_count, 1);
    h.engine.shutdown().await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
}

/// An exit before the minimum uptime is E152 (ExitedEarly) while the restart backs off, and
/// the code clears once the executable runs again.
#[tokio::test]
async fn an_early_exit_shows_e152_until_the_restart_runs() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let counter = h.file("early");
    let m = marker();
    let later = format!("exec sleep {m}");
    let argv = scripted(&counter, &["exit 4", &later]);
    let mut events = h.engine.subscribe();
    let id = h
        .deploy("early", "r1", RestartPolicy::Always, &[("e", argv)])
        .await;
    let s = wait_event(&mut events, id, "exited early", |s| {
        s.status == StatusKind::Error
    })
    .await;
    assert_eq!(
        exe(&s, "e").status,
        ExecutableStatus::Error {
            reason: Reason::ExitedEarly { exit_code: 4 }
        }
    );
    assert_eq!(codes(&s), [ErrorCode::DeviceExecutableFailed]);
    assert_eq!(s.restart_count, 0);
    let s = wait_event(&mut events, id, "running again", |s| s.is_running()).await;
    assert_eq!(s.restart_count, 1);
    assert!(s.errors.is_empty(), "{s:#?}");
    // Running is declared when the process is spawned, a moment before it counts its run.
    assert!(common::eventually(SETTLE, || runs(&counter) == 2).await);
    tokio::time::sleep(SETTLE).await;
    assert_eq!((runs(&counter), sleepers(&m, 1).await), (2, 1));
    h.engine.shutdown().await.unwrap();
}

/// Every run exits at once: the third early exit within the window is a crash loop (E163), seen
/// after exactly two restarts. The backoff grows ×16 so the next restart is 2.56 s away when
/// the loop is detected, which lets the run count be checked exactly too.
#[tokio::test]
async fn a_crash_loop_is_e163_at_the_threshold_with_the_exact_restart_count() {
    let lifecycle = LifecycleConfig {
        backoff_factor: 16,
        max_backoff: Duration::from_secs(10),
        ..fast_lifecycle()
    };
    let h = Harness::new(&["r1"], lifecycle).await;
    let counter = h.file("loop");
    let mut events = h.engine.subscribe();
    let id = h
        .deploy(
            "loop",
            "r1",
            RestartPolicy::Always,
            &[("e", scripted(&counter, &["exit 1"]))],
        )
        .await;
    let s = wait_event(&mut events, id, "a crash loop", |s| {
        codes(s).contains(&ErrorCode::CrashLoop)
    })
    .await;
    assert_eq!(s.restart_count, 2);
    assert_eq!(
        exe(&s, "e").status,
        ExecutableStatus::Error {
            reason: Reason::CrashLoop { early_exits: 3 }
        }
    );
    assert_eq!(codes(&s), [ErrorCode::CrashLoop]);
    assert_eq!(runs(&counter), 3);
    h.engine.deprovision(id).await.unwrap();
    let s = h
        .engine
        .wait_for(id, Until::Stopped, engine_common::T)
        .await
        .unwrap();
    assert_eq!((s.phase, s.restart_count), (Phase::DeploymentStopped, 2));
    assert_eq!(runs(&counter), 3);
    h.engine.shutdown().await.unwrap();
}

/// A binary missing from `$PATH` fails to start with E161 and is never retried, even under
/// Always: nothing is ever created on the runtime.
#[tokio::test]
async fn a_missing_binary_is_e161_failed_to_start_and_never_retried() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let program = format!("robodeploy-no-such-program-{}", marker());
    let id = h
        .deploy(
            "ghost",
            "r1",
            RestartPolicy::Always,
            &[("e", vec![program.clone()])],
        )
        .await;
    let s = h
        .engine
        .wait_for(id, Until::Phase(Phase::FailedToStart), engine_common::T)
        .await
        .unwrap();
    assert_eq!(codes(&s), [ErrorCode::DeviceImageNotFound]);
    assert!(
        matches!(
            &exe(&s, "e").status,
            ExecutableStatus::Error { reason: Reason::NotFound { what } } if what.contains(&program)
        ),
        "{s:#?}"
    );
    tokio::time::sleep(SETTLE).await;
    let s = h.engine.status(id).await.unwrap();
    assert_eq!((s.phase, s.restart_count), (Phase::FailedToStart, 0));
    assert!(
        h.runtimes[0]
            .list(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    h.engine.shutdown().await.unwrap();
}

/// The seed's default: "deployments that are running on devices do not automatically restart
/// if exited due to an error or when devices are rebooted" — a device component with no
/// restart policy (and no deployment override) whose process exits non-zero stays in Error,
/// restart count 0, after a reboot too.
#[tokio::test]
async fn a_device_component_without_a_policy_is_not_restarted() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let counter = h.file("default-policy");
    let m = marker();
    let later = format!("exec sleep {m}");
    let argv = scripted(&counter, &["sleep 1.2; exit 4", &later]);
    let mut p = engine_common::package("default", RestartPolicy::Always, &[("e", argv)]);
    p.components[0].restart_policy = None;
    h.engine.add_package(p).await.unwrap();
    let id = h
        .engine
        .deploy(engine_common::request("default", "r1"), None)
        .await
        .unwrap();
    let s = h.in_error(id).await;
    assert_eq!(
        exe(&s, "e").status,
        ExecutableStatus::Error {
            reason: Reason::Failed { exit_code: 4 }
        }
    );
    assert_eq!(codes(&s), [ErrorCode::DeviceExecutableFailed]);
    h.engine.device_rebooted("r1").await.unwrap();
    tokio::time::sleep(SETTLE).await;
    let s = h.engine.status(id).await.unwrap();
    assert_eq!((s.restart_count, runs(&counter)), (0, 1));
    assert_eq!(exe(&s, "e").restart_count, 0);
    assert_eq!(sleepers(&m, 0).await, 0);
    h.engine.shutdown().await.unwrap();
}
