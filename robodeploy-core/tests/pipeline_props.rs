//! The robot pipeline under arbitrary outcomes: it never reports success after a failing step,
//! its steps only move forward, each failure carries the code of the step it happened at, and a
//! dry run with a modelled script failure predicts that script's code.

use proptest::prelude::*;
use robodeploy_core::model::{
    DeploymentConfig, DeploymentJobRequest, DownloadCondition, FailureCode, Fleet, LaunchConfig,
    ProgressStep, Version,
};
use robodeploy_core::rollout::{
    Pipeline, PipelineCommand, PipelinePlan, PipelineReport, ScriptKind, StepOutcome,
};
use robodeploy_core::sim::{FleetModel, SimOptions, Simulation};

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10_000)
            .max(10_000),
        ..ProptestConfig::default()
    }
}

fn plan() -> impl Strategy<Value = PipelinePlan> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(d, l, pre, post)| {
        PipelinePlan {
            download_condition: d,
            content_lock: l,
            pre_launch: pre,
            post_launch: post,
        }
    })
}

fn outcome() -> impl Strategy<Value = StepOutcome> {
    prop_oneof![
        6 => Just(StepOutcome::Done),
        2 => (0u8..=255).prop_map(|percent_done| StepOutcome::Progress { percent_done }),
        1 => Just(StepOutcome::Failed),
        1 => Just(StepOutcome::NoRuntime),
        1 => Just(StepOutcome::LockMismatch),
    ]
}

/// The code a `Failed` outcome must give while `command` is being carried out.
fn code_of(command: PipelineCommand) -> FailureCode {
    match command {
        PipelineCommand::Validate => FailureCode::MissingRobotArchitecture,
        PipelineCommand::CheckContentLock
        | PipelineCommand::RunScript {
            kind: ScriptKind::DownloadCondition,
        } => FailureCode::DownloadConditionFailed,
        PipelineCommand::Download => FailureCode::ExtractingBundleFailure,
        PipelineCommand::RunScript {
            kind: ScriptKind::PreLaunch,
        } => FailureCode::PreLaunchFileFailure,
        PipelineCommand::Deploy => FailureCode::EnvironmentSetupError,
        PipelineCommand::WaitRunning => FailureCode::LaunchFailure,
        PipelineCommand::RunScript {
            kind: ScriptKind::PostLaunch,
        } => FailureCode::PostLaunchFileFailure,
        other => panic!("a command this test does not know: {other:?}"),
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn no_success_after_a_failure_and_steps_only_move_forward(
        plan in plan(),
        outcomes in prop::collection::vec(outcome(), 0..40),
    ) {
        let mut p = Pipeline::new(plan);
        let mut step = p.step();
        prop_assert_eq!(step, ProgressStep::Validating);
        let mut failed = None;
        let mut succeeded = false;
        for outcome in outcomes {
            let before = p;
            let command = p.command();
            match p.handle(outcome) {
                Err(_) => {
                    // Refused: nothing changed, and only an ended pipeline or a lock mismatch
                    // outside the lock check is refused.
                    prop_assert_eq!(p, before);
                    prop_assert!(
                        command.is_none()
                            || (outcome == StepOutcome::LockMismatch
                                && command != Some(PipelineCommand::CheckContentLock))
                    );
                }
                Ok(report) => {
                    prop_assert!(failed.is_none() && !succeeded, "a report after the end");
                    let command = command.expect("an ended pipeline reports nothing");
                    match report {
                        PipelineReport::Succeeded => succeeded = true,
                        PipelineReport::Failed { code } => {
                            let expected = match outcome {
                                StepOutcome::NoRuntime => FailureCode::EnvironmentSetupError,
                                StepOutcome::LockMismatch => FailureCode::EtagMismatch,
                                _ => code_of(command),
                            };
                            prop_assert_eq!(code, expected);
                            failed = Some(code);
                        }
                        PipelineReport::Progress { step: at, percent_done } => {
                            prop_assert!(percent_done <= 100);
                            prop_assert!(at >= step, "{:?} after {:?}", at, step);
                        }
                        _ => prop_assert!(false, "an unknown report {:?}", report),
                    }
                }
            }
            prop_assert!(p.step() >= step, "{:?} after {:?}", p.step(), step);
            step = p.step();
            prop_assert_eq!(p.is_ended(), failed.is_some() || succeeded);
            if failed.is_some() {
                prop_assert!(p.step() < ProgressStep::Finished, "a failed robot is not Finished");
            }
        }
    }
}

/// A job with a pre-launch script that always fails: the dry run predicts PreLaunchFileFailure
/// for every robot; without the script, the same model fails nobody.
#[test]
fn a_dry_run_predicts_the_failure_of_a_script_the_job_has() {
    let job = |pre: Option<&str>| DeploymentJobRequest {
        fleet: "fleet".into(),
        application: "app".into(),
        application_version: Version::new("2"),
        launch_config: LaunchConfig {
            package_name: "app".into(),
            launch_file: "app.launch".into(),
            pre_launch_file: pre.map(Into::into),
            post_launch_file: None,
            environment_variables: Default::default(),
        },
        deployment_config: DeploymentConfig {
            concurrent_deployment_percentage: 50,
            failure_threshold_percentage: 100,
            download_condition: Some(DownloadCondition {
                file: "/opt/dc.sh".into(),
                digest: None,
            }),
            ..DeploymentConfig::default()
        },
        tags: Default::default(),
    };
    let fleet = Fleet {
        name: "fleet".into(),
        labels: Default::default(),
        robots: (0..4)
            .map(|i| {
                robodeploy_core::model::Device::new(
                    format!("robot-{i}"),
                    robodeploy_core::model::Architecture::Amd64,
                    robodeploy_core::model::DeviceRuntime::Preinstalled,
                )
            })
            .collect(),
    };
    let mut model = FleetModel::default();
    model.steps[3].failure_probability = 1.0; // ExecutingPreLaunch
    let run = |job: &DeploymentJobRequest| {
        Simulation::for_fleet(job, &fleet, model.clone(), SimOptions::default())
            .unwrap()
            .run()
            .report
    };
    let with_script = run(&job(Some("/opt/pre.sh")));
    assert_eq!(with_script.counts.failed, 4, "{with_script:?}");
    for r in &with_script.robots {
        assert_eq!(r.step, Some(ProgressStep::ExecutingPreLaunch));
        assert_eq!(
            r.outcome,
            robodeploy_core::rollout::RobotOutcome::Failed {
                code: FailureCode::PreLaunchFileFailure
            }
        );
    }
    let without = run(&job(None));
    assert_eq!(without.counts.in_sync, 4, "{without:?}");
}
