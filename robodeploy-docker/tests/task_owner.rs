//! A task container whose caller was killed is stopped by the next runtime on this machine
//! (issue 14: a job's scripts never outlive their server). The test re-executes itself as the
//! caller: the child runs a long task and is SIGKILLed while it runs; the task container runs
//! on (Docker knows nothing of its caller), until a runtime built afterwards lists its
//! instances, as an engine does on recovery, and kills it; auto-removal then removes it. A task
//! whose caller lives (this test's own, run meanwhile) is left to finish.

use robodeploy_testkit::skip::docker_or_skip;
use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;
use robodeploy_core::runtime::{Runtime, TaskSpec};
use robodeploy_docker::test_image::ensure_image;
use robodeploy_docker::{DockerRuntime, OWNER_LABEL, Placement, TASK_LABEL};

/// Set in the child: the mark its task carries in its environment.
const CHILD_MARK: &str = "ROBODEPLOY_TASK_OWNER_MARK";
const IMAGE_REPO: &str = "robodeploy-test/busybox";
const IMAGE_TAG: &str = "1";
const TEST: &str = "a_task_whose_caller_was_killed_is_stopped_by_the_next_runtime";

fn task(mark: &str, seconds: u32) -> TaskSpec {
    TaskSpec {
        command: vec![format!("sleep {seconds}; echo done")],
        shell: true,
        env: BTreeMap::from([("MARK".to_owned(), mark.to_owned())]),
        working_dir: None,
        image: Some(format!("{IMAGE_REPO}:{IMAGE_TAG}")),
        timeout: Duration::from_secs(600),
    }
}

/// The task containers whose environment holds `MARK=<mark>`: `(state, owner label)`.
async fn tasks_marked(docker: &Docker, mark: &str) -> Vec<(String, Option<String>)> {
    let listed = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![format!("{TASK_LABEL}=true")],
            )])),
            ..Default::default()
        }))
        .await
        .expect("list containers");
    let mut found = Vec::new();
    for c in listed {
        let Some(id) = c.id else { continue };
        let Ok(i) = docker.inspect_container(&id, None).await else {
            continue; // removed meanwhile
        };
        let env = i
            .config
            .as_ref()
            .and_then(|c| c.env.clone())
            .unwrap_or_default();
        if env.contains(&format!("MARK={mark}")) {
            let state = i.state.and_then(|s| s.status).map(|s| s.to_string());
            let owner = c.labels.and_then(|l| l.get(OWNER_LABEL).cloned());
            found.push((state.unwrap_or_default(), owner));
        }
    }
    found
}

async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_caller_was_killed_is_stopped_by_the_next_runtime() {
    let Some(rt) = docker_or_skip(DockerRuntime::local(Placement::Device)) else {
        return;
    };
    let rt = std::sync::Arc::new(rt);
    if let Ok(mark) = std::env::var(CHILD_MARK) {
        // The child: runs the task until it is killed.
        let _ = rt.run_task(&task(&mark, 600)).await;
        unreachable!("the task runs ten minutes; the parent kills this process long before");
    }
    if docker_or_skip(rt.health().await).is_none() {
        return;
    }
    ensure_image(&rt, IMAGE_REPO, IMAGE_TAG)
        .await
        .expect("building the test image");
    let docker = Docker::connect_with_defaults()
        .expect("docker client")
        .negotiate_version()
        .await
        .expect("negotiating with the engine");
    let mark = format!("task-owner-{}", std::process::id());

    let mut child = Command::new(std::env::current_exe().expect("this test's binary"))
        .args(["--exact", TEST, "--nocapture"])
        .env(CHILD_MARK, &mark)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    assert!(
        eventually(Duration::from_secs(60), || async {
            tasks_marked(&docker, &mark)
                .await
                .iter()
                .any(|(s, _)| s == "running")
        })
        .await,
        "the child's task never ran"
    );
    let found = tasks_marked(&docker, &mark).await;
    let owner = found[0]
        .1
        .clone()
        .expect("a task container names its caller");
    assert_eq!(
        owner.split(' ').nth(1),
        Some(child.id().to_string().as_str()),
        "the owner label {owner:?} names the child"
    );
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    // Docker knows nothing of the caller: the task runs on.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        tasks_marked(&docker, &mark).await.len(),
        1,
        "the orphan task still runs before a runtime sweeps"
    );

    // A task of a live caller (this process), running while the sweep happens, finishes.
    let live_mark = format!("{mark}-live");
    let live = {
        let rt = rt.clone();
        let live_mark = live_mark.clone();
        tokio::spawn(async move { rt.run_task(&task(&live_mark, 4)).await })
    };
    assert!(
        eventually(Duration::from_secs(60), || async {
            tasks_marked(&docker, &live_mark)
                .await
                .iter()
                .any(|(s, _)| s == "running")
        })
        .await,
        "the live task never ran"
    );
    let next = DockerRuntime::local(Placement::Device).expect("local Docker client");
    next.list(&BTreeMap::new()).await.expect("listing");
    assert!(
        eventually(Duration::from_secs(30), || async {
            tasks_marked(&docker, &mark).await.is_empty()
        })
        .await,
        "the orphan task was not stopped: {:?}",
        tasks_marked(&docker, &mark).await
    );
    let out = live.await.expect("join").expect("the live task");
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, "done\n"));
}
