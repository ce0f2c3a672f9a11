//! Stopping: SIGTERM then SIGKILL after the grace period, to the whole process group, with
//! nothing left behind by stop, remove, the executable's own exit, or dropping the runtime.

mod common;

use std::time::{Duration, Instant};

use common::{
    TempRoot, builder, next_event, next_exit, processes_become, processes_with_argv, runtime, spec,
};
use robodeploy_core::runtime::{InstanceState, LogStreamKind, Runtime};

#[tokio::test]
async fn a_process_trapping_sigterm_exits_cleanly_within_the_grace() {
    let (rt, _root) = runtime("trap");
    let mut events = rt.events().await.unwrap();
    let script = "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05 & wait $!; done";
    let id = start_ready(&rt, &mut events, script).await;
    let began = Instant::now();
    rt.stop(&id, Duration::from_secs(20)).await.unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(next_exit(&mut events, &id).await, (0, false));
    // The last line on stdout is the trap's. (sh may report its killed `sleep` as
    // "Terminated" on stderr; the two streams are relayed independently, so their relative
    // order in the log is not defined.)
    let mut logs = rt.logs(&id, Default::default()).await.unwrap();
    let mut last = None;
    while let Some(line) = logs.recv().await {
        if line.stream == LogStreamKind::Stdout {
            last = Some(line.line);
        }
    }
    assert_eq!(last.as_deref(), Some("bye"));
}

#[tokio::test]
async fn a_process_ignoring_sigterm_is_killed_after_the_grace() {
    let (rt, _root) = runtime("ignore");
    let mut events = rt.events().await.unwrap();
    let script = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let id = start_ready(&rt, &mut events, script).await;
    let grace = Duration::from_millis(400);
    let began = Instant::now();
    rt.stop(&id, grace).await.unwrap();
    assert!(began.elapsed() >= grace, "{:?}", began.elapsed());
    assert_eq!(next_exit(&mut events, &id).await, (137, false));
    // Stopping what already exited succeeds.
    rt.stop(&id, grace).await.unwrap();
}

#[tokio::test]
async fn stop_takes_the_whole_group_including_grandchildren() {
    let (rt, _root) = runtime("group");
    let marker = common::unique().to_string();
    let script = format!("sleep {marker} & sleep {marker} & (sleep {marker} &); wait");
    let id = rt
        .start(&spec("c", "e", &["sh", "-c", &script]))
        .await
        .unwrap();
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 3, Duration::from_secs(5)).await);
    let InstanceState::Running {
        pid: Some(leader), ..
    } = rt.inspect(&id).await.unwrap().state
    else {
        panic!("not running");
    };
    for pid in processes_with_argv(&sleeper) {
        assert_eq!(
            common::pgrp(pid),
            Some(leader),
            "grandchild {pid} in the group"
        );
    }
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    assert!(
        processes_become(&sleeper, 0, Duration::from_secs(2)).await,
        "orphans left: {:?}",
        processes_with_argv(&sleeper)
    );
}

#[tokio::test]
async fn when_the_executable_exits_what_it_left_in_its_group_goes_too() {
    let (rt, _root) = runtime("leftover");
    let mut events = rt.events().await.unwrap();
    let marker = common::unique().to_string();
    let script = format!("sleep {marker} & sleep 0.2; exit 3");
    let id = rt
        .start(&spec("c", "e", &["sh", "-c", &script]))
        .await
        .unwrap();
    let sleeper = ["sleep", marker.as_str()];
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    assert_eq!(next_exit(&mut events, &id).await.0, 3);
    assert!(processes_become(&sleeper, 0, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn remove_kills_a_running_instance_and_its_group() {
    let (rt, _root) = runtime("remove");
    let marker = common::unique().to_string();
    let script = format!("sleep {marker} & sleep {marker}");
    let id = rt
        .start(&spec("c", "e", &["sh", "-c", &script]))
        .await
        .unwrap();
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 2, Duration::from_secs(5)).await);
    rt.remove(&id).await.unwrap();
    assert!(!rt.instance_dir(&id).exists());
    assert!(processes_become(&sleeper, 0, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn dropping_a_runtime_built_to_clean_up_leaves_no_process() {
    let root = TempRoot::new("drop");
    let rt = builder(&root).kill_on_drop(true).build().unwrap();
    let marker = common::unique().to_string();
    let script = format!("sleep {marker} & sleep {marker} & wait");
    for exe in ["a", "b"] {
        rt.start(&spec("c", exe, &["sh", "-c", &script]))
            .await
            .unwrap();
    }
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 4, Duration::from_secs(5)).await);
    drop(rt);
    assert!(
        processes_become(&sleeper, 0, Duration::from_secs(2)).await,
        "left: {:?}",
        processes_with_argv(&sleeper)
    );
}

#[tokio::test]
async fn a_sigterm_the_runtime_did_not_send_is_a_manual_stop() {
    let (rt, _root) = runtime("manual");
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let InstanceState::Running { pid: Some(pid), .. } = rt.inspect(&id).await.unwrap().state else {
        panic!("not running");
    };
    // An operator's `kill -TERM -<pgid>`.
    let pgid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process_group(pgid, rustix::process::Signal::TERM).unwrap();
    assert_eq!(next_exit(&mut events, &id).await, (143, true));
}

/// Waits until the instance's output holds the line `ready`.
/// Starts `sh -c script` and returns once it printed `ready`: Started is told before sh has
/// installed its traps, so the script says when it has.
async fn start_ready(
    rt: &robodeploy_process::ProcessRuntime,
    events: &mut robodeploy_core::runtime::EventReceiver,
    script: &str,
) -> robodeploy_core::runtime::InstanceId {
    let id = rt
        .start(&spec("c", "e", &["sh", "-c", script]))
        .await
        .unwrap();
    next_event(events, &id, Duration::from_secs(5)).await;
    wait_ready(rt, &id).await;
    id
}

async fn wait_ready(
    rt: &robodeploy_process::ProcessRuntime,
    id: &robodeploy_core::runtime::InstanceId,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut logs = rt.logs(id, Default::default()).await.unwrap();
        while let Some(line) = logs.recv().await {
            if line.line == "ready" {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the script never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
