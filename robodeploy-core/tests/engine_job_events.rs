//! `EngineEvent::Robot`: the engine publishes every step a job's robot moves through, its
//! success and its failure, with the robot's report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineEvent, JobReport, RobotReport};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::model as kit;
use tokio::sync::broadcast;

const T: Duration = Duration::from_secs(30);

fn package() -> Package {
    Package {
        name: "app".into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: Placement::Device {
                runtime: DeviceRuntime::Preinstalled,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: vec![Executable {
                name: "node".into(),
                image: None,
                command: vec!["/usr/bin/node".into()],
                shell: false,
                working_dir: None,
                env: Default::default(),
                ports: vec![],
                mounts: vec![],
                limits: Default::default(),
            }],
        }],
    }
}

/// Runs a job of the package over `robots` memory robots (one at a time, never halting) with a
/// pre- and post-launch script; `prepare` sets the runtimes up first. Returns the final report
/// and every robot's published reports, in order.
async fn run_job(
    robots: &[&str],
    prepare: impl Fn(&str, &MemoryRuntime),
) -> (JobReport, BTreeMap<String, Vec<RobotReport>>) {
    let engine = Engine::builder().start();
    for name in robots {
        let rt = Arc::new(MemoryRuntime::new(*name));
        prepare(name, &rt);
        engine
            .add_device(
                Device::new(*name, Architecture::Amd64, DeviceRuntime::Preinstalled),
                rt,
            )
            .await
            .unwrap();
    }
    engine.add_package(package()).await.unwrap();
    engine
        .add_fleet(Fleet {
            name: "fleet".into(),
            labels: Default::default(),
            robots: engine.devices().await.unwrap(),
        })
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let job = kit::job(
        "fleet",
        "app",
        Some("/opt/pre.sh".into()),
        Some("/opt/post.sh".into()),
        1,
        100,
    );
    let id = engine.create_job(job, None).await.unwrap();
    let report = engine.wait_for_job(id, T).await.unwrap();
    let mut published: BTreeMap<String, Vec<RobotReport>> = BTreeMap::new();
    // The job's final status is published after the robots' last reports.
    loop {
        match tokio::time::timeout(T, events.recv()).await {
            Ok(Ok(EngineEvent::Robot { job, report })) if job == id => {
                published
                    .entry(report.robot.clone())
                    .or_default()
                    .push(*report);
            }
            Ok(Ok(EngineEvent::Job { job, status })) if job == id && status.is_terminal() => {
                break;
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => panic!("lagged by {n} events"),
            Ok(Err(e)) => panic!("event stream ended: {e}"),
            Err(_) => panic!("no terminal job status within {T:?}"),
        }
    }
    engine.shutdown().await.unwrap();
    (report, published)
}

fn steps(reports: &[RobotReport]) -> Vec<(ProgressStep, RobotStatus)> {
    let mut out: Vec<(ProgressStep, RobotStatus)> = Vec::new();
    for r in reports {
        // Percentages within a step are published too; the sequence of steps is what is asserted.
        if out.last() != Some(&(r.step, r.status)) {
            out.push((r.step, r.status));
        }
    }
    out
}

/// What a robot that goes through every step of the job's pipeline publishes, in order.
const EVERY_STEP: [(ProgressStep, RobotStatus); 6] = [
    (ProgressStep::Validating, RobotStatus::Deploying),
    (ProgressStep::DownloadingExtracting, RobotStatus::Deploying),
    (ProgressStep::ExecutingPreLaunch, RobotStatus::Deploying),
    (ProgressStep::Launching, RobotStatus::Deploying),
    (ProgressStep::ExecutingPostLaunch, RobotStatus::Deploying),
    (ProgressStep::Finished, RobotStatus::InSync),
];

#[tokio::test(start_paused = true)]
async fn every_step_of_every_robot_is_published() {
    let (report, published) = run_job(&["robot-a", "robot-b"], |_, _| {}).await;
    assert_eq!(report.status, JobStatus::Succeeded, "{report:?}");
    for robot in ["robot-a", "robot-b"] {
        let reports = &published[robot];
        assert_eq!(steps(reports), EVERY_STEP, "{robot}: {reports:#?}");
        let last = reports.last().unwrap();
        assert_eq!(last.percent_done, 100);
        assert_eq!(last.failure, None);
        assert!(last.deployment.is_some(), "{last:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_pre_launch_script_is_published_as_pre_launch_file_failure() {
    let (report, published) = run_job(&["robot-a", "robot-b"], |name, rt| {
        if name == "robot-b" {
            rt.set_task_exit("/opt/pre.sh", 3);
        }
    })
    .await;
    use ProgressStep::*;
    use RobotStatus::{Deploying, Failed};
    assert_eq!(steps(&published["robot-a"]), EVERY_STEP);
    let b = &published["robot-b"];
    assert_eq!(
        steps(b),
        vec![
            (Validating, Deploying),
            (DownloadingExtracting, Deploying),
            (ExecutingPreLaunch, Deploying),
            (ExecutingPreLaunch, Failed),
        ],
        "{b:#?}"
    );
    let last = b.last().unwrap();
    assert_eq!(last.failure, Some(FailureCode::PreLaunchFileFailure));
    let detail = last.failure_detail.as_deref().unwrap_or_default();
    assert!(detail.contains("/opt/pre.sh exited with 3"), "{detail}");
    assert_eq!(last.deployment, None, "no deployment was created");
    // The report agrees with what was published.
    let b_report = report.robots.iter().find(|r| r.robot == "robot-b").unwrap();
    assert_eq!(b_report, last);
}
