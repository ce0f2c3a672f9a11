//! The engine deploying and deprovisioning real processes: nothing left behind by a
//! deprovision, a stop that fails (PartiallyDeprovisioned), dependency ordering and DEP_E156,
//! logs and exec through the engine, and client request tokens that start nothing twice.

mod common;
mod engine_common;

use std::time::Duration;

use engine_common::{
    Harness, T, codes, exe, fast_lifecycle, marker, package, request, runs, scripted,
    signal_sleeper, sleeper, sleepers, wait_event, wait_until,
};
use robodeploy_core::engine::{EngineError, EngineEvent, Until};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::*;
use robodeploy_core::runtime::{InstanceId, LogOptions, LogStreamKind, Runtime};
use rustix::process::Signal;

#[tokio::test]
async fn deprovision_stops_every_process_of_every_group() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let m = marker();
    // The third leaves a child of its own in its process group.
    let with_child = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        format!("sleep {m} & exec sleep {m}"),
    ];
    let id = h
        .deploy(
            "app",
            "r1",
            RestartPolicy::Always,
            &[("a", sleeper(&m)), ("b", sleeper(&m)), ("c", with_child)],
        )
        .await;
    let s = h.engine.wait_for(id, Until::Running, T).await.unwrap();
    assert_eq!(s.executables.len(), 3);
    assert!(sleepers(&m, 4).await == 4);
    h.engine.deprovision(id).await.unwrap();
    let s = h.engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::DeploymentStopped);
    assert!(
        s.executables
            .iter()
            .all(|e| e.status == ExecutableStatus::Stopped),
        "{s:#?}"
    );
    assert!(s.errors.is_empty());
    assert_eq!(s.restart_count, 0, "a deprovision is not a crash");
    assert_eq!(sleepers(&m, 0).await, 0);
    assert!(
        h.runtimes[0]
            .list(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    // The last status stays readable after the deployment retired.
    assert_eq!(
        h.engine.status(id).await.unwrap().phase,
        Phase::DeploymentStopped
    );
    h.engine.shutdown().await.unwrap();
}

/// A stop the runtime cannot carry out: the instance's state directory is damaged (its
/// `stop.requested` marker path is taken by a directory), so the process runtime fails the stop
/// before signalling. The deployment ends PartiallyDeprovisioned with E304 on that executable,
/// and that process is truly still running.
#[tokio::test]
async fn a_stop_that_fails_leaves_the_deployment_partially_deprovisioned() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let (ok, stuck) = (marker(), marker());
    let id = h
        .deploy(
            "app",
            "r1",
            RestartPolicy::Always,
            &[("ok", sleeper(&ok)), ("stuck", sleeper(&stuck))],
        )
        .await;
    let s = h.engine.wait_for(id, Until::Running, T).await.unwrap();
    let instance = InstanceId(exe(&s, "stuck").instance.clone().unwrap());
    let dir = h.runtimes[0].instance_dir(&instance);
    std::fs::create_dir(dir.join("stop.requested")).unwrap();
    h.engine.deprovision(id).await.unwrap();
    let s = h.engine.wait_for(id, Until::Stopped, T).await.unwrap();
    assert_eq!(s.phase, Phase::PartiallyDeprovisioned);
    assert_eq!(exe(&s, "ok").status, ExecutableStatus::Stopped);
    assert!(
        matches!(
            &exe(&s, "stuck").status,
            ExecutableStatus::Error { reason: Reason::Internal { message } }
                if message.contains("stop marker")
        ),
        "{s:#?}"
    );
    assert_eq!(codes(&s), [ErrorCode::InternalDevice(304)]);
    assert_eq!((sleepers(&ok, 0).await, sleepers(&stuck, 1).await), (0, 1));
    signal_sleeper(&stuck, Signal::KILL).await;
    h.engine.shutdown().await.unwrap();
}

/// The dependent's phase waits for its dependency: while the dependency backs off between two
/// runs, the dependent's own process runs but its phase stays Provisioning; it reaches
/// Succeeded only after the dependency runs again.
#[tokio::test]
async fn a_dependent_succeeds_only_once_its_dependency_runs() {
    let lifecycle = LifecycleConfig {
        initial_backoff: Duration::from_millis(1500),
        max_backoff: Duration::from_secs(2),
        ..fast_lifecycle()
    };
    let h = Harness::new(&["r1"], lifecycle).await;
    let counter = h.file("base");
    let (mb, ma) = (marker(), marker());
    let later = format!("exec sleep {mb}");
    let base = h
        .deploy(
            "base",
            "r1",
            RestartPolicy::Always,
            &[("master", scripted(&counter, &["sleep 1.1; exit 0", &later]))],
        )
        .await;
    h.engine.wait_for(base, Until::Running, T).await.unwrap();
    wait_until(&h.engine, base, "backing off", |s| {
        matches!(
            exe(s, "master").status,
            ExecutableStatus::Pending {
                reason: Reason::BackingOff { .. }
            }
        )
    })
    .await;
    let mut events = h.engine.subscribe();
    let node = [("node", sleeper(&ma))];
    let app = h
        .deploy_after("app", "r1", RestartPolicy::Always, &node, &["base"])
        .await;
    let s = wait_event(&mut events, app, "its process running", |s| {
        exe(s, "node").status == ExecutableStatus::Running
    })
    .await;
    // Read after: if the dependency has not restarted yet, it was not running at `s` either.
    assert_eq!(h.engine.status(base).await.unwrap().restart_count, 0);
    assert_eq!(s.phase, Phase::Provisioning, "{s:#?}");
    assert_eq!(sleepers(&ma, 1).await, 1);
    // Every event from here on, in publication order.
    let mut order = Vec::new();
    let succeeded = tokio::time::timeout(T, async {
        loop {
            if let Ok(EngineEvent::Deployment(s)) = events.recv().await {
                let done = s.id == app && s.phase == Phase::Succeeded;
                order.push(*s);
                if done {
                    return;
                }
            }
        }
    })
    .await;
    assert!(
        succeeded.is_ok(),
        "the dependent never succeeded: {order:#?}"
    );
    let base_running = order
        .iter()
        .position(|s| s.id == base && s.is_running())
        .expect("the dependency ran again");
    assert!(base_running < order.len() - 1, "{order:#?}");
    assert!(order.last().unwrap().is_running());
    assert!(common::eventually(Duration::from_secs(2), || runs(&counter) == 2).await);
    h.engine.shutdown().await.unwrap();
    assert_eq!((sleepers(&ma, 0).await, sleepers(&mb, 0).await), (0, 0));
}

/// A dependency that crashes under Never puts DEP_E156 on its dependent (whose own process keeps
/// running); the code clears when the dependency is deployed again and runs.
#[tokio::test]
async fn a_crashed_dependency_gives_e156_until_it_runs_again() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let (mb, ma) = (marker(), marker());
    let base = h
        .deploy(
            "base",
            "r1",
            RestartPolicy::Never,
            &[("master", sleeper(&mb))],
        )
        .await;
    h.engine.wait_for(base, Until::Running, T).await.unwrap();
    let node = [("node", sleeper(&ma))];
    let app = h
        .deploy_after("app", "r1", RestartPolicy::Always, &node, &["base"])
        .await;
    h.engine.wait_for(app, Until::Running, T).await.unwrap();
    // Past the minimum uptime: a crash, not an early exit.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    signal_sleeper(&mb, Signal::KILL).await;
    let s = h.in_error(base).await;
    assert_eq!(
        exe(&s, "master").status,
        ExecutableStatus::Error {
            reason: Reason::Failed { exit_code: 137 }
        }
    );
    let s = h.in_error(app).await;
    assert_eq!(codes(&s), [ErrorCode::DependencyInError]);
    assert_eq!(exe(&s, "node").status, ExecutableStatus::Running);
    assert_eq!((s.phase, s.restart_count), (Phase::Succeeded, 0));
    assert_eq!(sleepers(&ma, 1).await, 1);

    h.engine.deprovision(base).await.unwrap();
    h.engine.wait_for(base, Until::Stopped, T).await.unwrap();
    let base = h.engine.deploy(request("base", "r1"), None).await.unwrap();
    h.engine.wait_for(base, Until::Running, T).await.unwrap();
    let s = h.engine.wait_for(app, Until::Running, T).await.unwrap();
    assert!(s.errors.is_empty(), "{s:#?}");
    assert_eq!((sleepers(&ma, 1).await, sleepers(&mb, 1).await), (1, 1));
    h.engine.shutdown().await.unwrap();
    assert_eq!((sleepers(&ma, 0).await, sleepers(&mb, 0).await), (0, 0));
}

#[tokio::test]
async fn logs_and_exec_reach_the_real_process_through_the_engine() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let m = marker();
    let workdir = h.scratch.path().to_owned();
    let mut pkg = package(
        "talker",
        RestartPolicy::Always,
        &[(
            "talker",
            vec![
                "sh".into(),
                "-c".into(),
                format!("echo \"hello $GREETING\"; echo oops >&2; exec sleep {m}"),
            ],
        )],
    );
    let exe_def = &mut pkg.components[0].executables[0];
    exe_def.env.insert("GREETING".into(), "world".into());
    exe_def.working_dir = Some(workdir.display().to_string());
    h.engine.add_package(pkg).await.unwrap();
    let id = h
        .engine
        .deploy(request("talker", "r1"), None)
        .await
        .unwrap();
    h.engine.wait_for(id, Until::Running, T).await.unwrap();

    // The output reaches the log file just after the start: read until both lines are there.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut lines = logged_lines(&h, id).await;
    while lines.len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        lines = logged_lines(&h, id).await;
    }
    // The two streams are relayed independently: their relative order is not kept.
    lines.sort_by_key(|(_, line)| line.clone());
    assert_eq!(
        lines,
        [
            (LogStreamKind::Stdout, "hello world".to_owned()),
            (LogStreamKind::Stderr, "oops".to_owned())
        ]
    );

    let command = ["sh", "-c", "echo \"$GREETING\"; pwd; exit 7"].map(String::from);
    let out = h.engine.exec(id, "main", "talker", &command).await.unwrap();
    assert_eq!(out.exit_code, 7);
    assert_eq!(out.stdout, format!("world\n{}\n", workdir.display()));
    assert!(matches!(
        h.engine.exec(id, "main", "nobody", &command).await,
        Err(EngineError::NotRunning { .. })
    ));
    h.engine.shutdown().await.unwrap();
}

/// The lines the talker logged so far, read through the engine.
async fn logged_lines(h: &Harness, id: DeploymentId) -> Vec<(LogStreamKind, String)> {
    let mut rx = h
        .engine
        .logs(id, "main", "talker", LogOptions::default())
        .await
        .unwrap();
    let mut lines = Vec::new();
    while let Some(l) = rx.recv().await {
        lines.push((l.stream, l.line));
    }
    lines
}

#[tokio::test]
async fn a_repeated_token_returns_the_same_deployment_and_starts_one_process() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let m = marker();
    h.engine
        .add_package(package("app", RestartPolicy::Always, &[("e", sleeper(&m))]))
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        h.engine.deploy(request("app", "r1"), Some("token-1")),
        h.engine.deploy(request("app", "r1"), Some("token-1")),
    );
    let id = a.unwrap();
    assert_eq!(b.unwrap(), id);
    h.engine.wait_for(id, Until::Running, T).await.unwrap();
    let again = h.engine.deploy(request("app", "r1"), Some("token-1")).await;
    assert_eq!(again.unwrap(), id);
    match h.engine.deploy(request("app", "r1"), Some("token-2")).await {
        Err(EngineError::DuplicateName { id: existing, .. }) => assert_eq!(existing, id),
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sleepers(&m, 1).await, 1);
    assert_eq!(
        h.runtimes[0].list(&Default::default()).await.unwrap().len(),
        1
    );
    h.engine.shutdown().await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
}

/// A deprovision that arrives while a start is in flight (before the runtime has answered with
/// the instance) still stops what that start creates: 30 deployments, each deprovisioned
/// after a delay sweeping 0..9 ms across the prepare/start window, leave no process behind.
#[tokio::test]
async fn a_deprovision_during_a_start_leaves_no_process_behind() {
    let h = Harness::new(&["r1"], fast_lifecycle()).await;
    let m = marker();
    h.engine
        .add_package(package("app", RestartPolicy::Always, &[("e", sleeper(&m))]))
        .await
        .unwrap();
    for i in 0..30u64 {
        let mut req = request("app", "r1");
        req.name = format!("app-{i}");
        let id = h.engine.deploy(req, None).await.unwrap();
        tokio::time::sleep(Duration::from_micros(i * 300)).await;
        h.engine.deprovision(id).await.unwrap();
        let s = h.engine.wait_for(id, Until::Stopped, T).await.unwrap();
        assert_eq!(s.phase, Phase::DeploymentStopped, "{s:#?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sleepers(&m, 0).await, 0);
    assert!(
        h.runtimes[0]
            .list(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    h.engine.shutdown().await.unwrap();
}
