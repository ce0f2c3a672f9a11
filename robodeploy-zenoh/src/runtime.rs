//! [`ZenohRuntime`]: the `Runtime` of one remote robot, each call a query to its agent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use robodeploy_core::model::DeviceRuntime;
use robodeploy_core::runtime::{
    Capabilities, EventReceiver, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, LogOptions,
    LogReceiver, Runtime, RuntimeError, TaskSpec,
};
use thiserror::Error;
use tokio::sync::mpsc;
use zenoh::Session;

use crate::keys;
use crate::orchestrator::Timeouts;
use crate::watch::Watch;
use crate::wire::{self, Answer, LogItem, Numbered, Reply, Request, WireError};

/// The runtime of one remote robot, reached through its agent.
///
/// Every method is one query to the agent, answered within its [`Timeouts`] or failed as
/// `RuntimeError::Unreachable`; health is the agent's liveliness token (no query), so a robot
/// whose agent vanished is unhealthy at the next health check, within the link's lease.
#[derive(Debug)]
pub struct ZenohRuntime {
    session: Session,
    watch: Watch,
    robot: String,
    kind: DeviceRuntime,
    timeouts: Timeouts,
}

/// Log stream numbers start at a random point per orchestrator, so that a stream of an earlier
/// orchestrator an agent still serves is never mistaken for a new one.
static NEXT_STREAM: AtomicU64 = AtomicU64::new(0);

fn next_stream() -> u64 {
    if NEXT_STREAM.load(Ordering::Relaxed) == 0 {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let _ = NEXT_STREAM.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    NEXT_STREAM.fetch_add(1, Ordering::Relaxed)
}

/// Why a query got no usable answer.
#[derive(Debug, Error)]
pub(crate) enum AskError {
    /// Nobody answered: no agent, or not in time.
    #[error("{0}")]
    NoAnswer(String),
    /// The agent answered with an error.
    #[error(transparent)]
    Remote(#[from] WireError),
}

impl From<AskError> for RuntimeError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::NoAnswer(message) => RuntimeError::Unreachable { message },
            AskError::Remote(w) => w.into(),
        }
    }
}

/// Sends `request` to `robot`'s agent and waits at most `timeout` for its answer.
pub(crate) async fn ask(
    session: &Session,
    robot: &str,
    request: &Request,
    timeout: Duration,
) -> Result<Reply, AskError> {
    let key = keys::call(robot, request.call()).map_err(|e| AskError::NoAnswer(e.to_string()))?;
    let replies = session
        .get(&key)
        .payload(wire::encode(request))
        .timeout(timeout)
        .await
        .map_err(|e| AskError::NoAnswer(format!("query to robot {robot} failed: {e}")))?;
    let Ok(reply) = replies.recv_async().await else {
        return Err(AskError::NoAnswer(format!(
            "no agent answers for robot {robot}"
        )));
    };
    match reply.result() {
        Ok(sample) => wire::decode::<Answer>(&sample.payload().to_bytes())?.map_err(Into::into),
        // Zenoh answers a query nobody replied to in time with an error of its own.
        Err(_) => Err(AskError::NoAnswer(format!(
            "robot {robot} did not answer {} within {timeout:?}",
            request.call()
        ))),
    }
}

impl ZenohRuntime {
    pub(crate) fn new(
        session: Session,
        watch: Watch,
        robot: String,
        kind: DeviceRuntime,
        timeouts: Timeouts,
    ) -> ZenohRuntime {
        ZenohRuntime {
            session,
            watch,
            robot,
            kind,
            timeouts,
        }
    }

    /// The robot this runtime reaches.
    pub fn robot(&self) -> &str {
        &self.robot
    }

    async fn call(&self, request: Request, timeout: Duration) -> Result<Reply, RuntimeError> {
        ask(&self.session, &self.robot, &request, timeout)
            .await
            .map_err(Into::into)
    }

    fn unexpected(&self, call: &str, reply: &Reply) -> RuntimeError {
        RuntimeError::internal(format!(
            "robot {}'s agent answered {call} with {reply:?}",
            self.robot
        ))
    }

    async fn done(&self, request: Request, timeout: Duration) -> Result<(), RuntimeError> {
        let call = request.call();
        match self.call(request, timeout).await? {
            Reply::Done => Ok(()),
            other => Err(self.unexpected(call, &other)),
        }
    }

    async fn output(
        &self,
        request: Request,
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        let call = request.call();
        match self.call(request, timeout).await? {
            Reply::Output(out) => Ok(out),
            other => Err(self.unexpected(call, &other)),
        }
    }
}

/// What a runtime of `kind` does natively (what the agents' process and Docker runtimes say).
pub fn capabilities_of(kind: DeviceRuntime) -> Capabilities {
    match kind {
        DeviceRuntime::Docker => Capabilities {
            enforces_restart_policy: true,
            survives_engine_restart: true,
            exec: true,
            images: true,
        },
        _ => Capabilities {
            enforces_restart_policy: false,
            survives_engine_restart: true,
            exec: true,
            images: false,
        },
    }
}

#[async_trait]
impl Runtime for ZenohRuntime {
    fn name(&self) -> String {
        format!("zenoh:{}", self.robot)
    }

    fn capabilities(&self) -> Capabilities {
        capabilities_of(self.kind)
    }

    async fn health(&self) -> Result<(), RuntimeError> {
        self.watch
            .check(&self.robot)
            .map_err(|message| RuntimeError::Unreachable { message })?;
        // The agent must serve the kind of runtime the device was registered with.
        let hello = self
            .watch
            .lock()
            .get(&self.robot)
            .and_then(|r| r.hello.clone());
        if let Some(Ok(hello)) = hello
            && hello.capabilities != self.capabilities()
        {
            return Err(RuntimeError::Unreachable {
                message: format!(
                    "robot {}'s agent serves {} ({:?}), not the {} runtime it is registered with",
                    self.robot, hello.runtime, hello.capabilities, self.kind
                ),
            });
        }
        Ok(())
    }

    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        let request = Request::Prepare {
            spec: Box::new(spec.clone()),
        };
        self.done(request, self.timeouts.prepare).await
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        let request = Request::Start {
            spec: Box::new(spec.clone()),
        };
        match self.call(request, self.timeouts.call).await? {
            Reply::Started { id } => Ok(id),
            other => Err(self.unexpected("start", &other)),
        }
    }

    async fn stop(&self, id: &InstanceId, grace: Duration) -> Result<(), RuntimeError> {
        self.done(Request::stop(id.clone(), grace), grace + self.timeouts.call)
            .await
    }

    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError> {
        self.done(Request::Remove { id: id.clone() }, self.timeouts.call)
            .await
    }

    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
        match self
            .call(Request::Inspect { id: id.clone() }, self.timeouts.call)
            .await?
        {
            Reply::Instance(info) => Ok(*info),
            other => Err(self.unexpected("inspect", &other)),
        }
    }

    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError> {
        let request = Request::List {
            selector: selector.clone(),
        };
        match self.call(request, self.timeouts.call).await? {
            Reply::Instances { instances } => Ok(instances),
            other => Err(self.unexpected("list", &other)),
        }
    }

    async fn events(&self) -> Result<EventReceiver, RuntimeError> {
        Ok(self.watch.listen(&self.robot))
    }

    async fn logs(
        &self,
        id: &InstanceId,
        options: LogOptions,
    ) -> Result<LogReceiver, RuntimeError> {
        let stream = next_stream();
        let key =
            keys::logs(&self.robot, stream).map_err(|e| RuntimeError::internal(e.to_string()))?;
        let (tx, rx) = mpsc::channel(256);
        let (items_tx, mut items) = mpsc::unbounded_channel::<Numbered<LogItem>>();
        // Subscribed before the agent is asked, so no line is published to nobody.
        let subscriber = self
            .session
            .declare_subscriber(&key)
            .callback(move |sample| {
                if let Ok(item) = wire::decode::<Numbered<LogItem>>(&sample.payload().to_bytes()) {
                    let _ = items_tx.send(item);
                }
            })
            .await
            .map_err(|e| RuntimeError::Unreachable {
                message: format!("cannot subscribe to robot {}'s logs: {e}", self.robot),
            })?;
        let mut gone = self.watch.on_gone(&self.robot);
        let request = Request::Logs {
            id: id.clone(),
            options,
            stream,
        };
        self.done(request, self.timeouts.call).await?;
        tokio::spawn(async move {
            let _subscriber = subscriber;
            let mut next = 0;
            loop {
                tokio::select! {
                    item = items.recv() => {
                        let Some(item) = item else { return };
                        // A line lost on the way ends the stream rather than skip silently.
                        if item.seq != next {
                            return;
                        }
                        next += 1;
                        match item.item {
                            LogItem::Line(line) => {
                                if tx.send(line).await.is_err() {
                                    return;
                                }
                            }
                            LogItem::End => return,
                        }
                    }
                    _ = &mut gone => return,
                    () = tx.closed() => return,
                }
            }
        });
        Ok(rx)
    }

    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError> {
        let request = Request::Exec {
            id: id.clone(),
            command: command.to_vec(),
        };
        self.output(request, self.timeouts.exec).await
    }

    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
        let timeout = task.timeout + self.timeouts.call;
        let request = Request::RunTask {
            task: Box::new(task.clone()),
        };
        self.output(request, timeout).await
    }
}
