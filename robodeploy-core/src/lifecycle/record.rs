//! What a durable store keeps of a [`Deployment`] so that a restarted engine carries it on:
//! [`DeploymentRecord`], taken with [`Deployment::record`] and brought back with
//! [`Deployment::restore`]. A record holds the decisions, not the timers.

use serde::{Deserialize, Serialize};

use crate::model::{ErrorCode, Phase, Reason};
use crate::time::Time;

use super::executable::Run;
use super::timer::Timer;
use super::{Command, Deployment, DeploymentSpec, ExecutableIndex, SpecError};

/// Where one executable was when its deployment was recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
#[non_exhaustive]
pub enum RunRecord {
    /// Not deployed yet.
    Idle,
    /// Its image or binary was being prepared.
    Preparing,
    /// A start or restart was commanded and not yet answered.
    Starting,
    /// Running, exited and waiting for a restart, or waiting for an inspection.
    Live,
    /// Not running and not restarted automatically.
    #[serde(rename_all = "camelCase")]
    Down {
        /// Why.
        reason: Reason,
        /// Its error code.
        code: ErrorCode,
    },
    /// A deprovision's stop was commanded and not yet answered.
    Stopping,
    /// Stopped by a deprovision (or never created).
    Stopped,
    /// A deprovision could not stop it.
    #[serde(rename_all = "camelCase")]
    StopFailed {
        /// What went wrong.
        message: String,
    },
}

/// What is kept of one executable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutableRecord {
    /// Where it was.
    pub run: RunRecord,
    /// Its restart count.
    pub restarts: u32,
    /// The restart count its runtime last reported (runtime-enforced restarts).
    #[serde(default)]
    pub runtime_count: u32,
    /// Prepared at least once (an instance may exist).
    pub prepared: bool,
    /// A manual stop suspended its restart policy.
    #[serde(default)]
    pub suspended: bool,
    /// Early exits reached the crash-loop threshold (this many).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_loop: Option<u32>,
}

/// What is kept of one deployment's machine, taken with [`Deployment::record`] and brought back
/// with [`Deployment::restore`].
///
/// Restoring never assumes that what was running still runs; it asks:
///
/// | recorded | restored as | command emitted |
/// |---|---|---|
/// | idle (deployed) or preparing | preparing | `Prepare` |
/// | starting | starting | `Start` (the engine adopts a running instance of the same name and replaces one that never ran) |
/// | running, exited, unknown | unknown | `Inspect` |
/// | down with a reason | down, same reason and code | none |
/// | stopping | stopping | `Stop` |
/// | stopped, stop failed | the same | none |
///
/// Backoff delays and the crash-loop window's exit times are not kept: the first restart after
/// a recovery waits the initial delay. Restart counts are exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRecord {
    /// The phase.
    pub phase: Phase,
    /// `Deploy` was handled.
    pub deployed: bool,
    /// A deprovision is under way.
    pub deprovisioning: bool,
    /// One per executable, in the spec's order.
    pub executables: Vec<ExecutableRecord>,
}

/// Why a record does not fit the spec it is restored with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The spec is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The record has another number of executables than the spec.
    #[error("the record holds {recorded} executables, the spec {spec}")]
    ExecutableCount {
        /// Executables in the record.
        recorded: usize,
        /// Executables in the spec.
        spec: usize,
    },
}

impl Deployment {
    /// What a store keeps of this deployment; see [`DeploymentRecord`].
    pub fn record(&self) -> DeploymentRecord {
        DeploymentRecord {
            phase: self.phase,
            deployed: self.deployed,
            deprovisioning: self.deprovisioning,
            executables: self
                .exes
                .iter()
                .map(|e| ExecutableRecord {
                    run: match &e.run {
                        Run::Idle => RunRecord::Idle,
                        Run::Preparing => RunRecord::Preparing,
                        Run::Starting => RunRecord::Starting,
                        Run::Running { .. } | Run::Exited { .. } | Run::Unknown => RunRecord::Live,
                        Run::Down { reason, code } => RunRecord::Down {
                            reason: reason.clone(),
                            code: *code,
                        },
                        Run::Stopping => RunRecord::Stopping,
                        Run::Stopped => RunRecord::Stopped,
                        Run::StopFailed { message } => RunRecord::StopFailed {
                            message: message.clone(),
                        },
                    },
                    restarts: e.restarts,
                    runtime_count: e.runtime_count,
                    prepared: e.prepared,
                    suspended: e.suspended,
                    crash_loop: e.crash_loop,
                })
                .collect(),
        }
    }

    /// Brings a recorded deployment back at `now`, with the commands that find out what became
    /// of its executables queued (see [`DeploymentRecord`]). Every device is taken
    /// as online; the engine reports the ones that are not.
    ///
    /// ```
    /// use robodeploy_core::lifecycle::*;
    /// use robodeploy_core::model::{Phase, RestartPolicy};
    /// use robodeploy_core::time::Time;
    /// let spec = DeploymentSpec::new(
    ///     "demo",
    ///     vec![ExecutableSpec::device("c", "talker", "robot-1", RestartPolicy::Always)],
    /// );
    /// let t = Time::from_millis(0);
    /// let mut d = Deployment::new(spec.clone(), t).unwrap();
    /// d.handle(Event::Deploy, t).unwrap();
    /// d.handle(Event::Prepared(ExecutableIndex(0)), t).unwrap();
    /// d.handle(Event::Started(ExecutableIndex(0)), t).unwrap();
    /// while d.poll_command().is_some() {}
    /// let record = d.record();
    ///
    /// let mut back = Deployment::restore(spec, &record, Time::from_millis(5_000)).unwrap();
    /// assert_eq!(back.phase(), Phase::Succeeded);
    /// assert_eq!(back.poll_command(), Some(Command::Inspect { exe: ExecutableIndex(0) }));
    /// ```
    pub fn restore(
        spec: DeploymentSpec,
        record: &DeploymentRecord,
        now: Time,
    ) -> Result<Self, RestoreError> {
        let mut d = Deployment::new(spec, now)?;
        if record.executables.len() != d.exes.len() {
            return Err(RestoreError::ExecutableCount {
                recorded: record.executables.len(),
                spec: d.exes.len(),
            });
        }
        d.phase = record.phase;
        d.deployed = record.deployed;
        d.deprovisioning = record.deprovisioning;
        let c = &d.spec.config;
        let (grace, deadline) = (c.stop_grace, now + c.stop_grace + c.stop_answer_margin);
        for (i, r) in record.executables.iter().enumerate() {
            let exe = ExecutableIndex(i as u16);
            let e = &mut d.exes[i];
            e.restarts = r.restarts;
            e.runtime_count = r.runtime_count;
            e.prepared = r.prepared;
            e.suspended = r.suspended;
            e.crash_loop = r.crash_loop;
            let (run, command) = match &r.run {
                RunRecord::Idle if record.deployed && !record.deprovisioning => {
                    (Run::Preparing, Some(Command::Prepare { exe }))
                }
                RunRecord::Idle => (Run::Idle, None),
                RunRecord::Preparing => (Run::Preparing, Some(Command::Prepare { exe })),
                // Also when the runtime enforces the policy: a start cut short (created, never
                // started) or never made is not something the runtime restarts by itself.
                RunRecord::Starting => (Run::Starting, Some(Command::Start { exe })),
                RunRecord::Live => (Run::Unknown, Some(Command::Inspect { exe })),
                RunRecord::Down { reason, code } => (
                    Run::Down {
                        reason: reason.clone(),
                        code: *code,
                    },
                    None,
                ),
                RunRecord::Stopping => {
                    e.timers.set(Timer::StopDeadline, deadline);
                    (Run::Stopping, Some(Command::Stop { exe, grace }))
                }
                RunRecord::Stopped => (Run::Stopped, None),
                RunRecord::StopFailed { message } => (
                    Run::StopFailed {
                        message: message.clone(),
                    },
                    None,
                ),
            };
            e.run = run;
            if let Some(c) = command {
                d.commands.push_back(c);
            }
        }
        d.settle(None);
        Ok(d)
    }
}
