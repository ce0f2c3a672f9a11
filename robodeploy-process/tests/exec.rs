//! Commands run to completion: `exec` in an instance's context and `run_task` on the device.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{TempRoot, processes_become, runtime, spec};
use robodeploy_core::runtime::{Runtime, RuntimeError, TaskSpec};

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn task(words: &[&str], timeout: Duration) -> TaskSpec {
    TaskSpec {
        command: argv(words),
        shell: false,
        env: BTreeMap::new(),
        working_dir: None,
        image: None,
        timeout,
    }
}

#[tokio::test]
async fn exec_runs_with_the_instances_environment_and_working_dir() {
    let (rt, _root) = runtime("exec");
    let work = TempRoot::new("workdir");
    std::fs::create_dir_all(work.path()).unwrap();
    let mut s = spec("c", "e", &["sleep", "30"]);
    s.env.insert("ROBOT_ROLE".into(), "mapper".into());
    s.working_dir = Some(work.path().to_str().unwrap().to_owned());
    let id = rt.start(&s).await.unwrap();
    let out = rt
        .exec(
            &id,
            &argv(&[
                "sh",
                "-c",
                "echo \"$ROBOT_ROLE\"; pwd; echo oops >&2; exit 3",
            ]),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stdout, format!("mapper\n{}\n", work.path().display()));
    assert_eq!(out.stderr, "oops\n");
    // The environment is clean: only the kept variables and the spec's.
    assert!(
        std::env::var_os("CARGO_MANIFEST_DIR").is_some(),
        "cargo sets it for tests"
    );
    let env = rt.exec(&id, &argv(&["env"])).await.unwrap().stdout;
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert!(names.contains(&"ROBOT_ROLE") && names.contains(&"PATH"));
    assert!(!names.contains(&"CARGO_MANIFEST_DIR"), "{names:?}");
    let missing = rt
        .exec(&id, &argv(&["robodeploy-no-such-tool"]))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RuntimeError::NotFound { .. }),
        "{missing:?}"
    );
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_task_reports_its_exit_code_and_output() {
    let (rt, _root) = runtime("task");
    let out = rt
        .run_task(&task(
            &["sh", "-c", "echo ready; exit 4"],
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stdout.as_str(), out.stderr.as_str()),
        (4, "ready\n", "")
    );
    let mut shelled = task(
        &["echo", "$GREETING", "&&", "exit", "0"],
        Duration::from_secs(10),
    );
    shelled.shell = true;
    shelled.env.insert("GREETING".into(), "hi".into());
    let out = rt.run_task(&shelled).await.unwrap();
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, "hi\n"));
}

#[tokio::test]
async fn a_task_past_its_timeout_is_killed_with_its_group() {
    let (rt, _root) = runtime("timeout");
    let marker = common::unique().to_string();
    let script = format!("echo started; sleep {marker} & sleep {marker}");
    let began = Instant::now();
    let out = rt
        .run_task(&task(&["sh", "-c", &script], Duration::from_millis(300)))
        .await
        .unwrap();
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(out.exit_code, 137);
    assert_eq!(out.stdout, "started\n");
    assert!(out.stderr.contains("timeout of 300ms"), "{}", out.stderr);
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 0, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_task_that_finishes_takes_its_leftovers_with_it() {
    let (rt, _root) = runtime("leftovers");
    let marker = common::unique().to_string();
    let script = format!("sleep {marker} & echo done");
    let out = rt
        .run_task(&task(&["sh", "-c", &script], Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, "done\n"));
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 0, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn tasks_a_process_runtime_cannot_run_are_typed_errors() {
    let (rt, _root) = runtime("badtask");
    let mut with_image = task(&["true"], Duration::from_secs(1));
    with_image.image = Some("alpine:3".into());
    assert!(matches!(
        rt.run_task(&with_image).await,
        Err(RuntimeError::InvalidSpec { field: "image", .. })
    ));
    let missing = rt
        .run_task(&task(
            &["robodeploy-no-such-script"],
            Duration::from_secs(1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, RuntimeError::NotFound { what } if what == "robodeploy-no-such-script")
    );
    assert!(matches!(
        rt.run_task(&task(&[], Duration::from_secs(1))).await,
        Err(RuntimeError::InvalidSpec {
            field: "command",
            ..
        })
    ));
}

#[tokio::test]
async fn captured_output_is_bounded() {
    let (rt, _root) = runtime("bounded");
    // 2 MiB of output, twice the capture limit.
    let out = rt
        .run_task(&task(
            &["sh", "-c", "head -c 2097152 /dev/zero | tr '\\0' x"],
            Duration::from_secs(30),
        ))
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0);
    let limit = robodeploy_process::CAPTURE_LIMIT;
    assert!(out.stdout.starts_with(&"x".repeat(limit)));
    assert!(out.stdout.ends_with(&format!(
        "[robodeploy: {} more bytes not captured]\n",
        2_097_152 - limit
    )));
}
