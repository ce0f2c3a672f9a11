//! Model-based property tests of the lifecycle machine: random deployments driven by random
//! histories (runtime answers to its commands, stray runtime events, device offline/online/reboot,
//! manual stops, dependency changes, deprovision, time steps, time going backwards), with a
//! reference model of what must hold checked after every step.

use std::time::Duration;

use proptest::prelude::*;
use robodeploy_core::lifecycle::*;
use robodeploy_core::model::{
    ErrorCode, ExecutableStatus, Phase, Reason, RestartPolicy, StatusKind,
};
use robodeploy_core::time::Time;

fn config() -> ProptestConfig {
    robodeploy_testkit::props::cases(10_000)
}

/// Small thresholds so that short histories reach backoff caps, resets and crash loops.
fn lifecycle_config() -> LifecycleConfig {
    LifecycleConfig {
        initial_backoff: Duration::from_millis(100),
        backoff_factor: 2,
        max_backoff: Duration::from_millis(1_600),
        reset_after: Duration::from_millis(5_000),
        min_uptime: Duration::from_millis(1_000),
        crash_loop_exits: 3,
        crash_loop_window: Duration::from_millis(10_000),
        stop_grace: Duration::from_millis(1_000),
        stop_answer_margin: Duration::from_millis(1_000),
        history_capacity: 100_000,
    }
}

#[derive(Clone, Debug)]
struct ExeGen {
    /// 0 = cloud, 1 = robot-a, 2 = robot-b.
    host: u8,
    policy: RestartPolicy,
    engine: bool,
}

fn spec_of(exes: &[ExeGen], deps: usize) -> DeploymentSpec {
    let executables = exes
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = format!("e{i}");
            let spec = match g.host {
                0 => ExecutableSpec::cloud("c", name),
                h => ExecutableSpec::device("c", name, format!("robot-{h}"), g.policy),
            };
            spec.with_mode(if g.engine {
                RestartMode::EngineEnforced
            } else {
                RestartMode::RuntimeEnforced
            })
        })
        .collect();
    let mut spec = DeploymentSpec::new("d", executables);
    spec.dependencies = (0..deps).map(|i| format!("dep{i}")).collect();
    spec.config = lifecycle_config();
    spec
}

/// One step of a history. Indices are taken modulo what exists, so any shrunk history still runs.
#[derive(Clone, Debug)]
enum Step {
    Deploy,
    /// Answer an outstanding command successfully (`ok`) or with a failure.
    Answer {
        pick: u8,
        ok: bool,
    },
    Exited {
        exe: u8,
        code: i32,
    },
    StoppedManually {
        exe: u8,
    },
    RestartObserved {
        exe: u8,
        count: u8,
    },
    Offline {
        device: u8,
    },
    Online {
        device: u8,
    },
    Rebooted {
        device: u8,
    },
    Dependency {
        dep: u8,
        state: DependencyState,
    },
    Deprovision,
    /// Time passes by this many ms and timers fire.
    Wait {
        ms: u16,
    },
    /// An event stamped earlier than the machine's time.
    LateStarted {
        exe: u8,
        back_ms: u16,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let exe = 0u8..8;
    prop_oneof![
        1 => Just(Step::Deploy),
        12 => (any::<u8>(), prop::bool::weighted(0.85)).prop_map(|(pick, ok)| Step::Answer { pick, ok }),
        5 => (exe.clone(), prop_oneof![Just(0), Just(1), Just(137)]).prop_map(|(exe, code)| Step::Exited { exe, code }),
        1 => exe.clone().prop_map(|exe| Step::StoppedManually { exe }),
        2 => (exe.clone(), 0u8..6).prop_map(|(exe, count)| Step::RestartObserved { exe, count }),
        1 => (0u8..2).prop_map(|device| Step::Offline { device }),
        1 => (0u8..2).prop_map(|device| Step::Online { device }),
        1 => (0u8..2).prop_map(|device| Step::Rebooted { device }),
        2 => (0u8..2, prop_oneof![Just(DependencyState::Running), Just(DependencyState::Error), Just(DependencyState::Other)])
            .prop_map(|(dep, state)| Step::Dependency { dep, state }),
        1 => Just(Step::Deprovision),
        8 => prop_oneof![0u16..200, 0u16..3_000, 0u16..8_000].prop_map(|ms| Step::Wait { ms }),
        1 => (exe, 0u16..5_000).prop_map(|(exe, back_ms)| Step::LateStarted { exe, back_ms }),
    ]
}

fn exe_gen() -> impl Strategy<Value = ExeGen> {
    (
        0u8..3,
        prop_oneof![
            Just(RestartPolicy::Always),
            Just(RestartPolicy::OnFailure),
            Just(RestartPolicy::Never)
        ],
        any::<bool>(),
    )
        .prop_map(|(host, policy, engine)| ExeGen {
            host,
            policy,
            engine,
        })
}

/// The reference: what the machine must agree with, tracked independently from the events.
struct Reference {
    now: Time,
    offline: Vec<bool>,
    deps: Vec<DependencyState>,
    suspended: Vec<bool>,
    restarts: Vec<u32>,
    runtime_count: Vec<u32>,
    /// The last backoff delay since the last healthy period, per executable.
    last_delay: Vec<Option<Duration>>,
    deprovisioning: bool,
    terminal: bool,
}

struct Harness {
    d: Deployment,
    r: Reference,
    outstanding: Vec<Command>,
}

impl Harness {
    fn new(spec: DeploymentSpec) -> Self {
        let d = Deployment::new(spec, Time::from_millis(1_000)).unwrap();
        let n = d.executable_count();
        let devices = (0..2)
            .filter(|i| d.device_name(DeviceIndex(*i)).is_some())
            .count();
        let r = Reference {
            now: Time::from_millis(1_000),
            offline: vec![false; devices],
            deps: vec![DependencyState::Other; d.spec().dependencies.len()],
            suspended: vec![false; n],
            restarts: vec![0; n],
            runtime_count: vec![0; n],
            last_delay: vec![None; n],
            deprovisioning: false,
            terminal: false,
        };
        Harness {
            d,
            r,
            outstanding: Vec::new(),
        }
    }

    fn exe(&self, i: u8) -> ExecutableIndex {
        ExecutableIndex(u16::from(i) % self.d.executable_count() as u16)
    }

    fn is_device(&self, exe: ExecutableIndex) -> bool {
        self.d.device_of(exe).is_some()
    }

    fn device_offline(&self, exe: ExecutableIndex) -> bool {
        self.d
            .device_of(exe)
            .is_some_and(|d| self.r.offline[d.get()])
    }

    /// Whether the machine must believe a runtime event about `exe` now.
    fn believes(&self, exe: ExecutableIndex) -> bool {
        !self.r.terminal && !self.r.deprovisioning && !self.device_offline(exe)
    }

    /// Whether nothing was prepared for `exe` yet (so nothing runs that an event could be about).
    fn shows_preparing(&self, exe: ExecutableIndex) -> bool {
        self.d.executable_status(exe).unwrap()
            == (ExecutableStatus::Pending {
                reason: Reason::Preparing,
            })
    }

    /// Resets the reference backoff of executables that ran for a healthy period by `at`.
    fn note_healthy(&mut self, at: Time) {
        let reset_after = self.d.config().reset_after;
        for exe in self.d.executables().collect::<Vec<_>>() {
            if self
                .d
                .running_since(exe)
                .is_some_and(|s| at.since(s) >= reset_after)
            {
                self.r.last_delay[exe.get()] = None;
            }
        }
    }

    fn feed(&mut self, event: Event) -> Result<(), TestCaseError> {
        let now = self.r.now;
        self.note_healthy(now);
        let before_exit = match event {
            Event::Exited(exe, _) => Some((exe, self.d.next_restart(exe))),
            _ => None,
        };
        self.track(&event);
        self.d
            .handle(event, now)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // A new backoff delay scheduled by this exit.
        if let Some((exe, before)) = before_exit
            && let Some(due) = self.d.next_restart(exe)
            && before != Some(due)
        {
            let delay = due.since(now);
            let c = self.d.config();
            prop_assert!(delay <= c.max_backoff, "delay {delay:?} above the cap");
            if let Some(prev) = self.r.last_delay[exe.get()] {
                prop_assert!(
                    delay >= prev,
                    "backoff shrank from {prev:?} to {delay:?} while crashing"
                );
            } else {
                prop_assert_eq!(delay, c.initial_backoff);
            }
            self.r.last_delay[exe.get()] = Some(delay);
        }
        Ok(())
    }

    /// The reference's own bookkeeping of an event, decided before the machine sees it.
    fn track(&mut self, event: &Event) {
        if self.r.terminal {
            return;
        }
        match *event {
            Event::StoppedManually(exe) if self.believes(exe) && !self.shows_preparing(exe) => {
                self.r.suspended[exe.get()] = true;
            }
            Event::RestartObserved(exe, count)
                if self.believes(exe) && !self.shows_preparing(exe) =>
            {
                let last = &mut self.r.runtime_count[exe.get()];
                self.r.restarts[exe.get()] += if count >= *last { count - *last } else { count };
                *last = count;
            }
            Event::DeviceOffline(d) => self.r.offline[d.get()] = true,
            Event::DeviceOnline(d) => self.r.offline[d.get()] = false,
            Event::DeviceRebooted(d) => {
                self.r.offline[d.get()] = false;
                for exe in self.d.executables().collect::<Vec<_>>() {
                    if self.d.device_of(exe) == Some(d) && !self.r.deprovisioning {
                        self.r.suspended[exe.get()] = false;
                    }
                }
            }
            Event::Dependency(dep, state) => self.r.deps[dep.get()] = state,
            Event::Deprovision => self.r.deprovisioning = true,
            _ => {}
        }
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let phase_before = self.d.phase();
        let statuses_before: Vec<ExecutableStatus> = self
            .d
            .executables()
            .map(|e| self.d.executable_status(e).unwrap())
            .collect();
        match *step {
            Step::Deploy => self.feed(Event::Deploy)?,
            Step::Answer { pick, ok } => {
                if !self.outstanding.is_empty() {
                    let cmd = self
                        .outstanding
                        .remove(usize::from(pick) % self.outstanding.len());
                    let event = answer(cmd, ok);
                    self.feed(event)?;
                }
            }
            Step::Exited { exe, code } => self.feed(Event::Exited(self.exe(exe), code))?,
            Step::StoppedManually { exe } => self.feed(Event::StoppedManually(self.exe(exe)))?,
            Step::RestartObserved { exe, count } => {
                self.feed(Event::RestartObserved(self.exe(exe), u32::from(count)))?
            }
            Step::Offline { device } | Step::Online { device } | Step::Rebooted { device } => {
                if self.r.offline.is_empty() {
                    return Ok(());
                }
                let d = DeviceIndex(u16::from(device) % self.r.offline.len() as u16);
                self.feed(match step {
                    Step::Offline { .. } => Event::DeviceOffline(d),
                    Step::Online { .. } => Event::DeviceOnline(d),
                    _ => Event::DeviceRebooted(d),
                })?
            }
            Step::Dependency { dep, state } => {
                if self.r.deps.is_empty() {
                    return Ok(());
                }
                let dep = DependencyIndex(u16::from(dep) % self.r.deps.len() as u16);
                self.feed(Event::Dependency(dep, state))?
            }
            Step::Deprovision => self.feed(Event::Deprovision)?,
            Step::Wait { ms } => {
                self.r.now = self.r.now + Duration::from_millis(u64::from(ms));
                self.note_healthy(self.r.now);
                self.d.handle_timeout(self.r.now);
                self.note_healthy(self.r.now);
            }
            Step::LateStarted { exe, back_ms } => {
                let exe = self.exe(exe);
                let late = Time::from_millis(self.r.now.as_millis() - i64::from(back_ms));
                self.note_healthy(self.r.now);
                self.d.handle(Event::Started(exe), late).unwrap();
                prop_assert_eq!(self.d.now(), self.r.now, "time went backwards");
            }
        }
        self.drain()?;
        self.check(phase_before, &statuses_before)
    }

    fn drain(&mut self) -> Result<(), TestCaseError> {
        while let Some(cmd) = self.d.poll_command() {
            prop_assert!(!self.r.terminal, "{cmd:?} after a terminal phase");
            if let Command::Restart { exe, attempt } = cmd {
                let spec = self.d.executable(exe).unwrap();
                prop_assert_eq!(
                    spec.mode,
                    RestartMode::EngineEnforced,
                    "Restart by the engine in runtime mode"
                );
                prop_assert!(
                    !(self.is_device(exe) && spec.policy == RestartPolicy::Never),
                    "Restart under Never"
                );
                prop_assert!(
                    !self.r.suspended[exe.get()],
                    "Restart after a manual stop, before a reboot"
                );
                self.r.restarts[exe.get()] += 1;
                prop_assert_eq!(attempt, self.d.restart_count(exe).unwrap());
            }
            self.outstanding
                .retain(|c| c.executable() != cmd.executable());
            self.outstanding.push(cmd);
        }
        Ok(())
    }

    fn check(
        &mut self,
        phase_before: Phase,
        statuses_before: &[ExecutableStatus],
    ) -> Result<(), TestCaseError> {
        let d = &self.d;
        let phase = d.phase();
        if phase != phase_before {
            prop_assert!(
                PHASE_TRANSITIONS.contains(&(phase_before, phase)),
                "transition {phase_before:?} -> {phase:?} is not in the table"
            );
            if phase == Phase::Succeeded {
                prop_assert!(self.r.deps.iter().all(|s| *s == DependencyState::Running));
            }
        }
        if self.r.terminal {
            prop_assert_eq!(phase, phase_before, "left a terminal phase");
            let statuses: Vec<ExecutableStatus> = d
                .executables()
                .map(|e| d.executable_status(e).unwrap())
                .collect();
            prop_assert_eq!(
                &statuses[..],
                statuses_before,
                "changed after a terminal phase"
            );
        }
        self.r.terminal = phase.is_terminal();
        if self.r.terminal {
            prop_assert_eq!(d.poll_timeout(), None);
        }

        let mut kinds = Vec::new();
        for exe in d.executables() {
            let status = d.executable_status(exe).unwrap();
            let code = d.executable_error(exe);
            kinds.push(status.kind());
            prop_assert_eq!(status.kind(), d.executable_kind(exe).unwrap());
            prop_assert_eq!(
                d.restart_count(exe).unwrap(),
                self.r.restarts[exe.get()],
                "restart count of {}",
                exe
            );
            match &status {
                ExecutableStatus::Error { reason } => {
                    let code = code.ok_or_else(|| TestCaseError::fail("Error without a code"))?;
                    prop_assert!(
                        code_fits(reason, code, self.is_device(exe)),
                        "{reason:?} shown with {code}"
                    );
                }
                ExecutableStatus::Pending { .. } => prop_assert_eq!(code, None),
                _ => prop_assert_eq!(code, None),
            }
            let shows_offline = status
                == (ExecutableStatus::Error {
                    reason: Reason::DeviceOffline,
                });
            if !self.r.terminal {
                prop_assert_eq!(
                    shows_offline,
                    self.device_offline(exe) && !self.r.deprovisioning,
                    "E151 of {} vs offline {}",
                    exe,
                    self.device_offline(exe)
                );
            }
            if let Some(due) = d.next_restart(exe) {
                prop_assert!(due.since(d.now()) <= d.config().max_backoff);
            }
        }
        let dep_error = self.r.deps.contains(&DependencyState::Error);
        let e156 = d.has_error(ErrorCode::DependencyInError);
        if !self.r.terminal || phase != phase_before {
            prop_assert_eq!(e156, dep_error, "E156 while a dependency is in error");
        }
        prop_assert_eq!(
            d.status(),
            StatusKind::aggregate(kinds.into_iter().chain(e156.then_some(StatusKind::Error)))
        );
        // The history's last word on every error source agrees with the current codes.
        let current: Vec<(ErrorSource, ErrorCode)> = d.error_codes().collect();
        let mut last = std::collections::HashMap::new();
        for entry in d.history().iter() {
            match &entry.event {
                HistoryEvent::ErrorRaised { source, code, .. } => {
                    last.insert(*source, Some(*code));
                }
                HistoryEvent::ErrorCleared { source, .. } => {
                    last.insert(*source, None);
                }
                _ => {}
            }
        }
        for (source, code) in &current {
            prop_assert_eq!(last.get(source).copied().flatten(), Some(*code));
        }
        prop_assert_eq!(last.values().filter(|c| c.is_some()).count(), current.len());
        Ok(())
    }
}

/// The runtime's answer to a command.
fn answer(cmd: Command, ok: bool) -> Event {
    match (cmd, ok) {
        (Command::Prepare { exe }, true) => Event::Prepared(exe),
        (Command::Prepare { exe }, false) => Event::PrepareFailed(
            exe,
            Failure::ImageNotFound {
                image: "img".into(),
            },
        ),
        (Command::Start { exe } | Command::Restart { exe, .. }, true) => Event::Started(exe),
        (Command::Start { exe } | Command::Restart { exe, .. }, false) => Event::StartFailed(
            exe,
            Failure::BinaryNotFound {
                program: "prog".into(),
            },
        ),
        (Command::Stop { exe, .. }, true) => Event::StopDone(exe),
        (Command::Stop { exe, .. }, false) => Event::StopFailed(exe, "busy".into()),
        (Command::Inspect { exe }, true) => Event::Started(exe),
        (Command::Inspect { exe }, false) => Event::Exited(exe, 1),
        (other, _) => panic!("unexpected command {other:?}"),
    }
}

/// Whether an Error reason may carry this code (seed table, by placement).
fn code_fits(reason: &Reason, code: ErrorCode, device: bool) -> bool {
    use ErrorCode as C;
    match reason {
        Reason::DeviceOffline => code == C::DeviceOffline,
        Reason::CrashLoop { .. } => code == C::CrashLoop,
        Reason::ExitedEarly { .. } => {
            code == if device {
                C::DeviceExecutableFailed
            } else {
                C::CloudExitedEarly
            }
        }
        Reason::Failed { .. } | Reason::Completed | Reason::StoppedManually => {
            code == if device {
                C::DeviceExecutableFailed
            } else {
                C::CloudExecutableFailed
            }
        }
        Reason::DeviceRebooted => device && code == C::DeviceExecutableFailed,
        Reason::NotFound { .. } => {
            code == if device {
                C::DeviceImageNotFound
            } else {
                C::CloudExecutableFailed
            } || (!device && code == C::CloudImageUnavailable)
        }
        Reason::Internal { .. } => match code {
            C::InternalDevice(n) => device && (300..400).contains(&n),
            C::InternalCloud(n) => !device && (200..300).contains(&n),
            C::Internal(n) => (400..500).contains(&n),
            _ => false,
        },
        _ => false,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every invariant of the issue, after every step of a random history.
    #[test]
    fn random_histories_keep_every_invariant(
        exes in prop::collection::vec(exe_gen(), 1..=4),
        deps in 0usize..=2,
        steps in prop::collection::vec(step(), 0..80),
    ) {
        let mut h = Harness::new(spec_of(&exes, deps));
        h.check(Phase::InProgress, &h.d.executables().map(|e| h.d.executable_status(e).unwrap()).collect::<Vec<_>>())?;
        for s in &steps {
            h.run(s)?;
        }
    }

    /// Deploying and answering every command successfully always reaches Succeeded once the
    /// dependencies run, and a deprovision answered in full always ends in DeploymentStopped.
    #[test]
    fn answered_deployments_succeed_and_stop_cleanly(
        exes in prop::collection::vec(exe_gen(), 1..=6),
        deps in 0usize..=2,
    ) {
        let mut h = Harness::new(spec_of(&exes, deps));
        h.run(&Step::Deploy)?;
        for dep in 0..deps as u8 {
            h.run(&Step::Dependency { dep, state: DependencyState::Running })?;
        }
        while !h.outstanding.is_empty() {
            h.run(&Step::Answer { pick: 0, ok: true })?;
        }
        prop_assert_eq!(h.d.phase(), Phase::Succeeded);
        h.run(&Step::Deprovision)?;
        while !h.outstanding.is_empty() {
            h.run(&Step::Answer { pick: 0, ok: true })?;
        }
        prop_assert_eq!(h.d.phase(), Phase::DeploymentStopped);
    }

    /// A machine restored from its record keeps what the record holds (phase, restart counts,
    /// suspensions, crash-loop flags, errors that are down), asks the runtime about everything
    /// that may run, and records the same again.
    #[test]
    fn a_restored_machine_keeps_what_was_recorded(
        exes in prop::collection::vec(exe_gen(), 1..=4),
        deps in 0usize..=2,
        steps in prop::collection::vec(step(), 0..80),
        later_ms in 0i64..100_000,
    ) {
        let spec = spec_of(&exes, deps);
        let mut h = Harness::new(spec.clone());
        for s in &steps {
            h.run(s)?;
        }
        let record = h.d.record();
        let at = h.d.now() + std::time::Duration::from_millis(later_ms as u64);
        let mut back = Deployment::restore(spec, &record, at).unwrap();
        prop_assert_eq!(back.phase(), h.d.phase());
        prop_assert_eq!(back.total_restart_count(), h.d.total_restart_count());
        let mut expected_commands = Vec::new();
        for (i, (before, after)) in record.executables.iter().zip(back.record().executables).enumerate() {
            let exe = ExecutableIndex(i as u16);
            prop_assert_eq!(back.restart_count(exe).unwrap(), before.restarts);
            prop_assert_eq!(after.restarts, before.restarts);
            prop_assert_eq!(after.prepared, before.prepared);
            prop_assert_eq!(after.suspended, before.suspended);
            prop_assert_eq!(after.crash_loop, before.crash_loop);
            let (run, command) = match &before.run {
                RunRecord::Idle if record.deployed && !record.deprovisioning => {
                    (RunRecord::Preparing, Some(Command::Prepare { exe }))
                }
                RunRecord::Preparing => (RunRecord::Preparing, Some(Command::Prepare { exe })),
                RunRecord::Starting => (RunRecord::Starting, Some(Command::Start { exe })),
                RunRecord::Live => (RunRecord::Live, Some(Command::Inspect { exe })),
                RunRecord::Stopping => (
                    RunRecord::Stopping,
                    Some(Command::Stop { exe, grace: lifecycle_config().stop_grace }),
                ),
                other => (other.clone(), None),
            };
            prop_assert_eq!(after.run, run, "executable {}", i);
            expected_commands.extend(command);
        }
        let mut commands = Vec::new();
        while let Some(c) = back.poll_command() {
            commands.push(c);
        }
        prop_assert_eq!(commands, expected_commands);
    }
}
