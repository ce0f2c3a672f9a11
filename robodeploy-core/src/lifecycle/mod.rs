//! The lifecycle of one deployment as a pure state machine (sans-IO, quinn-proto's `Connection`
//! is the anchor): its phase, each executable's status and reason, its error codes, restarts and
//! restart count, and its dependencies, as the Rapyuta.io seed describes them.
//!
//! A [`Deployment`] is built from a resolved [`DeploymentSpec`] (executables with their host,
//! effective [`RestartPolicy`](crate::model::RestartPolicy) and [`RestartMode`], dependencies, a
//! [`LifecycleConfig`]). It reads no clock, does no I/O and uses no randomness: every input comes
//! with the time it happened.
//!
//! # Driving it
//!
//! 1. Feed what happened: [`Deployment::handle`] with an [`Event`] and `now`, or
//!    [`Deployment::handle_timeout`] when the time from `poll_timeout` has come (calling it early
//!    or twice is harmless).
//! 2. Drain [`Deployment::poll_command`] until `None` and execute each [`Command`] in order; the
//!    answers come back as events.
//! 3. Re-read [`Deployment::poll_timeout`] and sleep until then or the next event.
//!
//! Times must not go backwards; a time earlier than one already seen is taken as the latest seen.
//!
//! # Phases
//!
//! Every phase change the machine makes is one row of this table ([`PHASE_TRANSITIONS`] holds the
//! same pairs; a test checks the two agree and the property tests check every change against it):
//!
//! | from | to | when |
//! |---|---|---|
//! | InProgress | Provisioning | `Deploy`: `Prepare` goes out for every executable on a reachable host |
//! | InProgress | FailedToStart | `Deploy` while an executable is already in Error (its device offline) or a dependency is in error |
//! | InProgress | DeploymentStopped | `Deprovision` before `Deploy`: nothing was created |
//! | Provisioning | Succeeded | every executable Running and every dependency Running |
//! | Provisioning | FailedToStart | the deployment's status becomes Error (an executable in Error, or a dependency in error) |
//! | Provisioning | DeploymentStopped | deprovision finished, every executable stopped |
//! | Provisioning | PartiallyDeprovisioned | deprovision finished, at least one executable could not be stopped |
//! | Succeeded | DeploymentStopped | deprovision finished, every executable stopped |
//! | Succeeded | PartiallyDeprovisioned | deprovision finished, at least one executable could not be stopped |
//! | FailedToStart | Succeeded | restarts or a device's return brought every executable and dependency to Running |
//! | FailedToStart | DeploymentStopped | deprovision finished, every executable stopped |
//! | FailedToStart | PartiallyDeprovisioned | deprovision finished, at least one executable could not be stopped |
//!
//! DeploymentStopped and PartiallyDeprovisioned are terminal: every later event is ignored. After
//! Succeeded, failures show in the statuses and error codes while the phase stays Succeeded (the
//! seed lists Error among the statuses of the Succeeded phase). A deprovision keeps the phase
//! until every stop is answered ([`Deployment::is_deprovisioning`] says it is under way).
//!
//! # Statuses, reasons and error codes
//!
//! | executable situation | status (reason) | code, device / cloud |
//! |---|---|---|
//! | before `Deploy`, preparing | Pending (Preparing) | |
//! | `Start`/`Restart` sent, or the runtime is restarting it | Pending (Starting) | |
//! | running | Running | |
//! | exited after the minimum uptime, restart scheduled | Pending (BackingOff) | |
//! | exited before the minimum uptime, restart scheduled | Error (ExitedEarly) | E152 / E154 |
//! | early exits reached the crash-loop threshold (until a healthy period) | Error (CrashLoop) | E163 |
//! | exited and not restarted: early / code 0 / non-zero | Error (ExitedEarly / Completed / Failed) | E152 / E154, E152 / E155 |
//! | image not found or not pullable | Error (NotFound, PullFailed) | E161 / E153 |
//! | binary not in `$PATH` | Error (NotFound), never retried in a loop | E161 / E155 |
//! | architecture or ROS distro mismatch, images missing on a docker device | Error (Validation) | E162 |
//! | the runtime failed internally | Error (Internal) | E3xx / E2xx |
//! | robodeploy itself failed | Error (Internal) | E4xx |
//! | stopped by hand | Error (StoppedManually) | E152 / E155 |
//! | device rebooted, policy OnFailure or Never | Error (DeviceRebooted) | E152 |
//! | device offline | Error (DeviceOffline) | E151 |
//! | device back online, not inspected yet | Unknown | |
//! | being stopped / stopped by a deprovision | Pending (Stopping) / Stopped | |
//! | a deprovision could not stop it | Error (Internal) | E304 / E204 |
//!
//! A dependency in error adds `DEP_E156` to the deployment and makes its status Error; the
//! deployment's status is otherwise the aggregate of its executables'
//! ([`StatusKind::aggregate`](crate::model::StatusKind::aggregate)), computed on demand. Codes are
//! derived from the current state, so they clear when their cause does (the device is back, the
//! dependency Running again, the executable running again); the [`History`] keeps when each was
//! raised and cleared.
//!
//! # Restarts
//!
//! Device executables follow their effective policy: Always restarts after any exit of its own and
//! after a device reboot; OnFailure after a non-zero exit; Never not at all. Cloud executables
//! always restart. Exceptions, from the seed:
//! - a manual stop ([`Event::StoppedManually`]) suspends Always and OnFailure for that executable
//!   until its device reboots (even if it is started by hand in between, unlike `docker start`,
//!   which re-arms Docker's policy);
//! - a shared component keeps the first deployment's policy on its device: resolve it with
//!   [`SharedComponents`] when building the spec;
//! - a failed prepare or start (a binary missing from `$PATH`) is reported, not retried; a device
//!   reboot under Always tries once more.
//!
//! In [`RestartMode::EngineEnforced`] the machine emits [`Command::Restart`] after a [`Backoff`]
//! delay; in [`RestartMode::RuntimeEnforced`] the runtime restarts by itself and the machine
//! observes ([`Event::RestartObserved`]) and counts. Restart Count is the number of `Restart`
//! commands emitted plus the restarts observed. The backoff resets, the early exits are forgotten
//! and a crash loop ends after the executable has run for [`LifecycleConfig::reset_after`].
//!
//! # Dependencies
//!
//! Executables prepare and start without waiting for dependencies (a ROS node retries its master
//! connection itself, and waiting would hide start-up failures until the dependency is up); only
//! the phase waits: it does not reach Succeeded while a dependency is not Running. The engine
//! reports dependency changes with [`Event::Dependency`]. [`DependencyGraph`] orders many
//! deployments and detects cycles.
//!
//! # Deprovision
//!
//! [`Event::Deprovision`] cancels every timer and restart and sends `Stop` to every executable that
//! was prepared (those never prepared are Stopped at once). Each stop is answered by `StopDone` or
//! `StopFailed`; an executable on an offline device (unless it is Starting: a start still in
//! flight may yet be answered, and the engine stops what it returns), one whose device goes
//! offline before the answer, or one unanswered after grace plus
//! [`LifecycleConfig::stop_answer_margin`] could not be stopped. When all are answered the phase is DeploymentStopped, or PartiallyDeprovisioned with
//! [`Deployment::deprovision_failures`] saying which and why. A shared component's executable
//! still used by other deployments ([`SharedComponents::used_by_others`]) should not really be
//! stopped: the engine answers its `Stop` with `StopDone` without touching it.
//!
//! # Example
//!
//! ```
//! use robodeploy_core::lifecycle::*;
//! use robodeploy_core::model::{Phase, RestartPolicy, StatusKind};
//! use robodeploy_core::time::Time;
//!
//! let spec = DeploymentSpec::new(
//!     "talker",
//!     vec![ExecutableSpec::device("talker", "talker", "robot-1", RestartPolicy::Always)],
//! );
//! let mut d = Deployment::new(spec, Time::from_millis(0)).unwrap();
//! let exe = ExecutableIndex(0);
//! d.handle(Event::Deploy, Time::from_millis(0)).unwrap();
//! assert_eq!(d.poll_command(), Some(Command::Prepare { exe }));
//! d.handle(Event::Prepared(exe), Time::from_millis(500)).unwrap();
//! assert_eq!(d.poll_command(), Some(Command::Start { exe }));
//! d.handle(Event::Started(exe), Time::from_millis(600)).unwrap();
//! assert_eq!((d.phase(), d.status()), (Phase::Succeeded, StatusKind::Running));
//!
//! // It crashes after a minute: restarted after the first backoff delay (1 s by default).
//! d.handle(Event::Exited(exe, 1), Time::from_millis(60_600)).unwrap();
//! assert_eq!(d.poll_timeout(), Some(Time::from_millis(61_600)));
//! d.handle_timeout(Time::from_millis(61_600));
//! assert_eq!(d.poll_command(), Some(Command::Restart { exe, attempt: 1 }));
//! assert_eq!(d.total_restart_count(), 1);
//! ```

mod backoff;
mod command;
mod config;
mod event;
mod executable;
mod graph;
mod handle;
mod history;
mod machine;
mod record;
mod shared;
mod spec;
mod timer;

pub use backoff::Backoff;
pub use command::Command;
pub use config::{ConfigError, LifecycleConfig};
pub use event::{DependencyState, Event, EventError, Failure, internal};
pub use graph::{DependencyGraph, GraphError};
pub use history::{ErrorSource, History, HistoryEntry, HistoryEvent};
pub use machine::Deployment;
pub use record::{DeploymentRecord, ExecutableRecord, RestoreError, RunRecord};
pub use shared::SharedComponents;
pub use spec::{
    DependencyIndex, DeploymentSpec, DeviceIndex, ExecutableIndex, ExecutableSpec, Host,
    RestartMode, SpecError,
};

use crate::model::Phase;

/// Every phase change the machine can make, as `(from, to)`; the table in the module docs in
/// code form.
pub const PHASE_TRANSITIONS: &[(Phase, Phase)] = &[
    (Phase::InProgress, Phase::Provisioning),
    (Phase::InProgress, Phase::FailedToStart),
    (Phase::InProgress, Phase::DeploymentStopped),
    (Phase::Provisioning, Phase::Succeeded),
    (Phase::Provisioning, Phase::FailedToStart),
    (Phase::Provisioning, Phase::DeploymentStopped),
    (Phase::Provisioning, Phase::PartiallyDeprovisioned),
    (Phase::Succeeded, Phase::DeploymentStopped),
    (Phase::Succeeded, Phase::PartiallyDeprovisioned),
    (Phase::FailedToStart, Phase::Succeeded),
    (Phase::FailedToStart, Phase::DeploymentStopped),
    (Phase::FailedToStart, Phase::PartiallyDeprovisioned),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(name: &str) -> Phase {
        Phase::ALL
            .into_iter()
            .find(|p| format!("{p:?}") == name)
            .unwrap_or_else(|| panic!("unknown phase {name:?} in the docs table"))
    }

    #[test]
    fn the_documented_table_and_the_code_agree() {
        let source = include_str!("mod.rs");
        let start = source.find("//! | from | to | when |").unwrap();
        let rows: Vec<(Phase, Phase)> = source[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with("//! |"))
            .map(|l| {
                let cells: Vec<&str> = l.trim_start_matches("//! |").split('|').collect();
                (phase(cells[0].trim()), phase(cells[1].trim()))
            })
            .collect();
        assert_eq!(rows, PHASE_TRANSITIONS);
    }

    #[test]
    fn no_transition_leaves_a_terminal_phase() {
        assert!(
            PHASE_TRANSITIONS
                .iter()
                .all(|(from, _)| !from.is_terminal())
        );
    }
}
