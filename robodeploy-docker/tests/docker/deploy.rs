//! Deploying several executables, adopting them from a fresh runtime, deprovisioning.

use std::time::Duration;

use futures_util::future::join_all;
use robodeploy_core::model::{DeploymentId, ErrorCode};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError, labels};
use robodeploy_docker::{DockerRuntime, Placement};

use crate::support::{Leftovers, by_deployment, deprovision, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_executable_deployment_reaches_running_and_deprovisions_cleanly() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let mut web = spec(
        dep,
        "ui",
        "web",
        &["sh", "-c", "echo \"$GREETING from $(pwd)\"; sleep 600"],
    );
    web.env.insert("GREETING".into(), "hello".into());
    web.working_dir = Some("/tmp".into());
    let specs = [
        spec(dep, "ros", "talker", &["sleep", "600"]),
        spec(dep, "ros", "listener", &["/bin/sleep", "600"]),
        web,
    ];

    for r in join_all(specs.iter().map(|s| rt.prepare(s))).await {
        r.expect("prepare");
    }
    let ids: Vec<_> = join_all(specs.iter().map(|s| rt.start(s)))
        .await
        .into_iter()
        .map(|r| r.expect("start"))
        .collect();

    for (s, id) in specs.iter().zip(&ids) {
        let info = rt.inspect(id).await.expect("inspect");
        assert!(
            matches!(info.state, InstanceState::Running { pid: Some(_), .. }),
            "{info:?}"
        );
        assert_eq!(info.name, s.name);
        assert_eq!(info.labels, s.labels);
        assert_eq!(info.restart_count, 0);
    }
    // Env, working dir and args reached the process.
    let out = rt
        .exec(
            &ids[2],
            &["sh".into(), "-c".into(), "echo $GREETING; pwd".into()],
        )
        .await
        .expect("exec");
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, "hello\n/tmp\n"));

    let listed = rt.list(&by_deployment(dep)).await.expect("list");
    let mut names: Vec<_> = listed.iter().map(|i| i.name.clone()).collect();
    names.sort();
    let mut expected: Vec<_> = specs.iter().map(|s| s.name.clone()).collect();
    expected.sort();
    assert_eq!(names, expected);

    deprovision(&rt, dep).await;
    assert!(rt.list(&by_deployment(dep)).await.unwrap().is_empty());
    for id in &ids {
        assert!(matches!(
            rt.inspect(id).await,
            Err(RuntimeError::NoSuchInstance(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_runtime_finds_every_container_by_its_labels() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let specs = [
        spec(dep, "nav", "planner", &["sleep", "600"]),
        spec(dep, "nav", "mapper", &["sleep", "600"]),
    ];
    let mut ids = Vec::new();
    for s in &specs {
        ids.push(rt.start(s).await.expect("start"));
    }
    drop(rt);

    // As after an orchestrator restart: a new runtime, nothing remembered but the labels.
    let fresh = DockerRuntime::local(Placement::Device).unwrap();
    let found = fresh.list(&by_deployment(dep)).await.expect("list");
    let mut found_ids: Vec<_> = found.iter().map(|i| i.id.clone()).collect();
    found_ids.sort();
    ids.sort();
    assert_eq!(found_ids, ids);
    for info in &found {
        assert_eq!(info.labels[labels::DEPLOYMENT], dep.to_string());
        assert_eq!(info.labels[labels::COMPONENT], "nav");
        assert_eq!(info.labels[labels::PACKAGE], "robodeploy-test");
        assert_eq!(info.labels[labels::VERSION], "1");
        assert_eq!(info.labels[labels::MANAGED], "true");
        assert!(specs.iter().any(|s| s.name == info.name
            && s.labels[labels::EXECUTABLE] == info.labels[labels::EXECUTABLE]));
    }
    // The managed selector alone finds them too (among others').
    let all = fresh.list(&Default::default()).await.expect("list all");
    assert!(ids.iter().all(|id| all.iter().any(|i| &i.id == id)));

    deprovision(&fresh, dep).await;
    assert!(fresh.list(&by_deployment(dep)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_started_twice() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let s = spec(dep, "c", "e", &["sleep", "600"]);
    rt.start(&s).await.expect("first start");
    match rt.start(&s).await {
        Err(RuntimeError::AlreadyExists(name)) => assert_eq!(name, s.name),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(rt.list(&by_deployment(dep)).await.unwrap().len(), 1);
    deprovision(&rt, dep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_missing_from_path_is_not_found_and_leaves_no_container() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let s = spec(dep, "c", "ghost", &["no-such-program", "--flag"]);
    rt.prepare(&s).await.expect("the image is there");
    let err = rt.start(&s).await.expect_err("cannot start");
    assert!(
        matches!(&err, RuntimeError::NotFound { what } if what.contains("no-such-program")),
        "{err:?}"
    );
    assert_eq!(err.error_code(false, true), ErrorCode::DeviceImageNotFound);
    assert!(rt.list(&by_deployment(dep)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_running_container_is_reported_not_hidden() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let id = rt
        .start(&spec(dep, "c", "e", &["sleep", "600"]))
        .await
        .unwrap();
    let err = rt
        .remove(&id)
        .await
        .expect_err("a running container is not removed");
    match &err {
        RuntimeError::Internal { message, .. } => {
            assert!(message.contains("running container"), "{message}")
        }
        other => panic!("expected the engine's refusal, got {other:?}"),
    }
    assert!(matches!(
        rt.inspect(&id).await.unwrap().state,
        InstanceState::Running { .. }
    ));
    rt.stop(&id, Duration::from_secs(1)).await.unwrap();
    rt.remove(&id).await.unwrap();
    assert!(matches!(
        rt.remove(&id).await,
        Err(RuntimeError::NoSuchInstance(_))
    ));
}
