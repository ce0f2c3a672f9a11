//! An executable killed again and again for a minute under Always: the engine restarts it after
//! every kill and counts each restart exactly, and the crash loop (E163) is reported at its
//! documented threshold (the third early exit within the window).

mod common;
mod engine_common;

use std::time::{Duration, Instant};

use engine_common::{
    Harness, fast_lifecycle, marker, signal_sleeper, sleeper, sleepers, wait_until,
};
use robodeploy_core::engine::{DeploymentStatus, EngineEvent};
use robodeploy_core::model::*;

const KILLING_FOR: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executable_killed_in_a_loop_for_a_minute_is_restarted_and_counted_every_time() {
    let lifecycle = fast_lifecycle();
    let threshold = lifecycle.crash_loop_exits;
    let h = Harness::new(&["r1"], lifecycle).await;
    let m = marker();
    let mut all = h.engine.subscribe();
    let id = h
        .deploy(
            "kill-loop",
            "r1",
            RestartPolicy::Always,
            &[("e", sleeper(&m))],
        )
        .await;
    let began = Instant::now();
    let mut kills: u64 = 0;
    let mut crash_loop: Option<DeploymentStatus> = None;
    while began.elapsed() < KILLING_FOR {
        // The restart for the last kill has been made and its process runs: kill it again.
        wait_until(&h.engine, id, "the restart after the last kill", |s| {
            s.restart_count == kills
        })
        .await;
        assert!(
            sleepers(&m, 1).await == 1,
            "no process after restart {kills}"
        );
        signal_sleeper(&m, rustix::process::Signal::KILL).await;
        kills += 1;
        // Keep the subscription drained, noting the first crash-loop status.
        while let Ok(e) = all.try_recv() {
            if let EngineEvent::Deployment(s) = e
                && s.id == id
                && crash_loop.is_none()
                && s.errors.iter().any(|e| e.code == ErrorCode::CrashLoop)
            {
                crash_loop = Some(*s);
            }
        }
    }
    let s = wait_until(&h.engine, id, "every kill restarted", |s| {
        s.restart_count == kills
    })
    .await;
    assert!(sleepers(&m, 1).await == 1);
    assert!(
        kills > 100,
        "only {kills} kills in a minute: the engine did not keep up"
    );
    assert_eq!(s.restart_count, kills, "restarts counted exactly");
    assert_eq!(s.executables[0].restart_count as u64, kills);
    // Every kill was an early exit (the minimum uptime is 1 s): the loop was reported when the
    // threshold-th one happened, before the restart that followed it.
    let first = crash_loop.expect("a crash loop was reported");
    assert_eq!(first.restart_count, u64::from(threshold) - 1);
    assert_eq!(
        first.executables[0].status,
        ExecutableStatus::Error {
            reason: Reason::CrashLoop {
                early_exits: threshold
            }
        }
    );
    h.engine.shutdown().await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
}
