//! The [`Deployment`] machine: construction, getters and the polling side. Event handling is in
//! `handle.rs`.

use std::collections::VecDeque;
use std::time::Duration;

use crate::model::{ErrorCode, ErrorReport, ExecutableStatus, Phase, Reason, StatusKind};
use crate::time::Time;

use super::config::ConfigMillis;
use super::executable::{Exec, Run};
use super::history::{ErrorSource, History, HistoryEvent};
use super::timer::Timer;
use super::{
    Command, DependencyIndex, DependencyState, DeploymentSpec, DeviceIndex, ExecutableIndex,
    ExecutableSpec, Host, LifecycleConfig, PHASE_TRANSITIONS, SpecError,
};

/// The lifecycle of one deployment: phase, executable statuses, errors, restarts, dependencies.
///
/// See the [module docs](super) for the transition table, the polling order and an example.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub(crate) spec: DeploymentSpec,
    /// Distinct device names, in order of first appearance.
    pub(crate) devices: Vec<String>,
    pub(crate) offline: Vec<bool>,
    pub(crate) exes: Vec<Exec>,
    pub(crate) deps: Vec<DependencyState>,
    /// Whether `DEP_E156` was last recorded for each dependency.
    pub(crate) deps_recorded: Vec<bool>,
    pub(crate) phase: Phase,
    pub(crate) deployed: bool,
    pub(crate) deprovisioning: bool,
    pub(crate) now: Time,
    pub(crate) commands: VecDeque<Command>,
    pub(crate) history: History,
    /// The config's per-event durations in milliseconds.
    pub(crate) ms: ConfigMillis,
}

impl Deployment {
    /// A machine in phase InProgress that commands nothing until [`Event::Deploy`](super::Event::Deploy).
    pub fn new(spec: DeploymentSpec, now: Time) -> Result<Self, SpecError> {
        spec.validate()?;
        let mut devices: Vec<String> = Vec::new();
        let mut exes = Vec::with_capacity(spec.executables.len());
        for e in &spec.executables {
            let device = match &e.host {
                Host::Cloud => None,
                Host::Device(name) => Some(match devices.iter().position(|d| d == name) {
                    Some(i) => i,
                    None => {
                        devices.push(name.clone());
                        devices.len() - 1
                    }
                }),
            };
            let device = device.map(|i| u16::try_from(i).unwrap_or(u16::MAX));
            exes.push(Exec::new(
                device,
                e.effective_policy(),
                e.mode,
                &spec.config,
            ));
        }
        let n_deps = spec.dependencies.len();
        Ok(Deployment {
            offline: vec![false; devices.len()],
            devices,
            commands: VecDeque::with_capacity(4 * exes.len() + 8),
            exes,
            deps: vec![DependencyState::Other; n_deps],
            deps_recorded: vec![false; n_deps],
            phase: Phase::InProgress,
            deployed: false,
            deprovisioning: false,
            now,
            history: History::new(spec.config.history_capacity),
            ms: ConfigMillis::new(&spec.config),
            spec,
        })
    }

    // ---- what it is ----

    /// The deployment's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &DeploymentSpec {
        &self.spec
    }

    /// The configuration in force.
    pub fn config(&self) -> &LifecycleConfig {
        &self.spec.config
    }

    /// How many executables it runs.
    pub fn executable_count(&self) -> usize {
        self.exes.len()
    }

    /// Every executable index, in order.
    pub fn executables(&self) -> impl Iterator<Item = ExecutableIndex> + '_ {
        (0..self.exes.len()).map(|i| ExecutableIndex(i as u16))
    }

    /// The resolved spec of an executable; none for an index out of range (from another
    /// deployment). Every getter that takes an index answers none for such an index.
    pub fn executable(&self, exe: ExecutableIndex) -> Option<&ExecutableSpec> {
        self.spec.executables.get(exe.get())
    }

    /// An executable's name.
    pub fn executable_name(&self, exe: ExecutableIndex) -> Option<&str> {
        self.executable(exe).map(|e| e.name.as_str())
    }

    /// The name of an executable's component.
    pub fn component_name(&self, exe: ExecutableIndex) -> Option<&str> {
        self.executable(exe).map(|e| e.component.as_str())
    }

    /// The index of an executable by component and name.
    pub fn executable_index(&self, component: &str, name: &str) -> Option<ExecutableIndex> {
        self.spec
            .executables
            .iter()
            .position(|e| e.component == component && e.name == name)
            .map(|i| ExecutableIndex(i as u16))
    }

    /// The index of a device by name.
    pub fn device_index(&self, name: &str) -> Option<DeviceIndex> {
        self.devices
            .iter()
            .position(|d| d == name)
            .map(|i| DeviceIndex(i as u16))
    }

    /// A device's name.
    pub fn device_name(&self, device: DeviceIndex) -> Option<&str> {
        self.devices.get(device.get()).map(String::as_str)
    }

    /// The device an executable runs on (`None` in the cloud).
    pub fn device_of(&self, exe: ExecutableIndex) -> Option<DeviceIndex> {
        self.exes.get(exe.get())?.device.map(DeviceIndex)
    }

    /// The index of a dependency by name.
    pub fn dependency_index(&self, name: &str) -> Option<DependencyIndex> {
        self.spec
            .dependencies
            .iter()
            .position(|d| d == name)
            .map(|i| DependencyIndex(i as u16))
    }

    // ---- where it is ----

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether a deprovision was requested.
    pub fn is_deprovisioning(&self) -> bool {
        self.deprovisioning
    }

    /// The latest time seen (events' times are clamped to never go below it).
    pub fn now(&self) -> Time {
        self.now
    }

    /// Whether the device is reported offline.
    pub fn is_device_offline(&self, device: DeviceIndex) -> bool {
        self.offline.get(device.get()).copied().unwrap_or(false)
    }

    pub(crate) fn exe_offline(&self, e: &Exec) -> bool {
        e.device.is_some_and(|d| self.offline[usize::from(d)])
    }

    /// An executable's status with its reason.
    pub fn executable_status(&self, exe: ExecutableIndex) -> Option<ExecutableStatus> {
        let e = self.exes.get(exe.get())?;
        Some(e.status(self.exe_offline(e)))
    }

    /// An executable's status kind (no allocation).
    pub fn executable_kind(&self, exe: ExecutableIndex) -> Option<StatusKind> {
        let e = self.exes.get(exe.get())?;
        Some(e.kind(self.exe_offline(e)))
    }

    /// An executable's error code while its status is Error (none otherwise, and for an index
    /// out of range).
    pub fn executable_error(&self, exe: ExecutableIndex) -> Option<ErrorCode> {
        let e = self.exes.get(exe.get())?;
        e.code(self.exe_offline(e))
    }

    /// A dependency's last reported state.
    pub fn dependency_state(&self, dep: DependencyIndex) -> Option<DependencyState> {
        self.deps.get(dep.get()).copied()
    }

    /// The deployment's status: the aggregate of its executables' ([`StatusKind::aggregate`]), and
    /// Error while a dependency is in error (`DEP_E156` is an error of the deployment itself).
    pub fn status(&self) -> StatusKind {
        let dep_error = self.deps.contains(&DependencyState::Error);
        StatusKind::aggregate(
            self.exes
                .iter()
                .map(|e| e.kind(self.exe_offline(e)))
                .chain(dep_error.then_some(StatusKind::Error)),
        )
    }

    /// The current error codes: one per executable in Error and one `DEP_E156` per dependency in
    /// error. Derived from the current state: a code goes away when its cause does.
    pub fn error_codes(&self) -> impl Iterator<Item = (ErrorSource, ErrorCode)> + '_ {
        let exes = self.exes.iter().enumerate().filter_map(|(i, e)| {
            let code = e.code(self.exe_offline(e))?;
            Some((ErrorSource::Executable(ExecutableIndex(i as u16)), code))
        });
        let deps = self.deps.iter().enumerate().filter_map(|(i, d)| {
            (*d == DependencyState::Error).then_some((
                ErrorSource::Dependency(DependencyIndex(i as u16)),
                ErrorCode::DependencyInError,
            ))
        });
        exes.chain(deps)
    }

    /// Whether `code` is among the current error codes.
    pub fn has_error(&self, code: ErrorCode) -> bool {
        self.error_codes().any(|(_, c)| c == code)
    }

    /// The current errors as reports with the component, executable and reason.
    pub fn errors(&self) -> Vec<ErrorReport> {
        self.error_codes()
            .map(|(source, code)| match source {
                ErrorSource::Executable(exe) => ErrorReport {
                    code,
                    component: self.component_name(exe).map(str::to_owned),
                    executable: self.executable_name(exe).map(str::to_owned),
                    detail: self
                        .executable_status(exe)
                        .and_then(|s| s.reason().map(Reason::to_string)),
                },
                ErrorSource::Dependency(dep) => ErrorReport {
                    code,
                    component: None,
                    executable: None,
                    detail: Some(format!(
                        "dependency {} is in error",
                        self.spec.dependencies[dep.get()]
                    )),
                },
            })
            .collect()
    }

    /// The record of what happened (bounded; see [`History`]).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Restarts of one executable: commanded (engine-enforced) plus observed (runtime-enforced).
    pub fn restart_count(&self, exe: ExecutableIndex) -> Option<u32> {
        self.exes.get(exe.get()).map(|e| e.restarts)
    }

    /// The seed's Restart Count: restarts of all executables.
    pub fn total_restart_count(&self) -> u64 {
        self.exes.iter().map(|e| u64::from(e.restarts)).sum()
    }

    /// When an engine-enforced restart of this executable is due, if one is scheduled.
    pub fn next_restart(&self, exe: ExecutableIndex) -> Option<Time> {
        self.exes.get(exe.get())?.timers.get(Timer::Restart)
    }

    /// The earliest scheduled restart of any executable.
    pub fn next_restart_time(&self) -> Option<Time> {
        self.exes
            .iter()
            .filter_map(|e| e.timers.get(Timer::Restart))
            .min()
    }

    /// The last backoff delay of an executable since its backoff was reset.
    pub fn current_backoff(&self, exe: ExecutableIndex) -> Option<Duration> {
        self.exes.get(exe.get())?.backoff.last_delay()
    }

    /// Since when the executable has been running, while it is known to run (its uptime starts
    /// there; `None` while its device is offline).
    pub fn running_since(&self, exe: ExecutableIndex) -> Option<Time> {
        let e = self.exes.get(exe.get())?;
        match e.run {
            Run::Running { since } if !self.exe_offline(e) => Some(since),
            _ => None,
        }
    }

    /// Whether Always/OnFailure are suspended for this executable by a manual stop.
    pub fn is_suspended(&self, exe: ExecutableIndex) -> Option<bool> {
        self.exes.get(exe.get()).map(|e| e.suspended)
    }

    /// The executables a deprovision could not stop, and why.
    pub fn deprovision_failures(&self) -> impl Iterator<Item = (ExecutableIndex, &str)> + '_ {
        self.exes
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.run {
                Run::StopFailed { message } => Some((ExecutableIndex(i as u16), message.as_str())),
                _ => None,
            })
    }

    // ---- what to do ----

    /// The next command to execute, in the order decided. Drain until `None` after every event.
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When to call [`Deployment::handle_timeout`] next, if anything is scheduled (never once the
    /// phase is terminal).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.phase.is_terminal() {
            return None;
        }
        self.exes.iter().filter_map(|e| e.timers.next()).min()
    }

    // ---- shared by the handlers ----

    /// Records error codes that appeared or went away (of `only` that executable when an event
    /// touched no other), then moves the phase if it must.
    ///
    /// Between events every executable's code equals its recorded code, so the common case is a
    /// comparison per executable; recording a change is out of line.
    #[inline(always)]
    pub(crate) fn settle(&mut self, only: Option<ExecutableIndex>) {
        match only {
            Some(exe) => self.settle_executable(exe.get()),
            None => {
                for i in 0..self.exes.len() {
                    self.settle_executable(i);
                }
            }
        }
        if !self.deps.is_empty() {
            self.settle_dependencies();
        }
        if self.phase_may_move() {
            self.settle_phase();
        }
    }

    #[inline(always)]
    fn settle_executable(&mut self, i: usize) {
        let e = &self.exes[i];
        let code = e.code(self.exe_offline(e));
        if code != e.recorded_code {
            self.record_code_change(i, code);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_code_change(&mut self, i: usize, code: Option<ErrorCode>) {
        let now = self.now;
        let source = ErrorSource::Executable(ExecutableIndex(i as u16));
        if let Some(old) = self.exes[i].recorded_code {
            self.history
                .push(now, HistoryEvent::ErrorCleared { source, code: old });
        }
        if let Some(code) = code {
            let reason = self
                .executable_status(ExecutableIndex(i as u16))
                .and_then(|s| s.reason().cloned());
            self.history.push(
                now,
                HistoryEvent::ErrorRaised {
                    source,
                    code,
                    reason,
                },
            );
        }
        self.exes[i].recorded_code = code;
    }

    #[inline(never)]
    fn settle_dependencies(&mut self) {
        let now = self.now;
        for i in 0..self.deps.len() {
            let in_error = self.deps[i] == DependencyState::Error;
            if in_error == self.deps_recorded[i] {
                continue;
            }
            self.deps_recorded[i] = in_error;
            let source = ErrorSource::Dependency(DependencyIndex(i as u16));
            let code = ErrorCode::DependencyInError;
            let event = if in_error {
                HistoryEvent::ErrorRaised {
                    source,
                    code,
                    reason: Some(Reason::DependencyInError {
                        dependency: self.spec.dependencies[i].clone(),
                    }),
                }
            } else {
                HistoryEvent::ErrorCleared { source, code }
            };
            self.history.push(now, event);
        }
    }

    /// False when [`next_phase`](Self::next_phase) is certainly `None`: a terminal phase, or a
    /// deployment not deprovisioning that is not deployed yet or already Succeeded.
    #[inline]
    fn phase_may_move(&self) -> bool {
        !self.phase.is_terminal()
            && (self.deprovisioning || (self.deployed && self.phase != Phase::Succeeded))
    }

    #[inline(never)]
    fn settle_phase(&mut self) {
        if let Some(next) = self.next_phase() {
            debug_assert!(PHASE_TRANSITIONS.contains(&(self.phase, next)));
            self.history.push(
                self.now,
                HistoryEvent::Phase {
                    from: self.phase,
                    to: next,
                },
            );
            self.phase = next;
        }
    }

    /// The phase the deployment moves to now, if it moves (see the table in the module docs).
    fn next_phase(&self) -> Option<Phase> {
        if self.phase.is_terminal() {
            return None;
        }
        if self.deprovisioning {
            let mut failed = false;
            for e in &self.exes {
                match e.run {
                    Run::Stopped => {}
                    Run::StopFailed { .. } => failed = true,
                    _ => return None,
                }
            }
            return Some(if failed {
                Phase::PartiallyDeprovisioned
            } else {
                Phase::DeploymentStopped
            });
        }
        if !self.deployed || self.phase == Phase::Succeeded {
            return None;
        }
        let status = self.status();
        if status == StatusKind::Error {
            return (self.phase != Phase::FailedToStart).then_some(Phase::FailedToStart);
        }
        if status == StatusKind::Running && self.deps.iter().all(|d| *d == DependencyState::Running)
        {
            return Some(Phase::Succeeded);
        }
        (self.phase == Phase::InProgress).then_some(Phase::Provisioning)
    }
}
