//! The orchestrator's side: one Zenoh session for the whole fleet, and a [`ZenohRuntime`] per
//! remote robot.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use robodeploy_core::model::DeviceRuntime;
//! use robodeploy_zenoh::{LinkConfig, Orchestrator};
//!
//! // An embedded router the robots' agents connect to.
//! let link = LinkConfig::router(["tcp/0.0.0.0:7447"]);
//! let orchestrator = Orchestrator::open(&link).await?;
//! let robot_1 = Arc::new(orchestrator.runtime("robot-1", DeviceRuntime::Preinstalled)?);
//! # let _ = robot_1; Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::RuntimeFactory;
use robodeploy_core::model::{Device, DeviceRuntime};
use robodeploy_core::runtime::Runtime;
use zenoh::Session;
use zenoh::pubsub::Subscriber;
use zenoh::sample::SampleKind;

use crate::error::LinkError;
use crate::keys::{self, KeyError};
use crate::link::LinkConfig;
use crate::runtime::ZenohRuntime;
use crate::watch::Watch;
use crate::wire::{self, Event, Hello, Reply, Request};

/// How long the orchestrator waits for an agent's answer before calling the robot unreachable.
///
/// A call that gets no answer in time fails with `RuntimeError::Unreachable`; it never hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Every call not named below: health, hello, start, inspect, list, remove, logs
    /// (default 30 s).
    pub call: Duration,
    /// `prepare`, which may pull an image over a slow link (default 15 min).
    pub prepare: Duration,
    /// `exec` (default 5 min). `stop` waits its grace period plus `call`; `run_task` its own
    /// timeout plus `call`.
    pub exec: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            call: Duration::from_secs(30),
            prepare: Duration::from_secs(15 * 60),
            exec: Duration::from_secs(5 * 60),
        }
    }
}

/// The orchestrator's Zenoh session and what it watches of every robot.
///
/// Dropping it closes the subscriptions; the session closes when its last clone is dropped.
#[derive(Debug)]
pub struct Orchestrator {
    session: Session,
    watch: Watch,
    timeouts: Timeouts,
    _alive: Subscriber<()>,
    _events: Subscriber<()>,
}

impl Orchestrator {
    /// Opens a session as `link` says (an embedded router by default) and starts watching
    /// the fleet. Called from within a Tokio runtime.
    ///
    /// # Errors
    /// [`LinkError`] when the configuration is refused or the session cannot be opened.
    pub async fn open(link: &LinkConfig) -> Result<Orchestrator, LinkError> {
        let session = link.open().await?;
        Orchestrator::attach(session, Timeouts::default()).await
    }

    /// Watches the fleet over a session the application opened itself.
    ///
    /// # Errors
    /// [`LinkError::Session`] when the subscriptions cannot be declared.
    pub async fn attach(session: Session, timeouts: Timeouts) -> Result<Orchestrator, LinkError> {
        let watch = Watch::default();
        let w = watch.clone();
        let events = session
            .declare_subscriber(format!("{}/*/events", keys::ROOT))
            .callback(move |sample| {
                let Some(robot) = robot_of(sample.key_expr().as_str()) else {
                    return;
                };
                match wire::decode::<Event>(&sample.payload().to_bytes()) {
                    Ok(event) => w.event(robot, event),
                    // An event that cannot be read is an event lost.
                    Err(_) => w.lose(robot),
                }
            })
            .await
            .map_err(LinkError::session)?;
        let w = watch.clone();
        let s = session.clone();
        // Zenoh calls back on its own threads: the greeting runs on the caller's runtime.
        let handle = tokio::runtime::Handle::current();
        let alive = session
            .liveliness()
            .declare_subscriber(format!("{}/*/alive", keys::ROOT))
            .history(true)
            .callback(move |sample| {
                let Some(robot) = robot_of(sample.key_expr().as_str()) else {
                    return;
                };
                match sample.kind() {
                    SampleKind::Put => {
                        if w.arrived(robot) {
                            handle.spawn(greet(s.clone(), w.clone(), robot.to_owned(), timeouts));
                        }
                    }
                    SampleKind::Delete => w.left(robot),
                }
            })
            .await
            .map_err(LinkError::session)?;
        Ok(Orchestrator {
            session,
            watch,
            timeouts,
            _alive: alive,
            _events: events,
        })
    }

    /// The runtime of remote robot `robot`, whose agent serves a runtime of kind `kind`.
    ///
    /// Its capabilities are those of `kind` (a Docker runtime restarts by itself and pulls
    /// images; a process runtime does neither); an agent that serves another kind is reported
    /// unreachable with the reason, never used for what it cannot do.
    ///
    /// # Errors
    /// [`KeyError`] when `robot` cannot name a key (empty, or holds `/`, `*`, `$`, `?`, `#`).
    pub fn runtime(&self, robot: &str, kind: DeviceRuntime) -> Result<ZenohRuntime, KeyError> {
        keys::robot_chunk(robot)?;
        Ok(ZenohRuntime::new(
            self.session.clone(),
            self.watch.clone(),
            robot.to_owned(),
            kind,
            self.timeouts,
        ))
    }

    /// The runtime of `device`, reached through the agent its `connection` names (or, without
    /// one, the agent serving under the device's own name), of the device's runtime kind.
    ///
    /// # Errors
    /// [`KeyError`] when the agent's name cannot name a key.
    pub fn runtime_of(&self, device: &Device) -> Result<ZenohRuntime, KeyError> {
        let agent = device
            .connection
            .as_ref()
            .and_then(|c| c.agent())
            .unwrap_or(&device.name);
        self.runtime(agent, device.runtime)
    }

    /// A runtime factory for an engine restarted from its store: it brings back every stored
    /// device reached through an agent (its `connection` names one) and leaves the others to
    /// the application.
    pub fn factory(self: &Arc<Self>) -> impl RuntimeFactory {
        let this = Arc::clone(self);
        move |device: &Device, _runtime: &str| -> Option<Arc<dyn Runtime>> {
            device.connection.as_ref()?.agent()?;
            let rt = this.runtime_of(device).ok()?;
            Some(Arc::new(rt))
        }
    }

    /// The session, to declare more on it.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The robots whose agents are up now, sorted.
    pub fn robots_up(&self) -> Vec<String> {
        let mut up: Vec<String> = self
            .watch
            .lock()
            .iter()
            .filter(|(_, r)| r.alive)
            .map(|(name, _)| name.clone())
            .collect();
        up.sort();
        up
    }
}

/// The robot a key of the key space belongs to.
fn robot_of(key: &str) -> Option<&str> {
    let mut chunks = key.split('/');
    (chunks.next()? == keys::ROOT).then_some(())?;
    chunks.next()
}

/// Asks a robot's agent who it is, and records the answer (or why it cannot be used).
async fn greet(session: Session, watch: Watch, robot: String, timeouts: Timeouts) {
    let answer = crate::runtime::ask(&session, &robot, &Request::Hello, timeouts.call).await;
    let hello: Result<Hello, String> = match answer {
        Ok(Reply::Hello(h)) if h.robot == robot => Ok(h),
        Ok(Reply::Hello(h)) => Err(format!(
            "the agent answering for robot {robot} says it serves robot {}",
            h.robot
        )),
        Ok(other) => Err(format!(
            "robot {robot}'s agent answered hello with {other:?}"
        )),
        // No answer yet is not a verdict: the token says it is up.
        Err(crate::runtime::AskError::NoAnswer(_)) => return,
        Err(e) => Err(e.to_string()),
    };
    watch.greeted(&robot, hello);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_robot() {
        assert_eq!(robot_of("robodeploy/r1/alive"), Some("r1"));
        assert_eq!(robot_of("robodeploy/r1/events"), Some("r1"));
        assert_eq!(robot_of("other/r1/alive"), None);
    }
}
