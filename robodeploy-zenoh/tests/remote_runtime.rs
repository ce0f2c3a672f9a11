//! A `ZenohRuntime` reaches a robot's runtime through its agent: every call, its errors with
//! their codes, the events in order, the logs, and the robot's liveliness.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{agent, eventually, free_port, memory_agent, orchestrator, quick};
use robodeploy_core::model::{DeploymentId, DeviceRuntime};
use robodeploy_core::runtime::{
    InstanceId, InstanceSpec, InstanceState, LogOptions, Runtime, RuntimeError, RuntimeEventKind,
    TaskSpec,
};
use robodeploy_zenoh::{Timeouts, ZenohRuntime};

fn spec(name: &str) -> InstanceSpec {
    let mut s = InstanceSpec::new(DeploymentId::from_u128(7), "main", name, "demo", "1");
    s.command = vec![format!("/usr/bin/{name}")];
    s.env.insert("TOKEN".into(), "secret".into());
    s
}

async fn up(rt: &ZenohRuntime) {
    eventually(Duration::from_secs(10), "the robot is up", || async {
        rt.health().await.is_ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_reaches_the_robots_runtime_and_its_errors_keep_their_kind() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (_agent, _s, local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    up(&remote).await;
    assert_eq!(remote.name(), "zenoh:r1");

    remote.prepare(&spec("node")).await.unwrap();
    let id = remote.start(&spec("node")).await.unwrap();
    assert_eq!(local.running(), vec![id.0.clone()]);
    let info = remote.inspect(&id).await.unwrap();
    assert!(
        matches!(info.state, InstanceState::Running { .. }),
        "{info:?}"
    );
    let listed = remote
        .list(&BTreeMap::from([(
            "io.robodeploy.deployment".to_owned(),
            DeploymentId::from_u128(7).to_string(),
        )]))
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|i| &i.id).collect::<Vec<_>>(), [&id]);
    let out = remote
        .exec(&id, &["echo".into(), "hi".into()])
        .await
        .unwrap();
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, "echo hi"));
    let task = TaskSpec {
        command: vec!["/opt/pre.sh".into()],
        shell: false,
        env: BTreeMap::new(),
        working_dir: None,
        image: None,
        timeout: Duration::from_secs(1),
    };
    assert_eq!(remote.run_task(&task).await.unwrap().exit_code, 0);
    assert_eq!(local.tasks_run(), [vec!["/opt/pre.sh".to_owned()]]);

    // Starting the same instance again is refused, as locally: nothing starts twice.
    assert!(matches!(
        remote.start(&spec("node")).await,
        Err(RuntimeError::AlreadyExists(name)) if name == id.0
    ));
    remote.stop(&id, Duration::from_secs(1)).await.unwrap();
    remote.remove(&id).await.unwrap();
    assert!(local.running().is_empty());
    assert!(matches!(
        remote.inspect(&id).await,
        Err(RuntimeError::NoSuchInstance(i)) if i == id.0
    ));
    local.set_missing("/usr/bin/ghost", true);
    assert!(matches!(
        remote.start(&spec("ghost")).await,
        Err(RuntimeError::NotFound { what }) if what == "/usr/bin/ghost"
    ));
    assert_eq!(local.start_count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtimes_events_arrive_in_order_and_logs_stream_back() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (_agent, _s, local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    up(&remote).await;
    let mut events = remote.events().await.unwrap();
    let a = remote.start(&spec("a")).await.unwrap();
    let b = remote.start(&spec("b")).await.unwrap();
    local.exit(&a.0, 3);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .expect("the stream stays open");
        seen.push((e.instance.0, e.kind));
    }
    assert_eq!(seen[0], (a.0.clone(), RuntimeEventKind::Started));
    assert_eq!(seen[1], (b.0.clone(), RuntimeEventKind::Started));
    assert!(
        matches!(&seen[2], (i, RuntimeEventKind::Exited { exit_code: 3, .. }) if *i == a.0),
        "{:?}",
        seen[2]
    );
    assert!(remote.health().await.is_ok(), "no number was skipped");

    let mut logs = remote.logs(&b, LogOptions::default()).await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(5), logs.recv())
        .await
        .unwrap()
        .expect("one line");
    assert_eq!(line.line, "started /usr/bin/b");
    let end = tokio::time::timeout(Duration::from_secs(5), logs.recv()).await;
    assert!(
        matches!(end, Ok(None)),
        "the stream ends with the output: {end:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_robot_is_unhealthy_once_its_agent_closes_and_reports_its_return_once() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (first, _s, local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    up(&remote).await;
    assert_eq!(o.robots_up(), ["r1"]);
    first.close().await;
    let took = eventually(Duration::from_secs(2), "offline after close", || async {
        remote.health().await.is_err()
    })
    .await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(matches!(
        remote.health().await,
        Err(RuntimeError::Unreachable { message }) if message == "no agent is up for robot r1"
    ));

    let (_again, _s2) = agent(port, "r1", local.clone()).await;
    // The first check after the return says so, so that the engine looks again.
    let returned = loop {
        match remote.health().await {
            Err(RuntimeError::Unreachable { message }) if message.contains("no agent") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => break other,
        }
    };
    assert!(
        matches!(&returned, Err(RuntimeError::Unreachable { message }) if message.contains("came back")),
        "{returned:?}"
    );
    assert!(remote.health().await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_nobody_answers_in_time_is_unreachable_never_a_hang() {
    let port = free_port();
    let timeouts = Timeouts {
        call: Duration::from_millis(500),
        ..quick()
    };
    let o = orchestrator(port, timeouts).await;
    // No agent at all: at once.
    let ghost = o.runtime("ghost", DeviceRuntime::Preinstalled).unwrap();
    let started = tokio::time::Instant::now();
    let e = ghost.inspect(&InstanceId("x".into())).await.unwrap_err();
    assert!(
        matches!(&e, RuntimeError::Unreachable { message } if message.contains("ghost")),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(ghost.health().await.is_err());

    // An agent whose runtime hangs: within the grace period plus the call timeout.
    let (_agent, _s, local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    up(&remote).await;
    let id = remote.start(&spec("node")).await.unwrap();
    local.set_stops_hang(true);
    let started = tokio::time::Instant::now();
    let e = remote
        .stop(&id, Duration::from_millis(200))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&e, RuntimeError::Unreachable { message } if message.contains("did not answer stop")),
        "{e}"
    );
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_of_another_runtime_kind_is_not_used_for_what_it_cannot_do() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (_agent, _s, _local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Docker).unwrap();
    assert!(remote.capabilities().images);
    eventually(Duration::from_secs(10), "the hello is answered", || async {
        matches!(remote.health().await, Err(RuntimeError::Unreachable { message }) if message.contains("not the docker runtime"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_that_speaks_another_protocol_version_is_unreachable_and_says_both() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let session = robodeploy_zenoh::LinkConfig::client([format!("tcp/127.0.0.1:{port}")])
        .open()
        .await
        .unwrap();
    let queryable = session
        .declare_queryable("robodeploy/r2/rt/*")
        .callback(|q| {
            let key = q.key_expr().clone();
            let _ = zenoh::Wait::wait(q.reply(key, r#"{"v":2,"body":{"reply":"hello2"}}"#));
        })
        .await
        .unwrap();
    let _token = session
        .liveliness()
        .declare_token("robodeploy/r2/alive")
        .await
        .unwrap();
    let remote = o.runtime("r2", DeviceRuntime::Preinstalled).unwrap();
    eventually(Duration::from_secs(10), "the version is refused", || async {
        matches!(remote.health().await, Err(RuntimeError::Unreachable { message }) if message == "protocol version 2 is not this build's 1")
    })
    .await;
    let e = remote.inspect(&InstanceId("x".into())).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "runtime unreachable: protocol version 2 is not this build's 1"
    );
    drop(queryable);
}
