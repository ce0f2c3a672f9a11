//! How a [`Deployment`] reacts to events and timeouts.

use crate::model::{ErrorCode, Reason};
use crate::time::Time;

use super::executable::Run;
use super::history::HistoryEvent;
use super::timer::Timer;
use super::{Command, Deployment, Event, EventError, ExecutableIndex, Failure, RestartMode};

impl Deployment {
    /// Feeds one event in at `now` (clamped to the latest time seen). Drain
    /// [`poll_command`](Deployment::poll_command) and re-read
    /// [`poll_timeout`](Deployment::poll_timeout) afterwards.
    ///
    /// Once the phase is terminal every event is ignored. Errors only for indices the deployment
    /// does not have; nothing changes then.
    pub fn handle(&mut self, event: Event, now: Time) -> Result<(), EventError> {
        // The steady-state events (an executable started or exited) take a short path: the same
        // checks and steps as the general one below, without its moves of an owning event.
        match event {
            Event::Started(i) => self.handle_executable(i, now, |d, i| d.on_started(i)),
            Event::Exited(i, code) => self.handle_executable(i, now, |d, i| d.on_exited(i, code)),
            event => self.handle_any(event, now),
        }
    }

    /// [`handle`](Self::handle) for an event about one executable that owns nothing.
    #[inline(always)]
    fn handle_executable(
        &mut self,
        i: ExecutableIndex,
        now: Time,
        on: impl FnOnce(&mut Self, ExecutableIndex),
    ) -> Result<(), EventError> {
        if i.get() >= self.exes.len() {
            return Err(EventError::UnknownExecutable {
                index: i.0,
                count: self.exes.len(),
            });
        }
        self.now = self.now.max(now);
        if self.phase.is_terminal() {
            return Ok(());
        }
        on(self, i);
        self.settle(Some(i));
        Ok(())
    }

    #[inline(never)]
    fn handle_any(&mut self, event: Event, now: Time) -> Result<(), EventError> {
        self.check(&event)?;
        self.now = self.now.max(now);
        if self.phase.is_terminal() {
            return Ok(());
        }
        let only = event.executable();
        match event {
            Event::Deploy => self.on_deploy(),
            Event::Prepared(i) => self.on_prepared(i),
            Event::PrepareFailed(i, f) => self.on_failure(i, f, true),
            Event::Started(i) => self.on_started(i),
            Event::Exited(i, code) => self.on_exited(i, code),
            Event::StartFailed(i, f) => self.on_failure(i, f, false),
            Event::StoppedManually(i) => self.on_stopped_manually(i),
            Event::RestartObserved(i, count) => self.on_restart_observed(i, count),
            Event::StopDone(i) => self.on_stop_result(i, None),
            Event::StopFailed(i, why) => self.on_stop_result(i, Some(why)),
            Event::DeviceOffline(d) => self.on_device(d.get(), DeviceChange::Offline),
            Event::DeviceOnline(d) => self.on_device(d.get(), DeviceChange::Online),
            Event::DeviceRebooted(d) => self.on_device(d.get(), DeviceChange::Rebooted),
            Event::Dependency(d, state) => self.deps[d.get()] = state,
            Event::Deprovision => self.on_deprovision(),
        }
        self.settle(only);
        Ok(())
    }

    /// Fires the timers due at `now` (clamped). Safe to call at any time, however often.
    pub fn handle_timeout(&mut self, now: Time) {
        self.now = self.now.max(now);
        if self.phase.is_terminal() {
            return;
        }
        let now = self.now;
        let mut fired = false;
        for i in 0..self.exes.len() {
            if !self.exes[i].timers.any_due(now) {
                continue;
            }
            fired = true;
            let exe = ExecutableIndex(i as u16);
            if self.exes[i].timers.take_due(Timer::Restart, now) {
                self.restart(exe);
            }
            if self.exes[i].timers.take_due(Timer::Healthy, now) {
                let e = &mut self.exes[i];
                e.backoff.reset();
                e.early_exits.clear();
                e.crash_loop = None;
            }
            if self.exes[i].timers.take_due(Timer::StopDeadline, now)
                && self.exes[i].run == Run::Stopping
            {
                let waited = self.spec.config.stop_grace + self.spec.config.stop_answer_margin;
                self.exes[i].run = Run::StopFailed {
                    message: format!("no answer to stop within {} ms", waited.as_millis()),
                };
            }
        }
        // Every event ends settled, so when no timer fired there is nothing to record.
        if fired {
            self.settle(None);
        }
    }

    fn check(&self, event: &Event) -> Result<(), EventError> {
        if let Some(i) = event.executable()
            && i.get() >= self.exes.len()
        {
            return Err(EventError::UnknownExecutable {
                index: i.0,
                count: self.exes.len(),
            });
        }
        match event {
            Event::DeviceOffline(d) | Event::DeviceOnline(d) | Event::DeviceRebooted(d)
                if d.get() >= self.devices.len() =>
            {
                Err(EventError::UnknownDevice {
                    index: d.0,
                    count: self.devices.len(),
                })
            }
            Event::Dependency(d, _) if d.get() >= self.deps.len() => {
                Err(EventError::UnknownDependency {
                    index: d.0,
                    count: self.deps.len(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether a runtime event about this executable is to be believed: not while deprovisioning
    /// (only stop results count then) and not while its device is reported offline.
    fn accepts_runtime_event(&self, i: ExecutableIndex) -> bool {
        !self.deprovisioning && !self.exe_offline(&self.exes[i.get()])
    }

    fn on_deploy(&mut self) {
        if self.deployed || self.deprovisioning {
            return;
        }
        self.deployed = true;
        for i in 0..self.exes.len() {
            if !self.exe_offline(&self.exes[i]) {
                self.prepare(ExecutableIndex(i as u16));
            }
        }
    }

    fn prepare(&mut self, exe: ExecutableIndex) {
        self.exes[exe.get()].run = Run::Preparing;
        self.commands.push_back(Command::Prepare { exe });
    }

    fn on_prepared(&mut self, i: ExecutableIndex) {
        if !self.accepts_runtime_event(i) || self.exes[i.get()].run != Run::Preparing {
            return;
        }
        let e = &mut self.exes[i.get()];
        e.prepared = true;
        e.run = Run::Starting;
        self.commands.push_back(Command::Start { exe: i });
    }

    /// A prepare (`preparing`) or start failure: reported, never retried in a loop.
    fn on_failure(&mut self, i: ExecutableIndex, failure: Failure, preparing: bool) {
        let expected = if preparing {
            Run::Preparing
        } else {
            Run::Starting
        };
        if !self.accepts_runtime_event(i) || self.exes[i.get()].run != expected {
            return;
        }
        let e = &mut self.exes[i.get()];
        let (reason, code) = failure.classify(e.is_cloud());
        e.run = Run::Down { reason, code };
        e.timers.stop(Timer::Healthy);
    }

    fn on_started(&mut self, i: ExecutableIndex) {
        if !self.accepts_runtime_event(i) {
            return;
        }
        let now = self.now;
        let reset_add = self.ms.reset_add;
        let e = &mut self.exes[i.get()];
        if matches!(e.run, Run::Running { .. } | Run::Idle) {
            return;
        }
        e.mark_running(now, reset_add);
    }

    fn on_exited(&mut self, i: ExecutableIndex, exit_code: i32) {
        if !self.accepts_runtime_event(i) {
            return;
        }
        let now = self.now;
        let ms = self.ms;
        let e = &mut self.exes[i.get()];
        // Uptime in whole milliseconds (`Time::since`), compared through `ConfigMillis`.
        let uptime_ms = match e.run {
            Run::Running { since } => {
                Some(now.as_millis().saturating_sub(since.as_millis()).max(0) as u64)
            }
            Run::Starting => Some(0),
            // Inspect found it exited: how long it ran is unknown, so it is not called early.
            Run::Unknown => None,
            _ => return,
        };
        let early = uptime_ms.is_some_and(|u| u < ms.early_below);
        e.timers.stop(Timer::Healthy);
        if uptime_ms.is_some_and(|u| u >= ms.reset_from) {
            e.backoff.reset();
            e.early_exits.clear();
            e.crash_loop = None;
        }
        if early {
            let n = e.early_exits.record(now);
            if e.early_exits.is_loop(n) {
                e.crash_loop = Some(n);
            }
        }
        let restarts = e.restarts_after_exit(exit_code);
        e.run = if !restarts {
            e.down_after_exit(exit_code, early)
        } else {
            let attempt = e.restarts.saturating_add(1);
            let delay = match e.mode {
                RestartMode::EngineEnforced => {
                    let d = e.backoff.next_delay();
                    e.timers.set(Timer::Restart, now + d);
                    d
                }
                RestartMode::RuntimeEnforced => std::time::Duration::ZERO,
            };
            Run::Exited {
                exit_code,
                early,
                attempt,
                delay,
            }
        };
        self.history.push(
            now,
            HistoryEvent::Exited {
                exe: i,
                exit_code,
                early,
            },
        );
    }

    /// Emits an engine-enforced restart (the backoff timer fired, or the device rebooted).
    fn restart(&mut self, exe: ExecutableIndex) {
        let e = &mut self.exes[exe.get()];
        e.restarts = e.restarts.saturating_add(1);
        e.run = Run::Starting;
        let attempt = e.restarts;
        self.commands.push_back(Command::Restart { exe, attempt });
        self.history.push(
            self.now,
            HistoryEvent::Restarted {
                exe,
                count: 1,
                observed: false,
            },
        );
    }

    fn on_stopped_manually(&mut self, i: ExecutableIndex) {
        if !self.accepts_runtime_event(i) {
            return;
        }
        let e = &mut self.exes[i.get()];
        // Nothing exists to stop before it is prepared; an executable already down stays as it
        // is, but the suspension holds for it all the same.
        if matches!(e.run, Run::Idle | Run::Preparing) {
            return;
        }
        e.suspended = true;
        if !e.is_live() {
            return;
        }
        e.timers.stop(Timer::Restart);
        e.timers.stop(Timer::Healthy);
        e.run = Run::Down {
            reason: Reason::StoppedManually,
            code: if e.is_cloud() {
                ErrorCode::CloudExecutableFailed
            } else {
                ErrorCode::DeviceExecutableFailed
            },
        };
    }

    fn on_restart_observed(&mut self, i: ExecutableIndex, count: u32) {
        if !self.accepts_runtime_event(i) {
            return;
        }
        let now = self.now;
        let reset_add = self.ms.reset_add;
        let e = &mut self.exes[i.get()];
        if matches!(e.run, Run::Idle | Run::Preparing) {
            return;
        }
        let added = e.observe_runtime_count(count);
        e.restarts = e.restarts.saturating_add(added);
        e.mark_running(now, reset_add);
        if added > 0 {
            self.history.push(
                now,
                HistoryEvent::Restarted {
                    exe: i,
                    count: added,
                    observed: true,
                },
            );
        }
    }

    fn on_stop_result(&mut self, i: ExecutableIndex, failure: Option<String>) {
        let e = &mut self.exes[i.get()];
        if e.run != Run::Stopping {
            return;
        }
        e.timers.stop(Timer::StopDeadline);
        e.run = match failure {
            None => Run::Stopped,
            Some(message) => Run::StopFailed { message },
        };
    }

    fn on_deprovision(&mut self) {
        if self.deprovisioning {
            return;
        }
        self.deprovisioning = true;
        let c = &self.spec.config;
        let (grace, deadline) = (c.stop_grace, self.now + c.stop_grace + c.stop_answer_margin);
        for i in 0..self.exes.len() {
            let offline = self.exe_offline(&self.exes[i]);
            let e = &mut self.exes[i];
            e.timers.stop_all();
            e.run = if !e.prepared {
                // Nothing was created: nothing to stop.
                Run::Stopped
            } else if offline && e.run != Run::Starting {
                // A start in flight is the exception: it may yet be answered (the engine tries a
                // start its device did not answer again), and what it returns is stopped then.
                Run::StopFailed {
                    message: "device offline: could not be stopped".into(),
                }
            } else {
                e.timers.set(Timer::StopDeadline, deadline);
                self.commands.push_back(Command::Stop {
                    exe: ExecutableIndex(i as u16),
                    grace,
                });
                Run::Stopping
            };
        }
    }

    fn on_device(&mut self, device: usize, change: DeviceChange) {
        let was_offline = self.offline[device];
        self.offline[device] = change == DeviceChange::Offline;
        if change == DeviceChange::Online && !was_offline {
            return;
        }
        let c = &self.spec.config;
        let (grace, deadline) = (c.stop_grace, self.now + c.stop_grace + c.stop_answer_margin);
        for i in 0..self.exes.len() {
            if self.exes[i].device != Some(device as u16) {
                continue;
            }
            let exe = ExecutableIndex(i as u16);
            if self.deprovisioning {
                self.device_change_while_stopping(exe, change, grace, deadline);
                continue;
            }
            let deployed = self.deployed;
            let e = &mut self.exes[i];
            e.timers.stop(Timer::Restart);
            e.timers.stop(Timer::Healthy);
            if change == DeviceChange::Rebooted {
                e.suspended = false;
            }
            let action = match (change, &e.run) {
                // The status shows the device offline; the state waits for it to return.
                (DeviceChange::Offline, _) => Action::None,
                (_, Run::Idle) if deployed => Action::Prepare,
                (_, Run::Preparing) => Action::Prepare,
                (DeviceChange::Online, _) if e.is_live() => Action::Inspect,
                (DeviceChange::Online, _) => Action::None,
                (DeviceChange::Rebooted, _) if !e.prepared || e.run == Run::Idle => Action::None,
                (DeviceChange::Rebooted, _) if e.policy.restarts_after_reboot() => Action::Restart,
                (DeviceChange::Rebooted, _) if e.is_live() => Action::Down,
                (DeviceChange::Rebooted, _) => Action::None,
            };
            match action {
                Action::None => {}
                Action::Prepare => self.prepare(exe),
                Action::Inspect => {
                    e.run = Run::Unknown;
                    self.commands.push_back(Command::Inspect { exe });
                }
                Action::Restart => match e.mode {
                    RestartMode::EngineEnforced => self.restart(exe),
                    RestartMode::RuntimeEnforced => e.run = Run::Starting,
                },
                Action::Down => {
                    e.run = Run::Down {
                        reason: Reason::DeviceRebooted,
                        code: ErrorCode::DeviceExecutableFailed,
                    };
                }
            }
        }
    }

    fn device_change_while_stopping(
        &mut self,
        exe: ExecutableIndex,
        change: DeviceChange,
        grace: std::time::Duration,
        deadline: Time,
    ) {
        let e = &mut self.exes[exe.get()];
        if e.run != Run::Stopping {
            return;
        }
        match (change, e.mode) {
            (DeviceChange::Offline, _) => {
                e.timers.stop(Timer::StopDeadline);
                e.run = Run::StopFailed {
                    message: "device went offline before the stop was confirmed".into(),
                };
            }
            (DeviceChange::Online, _) => {}
            // The reboot killed it, and nothing restarts it.
            (DeviceChange::Rebooted, RestartMode::EngineEnforced) => {
                e.timers.stop(Timer::StopDeadline);
                e.run = Run::Stopped;
            }
            // The runtime may have started it again after the reboot: stop it again.
            (DeviceChange::Rebooted, RestartMode::RuntimeEnforced) => {
                e.timers.set(Timer::StopDeadline, deadline);
                self.commands.push_back(Command::Stop { exe, grace });
            }
        }
    }
}

/// What a device change does to one of its executables.
enum Action {
    None,
    Prepare,
    Inspect,
    Restart,
    Down,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeviceChange {
    Offline,
    Online,
    Rebooted,
}
