//! Property tests of the rollout over random fleets, configs and outcome histories. Each case is
//! a history of driver actions (robot outcomes, connectivity, time, cancel, resume) replayed
//! against the machine; the harness tracks its own view (which robots it was told to deploy,
//! which are online, when each started) and checks it against the rules after every call.
//! Failures shrink to a short history over a small fleet.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use robodeploy_core::model::{
    DeploymentConfig, FailureCode, ProgressStep, RobotStatus, Wave, WaveSize,
};
use robodeploy_core::rollout::{
    Command, HaltReason, Input, RobotIndex, RobotInit, Rollout, RolloutEvent, RolloutPhase,
    WaveState,
};
use robodeploy_core::time::Time;

fn cases() -> ProptestConfig {
    robodeploy_testkit::props::cases(10_000)
}

const TIMEOUT_MS: i64 = 60_000;

#[derive(Clone, Debug)]
enum Action {
    /// The `pick`-th robot in flight succeeds.
    Succeed(u16),
    /// The `pick`-th robot in flight fails.
    Fail(u16, FailureCode),
    /// The `pick`-th robot in flight reports a step.
    Progress(u16, ProgressStep, u8),
    /// A robot (by position in the fleet, modulo its size) drops offline.
    Offline(u32),
    /// A robot comes back online.
    Online(u32),
    /// Time passes; the driver wakes up then (possibly early or late for a timer).
    Wait(u32),
    /// The driver wakes up exactly at the next timer.
    WakeOnTimer,
    /// An event stamped earlier than the last (a driver clock going backwards).
    Backwards(u32),
    Cancel,
    Resume,
}

#[derive(Clone, Debug)]
struct Case {
    online: Vec<bool>,
    config: DeploymentConfig,
    history: Vec<Action>,
}

fn fleet_size() -> impl Strategy<Value = usize> {
    // Mostly small fleets, sometimes large: 10,000 cases stay fast.
    prop_oneof![16 => 1usize..=40, 3 => 41usize..=400, 1 => 401usize..=5_000]
}

fn code() -> impl Strategy<Value = FailureCode> {
    prop::sample::select(vec![
        FailureCode::DownloadConditionFailed,
        FailureCode::EtagMismatch,
        FailureCode::PreLaunchFileFailure,
        FailureCode::PostLaunchFileFailure,
        FailureCode::ExtractingBundleFailure,
        FailureCode::LaunchFailure,
    ])
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => any::<u16>().prop_map(Action::Succeed),
        3 => (any::<u16>(), code()).prop_map(|(p, c)| Action::Fail(p, c)),
        2 => (any::<u16>(), prop::sample::select(ProgressStep::ALL.to_vec()), 0u8..=120)
            .prop_map(|(p, s, pct)| Action::Progress(p, s, pct)),
        2 => any::<u32>().prop_map(Action::Offline),
        2 => any::<u32>().prop_map(Action::Online),
        2 => (0u32..90_000).prop_map(Action::Wait),
        1 => Just(Action::WakeOnTimer),
        1 => (0u32..10_000).prop_map(Action::Backwards),
        1 => Just(Action::Cancel),
        1 => Just(Action::Resume),
    ]
}

fn wave() -> impl Strategy<Value = Wave> {
    (
        prop_oneof![
            (1u32..=50).prop_map(WaveSize::Robots),
            (1u8..=100).prop_map(WaveSize::Percent)
        ],
        prop::option::of(1u64..=120).prop_map(|s| s.map(Duration::from_secs)),
        any::<bool>(),
    )
        .prop_map(|(size, soak, manual_resume)| Wave {
            size,
            soak,
            manual_resume,
        })
}

fn case() -> impl Strategy<Value = Case> {
    fleet_size().prop_flat_map(|n| {
        (
            prop::collection::vec(prop::bool::weighted(0.85), n),
            1u8..=100,
            1u8..=100,
            prop::option::of(1u64..=300),
            prop::collection::vec(wave(), 0..=3),
            any::<bool>(),
            prop::collection::vec(action(), 0..=60),
        )
            .prop_map(
                |(online, concurrency, threshold, offline, waves, auto_rollback, history)| Case {
                    online,
                    config: DeploymentConfig {
                        concurrent_deployment_percentage: concurrency,
                        failure_threshold_percentage: threshold,
                        robot_deployment_timeout: Duration::from_millis(TIMEOUT_MS as u64),
                        offline_deadline: offline.map(Duration::from_secs),
                        waves,
                        auto_rollback,
                        ..DeploymentConfig::default()
                    },
                    history,
                },
            )
    })
}

/// Which rule a property checks; the harness checks only that one so each property fails on
/// its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rule {
    InFlightLimit,
    NothingStartsAfterHalt,
    HaltsAtThreshold,
    EveryRobotSettles,
    TimeoutsAtDeadline,
    OfflineHoldNoSlot,
    WavesNeverOverlap,
    WorkConserving,
    WaveStatesInOrder,
}

struct Harness {
    job: Rollout,
    rule: Rule,
    now: i64,
    online: Vec<bool>,
    /// Robots the harness was told to deploy or roll back and that have not ended, with the
    /// time they started and whether it is a rollback.
    in_flight: BTreeMap<u32, (i64, bool)>,
    /// Deployment failures the harness saw or caused (its own count, not the machine's).
    failures: u32,
    halted_before: bool,
}

macro_rules! check {
    ($h:expr, $rule:expr, $cond:expr, $($msg:tt)+) => {
        if $h.rule == $rule {
            prop_assert!($cond, $($msg)+);
        }
    };
}

impl Harness {
    fn new(case: &Case, rule: Rule) -> Harness {
        let robots = case.online.iter().map(|&online| RobotInit {
            online,
            previous_version: None,
        });
        let mut job =
            Rollout::new(&case.config, robots, Time::EPOCH).expect("valid generated config");
        job.handle(Input::Start, Time::EPOCH).unwrap();
        let _ = job.poll_command();
        Harness {
            job,
            rule,
            now: 0,
            online: case.online.clone(),
            in_flight: BTreeMap::new(),
            failures: 0,
            halted_before: false,
        }
    }

    fn t(&self) -> Time {
        Time::from_millis(self.now)
    }

    fn pick(&self, p: u16) -> Option<u32> {
        let n = self.in_flight.len();
        (n > 0).then(|| *self.in_flight.keys().nth(p as usize % n).expect("in range"))
    }

    fn apply(&mut self, action: &Action) -> Result<(), TestCaseError> {
        let n = self.online.len() as u32;
        match *action {
            Action::Succeed(p) => {
                if let Some(r) = self.pick(p) {
                    self.in_flight.remove(&r);
                    self.job
                        .handle(
                            Input::RobotSucceeded {
                                robot: RobotIndex(r),
                            },
                            self.t(),
                        )
                        .unwrap();
                }
            }
            Action::Fail(p, code) => {
                if let Some(r) = self.pick(p) {
                    let deploying = self.job.phase() != RolloutPhase::RollingBack;
                    self.in_flight.remove(&r);
                    let was_live =
                        self.job.robot_status(RobotIndex(r)).unwrap() == RobotStatus::Deploying;
                    self.job
                        .handle(
                            Input::RobotFailed {
                                robot: RobotIndex(r),
                                code,
                            },
                            self.t(),
                        )
                        .unwrap();
                    // A failure counts when the robot was still deploying when it arrived.
                    if deploying
                        && was_live
                        && self.job.robot_failure(RobotIndex(r)).unwrap() == Some(code)
                    {
                        self.failures += 1;
                    }
                }
            }
            Action::Progress(p, step, pct) => {
                if let Some(r) = self.pick(p) {
                    self.job
                        .handle(
                            Input::RobotProgress {
                                robot: RobotIndex(r),
                                step,
                                percent_done: pct,
                            },
                            self.t(),
                        )
                        .unwrap();
                }
            }
            Action::Offline(r) => {
                let r = r % n;
                self.online[r as usize] = false;
                self.in_flight.remove(&r);
                self.job
                    .handle(
                        Input::RobotOffline {
                            robot: RobotIndex(r),
                        },
                        self.t(),
                    )
                    .unwrap();
            }
            Action::Online(r) => {
                let r = r % n;
                self.online[r as usize] = true;
                self.job
                    .handle(
                        Input::RobotOnline {
                            robot: RobotIndex(r),
                        },
                        self.t(),
                    )
                    .unwrap();
            }
            Action::Wait(ms) => {
                self.now += i64::from(ms);
                self.job.handle(Input::Timeout, self.t()).unwrap();
            }
            Action::WakeOnTimer => {
                if let Some(at) = self.job.poll_timeout() {
                    self.now = self.now.max(at.as_millis());
                    self.job.handle(Input::Timeout, at).unwrap();
                }
            }
            Action::Backwards(ms) => {
                let earlier = Time::from_millis(self.now - i64::from(ms));
                self.job.handle(Input::Timeout, earlier).unwrap();
            }
            Action::Cancel => self.job.handle(Input::Cancel, self.t()).unwrap(),
            Action::Resume => self.job.handle(Input::Resume, self.t()).unwrap(),
        }
        self.after_call()
    }

    /// Waves read in order: completed ones, at most one that is deploying, soaking, waiting
    /// for a resume or halted, then ones not reached (waiting while the job goes on, skipped
    /// once it halted or ended).
    fn check_wave_states(&self) -> Result<(), TestCaseError> {
        use WaveState::*;
        let states: Vec<WaveState> = (0..self.job.waves().len() as u32)
            .map(|w| self.job.wave_state(w))
            .collect();
        let rank = |s: WaveState| match s {
            Completed => 0,
            Deploying | Soaking | AwaitingResume | Halted => 1,
            _ => 2,
        };
        prop_assert!(
            states.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
            "out of order: {states:?}"
        );
        prop_assert!(
            states.iter().filter(|&&s| rank(s) == 1).count() <= 1,
            "two current waves: {states:?}"
        );
        let ended = matches!(
            self.job.phase(),
            RolloutPhase::Draining | RolloutPhase::RollingBack | RolloutPhase::Done
        );
        let (live, over): (&[WaveState], &[WaveState]) = (
            &[Waiting, Deploying, Soaking, AwaitingResume],
            &[Halted, Skipped],
        );
        let forbidden = if ended { live } else { over };
        prop_assert!(
            !states.iter().any(|s| forbidden.contains(s)),
            "phase {:?}: {states:?}",
            self.job.phase()
        );
        let soaking =
            self.job.phase() == RolloutPhase::BetweenWaves && self.job.soak_until().is_some();
        prop_assert_eq!(
            states.contains(&Soaking),
            soaking,
            "soaking {:?}: {:?}",
            self.job.soak_until(),
            states
        );
        Ok(())
    }

    /// Drains what the call produced and checks the rules.
    fn after_call(&mut self) -> Result<(), TestCaseError> {
        let now = self.job.now().as_millis();
        let halted = self.job.halt_reason().is_some();
        let wave = self.job.waves()[self.job.current_wave() as usize].plan;
        while let Some(c) = self.job.poll_command() {
            match c {
                Command::DeployRobot { robot } => {
                    check!(
                        self,
                        Rule::NothingStartsAfterHalt,
                        !halted,
                        "{robot} started after a halt"
                    );
                    check!(
                        self,
                        Rule::WavesNeverOverlap,
                        wave.contains(robot.0),
                        "{robot} outside wave {wave:?}"
                    );
                    self.in_flight.insert(robot.0, (now, false));
                }
                Command::RollbackRobot { robot } => {
                    self.in_flight.insert(robot.0, (now, true));
                }
                Command::AbortRobot { robot } => {
                    if let Some((start, false)) = self.in_flight.remove(&robot.0) {
                        let timed_out = self.job.robot_failure(robot).unwrap()
                            == Some(FailureCode::RobotDeploymentTimeout);
                        if timed_out {
                            let ended = self.job.robot_report(robot).unwrap().ended_at;
                            check!(
                                self,
                                Rule::TimeoutsAtDeadline,
                                ended == Some(Time::from_millis(start + TIMEOUT_MS)),
                                "{robot} started at {start} timed out at {ended:?}"
                            );
                        }
                        if self.job.robot_status(robot).unwrap() == RobotStatus::Failed
                            && self.job.rollback().is_none()
                        {
                            self.failures += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        while let Some(e) = self.job.poll_event() {
            match e {
                RolloutEvent::RobotNoResponse { robot }
                    if self.job.rollback().is_none()
                        && self.job.robot_status(robot).unwrap() == RobotStatus::NoResponse =>
                {
                    self.failures += 1;
                }
                RolloutEvent::WaveStarted { wave } => {
                    let start = self.job.waves()[wave as usize].plan.start;
                    let settled =
                        (0..start).all(|r| self.job.robot_settled(RobotIndex(r)).unwrap());
                    check!(
                        self,
                        Rule::WavesNeverOverlap,
                        settled,
                        "wave {wave} started before earlier waves ended"
                    );
                }
                _ => {}
            }
        }
        if self.rule == Rule::WaveStatesInOrder {
            self.check_wave_states()?;
        }
        let limit = self.job.in_flight_limit();
        check!(
            self,
            Rule::InFlightLimit,
            self.in_flight.len() as u32 <= limit,
            "{} in flight, limit {limit}",
            self.in_flight.len()
        );
        check!(
            self,
            Rule::InFlightLimit,
            self.job.in_flight() as usize == self.in_flight.len(),
            "machine says {} in flight, driver counts {}",
            self.job.in_flight(),
            self.in_flight.len()
        );
        for (&r, &(start, _)) in &self.in_flight {
            check!(
                self,
                Rule::OfflineHoldNoSlot,
                self.online[r as usize],
                "offline robot {r} holds a slot"
            );
            check!(
                self,
                Rule::TimeoutsAtDeadline,
                now < start + TIMEOUT_MS,
                "robot {r} in flight past its deadline"
            );
        }
        let threshold = self.job.failure_threshold();
        check!(
            self,
            Rule::HaltsAtThreshold,
            self.failures < threshold || halted,
            "{} failures reached the threshold {threshold} without a halt",
            self.failures
        );
        if self.job.halt_reason() == Some(HaltReason::FailureThresholdBreached) {
            // Robots in flight at the halt finish: at most `limit` of them (all of them when the
            // halting failure was a no-response, which held no slot).
            check!(
                self,
                Rule::HaltsAtThreshold,
                self.job.failed() <= threshold + limit,
                "{} failed: over threshold {threshold} by more than the limit {limit}",
                self.job.failed()
            );
        }
        check!(
            self,
            Rule::NothingStartsAfterHalt,
            !self.halted_before || halted,
            "a halt was undone"
        );
        self.halted_before = halted;
        if self.job.phase() == RolloutPhase::Deploying && (self.in_flight.len() as u32) < limit {
            let eligible = (wave.start..wave.end).find(|&r| {
                self.online[r as usize]
                    && self.job.robot_status(RobotIndex(r)).unwrap()
                        == RobotStatus::PendingNewDeployment
            });
            check!(
                self,
                Rule::WorkConserving,
                eligible.is_none(),
                "slot free ({} of {limit}) while robot {eligible:?} is eligible",
                self.in_flight.len()
            );
        }
        Ok(())
    }

    /// Lets the job end: robots in flight succeed, waiting waves are resumed, timers fire.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..4 * self.online.len() + 100 {
            if self.job.status().is_terminal() {
                break;
            }
            if !self.in_flight.is_empty() {
                self.apply(&Action::Succeed(0))?;
            } else if self.job.phase() == RolloutPhase::BetweenWaves
                && self.job.poll_timeout().is_none()
            {
                self.apply(&Action::Resume)?;
            } else {
                self.apply(&Action::WakeOnTimer)?;
            }
        }
        Ok(())
    }
}

fn run(case: Case, rule: Rule) -> Result<(), TestCaseError> {
    let mut h = Harness::new(&case, rule);
    h.job.handle(Input::Prepared, h.t()).unwrap();
    h.after_call()?;
    for action in &case.history {
        h.apply(action)?;
    }
    h.finish()?;
    if rule == Rule::EveryRobotSettles {
        prop_assert!(
            h.job.status().is_terminal(),
            "job still {:?} in {:?}",
            h.job.status(),
            h.job.phase()
        );
        for r in 0..case.online.len() as u32 {
            let status = h.job.robot_status(RobotIndex(r)).unwrap();
            prop_assert!(
                h.job.robot_settled(RobotIndex(r)).unwrap(),
                "robot {r} not settled: {status:?}"
            );
            prop_assert!(
                status.is_terminal() || status == RobotStatus::Available,
                "robot {r} ends {status:?}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn in_flight_never_exceeds_the_limit(case in case()) { run(case, Rule::InFlightLimit)?; }

    #[test]
    fn no_robot_starts_after_a_halt_or_cancel(case in case()) { run(case, Rule::NothingStartsAfterHalt)?; }

    #[test]
    fn halts_at_the_threshold_and_overshoots_by_less_than_the_limit(case in case()) {
        run(case, Rule::HaltsAtThreshold)?;
    }

    #[test]
    fn every_robot_ends_in_a_terminal_state(case in case()) { run(case, Rule::EveryRobotSettles)?; }

    #[test]
    fn timeouts_fire_exactly_at_their_deadline(case in case()) { run(case, Rule::TimeoutsAtDeadline)?; }

    #[test]
    fn offline_robots_never_hold_a_slot(case in case()) { run(case, Rule::OfflineHoldNoSlot)?; }

    #[test]
    fn waves_never_overlap(case in case()) { run(case, Rule::WavesNeverOverlap)?; }

    #[test]
    fn the_schedule_is_work_conserving(case in case()) { run(case, Rule::WorkConserving)?; }

    #[test]
    fn wave_states_read_in_order(case in case()) { run(case, Rule::WaveStatesInOrder)?; }
}
