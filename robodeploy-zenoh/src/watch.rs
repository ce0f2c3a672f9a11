//! What the orchestrator knows of each robot between calls: whether its agent is up, whether
//! it speaks our protocol, and who listens to its runtime events.
//!
//! One liveliness subscriber and one event subscriber serve the whole fleet (100,000 robots
//! are two subscriptions, not 200,000); both feed this table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use robodeploy_core::runtime::RuntimeEvent;
use tokio::sync::mpsc;

use crate::wire::{Event, Hello};

/// How many events a subscriber may have waiting before the oldest are dropped (and the robot
/// treated as having lost events).
pub(crate) const EVENT_BUFFER: usize = 1024;

/// One robot as the orchestrator sees it.
#[derive(Debug, Default)]
pub(crate) struct Robot {
    /// Its agent's liveliness token is declared.
    pub(crate) alive: bool,
    /// What its agent said of itself, or why it cannot be used (another protocol version).
    pub(crate) hello: Option<Result<Hello, String>>,
    /// Something may have happened that no event told us (the agent went away and came back,
    /// or a number was skipped): the next health check reports the robot unreachable once, so
    /// the engine looks at everything there again instead of guessing.
    pub(crate) lost: bool,
    /// The number the next event should carry, once one was seen.
    pub(crate) next_seq: Option<u64>,
    /// Who listens to its events.
    pub(crate) listeners: Vec<mpsc::Sender<RuntimeEvent>>,
    /// Woken when the agent goes away: log streams of this robot end.
    pub(crate) gone: Vec<tokio::sync::oneshot::Sender<()>>,
}

/// The table of robots, shared by the subscribers' callbacks and the runtimes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Watch {
    robots: Arc<Mutex<HashMap<String, Robot>>>,
}

impl Watch {
    /// The table, locked. A callback that panicked while holding it cannot leave it half
    /// written (every change is one assignment), so a poisoned lock is used as it is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<String, Robot>> {
        self.robots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The agent of `robot` declared its token. Returns whether it was away (so its hello is
    /// asked again).
    pub(crate) fn arrived(&self, robot: &str) -> bool {
        let mut robots = self.lock();
        let r = robots.entry(robot.to_owned()).or_default();
        let was_away = !r.alive;
        r.alive = true;
        was_away
    }

    /// The agent of `robot` went away (closed, killed, or its link timed out).
    pub(crate) fn left(&self, robot: &str) {
        let mut robots = self.lock();
        let r = robots.entry(robot.to_owned()).or_default();
        r.alive = false;
        r.lost = true;
        r.hello = None;
        r.next_seq = None;
        for g in r.gone.drain(..) {
            let _ = g.send(());
        }
    }

    /// What the agent of `robot` said when asked who it is.
    pub(crate) fn greeted(&self, robot: &str, hello: Result<Hello, String>) {
        self.lock().entry(robot.to_owned()).or_default().hello = Some(hello);
    }

    /// An event of `robot`: checked against the numbering, then handed to every listener.
    pub(crate) fn event(&self, robot: &str, event: Event) {
        let mut robots = self.lock();
        let r = robots.entry(robot.to_owned()).or_default();
        if r.next_seq.is_some_and(|n| n != event.seq) {
            r.lost = true;
        }
        r.next_seq = Some(event.seq.wrapping_add(1));
        let mut overflowed = false;
        r.listeners
            .retain(|l| match l.try_send(event.item.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    overflowed = true;
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        if overflowed {
            r.lost = true;
        }
    }

    /// Something of `robot`'s was lost (an event that could not be read).
    pub(crate) fn lose(&self, robot: &str) {
        self.lock().entry(robot.to_owned()).or_default().lost = true;
    }

    /// A new listener to `robot`'s events.
    pub(crate) fn listen(&self, robot: &str) -> mpsc::Receiver<RuntimeEvent> {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        self.lock()
            .entry(robot.to_owned())
            .or_default()
            .listeners
            .push(tx);
        rx
    }

    /// A signal fired when `robot`'s agent goes away.
    pub(crate) fn on_gone(&self, robot: &str) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut robots = self.lock();
        let r = robots.entry(robot.to_owned()).or_default();
        r.gone.retain(|g| !g.is_closed());
        r.gone.push(tx);
        rx
    }

    /// Whether `robot` can be used now; reports a loss once (see [`Robot::lost`]).
    pub(crate) fn check(&self, robot: &str) -> Result<(), String> {
        let mut robots = self.lock();
        let r = robots.entry(robot.to_owned()).or_default();
        if !r.alive {
            return Err(format!("no agent is up for robot {robot}"));
        }
        if let Some(Err(why)) = &r.hello {
            return Err(why.clone());
        }
        if std::mem::take(&mut r.lost) {
            return Err(format!(
                "robot {robot}'s agent came back or events were lost: looking again"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::runtime::{InstanceId, RuntimeEventKind};
    use robodeploy_core::time::Time;

    fn ev(seq: u64) -> Event {
        Event {
            seq,
            item: RuntimeEvent {
                instance: InstanceId("i".into()),
                at: Time::from_millis(seq as i64),
                kind: RuntimeEventKind::Started,
            },
        }
    }

    #[test]
    fn a_robot_without_an_agent_is_unreachable() {
        let w = Watch::default();
        assert_eq!(w.check("r1"), Err("no agent is up for robot r1".into()));
        w.arrived("r1");
        assert_eq!(w.check("r1"), Ok(()));
    }

    #[test]
    fn a_gap_in_the_numbers_is_reported_once() {
        let w = Watch::default();
        w.arrived("r1");
        let mut rx = w.listen("r1");
        w.event("r1", ev(4));
        w.event("r1", ev(5));
        assert_eq!(
            w.check("r1"),
            Ok(()),
            "the first number seen starts the count"
        );
        w.event("r1", ev(7));
        assert!(w.check("r1").unwrap_err().contains("events were lost"));
        assert_eq!(w.check("r1"), Ok(()), "reported once");
        let seen: Vec<i64> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.at.as_millis())
            .collect();
        assert_eq!(seen, [4, 5, 7]);
    }

    #[test]
    fn an_agent_that_went_away_and_came_back_is_reported_once() {
        let w = Watch::default();
        w.arrived("r1");
        w.event("r1", ev(0));
        let gone = w.on_gone("r1");
        w.left("r1");
        assert!(w.check("r1").unwrap_err().contains("no agent"));
        assert!(w.arrived("r1"));
        assert!(w.check("r1").unwrap_err().contains("came back"));
        assert_eq!(w.check("r1"), Ok(()));
        // The restarted agent numbers from 0 again: not a gap.
        w.event("r1", ev(0));
        assert_eq!(w.check("r1"), Ok(()));
        assert!(gone.blocking_recv().is_ok());
    }

    #[test]
    fn an_incompatible_agent_stays_unreachable() {
        let w = Watch::default();
        w.arrived("r1");
        w.greeted("r1", Err("protocol version 2 is not this build's 1".into()));
        for _ in 0..2 {
            assert!(w.check("r1").unwrap_err().contains("protocol version 2"));
        }
    }
}
