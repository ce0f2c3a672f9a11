//! Scenarios by value: the seed's examples, each failure code, timeouts, offline robots, cancel,
//! waves, rollback, expiry.

use std::time::Duration;

use robodeploy_core::model::{
    Architecture, DeploymentConfig, DeploymentJobRequest, Device, DeviceRuntime, FailureCode,
    Fleet, JobStatus, ProgressStep, RobotStatus, Version, Wave, WaveSize,
};
use robodeploy_core::rollout::{
    Command, HaltReason, Input, JobList, RobotIndex, RobotInit, RobotOutcome, RollbackOutcome,
    Rollout, RolloutError, RolloutEvent, RolloutPhase, WaveState,
};
use robodeploy_core::time::Time;

const MIN: i64 = 60_000;

fn t(ms: i64) -> Time {
    Time::from_millis(ms)
}

use robodeploy_testkit::model::rollout_config as config;

fn started(config: &DeploymentConfig, robots: usize) -> Rollout {
    started_with(
        config,
        vec![
            RobotInit {
                online: true,
                previous_version: None
            };
            robots
        ],
    )
}

fn started_with(config: &DeploymentConfig, robots: Vec<RobotInit<'_>>) -> Rollout {
    let mut job = Rollout::new(config, robots, t(0)).unwrap();
    job.handle(Input::Start, t(0)).unwrap();
    assert_eq!(job.status(), JobStatus::Preparing);
    assert_eq!(job.poll_command(), Some(Command::Prepare));
    job.handle(Input::Prepared, t(0)).unwrap();
    assert_eq!(job.status(), JobStatus::InProgress);
    job
}

fn commands(job: &mut Rollout) -> Vec<Command> {
    std::iter::from_fn(|| job.poll_command()).collect()
}

fn events(job: &mut Rollout) -> Vec<RolloutEvent> {
    std::iter::from_fn(|| job.poll_event()).collect()
}

/// Robot `robot` of `job` reports success at `at`.
fn succeed(job: &mut Rollout, robot: u32, at: Time) {
    job.handle(
        Input::RobotSucceeded {
            robot: RobotIndex(robot),
        },
        at,
    )
    .unwrap();
}

fn deploys(cmds: &[Command]) -> Vec<u32> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::DeployRobot { robot } => Some(robot.0),
            _ => None,
        })
        .collect()
}

#[test]
fn two_hundred_robots_at_ten_percent_deploy_twenty_at_once() {
    let mut job = started(&config(10, 5), 200);
    assert_eq!(job.in_flight_limit(), 20);
    assert_eq!(job.failure_threshold(), 10);
    assert_eq!(deploys(&commands(&mut job)), (0..20).collect::<Vec<_>>());
    let mut next = 20;
    for r in 0..200u32 {
        succeed(&mut job, r, t(i64::from(r) + 1));
        let started = deploys(&commands(&mut job));
        if next < 200 {
            assert_eq!(started, vec![next], "one slot freed, one robot started");
            next += 1;
        } else {
            assert!(started.is_empty());
        }
        assert!(job.in_flight() <= 20);
    }
    assert_eq!(job.status(), JobStatus::Succeeded);
    let report = job.report();
    assert_eq!(report.robots.len(), 200);
    assert!(
        report
            .robots
            .iter()
            .all(|r| r.outcome == RobotOutcome::InSync
                && r.status == RobotStatus::InSync
                && r.step == Some(ProgressStep::Finished))
    );
    assert_eq!(report.ended_at, Some(t(200)));
}

#[test]
fn a_threshold_below_the_concurrency_is_exceeded_by_up_to_the_concurrency() {
    // The seed's warning: 100 robots, 20 % at once, halt at 5 %.
    let mut job = started(&config(20, 5), 100);
    assert_eq!((job.in_flight_limit(), job.failure_threshold()), (20, 5));
    assert_eq!(deploys(&commands(&mut job)).len(), 20);
    // Failures below the threshold free their slot for the next robot.
    for r in 0..4u32 {
        job.handle(
            Input::RobotFailed {
                robot: RobotIndex(r),
                code: FailureCode::PreLaunchFileFailure,
            },
            t(1_000),
        )
        .unwrap();
        assert_eq!(deploys(&commands(&mut job)), vec![20 + r]);
    }
    // The fifth reaches 5 %: the job halts in that very call, 19 robots still in flight.
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(4),
            code: FailureCode::PreLaunchFileFailure,
        },
        t(2_000),
    )
    .unwrap();
    assert!(commands(&mut job).is_empty());
    assert_eq!(
        job.halt_reason(),
        Some(HaltReason::FailureThresholdBreached)
    );
    assert_eq!(job.phase(), RolloutPhase::Draining);
    assert_eq!(job.in_flight(), 19);
    assert!(events(&mut job).contains(&RolloutEvent::Halted {
        reason: HaltReason::FailureThresholdBreached,
        code: FailureCode::FailureThresholdBreached,
        skipped: 76,
    }));
    // They all fail too: 5 + 19 = threshold + limit - 1, the most the seed's warning allows.
    for r in (5..24u32).rev() {
        job.handle(
            Input::RobotFailed {
                robot: RobotIndex(r),
                code: FailureCode::PostLaunchFileFailure,
            },
            t(3_000),
        )
        .unwrap();
        assert!(
            deploys(&commands(&mut job)).is_empty(),
            "robot {r}: nothing starts"
        );
    }
    assert_eq!(job.status(), JobStatus::Failed);
    assert_eq!(
        job.failure_code(),
        Some(FailureCode::FailureThresholdBreached)
    );
    let report = job.report();
    assert_eq!(report.counts.failed, 24);
    assert_eq!(report.counts.not_deployed, 76);
    assert_eq!(
        report.robots[50].outcome,
        RobotOutcome::NotDeployed {
            code: FailureCode::FailureThresholdBreached
        }
    );
    assert_eq!(report.robots[50].status, RobotStatus::Available);
}

#[test]
fn each_failure_code_is_reported_with_its_step() {
    use FailureCode::*;
    use ProgressStep::*;
    let cases = [
        (MissingRobotArchitecture, Validating),
        (DownloadConditionFailed, ExecutingDownloadCondition),
        (EtagMismatch, ExecutingDownloadCondition),
        (ExtractingBundleFailure, DownloadingExtracting),
        (EnvironmentSetupError, DownloadingExtracting),
        (PreLaunchFileFailure, ExecutingPreLaunch),
        (LaunchFailure, Launching),
        (PostLaunchFileFailure, ExecutingPostLaunch),
        (InternalServerError, Launching),
    ];
    for (code, step) in cases {
        let mut job = started(&config(100, 100), 2);
        job.handle(
            Input::RobotProgress {
                robot: RobotIndex(0),
                step,
                percent_done: 40,
            },
            t(10),
        )
        .unwrap();
        job.handle(
            Input::RobotFailed {
                robot: RobotIndex(0),
                code,
            },
            t(20),
        )
        .unwrap();
        succeed(&mut job, 1, t(30));
        assert_eq!(
            job.status(),
            JobStatus::Succeeded,
            "{code}: below the threshold"
        );
        let robot = job.robot_report(RobotIndex(0)).unwrap();
        assert_eq!(robot.outcome, RobotOutcome::Failed { code }, "{code}");
        assert_eq!(
            (robot.status, robot.step),
            (RobotStatus::Failed, Some(step)),
            "{code}"
        );
        assert_eq!(robot.ended_at, Some(t(20)));
        assert_eq!(job.report().robots[1].outcome, RobotOutcome::InSync);
    }
}

#[test]
fn a_robot_times_out_exactly_at_its_deadline() {
    let mut job = started(&config(50, 100), 2);
    assert_eq!(deploys(&commands(&mut job)), vec![0]);
    assert_eq!(job.poll_timeout(), Some(t(10 * MIN)));
    job.handle(Input::Timeout, t(10 * MIN - 1)).unwrap();
    assert_eq!(
        job.in_flight(),
        1,
        "a spurious early wake-up changes nothing"
    );
    // A success reported at the deadline is too late; the timer fires first.
    succeed(&mut job, 0, t(10 * MIN));
    assert_eq!(
        commands(&mut job),
        vec![
            Command::AbortRobot {
                robot: RobotIndex(0)
            },
            Command::DeployRobot {
                robot: RobotIndex(1)
            }
        ]
    );
    assert!(events(&mut job).contains(&RolloutEvent::RobotTimedOut {
        robot: RobotIndex(0)
    }));
    let robot = job.robot_report(RobotIndex(0)).unwrap();
    assert_eq!(
        robot.outcome,
        RobotOutcome::Failed {
            code: FailureCode::RobotDeploymentTimeout
        }
    );
    assert_eq!(robot.ended_at, Some(t(10 * MIN)));
    // Woken late, the second robot still times out at its own deadline.
    job.handle(Input::Timeout, t(25 * MIN)).unwrap();
    assert_eq!(
        job.robot_report(RobotIndex(1)).unwrap().ended_at,
        Some(t(20 * MIN))
    );
    // Two of two robots failed: 100 % of the fleet, the threshold.
    assert_eq!(job.status(), JobStatus::Failed);
    assert_eq!(
        job.failure_code(),
        Some(FailureCode::FailureThresholdBreached)
    );
}

#[test]
fn offline_robots_never_hold_a_slot_and_fail_only_after_their_deadline() {
    let mut c = config(50, 100);
    c.offline_deadline = Some(Duration::from_secs(3600));
    let robots = Vec::from([false, true, false, true].map(|online| RobotInit {
        online,
        previous_version: None,
    }));
    let mut job = started_with(&c, robots);
    assert_eq!(job.in_flight_limit(), 2);
    assert_eq!(
        deploys(&commands(&mut job)),
        vec![1, 3],
        "offline 0 and 2 are skipped"
    );
    assert_eq!(job.counts().deferred, 2);
    assert_eq!(
        job.robot_status(RobotIndex(0)).unwrap(),
        RobotStatus::PendingNewDeployment
    );
    // Robot 3 drops in flight: its slot is freed, its attempt abandoned.
    job.handle(
        Input::RobotOffline {
            robot: RobotIndex(3),
        },
        t(MIN),
    )
    .unwrap();
    assert_eq!(job.in_flight(), 1);
    assert!(
        commands(&mut job).is_empty(),
        "no online robot to take the slot"
    );
    // Robot 0 comes back and takes the free slot.
    job.handle(
        Input::RobotOnline {
            robot: RobotIndex(0),
        },
        t(2 * MIN),
    )
    .unwrap();
    assert_eq!(deploys(&commands(&mut job)), vec![0]);
    succeed(&mut job, 0, t(3 * MIN));
    succeed(&mut job, 1, t(3 * MIN));
    // Robot 2 never returns: NoResponse exactly one hour after its deferral at 0.
    assert_eq!(job.poll_timeout(), Some(t(60 * MIN)));
    job.handle(Input::Timeout, t(60 * MIN)).unwrap();
    assert_eq!(
        job.robot_status(RobotIndex(2)).unwrap(),
        RobotStatus::NoResponse
    );
    assert_eq!(
        job.robot_report(RobotIndex(2)).unwrap().ended_at,
        Some(t(60 * MIN))
    );
    // Robot 3 returns within its deadline and is deployed again from Validating.
    job.handle(
        Input::RobotOnline {
            robot: RobotIndex(3),
        },
        t(61 * MIN - 1),
    )
    .unwrap();
    assert_eq!(deploys(&commands(&mut job)), vec![3]);
    succeed(&mut job, 3, t(62 * MIN));
    assert_eq!(job.status(), JobStatus::Succeeded);
    let report = job.report();
    assert_eq!(report.robots[3].attempts, 2);
    assert_eq!(
        report.robots[2].outcome,
        RobotOutcome::Failed {
            code: FailureCode::RobotDeploymentNoResponse
        }
    );
}

#[test]
fn cancel_aborts_robots_in_flight_and_starts_no_more() {
    let mut job = started(&config(10, 100), 50);
    assert_eq!(deploys(&commands(&mut job)).len(), 5);
    succeed(&mut job, 0, t(MIN));
    assert_eq!(deploys(&commands(&mut job)), vec![5]);
    job.handle(Input::Cancel, t(2 * MIN)).unwrap();
    let aborted: Vec<_> = commands(&mut job)
        .into_iter()
        .map(|c| match c {
            Command::AbortRobot { robot } => robot.0,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(aborted, vec![1, 2, 3, 4, 5]);
    assert_eq!(job.status(), JobStatus::Canceled);
    assert_eq!(job.failure_code(), None);
    let report = job.report();
    assert_eq!(report.robots[0].outcome, RobotOutcome::InSync);
    assert_eq!(
        report.robots[3].outcome,
        RobotOutcome::Failed {
            code: FailureCode::RobotDeploymentAborted
        }
    );
    assert_eq!(
        report.robots[30].outcome,
        RobotOutcome::NotDeployed {
            code: FailureCode::RobotDeploymentAborted
        }
    );
    // Late reports of aborted robots are ignored.
    succeed(&mut job, 3, t(3 * MIN));
    assert_eq!(
        job.robot_status(RobotIndex(3)).unwrap(),
        RobotStatus::Failed
    );
}

#[test]
fn waves_run_one_after_another_with_soak_and_manual_resume() {
    let mut c = config(50, 100);
    c.waves = vec![
        Wave {
            size: WaveSize::Robots(1),
            soak: Some(Duration::from_secs(600)),
            manual_resume: false,
        },
        Wave {
            size: WaveSize::Percent(30),
            soak: None,
            manual_resume: true,
        },
    ];
    let mut job = started(&c, 10);
    let waves: Vec<_> = job
        .waves()
        .iter()
        .map(|w| (w.plan.start, w.plan.end))
        .collect();
    assert_eq!(waves, vec![(0, 1), (1, 4), (4, 10)]);
    let states = |job: &Rollout| (0..4).map(|w| job.wave_state(w)).collect::<Vec<_>>();
    use WaveState::*;
    assert_eq!(states(&job), [Deploying, Waiting, Waiting, Skipped]);
    assert_eq!(deploys(&commands(&mut job)), vec![0], "the canary alone");
    succeed(&mut job, 0, t(MIN));
    assert_eq!(job.phase(), RolloutPhase::BetweenWaves);
    assert_eq!(states(&job), [Soaking, Waiting, Waiting, Skipped]);
    assert_eq!(job.soak_until(), Some(t(11 * MIN)));
    assert_eq!(job.poll_timeout(), Some(t(11 * MIN)));
    job.handle(Input::Timeout, t(11 * MIN - 1)).unwrap();
    assert!(commands(&mut job).is_empty(), "soaking");
    job.handle(Input::Timeout, t(11 * MIN)).unwrap();
    assert_eq!(states(&job), [Completed, Deploying, Waiting, Skipped]);
    assert_eq!(job.soak_until(), None);
    assert_eq!(deploys(&commands(&mut job)), vec![1, 2, 3]);
    for r in 1..4 {
        succeed(&mut job, r, t(12 * MIN));
    }
    assert_eq!(job.phase(), RolloutPhase::BetweenWaves);
    assert_eq!(states(&job), [Completed, AwaitingResume, Waiting, Skipped]);
    assert_eq!(job.poll_timeout(), None, "waiting for a resume");
    job.handle(Input::Resume, t(20 * MIN)).unwrap();
    assert_eq!(states(&job), [Completed, Completed, Deploying, Skipped]);
    assert_eq!(deploys(&commands(&mut job)), vec![4, 5, 6, 7, 8]);
    assert_eq!(job.current_wave(), 2);
}

#[test]
fn a_failing_canary_halts_the_job() {
    let mut c = config(10, 5);
    c.waves = vec![Wave::new(WaveSize::Robots(1))];
    let mut job = started(&c, 200);
    assert_eq!(deploys(&commands(&mut job)), vec![0]);
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(0),
            code: FailureCode::LaunchFailure,
        },
        t(MIN),
    )
    .unwrap();
    assert_eq!(job.status(), JobStatus::Failed);
    assert!(commands(&mut job).is_empty());
    assert_eq!(job.report().counts.not_deployed, 199);
    assert_eq!(
        [job.wave_state(0), job.wave_state(1)],
        [WaveState::Halted, WaveState::Skipped],
        "the canary's wave halted, the rest never started"
    );
}

fn rollback_fleet() -> (Vec<Version>, DeploymentConfig) {
    let mut c = config(50, 40);
    c.auto_rollback = true;
    (vec![Version::new("1.0"), Version::new("1.1")], c)
}

#[test]
fn a_threshold_breach_rolls_updated_robots_back_to_their_previous_version() {
    let (versions, c) = rollback_fleet();
    let robots = (0..6)
        .map(|i| RobotInit {
            online: true,
            previous_version: (i != 5).then(|| &versions[i % 2]),
        })
        .collect();
    let mut job = started_with(&c, robots);
    assert_eq!((job.in_flight_limit(), job.failure_threshold()), (3, 3));
    assert_eq!(deploys(&commands(&mut job)), vec![0, 1, 2]);
    succeed(&mut job, 0, t(MIN));
    job.handle(
        Input::RobotProgress {
            robot: RobotIndex(1),
            step: ProgressStep::ExecutingPostLaunch,
            percent_done: 0,
        },
        t(MIN),
    )
    .unwrap();
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(1),
            code: FailureCode::PostLaunchFileFailure,
        },
        t(2 * MIN),
    )
    .unwrap();
    assert_eq!(deploys(&commands(&mut job)), vec![3, 4]);
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(3),
            code: FailureCode::DownloadConditionFailed,
        },
        t(3 * MIN),
    )
    .unwrap();
    assert_eq!(deploys(&commands(&mut job)), vec![5]);
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(4),
            code: FailureCode::EtagMismatch,
        },
        t(3 * MIN),
    )
    .unwrap();
    assert_eq!(
        job.halt_reason(),
        Some(HaltReason::FailureThresholdBreached)
    );
    succeed(&mut job, 5, t(4 * MIN));
    assert!(commands(&mut job).is_empty(), "robot 2 is still in flight");
    succeed(&mut job, 2, t(4 * MIN));
    // In sync robots 0, 2 and 5, and robot 1 that failed after launching, go back, three at a
    // time; 3 and 4 failed before anything changed.
    assert_eq!(
        commands(&mut job),
        [0, 1, 2]
            .map(|r| Command::RollbackRobot {
                robot: RobotIndex(r)
            })
            .to_vec()
    );
    assert_eq!(job.phase(), RolloutPhase::RollingBack);
    assert_eq!(
        job.previous_version(RobotIndex(1)).unwrap(),
        Some(&versions[1])
    );
    assert_eq!(job.previous_version(RobotIndex(5)).unwrap(), None);
    succeed(&mut job, 0, t(5 * MIN));
    assert_eq!(
        commands(&mut job),
        vec![Command::RollbackRobot {
            robot: RobotIndex(5)
        }]
    );
    for r in [1, 5] {
        succeed(&mut job, r, t(5 * MIN));
    }
    job.handle(
        Input::RobotFailed {
            robot: RobotIndex(2),
            code: FailureCode::EnvironmentSetupError,
        },
        t(5 * MIN),
    )
    .unwrap();
    assert_eq!(job.status(), JobStatus::Failed);
    let report = job.report();
    let rollback = report.rollback.unwrap();
    assert_eq!(
        (rollback.reason, rollback.robots),
        (HaltReason::FailureThresholdBreached, 4)
    );
    assert_eq!(report.robots[0].rollback, Some(RollbackOutcome::RolledBack));
    assert_eq!(report.robots[0].outcome, RobotOutcome::InSync);
    assert_eq!(report.robots[0].status, RobotStatus::Available);
    assert_eq!(
        report.robots[2].rollback,
        Some(RollbackOutcome::Failed {
            code: FailureCode::EnvironmentSetupError
        })
    );
    assert_eq!(report.robots[3].rollback, None);
}

/// What a job of four robots, two at a time, commands when it stops after robot 0 succeeded
/// and robot 2 took its slot: the two in flight (1 and 2) aborted, robot 0 rolled back.
fn stopped_after_robot_0() -> Vec<Command> {
    let robot = RobotIndex;
    vec![
        Command::AbortRobot { robot: robot(1) },
        Command::AbortRobot { robot: robot(2) },
        Command::RollbackRobot { robot: robot(0) },
    ]
}

#[test]
fn a_cancel_rolls_back_too_and_a_rollback_cannot_be_canceled() {
    let (versions, c) = rollback_fleet();
    let robots = vec![
        RobotInit {
            online: true,
            previous_version: Some(&versions[0])
        };
        4
    ];
    let mut job = started_with(&c, robots);
    assert_eq!(deploys(&commands(&mut job)), vec![0, 1]);
    succeed(&mut job, 0, t(MIN));
    assert_eq!(deploys(&commands(&mut job)), vec![2]);
    job.handle(Input::Cancel, t(2 * MIN)).unwrap();
    assert_eq!(commands(&mut job), stopped_after_robot_0());
    job.handle(Input::Cancel, t(2 * MIN)).unwrap();
    assert_eq!(job.phase(), RolloutPhase::RollingBack);
    succeed(&mut job, 0, t(3 * MIN));
    assert_eq!(job.status(), JobStatus::Canceled);
    assert_eq!(job.rollback().unwrap().reason, HaltReason::Canceled);
}

#[test]
fn a_rollback_asked_for_returns_robots_of_a_running_or_ended_job_without_auto_rollback() {
    let versions = [Version::new("1.0")];
    let c = config(50, 100);
    assert!(!c.auto_rollback);
    let robots = || {
        vec![
            RobotInit {
                online: true,
                previous_version: Some(&versions[0])
            };
            4
        ]
    };

    // A running job: it stops as on cancel, then its updated robot goes back.
    let mut job = started_with(&c, robots());
    assert_eq!(deploys(&commands(&mut job)), vec![0, 1]);
    succeed(&mut job, 0, t(MIN));
    assert_eq!(deploys(&commands(&mut job)), vec![2]);
    assert!(!job.rollback_requested());
    job.handle(Input::Rollback, t(2 * MIN)).unwrap();
    assert!(job.rollback_requested());
    assert_eq!(commands(&mut job), stopped_after_robot_0());
    assert_eq!(job.phase(), RolloutPhase::RollingBack);
    assert_eq!(job.status(), JobStatus::InProgress);
    succeed(&mut job, 0, t(3 * MIN));
    assert_eq!(job.status(), JobStatus::Canceled);
    let rollback = *job.rollback().unwrap();
    assert_eq!(
        (rollback.reason, rollback.robots, rollback.ended_at),
        (HaltReason::RollbackRequested, 1, Some(t(3 * MIN)))
    );
    // Once rolled back, a second request changes nothing.
    job.handle(Input::Rollback, t(4 * MIN)).unwrap();
    assert!(commands(&mut job).is_empty());
    assert_eq!(job.status(), JobStatus::Canceled);

    // A job that succeeded: it is in progress again while every robot goes back, two at a
    // time, then ends Canceled.
    let mut job = started_with(&c, robots());
    for (r, at) in [(0, 1), (1, 1), (2, 2), (3, 2)] {
        commands(&mut job);
        succeed(&mut job, r, t(at * MIN));
    }
    assert_eq!(job.status(), JobStatus::Succeeded);
    events(&mut job);
    job.handle(Input::Rollback, t(10 * MIN)).unwrap();
    assert_eq!(job.status(), JobStatus::InProgress);
    assert_eq!(
        commands(&mut job),
        [0, 1]
            .map(|r| Command::RollbackRobot {
                robot: RobotIndex(r)
            })
            .to_vec()
    );
    let seen = events(&mut job);
    assert!(
        seen.contains(&RolloutEvent::RollbackStarted {
            reason: HaltReason::RollbackRequested,
            robots: 4
        }),
        "{seen:?}"
    );
    for r in 0..4 {
        succeed(&mut job, r, t(11 * MIN));
    }
    assert_eq!(job.status(), JobStatus::Canceled);
    let report = job.report();
    assert_eq!(report.counts.rolled_back, 4);
    assert!(
        report
            .robots
            .iter()
            .all(|r| r.rollback == Some(RollbackOutcome::RolledBack))
    );

    // A job that failed before changing anything has nothing to roll back: ignored.
    let mut job = started_with(&c, robots());
    job.handle(Input::Cancel, t(MIN)).unwrap();
    assert_eq!(job.status(), JobStatus::Canceled);
    commands(&mut job);
    job.handle(Input::Rollback, t(2 * MIN)).unwrap();
    assert!(commands(&mut job).is_empty());
    assert_eq!(
        (job.status(), job.rollback_requested()),
        (JobStatus::Canceled, false)
    );
}

#[test]
fn a_failed_preparation_fails_the_job_and_deploys_nothing() {
    let mut job = Rollout::new(
        &config(10, 10),
        vec![
            RobotInit {
                online: true,
                previous_version: None
            };
            3
        ],
        t(0),
    )
    .unwrap();
    job.handle(Input::Start, t(0)).unwrap();
    let _ = commands(&mut job);
    job.handle(
        Input::PrepareFailed {
            code: FailureCode::MissingRobotArchitecture,
        },
        t(5),
    )
    .unwrap();
    assert_eq!(job.status(), JobStatus::Failed);
    assert_eq!(
        job.failure_code(),
        Some(FailureCode::MissingRobotArchitecture)
    );
    assert!(commands(&mut job).is_empty());
    assert_eq!(
        job.report().robots[2].outcome,
        RobotOutcome::NotDeployed {
            code: FailureCode::MissingRobotArchitecture
        }
    );
}

#[test]
fn progress_gives_percent_done_and_etas() {
    let mut job = started(&config(50, 100), 4);
    let _ = commands(&mut job);
    succeed(&mut job, 0, t(100_000));
    job.handle(
        Input::RobotProgress {
            robot: RobotIndex(1),
            step: ProgressStep::DownloadingExtracting,
            percent_done: 0,
        },
        t(100_000),
    )
    .unwrap();
    job.handle(
        Input::RobotProgress {
            robot: RobotIndex(1),
            step: ProgressStep::DownloadingExtracting,
            percent_done: 25,
        },
        t(110_000),
    )
    .unwrap();
    let p = job.robot_progress(RobotIndex(1)).unwrap();
    assert_eq!(
        (p.status, p.step, p.percent_done),
        (
            RobotStatus::Deploying,
            Some(ProgressStep::DownloadingExtracting),
            25
        )
    );
    assert_eq!(p.step_eta, Some(t(140_000)), "25 % in 10 s: 30 s to go");
    assert_eq!(
        p.eta,
        Some(t(110_000)),
        "robot 0 took 100 s; robot 1 started at 0, so it is late: now"
    );
    // A step going backwards is ignored.
    job.handle(
        Input::RobotProgress {
            robot: RobotIndex(1),
            step: ProgressStep::Validating,
            percent_done: 90,
        },
        t(111_000),
    )
    .unwrap();
    assert_eq!(job.robot_progress(RobotIndex(1)).unwrap().percent_done, 25);
}

#[test]
fn time_going_backwards_is_clamped() {
    let mut job = started(&config(50, 100), 2);
    let _ = commands(&mut job);
    succeed(&mut job, 0, t(5 * MIN));
    succeed(&mut job, 1, t(MIN));
    assert_eq!(job.now(), t(5 * MIN));
    assert_eq!(
        job.robot_report(RobotIndex(1)).unwrap().ended_at,
        Some(t(5 * MIN))
    );
}

#[test]
fn the_fleet_state_gives_online_flags_and_rollback_versions() {
    let mut robots: Vec<Device> = (0..3)
        .map(|i| {
            Device::new(
                format!("r{i}"),
                Architecture::Amd64,
                DeviceRuntime::Preinstalled,
            )
        })
        .collect();
    robots[1].online = false;
    robots[2].installed.insert("app".into(), Version::new("3"));
    let fleet = Fleet {
        name: "f".into(),
        labels: Default::default(),
        robots,
    };
    let job: DeploymentJobRequest = serde_saphyr::from_str(
        "fleet: f\napplication: app\napplicationVersion: \"4\"\nlaunchConfig: {packageName: p, launchFile: l}\ndeploymentConfig: {concurrentDeploymentPercentage: 100, failureThresholdPercentage: 100}\n",
    )
    .unwrap();
    let mut rollout = Rollout::for_fleet(&job, &fleet, t(0)).unwrap();
    assert_eq!(
        rollout.previous_version(RobotIndex(2)).unwrap(),
        Some(&Version::new("3"))
    );
    assert_eq!(rollout.previous_version(RobotIndex(0)).unwrap(), None);
    rollout.handle(Input::Start, t(0)).unwrap();
    rollout.handle(Input::Prepared, t(0)).unwrap();
    let cmds = commands(&mut rollout);
    assert_eq!(deploys(&cmds), vec![0, 2]);
    assert_eq!(
        rollout.robot_status(RobotIndex(3)),
        Err(RolloutError::UnknownRobot {
            index: 3,
            fleet_size: 3
        })
    );
    assert_eq!(
        rollout
            .handle(
                Input::RobotSucceeded {
                    robot: RobotIndex(9)
                },
                t(1)
            )
            .unwrap_err()
            .to_string(),
        "robot index 9 is out of range: the fleet has 3 robots"
    );
}

#[test]
fn jobs_expire_after_ninety_days_or_their_retention() {
    let robots = || {
        vec![RobotInit {
            online: true,
            previous_version: None,
        }]
    };
    let day = 24 * 3600 * 1000;
    let mut jobs = JobList::new();
    let a = robodeploy_core::model::JobId::from_u128(1);
    let b = robodeploy_core::model::JobId::from_u128(2);
    jobs.insert(a, Rollout::new(&config(10, 10), robots(), t(0)).unwrap());
    jobs.insert(
        b,
        Rollout::new(&config(10, 10), robots(), t(0))
            .unwrap()
            .with_retention(Duration::from_secs(7 * 24 * 3600)),
    );
    assert_eq!(jobs.get(a, t(0)).unwrap().expires_at(), t(90 * day));
    assert_eq!(jobs.poll_timeout(), Some(t(7 * day)));
    assert_eq!(
        jobs.iter(t(7 * day)).map(|(id, _)| id).collect::<Vec<_>>(),
        vec![a]
    );
    assert!(jobs.get(b, t(7 * day)).is_none());
    assert_eq!(jobs.drop_expired(t(7 * day)), vec![b]);
    assert!(jobs.get(a, t(90 * day - 1)).is_some());
    assert_eq!(jobs.drop_expired(t(90 * day)), vec![a]);
    assert!(jobs.is_empty());
}
