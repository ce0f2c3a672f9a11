//! A robot whose runtime cannot be reached during a job's step (a remote robot's link cut
//! mid-script, or mid-start) is offline, not failed: the job abandons the attempt, defers the
//! robot (it holds no slot), and deploys it once it answers again.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineConfig};
use robodeploy_core::model::{DeviceRuntime, JobId, JobStatus, RestartPolicy, RobotStatus};
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::engine::{add_package_and_fleet, memory_device};
use robodeploy_testkit::model::{device, fake_exe, job, package};

#[tokio::test(start_paused = true)]
async fn a_script_that_cannot_reach_its_robot_defers_the_robot_instead_of_failing_it() {
    // Health checks far apart, so that the step itself is what finds the robot unreachable.
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(Duration::from_secs(3600)))
        .start();
    let rt = Arc::new(MemoryRuntime::new("r1"));
    rt.set_task_time(Duration::from_secs(1));
    engine
        .add_device(device("r1", DeviceRuntime::Preinstalled), rt.clone())
        .await
        .unwrap();
    add_package_and_fleet(
        &engine,
        package("app", "1", RestartPolicy::Always, [fake_exe("node")]),
    )
    .await;
    let id = engine
        .create_job(
            job("fleet", "app", Some("/opt/pre.sh".into()), None, 100, 100),
            None,
        )
        .await
        .unwrap();
    // The pre-launch script is under way when the robot stops answering.
    tokio::time::sleep(Duration::from_millis(500)).await;
    rt.set_reachable(false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = engine.job(id).await.unwrap();
    assert_eq!(
        r.robots[0].status,
        RobotStatus::PendingNewDeployment,
        "{r:#?}"
    );
    assert_eq!(r.robots[0].failure, None, "deferred, not failed: {r:#?}");
    assert!(!r.status.is_terminal(), "{r:#?}");
    answers_again_and_the_job_succeeds(&engine, &rt, id).await;
    assert_eq!(rt.start_count(), 1);
    engine.shutdown().await.unwrap();
}

/// The robot answers again: the next health check brings it back, and the job deploys it.
async fn answers_again_and_the_job_succeeds(engine: &Engine, rt: &MemoryRuntime, id: JobId) {
    rt.set_reachable(true);
    let report = engine
        .wait_for_job(id, Duration::from_secs(7200))
        .await
        .unwrap();
    assert_eq!(report.status, JobStatus::Succeeded, "{report:#?}");
    assert_eq!(report.robots[0].status, RobotStatus::InSync, "{report:#?}");
}

/// A robot that started its executable but whose answer was lost (its link went down
/// mid-call) is offline while its deployment waits: not failed, and deployed once.
#[tokio::test(start_paused = true)]
async fn a_job_robot_whose_start_answer_is_lost_is_deployed_once_not_failed() {
    let engine = Engine::builder().start();
    let rt = memory_device(&engine, "r1").await;
    add_package_and_fleet(
        &engine,
        package("app", "1", RestartPolicy::Always, [fake_exe("node")]),
    )
    .await;
    rt.lose_next_start_answer();
    let id = engine
        .create_job(job("fleet", "app", None, None, 100, 100), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());
    let r = engine.job(id).await.unwrap();
    assert_eq!(r.robots[0].failure, None, "offline, not failed: {r:#?}");
    assert!(!r.status.is_terminal(), "{r:#?}");
    answers_again_and_the_job_succeeds(&engine, &rt, id).await;
    // Nothing runs twice: the deployment of the attempt that lost the answer is stopped.
    assert_eq!(rt.running().len(), 1, "{:?}", rt.running());
    engine.shutdown().await.unwrap();
}
