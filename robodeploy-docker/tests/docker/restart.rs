//! Restart policies enforced by the engine, counted by it, observed through events.

use std::time::Duration;

use bollard::query_parameters::StopContainerOptions;
use robodeploy_core::model::{DeploymentId, RestartPolicy};
use robodeploy_core::runtime::{InstanceSpec, InstanceState, Runtime, RuntimeEventKind};

use crate::support::{Leftovers, deprovision, docker, events_within, spec, wait_event};

const WAIT: Duration = Duration::from_secs(20);

fn exited_with(code: i32) -> impl Fn(&RuntimeEventKind) -> bool {
    move |k| matches!(k, RuntimeEventKind::Exited { exit_code, oom_killed: false, stopped_manually: false } if *exit_code == code)
}

/// Executable c/`name` of deployment `dep`: exits with `exit_code` after `seconds`, under
/// `policy`.
fn exiting(
    dep: DeploymentId,
    name: &str,
    seconds: f32,
    exit_code: i32,
    policy: RestartPolicy,
) -> InstanceSpec {
    let script = format!("sleep {seconds}; exit {exit_code}");
    let mut s = spec(dep, "c", name, &["sh", "-c", &script]);
    s.restart_policy = policy;
    s
}

/// The restart numbers reported in `kinds`, in order.
fn restart_numbers(kinds: &[RuntimeEventKind]) -> Vec<u32> {
    kinds
        .iter()
        .filter_map(|k| match k {
            RuntimeEventKind::Restarted { restart_count } => Some(*restart_count),
            _ => None,
        })
        .collect()
}

/// The engine restarts the executable at least twice; every restart is reported once, with
/// the engine's count in order, and inspect reads the last reported count back.
async fn restarts_twice(policy: RestartPolicy, exit_code: i32) {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let s = exiting(dep, "crashy", 3.0, exit_code, policy);
    let mut events = rt.events().await.expect("events");
    let mut second = rt.events().await.expect("a second subscriber");
    let id = rt.start(&s).await.expect("start");

    wait_event(&mut events, &id, WAIT, |k| *k == RuntimeEventKind::Started).await;
    for count in 1..=2u32 {
        wait_event(&mut events, &id, WAIT, exited_with(exit_code)).await;
        let restarted = wait_event(&mut events, &id, WAIT, |k| {
            matches!(k, RuntimeEventKind::Restarted { .. })
        })
        .await;
        assert_eq!(
            restarted.kind,
            RuntimeEventKind::Restarted {
                restart_count: count
            }
        );
        wait_event(&mut events, &id, WAIT, |k| *k == RuntimeEventKind::Started).await;
    }
    // Stopped by robodeploy: not manual. On a busy machine the events above arrive late, and
    // the engine may have restarted it again meanwhile: those restarts are reported too.
    rt.stop(&id, Duration::from_secs(1)).await.expect("stop");
    let info = rt.inspect(&id).await.expect("inspect");
    assert!(
        matches!(info.state, InstanceState::Exited { .. }),
        "{info:?}"
    );
    let total = info.restart_count;
    assert!(total >= 2, "the engine's RestartCount: {total}");
    // The rest of the story: the later restarts, each once and in order, then the stop.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut tail = Vec::new();
    loop {
        let done = restart_numbers(&tail).last().copied().unwrap_or(2) == total
            && matches!(tail.last(), Some(RuntimeEventKind::Exited { .. }));
        if done {
            break;
        }
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("the story after the stop did not end: {tail:?}"))
            .expect("event stream closed");
        if event.instance == id {
            tail.push(event.kind);
        }
    }
    assert_eq!(
        restart_numbers(&tail),
        (3..=total).collect::<Vec<_>>(),
        "{tail:?}"
    );
    assert!(
        matches!(
            tail.last(),
            Some(RuntimeEventKind::Exited {
                stopped_manually: false,
                ..
            })
        ),
        "{tail:?}"
    );

    // The second subscriber saw the same story.
    let seen = events_within(&mut second, &id, Duration::from_millis(200)).await;
    assert_eq!(
        restart_numbers(&seen),
        (1..=total).collect::<Vec<_>>(),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|k| **k == RuntimeEventKind::Started)
            .count(),
        total as usize + 1,
        "{seen:?}"
    );
    deprovision(&rt, dep).await;
}

/// The engine leaves the executable exited.
async fn stays_down(policy: RestartPolicy, exit_code: i32) {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let s = exiting(dep, "once", 0.3, exit_code, policy);
    let mut events = rt.events().await.expect("events");
    let id = rt.start(&s).await.expect("start");
    wait_event(&mut events, &id, WAIT, exited_with(exit_code)).await;
    // Docker's first restart would come 100 ms after the exit; give it far longer.
    let after = events_within(&mut events, &id, Duration::from_secs(2)).await;
    assert!(after.is_empty(), "no restart expected, saw {after:?}");
    let info = rt.inspect(&id).await.unwrap();
    assert_eq!(info.restart_count, 0);
    assert!(
        matches!(info.state, InstanceState::Exited { exit_code: c, finished_at: Some(_), .. } if c == exit_code),
        "{info:?}"
    );
    deprovision(&rt, dep).await;
}

/// Always restarts a clean exit and a crash, OnFailure a crash only, Never nothing: each
/// policy against each kind of exit, in containers of their own, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_policy_against_each_kind_of_exit() {
    tokio::join!(
        restarts_twice(RestartPolicy::Always, 0),
        restarts_twice(RestartPolicy::Always, 7),
        restarts_twice(RestartPolicy::OnFailure, 3),
        stays_down(RestartPolicy::OnFailure, 0),
        stays_down(RestartPolicy::Never, 3),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_stopped_by_hand_is_not_restarted() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let mut s = spec(dep, "c", "server", &["sleep", "600"]);
    s.restart_policy = RestartPolicy::Always;
    let mut events = rt.events().await.expect("events");
    let id = rt.start(&s).await.expect("start");
    wait_event(&mut events, &id, WAIT, |k| *k == RuntimeEventKind::Started).await;

    // `docker stop` by an operator, not through robodeploy.
    docker()
        .await
        .stop_container(
            &id.0,
            Some(StopContainerOptions {
                t: Some(1),
                signal: None,
            }),
        )
        .await
        .expect("docker stop");
    let stop = wait_event(&mut events, &id, WAIT, |k| {
        matches!(k, RuntimeEventKind::Exited { .. })
    })
    .await;
    assert!(
        matches!(
            stop.kind,
            RuntimeEventKind::Exited {
                stopped_manually: true,
                oom_killed: false,
                ..
            }
        ),
        "{stop:?}"
    );
    let after = events_within(&mut events, &id, Duration::from_secs(2)).await;
    assert!(after.is_empty(), "not restarted, saw {after:?}");
    let info = rt.inspect(&id).await.unwrap();
    assert_eq!(info.restart_count, 0);
    assert!(
        matches!(info.state, InstanceState::Exited { .. }),
        "{info:?}"
    );
    deprovision(&rt, dep).await;
}

/// `docker stop` by hand while no engine runs: the next engine finds the container exited under
/// its `always` policy (Docker keeps it exited only after a manual stop), reports the
/// executable stopped manually, and does not start it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_stop_while_no_engine_ran_is_not_undone_by_the_next() {
    use std::sync::Arc;

    use robodeploy_core::engine::{Engine, Until};
    use robodeploy_core::model::{DeviceRuntime, ExecutableStatus, Reason, StatusKind};
    use robodeploy_core::store::MemoryStore;
    use robodeploy_testkit::model as kit;

    let rt = runtime_or_skip!();
    let store = Arc::new(MemoryStore::new());
    // Each engine gets a runtime of its own, as a restarted program would: nothing the first
    // saw reaches the second but what Docker itself says.
    let start = || async {
        let engine = Engine::builder().store(store.clone()).try_start().unwrap();
        let own = robodeploy_docker::DockerRuntime::local(robodeploy_docker::Placement::Device)
            .expect("local Docker client");
        engine
            .add_device(
                kit::device("dock-manual", DeviceRuntime::Docker),
                Arc::new(own),
            )
            .await
            .unwrap();
        engine
    };
    let engine = start().await;
    let mut exe = kit::exe("main", ["sleep", "600"]);
    exe.image = Some(crate::support::image());
    let package = kit::package_on("manual", "1", kit::DOCKER, RestartPolicy::Always, [exe]);
    engine.add_package(package).await.unwrap();
    let id = engine
        .deploy(kit::request("manual", "manual", "1", "dock-manual"), None)
        .await
        .unwrap();
    let s = engine.wait_for(id, Until::Running, WAIT).await.unwrap();
    let container = s.executables[0].instance.clone().unwrap();
    engine.detach().await.unwrap();

    docker()
        .await
        .stop_container(
            &container,
            Some(StopContainerOptions {
                t: Some(1),
                ..Default::default()
            }),
        )
        .await
        .expect("docker stop");

    let engine = start().await;
    let s = engine
        .wait_for(id, Until::Status(StatusKind::Error), WAIT)
        .await
        .unwrap();
    assert_eq!(
        s.executables[0].status,
        ExecutableStatus::Error {
            reason: Reason::StoppedManually
        },
        "{s:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let info = rt
        .inspect(&robodeploy_core::runtime::InstanceId(container.clone()))
        .await;
    assert!(
        matches!(
            info.as_ref().map(|i| &i.state),
            Ok(InstanceState::Exited {
                stopped_manually: true,
                ..
            })
        ),
        "{info:?}"
    );
    assert_eq!(engine.status(id).await.unwrap().restart_count, 0);
    engine.shutdown().await.unwrap();
}
