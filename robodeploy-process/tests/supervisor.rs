//! The root's supervisor: exactly one per root even when runtimes race, gone once idle, and
//! replaced after it dies (with the exits it held reported as lost).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{TempRoot, builder, eventually, next_event, next_exit, spec};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeEventKind};
use robodeploy_process::UNKNOWN_EXIT_CODE;
use robodeploy_process::shim::SHIM_ARG;

/// Pids of the supervisors serving `root`: argv ends with the flag and the root.
fn supervisors(root: &Path) -> Vec<u32> {
    common::processes_with_argv_ending(&[SHIM_ARG, root.to_str().unwrap()])
}

/// The supervisors serving `root` once there are `n` of them (waited for up to 5 s: a
/// supervisor that lost a race to start prints `busy` and exits a moment later); whatever runs
/// at the deadline otherwise.
async fn supervisors_once(root: &Path, n: usize) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = supervisors(root);
        if found.len() == n || tokio::time::Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The session id of a live process (field 6 of its stat).
fn session(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(3)?.parse().ok()
}

fn running_pid(info: &robodeploy_core::runtime::InstanceInfo) -> u32 {
    match info.state {
        InstanceState::Running { pid: Some(pid), .. } => pid,
        ref other => panic!("not running: {other:?}"),
    }
}

/// The supervisor pid recorded in an instance's process.json.
fn recorded_supervisor(root: &Path, name: &str) -> u64 {
    let text = std::fs::read_to_string(root.join("instances").join(name).join("process.json"))
        .expect("process.json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["shimPid"].as_u64().expect("shimPid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runtimes_starting_at_once_on_one_root_share_one_supervisor() {
    let root = TempRoot::new("sup-race");
    let a = Arc::new(builder(&root).kill_on_drop(true).build().unwrap());
    let b = Arc::new(builder(&root).kill_on_drop(true).build().unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = Vec::new();
    for i in 0..20 {
        let rt = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let s = spec("c", &format!("e{i}"), &["sleep", "30"]);
        names.push(s.name.clone());
        tasks.spawn(async move { rt.start(&s).await.unwrap() });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let pids = supervisors_once(root.path(), 1).await;
    assert_eq!(pids.len(), 1, "supervisors: {pids:?}");
    for name in &names {
        assert_eq!(recorded_supervisor(root.path(), name), u64::from(pids[0]));
    }
    // The supervisor has its own session: a signal to the engine's group or a hangup of its
    // terminal does not reach it.
    assert_ne!(session(pids[0]), session(std::process::id()));
    assert_eq!(session(pids[0]), Some(pids[0]));
    // Every instance runs in its own group, not the supervisor's.
    let info = a
        .inspect(&robodeploy_core::runtime::InstanceId(names[0].clone()))
        .await;
    let pid = running_pid(&info.unwrap());
    assert_eq!(common::pgrp(pid), Some(pid));
    assert_ne!(common::pgrp(pids[0]), common::pgrp(std::process::id()));
    // Either runtime removes what the other started; then the supervisor leaves with them.
    for name in &names {
        let id = robodeploy_core::runtime::InstanceId(name.clone());
        a.remove(&id).await.unwrap();
    }
    drop((a, b));
    assert!(
        eventually(Duration::from_secs(5), || supervisors(root.path())
            .is_empty())
        .await
    );
}

#[tokio::test]
async fn the_supervisor_exits_once_nothing_runs_and_no_runtime_is_connected() {
    let root = TempRoot::new("sup-idle");
    let rt = builder(&root).build().unwrap();
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let first = supervisors_once(root.path(), 1).await;
    assert_eq!(first.len(), 1);
    let socket = root.path().join("supervisor.sock");
    assert!(socket.exists());

    // Dropped without killing: the supervisor keeps the instance (and stays).
    drop(rt);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(supervisors(root.path()), first);

    // A new runtime starts another (so it is connected for sure), and stops both: the one it
    // adopted too. The supervisor serves it all along.
    let rt = builder(&root).build().unwrap();
    let mut events = rt.events().await.unwrap();
    let other = rt.start(&spec("c", "f", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &other, Duration::from_secs(5)).await;
    for id in [&id, &other] {
        rt.stop(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(next_exit(&mut events, id).await, (143, false));
        rt.remove(id).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(supervisors(root.path()), first);

    // No instance and no runtime: it leaves, taking its socket with it.
    drop(rt);
    assert!(
        eventually(Duration::from_secs(5), || supervisors(root.path())
            .is_empty())
        .await,
        "still running: {:?}",
        supervisors(root.path())
    );
    assert!(!socket.exists());
}

#[tokio::test]
async fn a_dead_supervisor_loses_its_exits_and_the_next_start_brings_a_new_one() {
    let root = TempRoot::new("sup-dead");
    let rt = builder(&root).kill_on_drop(true).build().unwrap();
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let old = supervisors_once(root.path(), 1).await;
    assert_eq!(old.len(), 1);
    let exe = running_pid(&rt.inspect(&id).await.unwrap());
    let kill = |pid: u32, signal| {
        let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    };
    kill(old[0], rustix::process::Signal::KILL);
    // The executable outlives it, and still counts as running.
    assert!(
        eventually(Duration::from_secs(5), || supervisors(root.path())
            .is_empty())
        .await
    );
    assert_eq!(running_pid(&rt.inspect(&id).await.unwrap()), exe);
    // Its exit has nobody to record it: it is reported as lost.
    kill(exe, rustix::process::Signal::KILL);
    assert_eq!(
        next_exit(&mut events, &id).await,
        (UNKNOWN_EXIT_CODE, false)
    );
    assert!(matches!(
        rt.inspect(&id).await.unwrap().state,
        InstanceState::Exited {
            exit_code: UNKNOWN_EXIT_CODE,
            ..
        }
    ));

    // The socket file the dead one left is stale; the next start replaces both.
    assert!(root.path().join("supervisor.sock").exists());
    let s = spec("c", "again", &["sh", "-c", "echo hi; exit 4"]);
    let again = rt.start(&s).await.unwrap();
    assert_eq!(
        next_event(&mut events, &again, Duration::from_secs(5))
            .await
            .kind,
        RuntimeEventKind::Started
    );
    assert_eq!(next_exit(&mut events, &again).await, (4, false));
    let new = recorded_supervisor(root.path(), &s.name);
    assert_ne!(new, u64::from(old[0]));
    let mut logs = rt.logs(&again, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "hi");
}

#[tokio::test]
async fn a_root_too_deep_for_a_socket_address_still_reaches_its_supervisor() {
    let base = TempRoot::new("sup-deep");
    let deep = base.path().join("d".repeat(60)).join("e".repeat(60));
    assert!(deep.join("supervisor.sock").as_os_str().len() > 108);
    let rt = robodeploy_process::ProcessRuntime::builder(&deep)
        .shim(robodeploy_process::Shim::Program(common::SHIM.into()))
        .kill_on_drop(true)
        .build()
        .unwrap();
    let mut events = rt.events().await.unwrap();
    let id = rt
        .start(&spec("c", "e", &["sh", "-c", "exit 5"]))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut events, &id, Duration::from_secs(5))
            .await
            .kind,
        RuntimeEventKind::Started
    );
    assert_eq!(next_exit(&mut events, &id).await, (5, false));
    drop(rt);
    assert!(eventually(Duration::from_secs(5), || supervisors(&deep).is_empty()).await);
}

#[tokio::test]
async fn a_program_the_supervisor_cannot_exec_is_not_found_and_frees_the_name() {
    let (rt, root) = common::runtime("sup-noexec");
    // Executable, so the runtime resolves it; its interpreter is missing, so exec fails with
    // ENOENT in the supervisor.
    let program = root.path().join("orphan-script");
    std::fs::write(&program, "#!/nonexistent/robodeploy-interpreter\n").unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let s = spec("c", "e", &[program.to_str().unwrap()]);
    rt.prepare(&s).await.unwrap();
    let err = rt.start(&s).await.unwrap_err();
    assert!(
        matches!(&err, robodeploy_core::runtime::RuntimeError::NotFound { what }
            if what == program.to_str().unwrap()),
        "{err:?}"
    );
    let id = robodeploy_core::runtime::InstanceId(s.name.clone());
    assert!(!rt.instance_dir(&id).exists());
    assert!(rt.list(&Default::default()).await.unwrap().is_empty());
    // The supervisor answered and serves on: the next start works.
    let ok = rt.start(&spec("c", "f", &["sh", "-c", "exit 0"])).await;
    assert!(ok.is_ok(), "{ok:?}");
}
