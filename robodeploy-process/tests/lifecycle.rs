//! Starting instances and seeing them end: exit codes, events, inspect, remove, typed failures.

mod common;

use std::time::Duration;

use common::{next_event, next_exit, runtime, spec};
use robodeploy_core::model::ErrorCode;
use robodeploy_core::runtime::{
    InstanceId, InstanceState, Runtime, RuntimeError, RuntimeEventKind,
};

#[tokio::test]
async fn exit_codes_reach_every_subscriber_after_started() {
    let (rt, _root) = runtime("codes");
    let mut first = rt.events().await.unwrap();
    let mut second = rt.events().await.unwrap();
    let cases: [(&[&str], i32); 4] = [
        (&["true"], 0),
        (&["false"], 1),
        (&["sh", "-c", "exit 42"], 42),
        (&["sh", "-c", "kill -9 $$"], 137),
    ];
    for (argv, expected) in cases {
        let s = spec("c", "e", argv);
        let id = rt.start(&s).await.unwrap();
        assert_eq!(id.0, s.name);
        for rx in [&mut first, &mut second] {
            let started = next_event(rx, &id, Duration::from_secs(5)).await;
            assert_eq!(started.kind, RuntimeEventKind::Started, "{argv:?}");
            assert_eq!(next_exit(rx, &id).await, (expected, false), "{argv:?}");
        }
        match rt.inspect(&id).await.unwrap().state {
            InstanceState::Exited {
                exit_code,
                finished_at,
                stopped_manually: false,
            } => {
                assert_eq!(exit_code, expected);
                assert!(finished_at.is_some());
            }
            other => panic!("{argv:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_running_instance_inspects_as_running_with_its_labels_and_pid() {
    let (rt, _root) = runtime("inspect");
    let s = spec("nav", "planner", &["sleep", "30"]);
    let id = rt.start(&s).await.unwrap();
    let info = rt.inspect(&id).await.unwrap();
    assert_eq!(info.name, s.name);
    assert_eq!(info.labels, s.labels);
    assert_eq!(info.restart_count, 0);
    let InstanceState::Running { pid: Some(pid), .. } = info.state else {
        panic!("{:?}", info.state);
    };
    // The executable leads its own process group.
    assert_eq!(common::pgrp(pid), Some(pid));
    assert_ne!(common::pgrp(pid), common::pgrp(std::process::id()));
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_missing_binary_is_not_found_e161_and_not_retried() {
    let (rt, root) = runtime("missing");
    let s = spec("c", "e", &["robodeploy-no-such-binary-anywhere", "--flag"]);
    for err in [
        rt.prepare(&s).await.unwrap_err(),
        rt.start(&s).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, RuntimeError::NotFound { what } if what == "robodeploy-no-such-binary-anywhere"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(err.error_code(false, false), ErrorCode::DeviceImageNotFound);
    }
    // Nothing was left behind under the name.
    assert!(rt.list(&Default::default()).await.unwrap().is_empty());
    assert!(!rt.instance_dir(&InstanceId(s.name.clone())).exists());
    drop(root);
}

#[tokio::test]
async fn specs_a_process_cannot_run_are_invalid() {
    let (rt, _root) = runtime("invalid");
    let mut with_image = spec("c", "e", &["true"]);
    with_image.image = Some("busybox:1".into());
    let mut with_volume = spec("c", "e", &["true"]);
    with_volume.mounts.push(robodeploy_core::model::Mount {
        source: "maps".into(),
        target: "/maps".into(),
        read_only: true,
    });
    let mut bad_name = spec("c", "e", &["true"]);
    bad_name.name = "../escape".into();
    for (s, field) in [
        (with_image, "image"),
        (with_volume, "mounts"),
        (bad_name, "name"),
    ] {
        let err = rt.start(&s).await.unwrap_err();
        assert!(
            matches!(&err, RuntimeError::InvalidSpec { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
        assert_eq!(err.error_code(false, false), ErrorCode::Validation);
    }
    assert!(rt.list(&Default::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn starting_an_existing_name_is_refused_until_it_is_removed() {
    let (rt, _root) = runtime("exists");
    let mut events = rt.events().await.unwrap();
    let s = spec("c", "e", &["sleep", "30"]);
    let id = rt.start(&s).await.unwrap();
    assert!(matches!(rt.start(&s).await, Err(RuntimeError::AlreadyExists(n)) if n == s.name));
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    // Exited but not removed: still refused, nothing is started twice.
    assert!(matches!(
        rt.start(&s).await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    rt.remove(&id).await.unwrap();
    assert!(!rt.instance_dir(&id).exists());
    assert!(matches!(
        rt.inspect(&id).await,
        Err(RuntimeError::NoSuchInstance(_))
    ));
    let kinds: Vec<_> = [
        next_event(&mut events, &id, Duration::from_secs(5))
            .await
            .kind,
        next_event(&mut events, &id, Duration::from_secs(5))
            .await
            .kind,
        next_event(&mut events, &id, Duration::from_secs(5))
            .await
            .kind,
    ]
    .into();
    assert_eq!(kinds[0], RuntimeEventKind::Started);
    assert!(matches!(
        kinds[1],
        RuntimeEventKind::Exited {
            exit_code: 143,
            stopped_manually: false,
            ..
        }
    ));
    assert_eq!(kinds[2], RuntimeEventKind::Removed);
    let again = rt.start(&s).await.unwrap();
    assert_eq!(again, id);
    rt.remove(&again).await.unwrap();
}

#[tokio::test]
async fn unknown_instances_are_no_such_instance() {
    let (rt, _root) = runtime("unknown");
    for name in ["rd-nothing-here", "../../etc", ""] {
        common::assert_no_such_instance(&rt, &InstanceId(name.into())).await;
    }
}

#[tokio::test]
async fn list_filters_by_label_selector() {
    let (rt, _root) = runtime("list");
    let a = spec("alpha", "e", &["sleep", "30"]);
    let b = spec("beta", "e", &["sleep", "30"]);
    rt.start(&a).await.unwrap();
    rt.start(&b).await.unwrap();
    let all = rt.list(&Default::default()).await.unwrap();
    let mut expected = vec![a.name.clone(), b.name.clone()];
    expected.sort();
    assert_eq!(
        all.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
        expected
    );
    let selector = [(
        robodeploy_core::runtime::labels::COMPONENT.to_owned(),
        "beta".to_owned(),
    )]
    .into();
    let only_b = rt.list(&selector).await.unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0].name, b.name);
    let none = [("io.robodeploy.component".to_owned(), "gamma".to_owned())].into();
    assert!(rt.list(&none).await.unwrap().is_empty());
}

#[tokio::test]
async fn health_and_capabilities() {
    let (rt, root) = runtime("health");
    rt.health().await.unwrap();
    let caps = rt.capabilities();
    assert!(!caps.enforces_restart_policy && caps.survives_engine_restart);
    assert!(caps.exec && !caps.images);
    assert_eq!(rt.name(), format!("process:{}", root.path().display()));
    // A root that vanished is unreachable (E151).
    std::fs::remove_dir_all(root.path()).unwrap();
    let err = rt.health().await.unwrap_err();
    assert!(matches!(err, RuntimeError::Unreachable { .. }), "{err:?}");
    assert_eq!(err.error_code(false, false), ErrorCode::DeviceOffline);
}

#[tokio::test]
async fn shell_specs_run_through_sh_and_plain_argv_does_not() {
    let (rt, _root) = runtime("shell");
    let mut events = rt.events().await.unwrap();
    let mut shelled = spec("c", "shelled", &["exit", "5"]);
    shelled.shell = true;
    let id = rt.start(&shelled).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    assert_eq!(next_exit(&mut events, &id).await.0, 5);
    // Without a shell, `$HOME` and `;` reach echo untouched.
    let plain = spec("c", "plain", &["echo", "$HOME;", "x"]);
    let id = rt.start(&plain).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    assert_eq!(next_exit(&mut events, &id).await.0, 0);
    let mut logs = rt.logs(&id, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "$HOME; x");
}
