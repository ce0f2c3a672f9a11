//! A fresh runtime on the same root finds what an earlier one started; runtimes on different
//! roots (devices) do not see each other.

mod common;

use std::time::Duration;

use common::{TempRoot, builder, eventually, next_event, next_exit, spec};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeEventKind};

#[tokio::test]
async fn a_fresh_runtime_lists_stops_and_hears_the_exits_of_adopted_instances() {
    let root = TempRoot::new("adopt");
    let first = builder(&root).build().unwrap();
    let long = spec("nav", "planner", &["sleep", "30"]);
    let short = spec("nav", "mapper", &["sh", "-c", "sleep 0.5; exit 9"]);
    let long_id = first.start(&long).await.unwrap();
    let short_id = first.start(&short).await.unwrap();
    let InstanceState::Running {
        pid: Some(pid),
        started_at,
    } = first.inspect(&long_id).await.unwrap().state
    else {
        panic!("not running");
    };
    drop(first);

    let second = builder(&root).kill_on_drop(true).build().unwrap();
    let mut events = second.events().await.unwrap();
    let listed = second.list(&Default::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    let adopted = listed.iter().find(|i| i.name == long.name).unwrap();
    assert_eq!(adopted.labels, long.labels);
    assert_eq!(
        adopted.state,
        InstanceState::Running {
            started_at,
            pid: Some(pid)
        }
    );
    // The short one exits on its own; the new runtime reports it with its code.
    assert_eq!(next_exit(&mut events, &short_id).await, (9, false));
    second.stop(&long_id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(next_exit(&mut events, &long_id).await, (143, false));
    assert!(matches!(
        second.inspect(&long_id).await.unwrap().state,
        InstanceState::Exited { exit_code: 143, .. }
    ));
    assert!(matches!(
        second.start(&long).await,
        Err(robodeploy_core::runtime::RuntimeError::AlreadyExists(_))
    ));
}

#[tokio::test]
async fn an_exit_while_no_runtime_exists_is_kept_by_the_shim() {
    let root = TempRoot::new("noruntime");
    let first = builder(&root).build().unwrap();
    let s = spec(
        "c",
        "e",
        &["sh", "-c", "echo before; sleep 0.3; echo after; exit 6"],
    );
    let id = first.start(&s).await.unwrap();
    drop(first);
    let dir = root.path().join("instances").join(&s.name);
    assert!(eventually(Duration::from_secs(5), || dir.join("exit.json").exists()).await);
    let second = builder(&root).build().unwrap();
    assert!(matches!(
        second.inspect(&id).await.unwrap().state,
        InstanceState::Exited {
            exit_code: 6,
            finished_at: Some(_),
            stopped_manually: false,
        }
    ));
    let mut logs = second.logs(&id, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "before");
    assert_eq!(logs.recv().await.unwrap().line, "after");
    second.remove(&id).await.unwrap();
    assert!(!dir.exists());
}

#[tokio::test]
async fn runtimes_on_different_roots_are_separate_devices() {
    let (root_a, root_b) = (TempRoot::new("deva"), TempRoot::new("devb"));
    let a = builder(&root_a).kill_on_drop(true).build().unwrap();
    let b = builder(&root_b).kill_on_drop(true).build().unwrap();
    let mut events_b = b.events().await.unwrap();
    // The same deployment's executable on two robots: same name, no conflict.
    let s = spec("c", "e", &["sleep", "30"]);
    let on_a = a.start(&s).await.unwrap();
    let on_b = b.start(&s).await.unwrap();
    assert_eq!(on_a, on_b);
    assert_eq!(
        next_event(&mut events_b, &on_b, Duration::from_secs(5))
            .await
            .kind,
        RuntimeEventKind::Started
    );
    let pid = |info: robodeploy_core::runtime::InstanceInfo| match info.state {
        InstanceState::Running { pid, .. } => pid,
        other => panic!("{other:?}"),
    };
    let (pid_a, pid_b) = (
        pid(a.inspect(&on_a).await.unwrap()),
        pid(b.inspect(&on_b).await.unwrap()),
    );
    assert_ne!(pid_a, pid_b);
    a.stop(&on_a, Duration::from_secs(5)).await.unwrap();
    a.remove(&on_a).await.unwrap();
    assert!(a.list(&Default::default()).await.unwrap().is_empty());
    assert_eq!(b.list(&Default::default()).await.unwrap().len(), 1);
    assert_eq!(pid(b.inspect(&on_b).await.unwrap()), pid_b);
    // Nothing of robot A's stop reached robot B's subscribers.
    let quiet = tokio::time::timeout(Duration::from_millis(300), events_b.recv()).await;
    assert!(quiet.is_err(), "unexpected event on B: {quiet:?}");
}
