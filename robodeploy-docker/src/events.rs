//! The engine's container events as [`RuntimeEvent`]s.
//!
//! Docker reports a stop as `kill` (the signal), then `die` (the exit code), then `stop`; a crash
//! or a normal exit as `die` alone; an out-of-memory kill as `oom` then `die`; a restart by the
//! engine's policy as `die` then `start`, with the container's `RestartCount` raised. So:
//!
//! | engine events | runtime events |
//! |---|---|
//! | `start` | `Restarted { restart_count }` when the count rose since last seen, then `Started` |
//! | `die` | `Exited { exit_code, oom_killed, stopped_manually }` |
//! | `destroy` | `Removed` |
//!
//! `stopped_manually` is true when a `kill` preceded the `die` and this runtime did not ask for
//! it (a `docker stop` or `docker kill` by hand). `oom_killed` is true when an `oom` preceded it.
//! The translator is pure: the pump feeds it messages and the restart counts it reads back.
//!
//! The count is read back after the `start` arrives, so a container that restarts quickly (or a
//! pump running late) can already be one or more restarts further on. A restart after a `die`
//! this translator saw therefore counts at most one more than the count before it: every policy
//! restart is reported once, with its own number, however late the count was read.

use std::collections::{HashMap, HashSet};

use bollard::models::EventMessage;
use robodeploy_core::runtime::{InstanceId, RuntimeEvent, RuntimeEventKind};
use robodeploy_core::time::Time;

/// What the pump must do with one engine event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to report (a duplicate, an action robodeploy does not report, a `kill` noted).
    Nothing,
    /// Report this.
    Emit(RuntimeEvent),
    /// The container started: read its restart count back, then call
    /// [`EventTranslator::started`].
    Started {
        /// The container id.
        id: String,
        /// When the engine saw it.
        at: Time,
    },
}

/// Turns engine events into runtime events; see the module's table.
#[derive(Debug, Default)]
pub(crate) struct EventTranslator {
    /// Containers with a `kill` seen and no `die` yet: was the kill someone else's?
    pending_kill: HashMap<String, bool>,
    /// Containers with an `oom` seen and no `die` yet.
    pending_oom: HashSet<String>,
    /// The restart count last reported per container.
    restart_counts: HashMap<String, u32>,
    /// Containers with a `die` seen since their last `start`.
    exited_since_start: HashSet<String>,
    /// Newest engine timestamp seen (ns), and the events seen at exactly that instant: a
    /// reconnect replays from that instant, and these must not be reported twice.
    newest_nanos: i64,
    seen_at_newest: HashSet<(String, String)>,
}

impl EventTranslator {
    /// The newest engine timestamp seen, in nanoseconds since the epoch (0 before any).
    pub(crate) fn newest_nanos(&self) -> i64 {
        self.newest_nanos
    }

    /// Feeds one engine event. `ours` holds the containers this runtime is stopping.
    pub(crate) fn handle(&mut self, msg: &EventMessage, ours: &HashSet<String>) -> Step {
        let Some(actor) = &msg.actor else {
            return Step::Nothing;
        };
        let (Some(id), Some(action)) = (actor.id.clone(), msg.action.clone()) else {
            return Step::Nothing;
        };
        let nanos = msg
            .time_nano
            .or(msg.time.map(|s| s.saturating_mul(1_000_000_000)))
            .unwrap_or(self.newest_nanos);
        if !self.fresh(nanos, &id, &action) {
            return Step::Nothing;
        }
        let at = Time::from_millis(nanos.div_euclid(1_000_000));
        match action.as_str() {
            "kill" => {
                self.pending_kill.insert(id.clone(), !ours.contains(&id));
                Step::Nothing
            }
            "oom" => {
                self.pending_oom.insert(id);
                Step::Nothing
            }
            "die" => {
                let exit_code = actor
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("exitCode"))
                    .and_then(|c| c.parse::<i32>().ok())
                    .unwrap_or(-1);
                let stopped_manually = self.pending_kill.remove(&id).unwrap_or(false);
                let oom_killed = self.pending_oom.remove(&id);
                self.exited_since_start.insert(id.clone());
                Step::Emit(RuntimeEvent {
                    instance: InstanceId(id),
                    at,
                    kind: RuntimeEventKind::Exited {
                        exit_code,
                        oom_killed,
                        stopped_manually,
                    },
                })
            }
            "start" => {
                self.pending_kill.remove(&id);
                self.pending_oom.remove(&id);
                Step::Started { id, at }
            }
            "destroy" => {
                self.pending_kill.remove(&id);
                self.pending_oom.remove(&id);
                self.restart_counts.remove(&id);
                self.exited_since_start.remove(&id);
                Step::Emit(RuntimeEvent {
                    instance: InstanceId(id),
                    at,
                    kind: RuntimeEventKind::Removed,
                })
            }
            _ => Step::Nothing,
        }
    }

    /// Completes a `start`: `restart_count` is what the engine reported for the container (none
    /// when it could not be read, for example because it is already gone). Call it for each
    /// `start` before handling the next message.
    pub(crate) fn started(
        &mut self,
        id: String,
        at: Time,
        restart_count: Option<u32>,
    ) -> Vec<RuntimeEvent> {
        let mut out = Vec::with_capacity(2);
        let after_exit = self.exited_since_start.remove(&id);
        if let Some(read) = restart_count {
            let known = self.restart_counts.get(&id).copied();
            // Read late, the count may already include restarts still to come in the stream.
            let count = match known {
                Some(before) if after_exit => read.min(before.saturating_add(1)),
                _ => read,
            };
            let before = self.restart_counts.insert(id.clone(), count).unwrap_or(0);
            if count > before {
                out.push(RuntimeEvent {
                    instance: InstanceId(id.clone()),
                    at,
                    kind: RuntimeEventKind::Restarted {
                        restart_count: count,
                    },
                });
            }
        }
        out.push(RuntimeEvent {
            instance: InstanceId(id),
            at,
            kind: RuntimeEventKind::Started,
        });
        out
    }

    /// Whether this event is new: not older than the newest seen, and not seen at that instant.
    fn fresh(&mut self, nanos: i64, id: &str, action: &str) -> bool {
        if nanos < self.newest_nanos {
            return false;
        }
        if nanos > self.newest_nanos {
            self.newest_nanos = nanos;
            self.seen_at_newest.clear();
        }
        self.seen_at_newest
            .insert((id.to_owned(), action.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::EventActor;

    use super::*;

    fn msg(id: &str, action: &str, nanos: i64, attrs: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            action: Some(action.to_owned()),
            actor: Some(EventActor {
                id: Some(id.to_owned()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
            }),
            time_nano: Some(nanos),
            ..EventMessage::default()
        }
    }

    fn exited(step: Step) -> (i32, bool, bool) {
        match step {
            Step::Emit(RuntimeEvent {
                kind:
                    RuntimeEventKind::Exited {
                        exit_code,
                        oom_killed,
                        stopped_manually,
                    },
                ..
            }) => (exit_code, oom_killed, stopped_manually),
            other => panic!("expected an exit, got {other:?}"),
        }
    }

    #[test]
    fn a_crash_is_an_exit_with_its_code() {
        let mut t = EventTranslator::default();
        let step = t.handle(
            &msg("c1", "die", 2_000_000, &[("exitCode", "3")]),
            &HashSet::new(),
        );
        assert_eq!(exited(step), (3, false, false));
    }

    #[test]
    fn a_kill_nobody_here_asked_for_is_a_manual_stop() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        assert_eq!(
            t.handle(&msg("c1", "kill", 1, &[("signal", "15")]), &none),
            Step::Nothing
        );
        let step = t.handle(&msg("c1", "die", 2, &[("exitCode", "143")]), &none);
        assert_eq!(exited(step), (143, false, true));
        // The next crash of the same container is not manual.
        let step = t.handle(&msg("c1", "die", 3, &[("exitCode", "1")]), &none);
        assert_eq!(exited(step), (1, false, false));
    }

    #[test]
    fn our_own_stop_is_not_manual() {
        let mut t = EventTranslator::default();
        let ours: HashSet<String> = ["c1".to_owned()].into();
        t.handle(&msg("c1", "kill", 1, &[("signal", "15")]), &ours);
        let step = t.handle(&msg("c1", "die", 2, &[("exitCode", "0")]), &ours);
        assert_eq!(exited(step), (0, false, false));
    }

    #[test]
    fn oom_marks_the_next_exit() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        t.handle(&msg("c1", "oom", 1, &[]), &none);
        let step = t.handle(&msg("c1", "die", 2, &[("exitCode", "137")]), &none);
        assert_eq!(exited(step), (137, true, false));
    }

    #[test]
    fn a_start_with_a_higher_restart_count_is_a_restart() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        let at = Time::from_millis(5);
        assert_eq!(
            t.handle(&msg("c1", "start", 5_000_000, &[]), &none),
            Step::Started {
                id: "c1".into(),
                at
            }
        );
        let first = t.started("c1".into(), at, Some(0));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kind, RuntimeEventKind::Started);
        let again = t.started("c1".into(), at, Some(1));
        assert_eq!(
            again.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
            vec![
                RuntimeEventKind::Restarted { restart_count: 1 },
                RuntimeEventKind::Started
            ]
        );
        // Unknown count: only the start.
        assert_eq!(t.started("c1".into(), at, None).len(), 1);
    }

    /// The kinds reported for one `die` then `start` of `id`, with `read` as the count read back.
    fn restart(t: &mut EventTranslator, id: &str, nanos: i64, read: u32) -> Vec<RuntimeEventKind> {
        let none = HashSet::new();
        t.handle(&msg(id, "die", nanos, &[("exitCode", "1")]), &none);
        let Step::Started { id, at } = t.handle(&msg(id, "start", nanos + 1, &[]), &none) else {
            panic!("a start");
        };
        t.started(id, at, Some(read))
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn a_count_read_after_the_next_restart_still_reports_each_restart_once() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        t.handle(&msg("c1", "start", 1, &[]), &none);
        assert_eq!(
            t.started("c1".into(), Time::from_millis(0), Some(0)).len(),
            1
        );
        // The first restart's count is read when the container has already restarted again.
        let restarted = |n| {
            vec![
                RuntimeEventKind::Restarted { restart_count: n },
                RuntimeEventKind::Started,
            ]
        };
        assert_eq!(restart(&mut t, "c1", 10, 2), restarted(1));
        assert_eq!(restart(&mut t, "c1", 20, 2), restarted(2));
        assert_eq!(restart(&mut t, "c1", 30, 3), restarted(3));
        // A start by hand after an exit does not raise the engine's count: no restart.
        assert_eq!(
            restart(&mut t, "c1", 40, 3),
            vec![RuntimeEventKind::Started]
        );
    }

    #[test]
    fn replayed_events_are_reported_once() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        let die = msg("c1", "die", 10, &[("exitCode", "0")]);
        assert!(matches!(t.handle(&die, &none), Step::Emit(_)));
        assert_eq!(t.handle(&die, &none), Step::Nothing);
        assert_eq!(
            t.handle(&msg("c0", "die", 9, &[("exitCode", "0")]), &none),
            Step::Nothing
        );
        // Another container at the same instant is new.
        assert!(matches!(
            t.handle(&msg("c2", "die", 10, &[("exitCode", "0")]), &none),
            Step::Emit(_)
        ));
        assert_eq!(t.newest_nanos(), 10);
    }

    #[test]
    fn destroy_is_removed_and_other_actions_are_ignored() {
        let mut t = EventTranslator::default();
        let none = HashSet::new();
        assert!(matches!(
            t.handle(&msg("c1", "destroy", 1, &[]), &none),
            Step::Emit(RuntimeEvent {
                kind: RuntimeEventKind::Removed,
                ..
            })
        ));
        assert_eq!(t.handle(&msg("c1", "create", 2, &[]), &none), Step::Nothing);
        assert_eq!(
            t.handle(&msg("c1", "exec_start: sh", 3, &[]), &none),
            Step::Nothing
        );
    }
}
