//! One scenario per row of the seed's error-code and restart-policy tables (Rapyuta.io, seed 000),
//! plus the phases, deprovision, dependencies and backoff, asserted by value.

use std::time::Duration;

use robodeploy_core::lifecycle::*;
use robodeploy_core::model::{
    ErrorCode, ExecutableStatus, Phase, Reason, RestartPolicy, StatusKind,
};
use robodeploy_core::time::Time;

const X: ExecutableIndex = ExecutableIndex(0);
const Y: ExecutableIndex = ExecutableIndex(1);
const ROBOT: DeviceIndex = DeviceIndex(0);

/// A deployment and a clock in milliseconds.
struct Run {
    d: Deployment,
    t: i64,
}

impl Run {
    fn new(exes: Vec<ExecutableSpec>, deps: &[&str]) -> Self {
        let mut spec = DeploymentSpec::new("dep", exes);
        spec.dependencies = deps.iter().map(|s| s.to_string()).collect();
        Run {
            d: Deployment::new(spec, Time::from_millis(0)).unwrap(),
            t: 0,
        }
    }

    fn device(policy: RestartPolicy) -> Self {
        Run::new(vec![ExecutableSpec::device("c", "x", "robot", policy)], &[])
    }

    fn cloud() -> Self {
        Run::new(vec![ExecutableSpec::cloud("c", "x")], &[])
    }

    fn at(&mut self, ms: i64) -> &mut Self {
        self.t = ms;
        self.d.handle_timeout(Time::from_millis(ms));
        self
    }

    fn ev(&mut self, e: Event) -> &mut Self {
        self.d.handle(e, Time::from_millis(self.t)).unwrap();
        self
    }

    fn commands(&mut self) -> Vec<Command> {
        std::iter::from_fn(|| self.d.poll_command()).collect()
    }

    /// Deploy, prepare and start every executable at t.
    fn up(&mut self) -> &mut Self {
        self.ev(Event::Deploy);
        for exe in self.d.executables().collect::<Vec<_>>() {
            self.ev(Event::Prepared(exe)).ev(Event::Started(exe));
        }
        self.commands();
        self
    }

    /// Which executables a deprovision could not stop, and why.
    fn deprovision_failures(&self) -> Vec<(ExecutableIndex, String)> {
        self.d
            .deprovision_failures()
            .map(|(i, w)| (i, w.to_string()))
            .collect()
    }

    fn codes(&self) -> Vec<String> {
        self.d.error_codes().map(|(_, c)| c.to_string()).collect()
    }

    fn status(&self, exe: ExecutableIndex) -> ExecutableStatus {
        self.d.executable_status(exe).unwrap()
    }
}

fn error(reason: Reason) -> ExecutableStatus {
    ExecutableStatus::Error { reason }
}

// ---- phases ----

#[test]
fn a_deployment_goes_in_progress_provisioning_succeeded() {
    let mut r = Run::device(RestartPolicy::Always);
    assert_eq!(r.d.phase(), Phase::InProgress);
    assert_eq!(r.commands(), []);
    r.ev(Event::Deploy);
    assert_eq!(r.d.phase(), Phase::Provisioning);
    assert_eq!(r.commands(), [Command::Prepare { exe: X }]);
    assert_eq!(
        r.status(X),
        ExecutableStatus::Pending {
            reason: Reason::Preparing
        }
    );
    r.ev(Event::Prepared(X));
    assert_eq!(r.commands(), [Command::Start { exe: X }]);
    assert_eq!(
        r.status(X),
        ExecutableStatus::Pending {
            reason: Reason::Starting
        }
    );
    r.ev(Event::Started(X));
    assert_eq!(r.d.phase(), Phase::Succeeded);
    assert_eq!(r.d.status(), StatusKind::Running);
    let phases: Vec<(Phase, Phase)> =
        r.d.history()
            .iter()
            .filter_map(|e| match e.event {
                HistoryEvent::Phase { from, to } => Some((from, to)),
                _ => None,
            })
            .collect();
    assert_eq!(
        phases,
        [
            (Phase::InProgress, Phase::Provisioning),
            (Phase::Provisioning, Phase::Succeeded)
        ]
    );
}

#[test]
fn an_error_before_succeeded_is_failed_to_start_and_recovery_succeeds() {
    let mut r2 = Run::device(RestartPolicy::Always);
    r2.ev(Event::Deploy).ev(Event::DeviceOffline(ROBOT));
    assert_eq!(r2.d.phase(), Phase::FailedToStart);
    r2.ev(Event::DeviceOnline(ROBOT));
    assert_eq!(
        r2.commands(),
        [Command::Prepare { exe: X }, Command::Prepare { exe: X }]
    );
    r2.ev(Event::Prepared(X)).ev(Event::Started(X));
    assert_eq!(r2.d.phase(), Phase::Succeeded);
}

// ---- error codes, one per row ----

#[test]
fn e151_device_offline_after_succeeded_and_back() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up().at(1_000).ev(Event::DeviceOffline(ROBOT));
    assert_eq!(r.codes(), ["DEP_E151"]);
    assert_eq!(r.status(X), error(Reason::DeviceOffline));
    assert_eq!(r.d.phase(), Phase::Succeeded);
    assert_eq!(r.d.status(), StatusKind::Error);
    r.at(2_000).ev(Event::DeviceOnline(ROBOT));
    assert_eq!(r.status(X), ExecutableStatus::Unknown);
    assert_eq!(r.codes(), Vec::<String>::new());
    assert_eq!(r.commands(), [Command::Inspect { exe: X }]);
    r.ev(Event::Started(X));
    assert_eq!(r.d.status(), StatusKind::Running);
    let e151: Vec<(i64, bool)> =
        r.d.history()
            .iter()
            .filter_map(|e| match e.event {
                HistoryEvent::ErrorRaised {
                    code: ErrorCode::DeviceOffline,
                    ..
                } => Some((e.at.as_millis(), true)),
                HistoryEvent::ErrorCleared {
                    code: ErrorCode::DeviceOffline,
                    ..
                } => Some((e.at.as_millis(), false)),
                _ => None,
            })
            .collect();
    assert_eq!(e151, [(1_000, true), (2_000, false)]);
}

#[test]
fn e152_device_executable_exited_too_early_or_failed() {
    let mut r = Run::device(RestartPolicy::Never);
    r.up().at(3_000).ev(Event::Exited(X, 0));
    assert_eq!(r.status(X), error(Reason::ExitedEarly { exit_code: 0 }));
    assert_eq!(r.codes(), ["DEP_E152"]);

    let mut r = Run::device(RestartPolicy::Never);
    r.up().at(30_000).ev(Event::Exited(X, 3));
    assert_eq!(r.status(X), error(Reason::Failed { exit_code: 3 }));
    assert_eq!(r.codes(), ["DEP_E152"]);

    // Restarted, but it exited too early: Error E152 while the restart is pending.
    let mut r = Run::device(RestartPolicy::Always);
    r.up().at(2_000).ev(Event::Exited(X, 1));
    assert_eq!(r.status(X), error(Reason::ExitedEarly { exit_code: 1 }));
    assert_eq!(r.codes(), ["DEP_E152"]);
    r.at(3_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
    r.ev(Event::Started(X));
    assert_eq!(r.codes(), Vec::<String>::new());
}

#[test]
fn e153_cloud_image_cannot_be_pulled() {
    let mut r = Run::cloud();
    r.ev(Event::Deploy).ev(Event::PrepareFailed(
        X,
        Failure::PullFailed {
            message: "registry unreachable".into(),
        },
    ));
    assert_eq!(r.codes(), ["DEP_E153"]);
    assert_eq!(r.d.phase(), Phase::FailedToStart);
    assert_eq!(
        r.status(X),
        error(Reason::PullFailed {
            message: "registry unreachable".into()
        })
    );
}

#[test]
fn e154_cloud_executable_exited_too_early() {
    let mut r = Run::cloud();
    r.up().at(500).ev(Event::Exited(X, 2));
    assert_eq!(r.codes(), ["DEP_E154"]);
    // The cloud runtime restarts it by itself; the machine only observes.
    assert_eq!(r.commands(), []);
    r.ev(Event::RestartObserved(X, 1));
    assert_eq!(r.codes(), Vec::<String>::new());
    assert_eq!(r.d.total_restart_count(), 1);
}

#[test]
fn e155_cloud_executable_failed() {
    let mut r = Run::cloud();
    r.ev(Event::Deploy)
        .ev(Event::Prepared(X))
        .ev(Event::StartFailed(
            X,
            Failure::BinaryNotFound {
                program: "talker".into(),
            },
        ));
    assert_eq!(r.codes(), ["DEP_E155"]);
    assert_eq!(
        r.status(X),
        error(Reason::NotFound {
            what: "talker".into()
        })
    );
}

#[test]
fn e156_while_a_dependency_is_in_error_and_succeeded_waits_for_it() {
    let mut r = Run::new(
        vec![ExecutableSpec::device(
            "c",
            "x",
            "robot",
            RestartPolicy::Always,
        )],
        &["ros-master"],
    );
    let dep = r.d.dependency_index("ros-master").unwrap();
    r.up();
    // Executables run, but the phase waits for the dependency.
    assert_eq!(r.status(X), ExecutableStatus::Running);
    assert_eq!(r.d.phase(), Phase::Provisioning);
    r.ev(Event::Dependency(dep, DependencyState::Error));
    assert_eq!(r.codes(), ["DEP_E156"]);
    assert_eq!(r.d.status(), StatusKind::Error);
    assert_eq!(
        r.d.errors()[0].detail.as_deref(),
        Some("dependency ros-master is in error")
    );
    r.ev(Event::Dependency(dep, DependencyState::Running));
    assert_eq!(r.codes(), Vec::<String>::new());
    assert_eq!(r.d.phase(), Phase::Succeeded);
    r.ev(Event::Dependency(dep, DependencyState::Error));
    assert_eq!(r.codes(), ["DEP_E156"]);
    assert_eq!(r.d.phase(), Phase::Succeeded);
}

#[test]
fn e161_device_image_or_binary_not_found() {
    let mut r = Run::device(RestartPolicy::Always);
    r.ev(Event::Deploy).ev(Event::PrepareFailed(
        X,
        Failure::ImageNotFound {
            image: "talker:1".into(),
        },
    ));
    assert_eq!(r.codes(), ["DEP_E161"]);
    assert_eq!(
        r.status(X),
        error(Reason::NotFound {
            what: "talker:1".into()
        })
    );
}

#[test]
fn e162_validation_error() {
    let mut r = Run::device(RestartPolicy::Always);
    r.ev(Event::Deploy).ev(Event::PrepareFailed(
        X,
        Failure::Validation {
            message: "arm64v8 package on an amd64 device".into(),
        },
    ));
    assert_eq!(r.codes(), ["DEP_E162"]);
    assert_eq!(r.d.phase(), Phase::FailedToStart);
}

#[test]
fn e163_crash_loop_and_its_end_after_a_healthy_period() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up();
    // Five early exits: delays 1, 2, 4, 8 s, each run 1 s.
    let mut t = 0;
    for n in 1..=5 {
        t += 1_000;
        r.at(t).ev(Event::Exited(X, 1));
        if n < 5 {
            assert_eq!(r.codes(), ["DEP_E152"], "exit {n}");
        }
        let due = r.d.next_restart(X).unwrap().as_millis();
        r.at(due).ev(Event::Started(X));
        t = due;
    }
    assert_eq!(r.status(X), error(Reason::CrashLoop { early_exits: 5 }));
    assert_eq!(r.codes(), ["DEP_E163"]);
    assert_eq!(r.d.restart_count(X).unwrap(), 5);
    // Running healthy for reset_after (60 s) ends it and resets the backoff.
    r.at(t + 60_000);
    assert_eq!(r.status(X), ExecutableStatus::Running);
    assert_eq!(r.d.current_backoff(X), None);
}

#[test]
fn internal_errors_keep_their_number_by_placement() {
    let mut r = Run::new(
        vec![
            ExecutableSpec::device("c", "x", "robot", RestartPolicy::Always),
            ExecutableSpec::cloud("k", "y"),
        ],
        &[],
    );
    r.ev(Event::Deploy)
        .ev(Event::Prepared(X))
        .ev(Event::Prepared(Y));
    r.ev(Event::StartFailed(
        X,
        Failure::Internal {
            detail: 12,
            message: "dbus".into(),
        },
    ));
    r.ev(Event::StartFailed(
        Y,
        Failure::Internal {
            detail: 5,
            message: "oom".into(),
        },
    ));
    assert_eq!(r.codes(), ["DEP_E312", "DEP_E205"]);
    let mut r = Run::device(RestartPolicy::Always);
    r.ev(Event::Deploy).ev(Event::PrepareFailed(
        X,
        Failure::Engine {
            detail: 1,
            message: "store".into(),
        },
    ));
    assert_eq!(r.codes(), ["DEP_E401"]);
}

// ---- restart policies, one per row ----

#[test]
fn always_restarts_after_any_exit_and_after_a_reboot() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up().at(20_000).ev(Event::Exited(X, 0));
    assert_eq!(
        r.status(X),
        ExecutableStatus::Pending {
            reason: Reason::BackingOff {
                attempt: 1,
                delay_ms: 1_000
            }
        }
    );
    r.at(21_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
    r.ev(Event::Started(X))
        .at(40_000)
        .ev(Event::DeviceRebooted(ROBOT));
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 2 }]);
    assert_eq!(r.d.total_restart_count(), 2);
}

#[test]
fn on_failure_restarts_only_after_a_non_zero_exit() {
    let mut r = Run::device(RestartPolicy::OnFailure);
    r.up().at(20_000).ev(Event::Exited(X, 1)).at(21_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
    r.ev(Event::Started(X))
        .at(50_000)
        .ev(Event::Exited(X, 0))
        .at(100_000);
    assert_eq!(r.commands(), []);
    assert_eq!(r.status(X), error(Reason::Completed));
    // Not after a reboot either.
    let mut r = Run::device(RestartPolicy::OnFailure);
    r.up().at(20_000).ev(Event::DeviceRebooted(ROBOT));
    assert_eq!(r.commands(), []);
    assert_eq!(r.status(X), error(Reason::DeviceRebooted));
}

#[test]
fn never_never_restarts() {
    let mut r = Run::device(RestartPolicy::Never);
    r.up().at(20_000).ev(Event::Exited(X, 1)).at(1_000_000);
    r.ev(Event::DeviceRebooted(ROBOT));
    assert_eq!(r.commands(), []);
    assert_eq!(r.d.total_restart_count(), 0);
    assert_eq!(r.status(X), error(Reason::Failed { exit_code: 1 }));
}

#[test]
fn cloud_executables_always_restart_whatever_the_policy() {
    let mut exe = ExecutableSpec::cloud("c", "x").with_mode(RestartMode::EngineEnforced);
    exe.policy = RestartPolicy::Never;
    let mut r = Run::new(vec![exe], &[]);
    r.up().at(20_000).ev(Event::Exited(X, 0)).at(21_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
}

#[test]
fn a_missing_executable_fails_to_start_and_is_not_restarted_in_a_loop() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up().at(20_000).ev(Event::Exited(X, 127)).at(21_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
    r.ev(Event::StartFailed(
        X,
        Failure::BinaryNotFound {
            program: "talker".into(),
        },
    ));
    r.at(10_000_000);
    assert_eq!(r.commands(), []);
    assert_eq!(r.d.poll_timeout(), None);
    assert_eq!(
        r.status(X),
        error(Reason::NotFound {
            what: "talker".into()
        })
    );
    assert_eq!(r.codes(), ["DEP_E161"]);
}

#[test]
fn a_manual_stop_suspends_always_and_on_failure_until_the_device_reboots() {
    for policy in [RestartPolicy::Always, RestartPolicy::OnFailure] {
        let mut r = Run::device(policy);
        r.up().at(20_000).ev(Event::StoppedManually(X));
        assert_eq!(r.status(X), error(Reason::StoppedManually));
        // Started by hand and crashing: still not restarted.
        r.ev(Event::Started(X))
            .at(40_000)
            .ev(Event::Exited(X, 1))
            .at(1_000_000);
        assert_eq!(r.commands(), [], "{policy}");
        r.ev(Event::DeviceRebooted(ROBOT));
        let after_reboot = r.commands();
        if policy == RestartPolicy::Always {
            assert_eq!(after_reboot, [Command::Restart { exe: X, attempt: 1 }]);
        } else {
            assert_eq!(after_reboot, []);
        }
        assert!(!r.d.is_suspended(X).unwrap());
    }
}

#[test]
fn a_shared_component_keeps_the_first_deployments_policy() {
    let robot = &mut SharedComponents::new();
    let (first, second) = (
        robodeploy_core::model::DeploymentId::from_u128(1),
        robodeploy_core::model::DeploymentId::from_u128(2),
    );
    let p1 = robot.register("rosmaster", first, RestartPolicy::Never);
    let p2 = robot.register("rosmaster", second, RestartPolicy::Always);
    assert_eq!((p1, p2), (RestartPolicy::Never, RestartPolicy::Never));
    let mut r = Run::new(
        vec![ExecutableSpec::device("rosmaster", "m", "robot", p2).shared()],
        &[],
    );
    r.up().at(20_000).ev(Event::Exited(X, 1)).at(100_000);
    assert_eq!(r.commands(), []);
    assert!(robot.used_by_others("rosmaster", second));
}

#[test]
fn restart_count_counts_commanded_and_observed_restarts() {
    let mut r = Run::new(
        vec![
            ExecutableSpec::device("c", "x", "robot", RestartPolicy::Always),
            ExecutableSpec::device("c", "y", "robot", RestartPolicy::Always)
                .with_mode(RestartMode::RuntimeEnforced),
        ],
        &[],
    );
    r.up()
        .at(20_000)
        .ev(Event::Exited(X, 1))
        .ev(Event::Exited(Y, 1))
        .at(21_000);
    assert_eq!(r.commands(), [Command::Restart { exe: X, attempt: 1 }]);
    r.ev(Event::RestartObserved(Y, 3));
    r.ev(Event::RestartObserved(Y, 3));
    assert_eq!(
        (r.d.restart_count(X).unwrap(), r.d.restart_count(Y).unwrap()),
        (1, 3)
    );
    assert_eq!(r.d.total_restart_count(), 4);
}

// ---- backoff ----

#[test]
fn backoff_doubles_to_the_cap_and_resets_after_a_healthy_period() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up();
    let mut delays = Vec::new();
    let mut t = 0;
    for _ in 0..9 {
        t += 30_000; // late exits: no crash loop, but not healthy for 60 s either
        r.at(t).ev(Event::Exited(X, 1));
        let due = r.d.next_restart(X).unwrap().as_millis();
        delays.push((due - t) / 1000);
        r.at(due).ev(Event::Started(X));
        t = due;
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    r.at(t + 60_000);
    r.at(t + 61_000).ev(Event::Exited(X, 1));
    assert_eq!(r.d.next_restart(X), Some(Time::from_millis(t + 62_000)));
}

// ---- deprovision ----

#[test]
fn deprovision_stops_everything() {
    let mut r = Run::new(
        vec![
            ExecutableSpec::device("c", "x", "robot", RestartPolicy::Always),
            ExecutableSpec::cloud("k", "y"),
        ],
        &[],
    );
    r.up().ev(Event::Deprovision);
    let grace = Duration::from_secs(10);
    assert_eq!(
        r.commands(),
        [
            Command::Stop { exe: X, grace },
            Command::Stop { exe: Y, grace }
        ]
    );
    assert_eq!(
        r.status(X),
        ExecutableStatus::Pending {
            reason: Reason::Stopping
        }
    );
    r.ev(Event::StopDone(X)).ev(Event::StopDone(Y));
    assert_eq!(r.d.phase(), Phase::DeploymentStopped);
    assert_eq!(r.d.status(), StatusKind::Stopped);
    r.ev(Event::Started(X));
    assert_eq!(r.d.phase(), Phase::DeploymentStopped);
}

#[test]
fn deprovision_with_a_component_that_cannot_be_stopped_is_partial() {
    let mut r = Run::new(
        vec![
            ExecutableSpec::device("c", "x", "robot", RestartPolicy::Always),
            ExecutableSpec::device("c", "y", "robot", RestartPolicy::Always),
            ExecutableSpec::cloud("k", "z"),
        ],
        &[],
    );
    r.up().ev(Event::Deprovision).commands();
    r.ev(Event::StopFailed(X, "permission denied".into()));
    r.ev(Event::StopDone(Y));
    assert_eq!(r.d.phase(), Phase::Succeeded);
    r.at(40_000);
    assert_eq!(r.d.phase(), Phase::PartiallyDeprovisioned);
    assert_eq!(
        r.deprovision_failures(),
        [
            (X, "permission denied".to_string()),
            (
                ExecutableIndex(2),
                "no answer to stop within 40000 ms".to_string()
            )
        ]
    );
}

#[test]
fn deprovision_on_an_offline_device_stops_a_start_in_flight_and_gives_up_on_the_rest() {
    let mut r = Run::new(
        vec![
            ExecutableSpec::device("c", "x", "robot", RestartPolicy::Always),
            ExecutableSpec::device("c", "y", "robot", RestartPolicy::Always),
        ],
        &[],
    );
    // x runs; y's start is sent, unanswered, when the robot goes offline.
    r.ev(Event::Deploy)
        .ev(Event::Prepared(X))
        .ev(Event::Started(X))
        .ev(Event::Prepared(Y));
    r.commands();
    r.ev(Event::DeviceOffline(ROBOT)).ev(Event::Deprovision);
    // What y's start returns is stopped once it answers; x cannot be reached.
    assert_eq!(
        r.commands(),
        [Command::Stop {
            exe: Y,
            grace: LifecycleConfig::default().stop_grace
        }]
    );
    r.ev(Event::StopDone(Y));
    assert_eq!(r.d.phase(), Phase::PartiallyDeprovisioned);
    assert_eq!(
        r.deprovision_failures(),
        [(X, "device offline: could not be stopped".to_string())]
    );
}

#[test]
fn deprovision_before_deploy_stops_nothing() {
    let mut r = Run::device(RestartPolicy::Always);
    r.ev(Event::Deprovision);
    assert_eq!(r.commands(), []);
    assert_eq!(r.d.phase(), Phase::DeploymentStopped);
}

#[test]
fn events_for_unknown_indices_are_typed_errors() {
    let mut r = Run::device(RestartPolicy::Always);
    let err =
        r.d.handle(Event::Started(ExecutableIndex(9)), Time::from_millis(0))
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "executable index 9 out of range: the deployment has 1 executables"
    );
    assert!(
        r.d.handle(Event::DeviceOffline(DeviceIndex(1)), Time::EPOCH)
            .is_err()
    );
    assert!(
        r.d.handle(
            Event::Dependency(DependencyIndex(0), DependencyState::Error),
            Time::EPOCH
        )
        .is_err()
    );
}

#[test]
fn time_going_backwards_is_clamped() {
    let mut r = Run::device(RestartPolicy::Always);
    r.up().at(20_000).ev(Event::Exited(X, 1));
    r.d.handle(Event::Deploy, Time::from_millis(0)).unwrap();
    assert_eq!(r.d.now(), Time::from_millis(20_000));
    r.d.handle_timeout(Time::from_millis(5));
    assert_eq!(r.d.next_restart(X), Some(Time::from_millis(21_000)));
}
