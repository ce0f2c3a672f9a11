//! Deployment jobs over fleets of process robots (one process runtime each): real pre- and
//! post-launch scripts, the launcher template running the application, and a job halted by
//! its failure threshold.

mod common;
mod engine_common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use engine_common::{Harness, T, fast_lifecycle, marker, package, sleepers};
use robodeploy_core::engine::{EngineConfig, Launcher};
use robodeploy_core::model::*;
use robodeploy_core::runtime::Runtime;

/// Writes an executable shell script.
fn script(path: &Path, body: &str) -> String {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn robots(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("robot-{i:02}")).collect()
}

async fn harness(n: usize, config: EngineConfig) -> Harness {
    let names = robots(n);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let h = Harness::with_config(&refs, config).await;
    h.engine
        .add_fleet(Fleet {
            name: "fleet".into(),
            labels: Default::default(),
            robots: h.engine.devices().await.unwrap(),
        })
        .await
        .unwrap();
    h
}

fn job(
    launch_file: &str,
    pre: Option<String>,
    post: Option<String>,
    concurrent: u8,
    threshold: u8,
) -> DeploymentJobRequest {
    DeploymentJobRequest {
        fleet: "fleet".into(),
        application: "app".into(),
        application_version: Version::new("1"),
        launch_config: LaunchConfig {
            package_name: "app".into(),
            launch_file: launch_file.into(),
            pre_launch_file: pre,
            post_launch_file: post,
            environment_variables: [("SITE".to_owned(), "lab".to_owned())].into(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: concurrent,
            failure_threshold_percentage: threshold,
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    }
}

/// Ten robots: each runs its pre-launch script, the application through the launcher template
/// (`{package}` and `{launch_file}` substituted), and its post-launch script, with the job's
/// environment; every robot ends InSync with exactly one application process.
#[tokio::test]
async fn a_job_rolls_out_to_ten_process_robots_with_scripts() {
    let m = marker();
    let notes: PathBuf = std::env::temp_dir().join(format!("robodeploy-engine-jobs-{m}"));
    std::fs::create_dir_all(&notes).unwrap();
    // The application writes a note, then becomes `sleep <launch_file>` (counted by argv).
    let launcher = Launcher {
        template: vec![
            "sh".into(),
            "-c".into(),
            "echo \"launched {package} $SITE\" >> \"$0/$ROBODEPLOY_ROBOT\"; exec sleep {launch_file}"
                .into(),
            notes.display().to_string(),
        ],
    };
    let config = EngineConfig::default()
        .with_lifecycle(fast_lifecycle())
        .with_launcher(launcher);
    let h = harness(10, config).await;
    let pre = script(
        &h.file("pre"),
        &format!(
            "echo \"pre $SITE\" >> \"{}/$ROBODEPLOY_ROBOT\"",
            notes.display()
        ),
    );
    let post = script(
        &h.file("post"),
        &format!(
            "echo \"post $SITE\" >> \"{}/$ROBODEPLOY_ROBOT\"",
            notes.display()
        ),
    );
    // An executable whose command is `{launch}` runs the launch command.
    h.engine
        .add_package(package(
            "app",
            RestartPolicy::Always,
            &[("node", vec![Launcher::LAUNCH.into()])],
        ))
        .await
        .unwrap();
    let id = h
        .engine
        .create_job(job(&m, Some(pre), Some(post), 30, 50), None)
        .await
        .unwrap();
    let report = h.engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:#?}");
    assert_eq!(report.in_flight_limit, 3);
    assert_eq!(report.count(RobotStatus::InSync), 10);
    assert!(
        report
            .robots
            .iter()
            .all(|r| r.failure.is_none() && r.deployment.is_some())
    );
    assert_eq!(sleepers(&m, 10).await, 10);
    for robot in robots(10) {
        robodeploy_testkit::engine::assert_scripts_noted(&notes, &robot);
    }
    let devices = h.engine.devices().await.unwrap();
    assert!(
        devices
            .iter()
            .all(|d| d.installed.get("app") == Some(&Version::new("1")))
    );
    h.engine.shutdown().await.unwrap();
    assert_eq!(sleepers(&m, 0).await, 0);
    let _ = std::fs::remove_dir_all(notes);
}

/// Twenty robots whose pre-launch script exits 1: with 10 % concurrency (2 at once) and a 10 %
/// threshold (2 failures), the job fails FailureThresholdBreached after at most threshold plus
/// the robots in flight, each failed robot with PreLaunchFileFailure and the script's output;
/// no application was ever started.
#[tokio::test]
async fn failing_pre_launch_scripts_breach_the_threshold() {
    let config = EngineConfig::default().with_lifecycle(fast_lifecycle());
    let h = harness(20, config).await;
    let pre = script(&h.file("pre"), "echo 'battery low' >&2; exit 1");
    let m = marker();
    h.engine
        .add_package(package(
            "app",
            RestartPolicy::Always,
            &[("node", engine_common::sleeper(&m))],
        ))
        .await
        .unwrap();
    let id = h
        .engine
        .create_job(job("app.launch", Some(pre), None, 10, 10), None)
        .await
        .unwrap();
    let report = h.engine.wait_for_job(id, T).await.unwrap();
    assert_eq!(report.status, JobStatus::Failed, "{report:#?}");
    assert_eq!(report.failure, Some(FailureCode::FailureThresholdBreached));
    assert_eq!((report.in_flight_limit, report.failure_threshold), (2, 2));
    let failed: Vec<_> = report
        .robots
        .iter()
        .filter(|r| r.status == RobotStatus::Failed)
        .collect();
    assert!((2..=4).contains(&failed.len()), "{report:#?}");
    for r in &failed {
        assert_eq!(r.failure, Some(FailureCode::PreLaunchFileFailure));
        let detail = r.failure_detail.as_deref().unwrap_or_default();
        assert!(detail.contains("exited with 1: battery low"), "{detail}");
        assert_eq!(r.deployment, None);
    }
    assert_eq!(report.count(RobotStatus::InSync), 0);
    // Settle: nothing launches after the halt.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sleepers(&m, 0).await, 0);
    for rt in &h.runtimes {
        assert!(rt.list(&Default::default()).await.unwrap().is_empty());
    }
    h.engine.shutdown().await.unwrap();
}
