//! One executable's state inside a [`Deployment`](super::Deployment), and how its public status,
//! reason and error code derive from it.

use std::time::Duration;

use crate::model::{ErrorCode, ExecutableStatus, Reason, RestartPolicy, StatusKind};
use crate::time::Time;

use super::backoff::{Backoff, EarlyExits};
use super::event::{internal, internal_code};
use super::timer::{Timer, TimerTable};
use super::{LifecycleConfig, RestartMode};

/// Where an executable is in its own life. Statuses derive from this (plus its device's health and
/// the crash-loop flag); nothing stores a status twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// Not deployed yet, or waiting for its device to come online before preparing.
    Idle,
    /// `Prepare` commanded.
    Preparing,
    /// `Start` or `Restart` commanded, or the runtime is expected to restart it.
    Starting,
    /// Running since this instant.
    Running { since: Time },
    /// Exited; restarted by the policy (engine-enforced: when the restart timer fires).
    Exited {
        exit_code: i32,
        early: bool,
        attempt: u32,
        delay: Duration,
    },
    /// Not running and not restarted automatically.
    Down { reason: Reason, code: ErrorCode },
    /// Its device came back; waiting for `Inspect` to answer.
    Unknown,
    /// `Stop` commanded by a deprovision.
    Stopping,
    /// Stopped by a deprovision (or never created).
    Stopped,
    /// A deprovision could not stop it.
    StopFailed { message: String },
}

/// One executable's state.
#[derive(Clone, Debug)]
pub(crate) struct Exec {
    pub(crate) run: Run,
    /// The index of its device among the deployment's devices; `None` in the cloud.
    pub(crate) device: Option<u16>,
    pub(crate) policy: RestartPolicy,
    pub(crate) mode: RestartMode,
    /// Prepared at least once: an instance may exist, a reboot may restart it.
    pub(crate) prepared: bool,
    /// Stopped by hand: Always/OnFailure suspended until the device reboots.
    pub(crate) suspended: bool,
    /// Early exits in the window reached the threshold; ends after a healthy period.
    pub(crate) crash_loop: Option<u32>,
    pub(crate) restarts: u32,
    pub(crate) runtime_count: u32,
    pub(crate) backoff: Backoff,
    pub(crate) early_exits: EarlyExits,
    pub(crate) timers: TimerTable,
    /// The error code last recorded in the history, to record raises and clears.
    pub(crate) recorded_code: Option<ErrorCode>,
}

impl Exec {
    pub(crate) fn new(
        device: Option<u16>,
        policy: RestartPolicy,
        mode: RestartMode,
        c: &LifecycleConfig,
    ) -> Self {
        Exec {
            run: Run::Idle,
            device,
            policy,
            mode,
            prepared: false,
            suspended: false,
            crash_loop: None,
            restarts: 0,
            runtime_count: 0,
            backoff: Backoff::from_config(c),
            early_exits: EarlyExits::new(c.crash_loop_exits, c.crash_loop_window),
            timers: TimerTable::default(),
            recorded_code: None,
        }
    }

    pub(crate) fn is_cloud(&self) -> bool {
        self.device.is_none()
    }

    /// Whether a runtime may hold an instance of it that a reboot kills or an `Inspect` finds.
    pub(crate) fn is_live(&self) -> bool {
        matches!(
            self.run,
            Run::Starting | Run::Running { .. } | Run::Exited { .. } | Run::Unknown
        )
    }

    /// Whether an exit with `exit_code` is followed by a restart (by the engine or the runtime).
    pub(crate) fn restarts_after_exit(&self, exit_code: i32) -> bool {
        !self.suspended && self.policy.restarts_after_exit(exit_code)
    }

    /// Whether the status shows the device offline rather than the executable's own state.
    fn shows_offline(&self, offline: bool) -> bool {
        offline
            && !matches!(
                self.run,
                Run::Stopping | Run::Stopped | Run::StopFailed { .. }
            )
    }

    fn shows_crash_loop(&self) -> Option<u32> {
        match self.run {
            Run::Starting | Run::Running { .. } | Run::Exited { .. } => self.crash_loop,
            _ => None,
        }
    }

    /// The status kind, without building a reason.
    pub(crate) fn kind(&self, offline: bool) -> StatusKind {
        if self.shows_offline(offline) || self.shows_crash_loop().is_some() {
            return StatusKind::Error;
        }
        match &self.run {
            Run::Idle | Run::Preparing | Run::Starting | Run::Stopping => StatusKind::Pending,
            Run::Running { .. } => StatusKind::Running,
            Run::Exited { early: true, .. } | Run::Down { .. } | Run::StopFailed { .. } => {
                StatusKind::Error
            }
            Run::Exited { .. } => StatusKind::Pending,
            Run::Unknown => StatusKind::Unknown,
            Run::Stopped => StatusKind::Stopped,
        }
    }

    /// The error code while the status is Error, `None` otherwise.
    pub(crate) fn code(&self, offline: bool) -> Option<ErrorCode> {
        if self.shows_offline(offline) {
            return Some(ErrorCode::DeviceOffline);
        }
        if self.shows_crash_loop().is_some() {
            return Some(ErrorCode::CrashLoop);
        }
        match &self.run {
            Run::Exited { early: true, .. } => Some(if self.is_cloud() {
                ErrorCode::CloudExitedEarly
            } else {
                ErrorCode::DeviceExecutableFailed
            }),
            Run::Down { code, .. } => Some(*code),
            Run::StopFailed { .. } => Some(internal_code(self.is_cloud(), internal::STOP_FAILED)),
            _ => None,
        }
    }

    /// The full status with its reason.
    pub(crate) fn status(&self, offline: bool) -> ExecutableStatus {
        let error = |reason| ExecutableStatus::Error { reason };
        let pending = |reason| ExecutableStatus::Pending { reason };
        if self.shows_offline(offline) {
            return error(Reason::DeviceOffline);
        }
        if let Some(early_exits) = self.shows_crash_loop() {
            return error(Reason::CrashLoop { early_exits });
        }
        match &self.run {
            Run::Idle | Run::Preparing => pending(Reason::Preparing),
            Run::Starting => pending(Reason::Starting),
            Run::Running { .. } => ExecutableStatus::Running,
            Run::Exited {
                exit_code,
                early: true,
                ..
            } => error(Reason::ExitedEarly {
                exit_code: *exit_code,
            }),
            Run::Exited { attempt, delay, .. } => match self.mode {
                RestartMode::EngineEnforced => pending(Reason::BackingOff {
                    attempt: *attempt,
                    delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                }),
                RestartMode::RuntimeEnforced => pending(Reason::Starting),
            },
            Run::Down { reason, .. } => error(reason.clone()),
            Run::Unknown => ExecutableStatus::Unknown,
            Run::Stopping => pending(Reason::Stopping),
            Run::Stopped => ExecutableStatus::Stopped,
            Run::StopFailed { message } => error(Reason::Internal {
                message: message.clone(),
            }),
        }
    }

    /// The reason and code for an exit that is not followed by a restart.
    pub(crate) fn down_after_exit(&self, exit_code: i32, early: bool) -> Run {
        let reason = if early {
            Reason::ExitedEarly { exit_code }
        } else if exit_code == 0 {
            Reason::Completed
        } else {
            Reason::Failed { exit_code }
        };
        let code = match (self.is_cloud(), early) {
            (false, _) => ErrorCode::DeviceExecutableFailed,
            (true, true) => ErrorCode::CloudExitedEarly,
            (true, false) => ErrorCode::CloudExecutableFailed,
        };
        Run::Down { reason, code }
    }

    /// It runs from `now`; a healthy period of `reset_after` (added as `reset_add` milliseconds,
    /// see `ConfigMillis`) will reset its backoff, forget its early exits and end a crash loop.
    pub(crate) fn mark_running(&mut self, now: Time, reset_add: i64) {
        self.prepared = true;
        self.run = Run::Running { since: now };
        self.timers.stop(Timer::Restart);
        if self.crash_loop.is_some()
            || self.backoff.last_delay().is_some()
            || !self.early_exits.is_empty()
        {
            self.timers.set(
                Timer::Healthy,
                Time::from_millis(now.as_millis().saturating_add(reset_add)),
            );
        }
    }

    /// The restart count increase for a runtime-reported counter value.
    pub(crate) fn observe_runtime_count(&mut self, count: u32) -> u32 {
        let added = if count >= self.runtime_count {
            count - self.runtime_count
        } else {
            count
        };
        self.runtime_count = count;
        added
    }
}
