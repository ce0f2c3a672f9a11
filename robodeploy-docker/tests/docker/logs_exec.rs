//! Logs (tail, follow, both streams), exec in a running container, one-off tasks.

use std::collections::BTreeMap;
use std::time::Duration;

use robodeploy_core::model::DeploymentId;
use robodeploy_core::runtime::{
    LogLine, LogOptions, LogReceiver, LogStreamKind, Runtime, RuntimeError, TaskSpec,
};
use robodeploy_docker::TASK_LABEL;

use crate::support::{Leftovers, deprovision, docker, image, spec};

async fn collect(mut rx: LogReceiver) -> Vec<LogLine> {
    let mut out = Vec::new();
    while let Some(l) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("log stream stalled")
    {
        out.push(l);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tail_and_follow() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    // The engine copies stdout and stderr separately: their relative order is only as good as
    // the pause between them.
    let script = "echo one; echo two >&2; sleep 0.3; echo three; echo four; sleep 600";
    let id = rt
        .start(&spec(dep, "c", "talker", &["sh", "-c", script]))
        .await
        .unwrap();

    let mut all = Vec::new();
    for _ in 0..100 {
        all = collect(rt.logs(&id, LogOptions::default()).await.unwrap()).await;
        if all.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let of = |kind| {
        all.iter()
            .filter(|l| l.stream == kind)
            .map(|l| l.line.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(LogStreamKind::Stdout), vec!["one", "three", "four"]);
    assert_eq!(of(LogStreamKind::Stderr), vec!["two"]);
    assert_eq!(all.len(), 4);
    assert!(
        all.iter().all(|l| l.at.is_some()),
        "the engine's timestamps: {all:?}"
    );

    let tail = collect(
        rt.logs(
            &id,
            LogOptions {
                tail: Some(2),
                follow: false,
            },
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        tail.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
        vec!["three", "four"]
    );

    // Following: lines written later arrive, and the stream ends when the container stops.
    let mut follow = rt
        .logs(
            &id,
            LogOptions {
                tail: Some(0),
                follow: true,
            },
        )
        .await
        .unwrap();
    let out = rt
        .exec(
            &id,
            &["sh".into(), "-c".into(), "echo five > /proc/1/fd/1".into()],
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0, "{out:?}");
    let five = tokio::time::timeout(Duration::from_secs(10), follow.recv())
        .await
        .expect("followed line")
        .unwrap();
    assert_eq!(
        (five.stream, five.line.as_str()),
        (LogStreamKind::Stdout, "five")
    );
    rt.stop(&id, Duration::from_secs(1)).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), follow.recv())
        .await
        .expect("stream ends");
    assert_eq!(end, None);

    assert!(matches!(
        rt.logs(
            &robodeploy_core::runtime::InstanceId("no-such-container-rd".into()),
            LogOptions::default()
        )
        .await,
        Err(RuntimeError::NoSuchInstance(_))
    ));
    deprovision(&rt, dep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_in_the_running_container() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let mut s = spec(dep, "c", "shell", &["sleep", "600"]);
    s.env.insert("ROBOT".into(), "r2".into());
    let id = rt.start(&s).await.unwrap();
    let out = rt
        .exec(
            &id,
            &[
                "sh".into(),
                "-c".into(),
                "echo $ROBOT; echo oops >&2; exit 4".into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 4);
    assert_eq!(out.stdout, "r2\n");
    assert_eq!(out.stderr, "oops\n");
    let err = rt.exec(&id, &[]).await.expect_err("empty command");
    assert!(matches!(
        err,
        RuntimeError::InvalidSpec {
            field: "command",
            ..
        }
    ));
    deprovision(&rt, dep).await;
    assert!(matches!(
        rt.exec(&id, &["true".into()]).await,
        Err(RuntimeError::NoSuchInstance(_))
    ));
}

async fn task_containers() -> usize {
    docker()
        .await
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some([("label".to_owned(), vec![format!("{TASK_LABEL}=true")])].into()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_to_completion_in_a_one_off_container() {
    let rt = runtime_or_skip!();
    let task = TaskSpec {
        command: vec!["echo $STEP in $(pwd); echo warn >&2; exit 2".into()],
        shell: true,
        env: BTreeMap::from([("STEP".into(), "pre-launch".into())]),
        working_dir: Some("/tmp".into()),
        image: Some(image()),
        timeout: Duration::from_secs(30),
    };
    let out = rt.run_task(&task).await.expect("task");
    assert_eq!(out.exit_code, 2);
    assert_eq!(out.stdout, "pre-launch in /tmp\n");
    assert_eq!(out.stderr, "warn\n");

    // A task that outlives its timeout is killed (SIGKILL: 128 + 9).
    let slow = TaskSpec {
        command: vec!["sleep".into(), "600".into()],
        shell: false,
        timeout: Duration::from_secs(1),
        ..task.clone()
    };
    let out = rt.run_task(&slow).await.expect("killed task");
    assert_eq!(out.exit_code, 137);

    let no_image = TaskSpec {
        image: None,
        ..task
    };
    assert!(matches!(
        rt.run_task(&no_image).await,
        Err(RuntimeError::InvalidSpec { field: "image", .. })
    ));
    // Only this test runs tasks: none is left behind.
    assert_eq!(task_containers().await, 0);
}
