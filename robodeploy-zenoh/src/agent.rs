//! [`Agent`]: the robot's side. It serves a local runtime under the robot's keys, publishes
//! the runtime's events numbered, streams logs, and holds a liveliness token while it is up.
//!
//! ```no_run
//! # async fn demo(runtime: std::sync::Arc<dyn robodeploy_core::runtime::Runtime>) -> Result<(), Box<dyn std::error::Error>> {
//! use robodeploy_zenoh::{Agent, LinkConfig};
//!
//! let session = LinkConfig::client(["tcp/127.0.0.1:7447"]).open().await?;
//! let agent = Agent::serve(&session, "robot-1", runtime).await?;
//! // … until told to stop: what runs keeps running.
//! agent.close().await;
//! # Ok(()) }
//! ```
//!
//! Executables outlive the agent: closing it (or killing it) stops nothing. An agent started
//! again serves the same runtime, whose instances the orchestrator lists and adopts.

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::{Runtime, RuntimeError};
use tokio::task::JoinHandle;
use zenoh::Session;
use zenoh::liveliness::LivelinessToken;
use zenoh::qos::CongestionControl;
use zenoh::query::Query;

use crate::error::LinkError;
use crate::keys;
use crate::wire::{self, Answer, Event, Hello, LogItem, Numbered, Reply, Request, WireError};

/// A robot's agent, serving one runtime until closed.
#[derive(Debug)]
pub struct Agent {
    robot: String,
    token: Option<LivelinessToken>,
    tasks: Vec<JoinHandle<()>>,
}

impl Agent {
    /// Serves `runtime` as robot `robot` over `session`: its events are published from now on,
    /// its calls answered, and its liveliness token declared last (so an orchestrator that sees
    /// the robot up misses none of its events).
    ///
    /// # Errors
    /// [`LinkError::Key`] for a robot name that cannot name a key; [`LinkError::Session`]
    /// when a declaration is refused.
    pub async fn serve(
        session: &Session,
        robot: &str,
        runtime: Arc<dyn Runtime>,
    ) -> Result<Agent, LinkError> {
        keys::robot_chunk(robot)?;
        let events = session
            .declare_publisher(keys::events(robot)?)
            .congestion_control(CongestionControl::Block)
            .await
            .map_err(LinkError::session)?;
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let pump = tokio::spawn(publish_events(runtime.clone(), events, subscribed_tx));
        // The first subscription attempt is made before the robot is announced.
        let _ = subscribed.await;
        let queryable = session
            .declare_queryable(format!("{}/{robot}/rt/*", keys::ROOT))
            .await
            .map_err(LinkError::session)?;
        let served = {
            let session = session.clone();
            let robot = robot.to_owned();
            tokio::spawn(async move {
                while let Ok(query) = queryable.recv_async().await {
                    let (session, robot, runtime) =
                        (session.clone(), robot.clone(), runtime.clone());
                    tokio::spawn(async move { answer(&session, &robot, runtime, query).await });
                }
            })
        };
        let token = session
            .liveliness()
            .declare_token(keys::alive(robot)?)
            .await
            .map_err(LinkError::session)?;
        Ok(Agent {
            robot: robot.to_owned(),
            token: Some(token),
            tasks: vec![pump, served],
        })
    }

    /// The robot served.
    pub fn robot(&self) -> &str {
        &self.robot
    }

    /// Stops serving: the token is withdrawn first (the orchestrator sees the robot offline at
    /// once), then calls are no longer answered. Nothing the runtime runs is stopped.
    pub async fn close(mut self) {
        if let Some(token) = self.token.take() {
            let _ = token.undeclare().await;
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Publishes the runtime's events, numbered. When the runtime's own stream breaks (its Docker
/// engine restarted, say), events may have been lost: a number is skipped, so that the
/// orchestrator looks at the robot again instead of trusting what it last heard.
async fn publish_events(
    runtime: Arc<dyn Runtime>,
    publisher: zenoh::pubsub::Publisher<'static>,
    subscribed: tokio::sync::oneshot::Sender<()>,
) {
    let mut subscribed = Some(subscribed);
    let mut seq: u64 = 0;
    loop {
        let stream = runtime.events().await;
        if let Some(s) = subscribed.take() {
            let _ = s.send(());
        }
        if let Ok(mut rx) = stream {
            while let Some(item) = rx.recv().await {
                let event = Event { seq, item };
                seq += 1;
                let _ = publisher.put(wire::encode(&event)).await;
            }
            seq += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Answers one query.
async fn answer(session: &Session, robot: &str, runtime: Arc<dyn Runtime>, query: Query) {
    let bytes = query.payload().map(|p| p.to_bytes()).unwrap_or_default();
    let answer: Answer = match wire::decode::<Request>(&bytes) {
        Ok(request) => carry_out(session, robot, runtime, request).await,
        Err(e) => Err(e),
    };
    let _ = query
        .reply(query.key_expr().clone(), wire::encode(&answer))
        .await;
}

/// Carries out one runtime call.
async fn carry_out(
    session: &Session,
    robot: &str,
    runtime: Arc<dyn Runtime>,
    request: Request,
) -> Answer {
    let err = |e: RuntimeError| WireError::from(&e);
    Ok(match request {
        Request::Hello => Reply::Hello(Hello {
            robot: robot.to_owned(),
            runtime: runtime.name(),
            capabilities: runtime.capabilities(),
        }),
        Request::Health => runtime.health().await.map(|()| Reply::Done).map_err(err)?,
        Request::Prepare { spec } => runtime
            .prepare(&spec)
            .await
            .map(|()| Reply::Done)
            .map_err(err)?,
        Request::Start { spec } => Reply::Started {
            id: runtime.start(&spec).await.map_err(err)?,
        },
        Request::Stop { id, grace_ms } => runtime
            .stop(&id, Duration::from_millis(grace_ms))
            .await
            .map(|()| Reply::Done)
            .map_err(err)?,
        Request::Remove { id } => runtime
            .remove(&id)
            .await
            .map(|()| Reply::Done)
            .map_err(err)?,
        Request::Inspect { id } => {
            Reply::Instance(Box::new(runtime.inspect(&id).await.map_err(err)?))
        }
        Request::List { selector } => Reply::Instances {
            instances: runtime.list(&selector).await.map_err(err)?,
        },
        Request::Logs {
            id,
            options,
            stream,
        } => {
            let lines = runtime.logs(&id, options).await.map_err(err)?;
            let key = keys::logs(robot, stream).map_err(|e| WireError::Internal {
                message: e.to_string(),
            })?;
            let publisher = session
                .declare_publisher(key)
                .congestion_control(CongestionControl::Block)
                .await
                .map_err(|e| WireError::Internal {
                    message: format!("cannot publish the log stream: {e}"),
                })?;
            tokio::spawn(publish_logs(publisher, lines));
            Reply::Done
        }
        Request::Exec { id, command } => {
            Reply::Output(runtime.exec(&id, &command).await.map_err(err)?)
        }
        Request::RunTask { task } => Reply::Output(runtime.run_task(&task).await.map_err(err)?),
    })
}

/// How often a log stream checks that someone still reads it.
const READER_CHECK: Duration = Duration::from_secs(5);

/// Publishes a log stream, numbered, then its end; stops early once nobody reads it (the
/// orchestrator dropped its receiver, or went away).
async fn publish_logs(
    publisher: zenoh::pubsub::Publisher<'static>,
    mut lines: robodeploy_core::runtime::LogReceiver,
) {
    let mut seq = 0;
    let mut check = tokio::time::interval(READER_CHECK);
    check.tick().await;
    loop {
        tokio::select! {
            line = lines.recv() => {
                let item = match line {
                    Some(line) => LogItem::Line(line),
                    None => LogItem::End,
                };
                let end = item == LogItem::End;
                let _ = publisher.put(wire::encode(&Numbered { seq, item })).await;
                seq += 1;
                if end {
                    return;
                }
            }
            _ = check.tick() => {
                let read = publisher.matching_status().await.map(|m| m.matching()).unwrap_or(false);
                if !read {
                    return;
                }
            }
        }
    }
}
