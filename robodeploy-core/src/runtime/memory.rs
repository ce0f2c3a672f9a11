//! An in-memory runtime: instances are records, exits happen when a test says so.
//!
//! For testing orchestration built on robodeploy without processes or Docker: start, stop,
//! crash ([`MemoryRuntime::exit`]), make unreachable ([`MemoryRuntime::set_reachable`], or
//! mid-start: [`MemoryRuntime::lose_next_start_answer`]), hide a
//! program ([`MemoryRuntime::set_missing`]), or fail a task ([`MemoryRuntime::set_task_exit`]).
//! Every call answers at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{
    Capabilities, EventReceiver, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, InstanceState,
    LogLine, LogOptions, LogReceiver, LogStreamKind, Runtime, RuntimeError, RuntimeEvent,
    RuntimeEventKind, TaskSpec,
};
use crate::time::Time;

#[derive(Default)]
struct State {
    reachable: bool,
    missing: BTreeSet<String>,
    instances: BTreeMap<String, (InstanceSpec, InstanceState, u32)>,
    subscribers: Vec<mpsc::Sender<RuntimeEvent>>,
    task_exits: BTreeMap<String, i32>,
    starts: u64,
    tasks_run: Vec<Vec<String>>,
    stops_hang: bool,
    task_time: Duration,
    lose_start_answer: bool,
}

/// A [`Runtime`] held in memory.
///
/// ```
/// use robodeploy_core::runtime::{InstanceSpec, MemoryRuntime, Runtime, InstanceState};
/// use robodeploy_core::model::DeploymentId;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let rt = MemoryRuntime::new("robot-1");
/// let mut spec = InstanceSpec::new(DeploymentId::from_u128(1), "c", "e", "p", "1");
/// spec.command = vec!["talker".into()];
/// let id = rt.start(&spec).await.unwrap();
/// rt.exit(&spec.name, 1);
/// assert!(matches!(rt.inspect(&id).await.unwrap().state, InstanceState::Exited { exit_code: 1, .. }));
/// # }
/// ```
pub struct MemoryRuntime {
    name: String,
    enforces_restart_policy: bool,
    state: Mutex<State>,
}

impl MemoryRuntime {
    /// A reachable runtime with nothing running; the engine enforces restart policies.
    pub fn new(name: impl Into<String>) -> Self {
        MemoryRuntime {
            name: name.into(),
            enforces_restart_policy: false,
            state: Mutex::new(State {
                reachable: true,
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(state: &mut State, instance: &str, kind: RuntimeEventKind) {
        let ev = RuntimeEvent {
            instance: InstanceId(instance.to_owned()),
            at: Time::EPOCH,
            kind,
        };
        state
            .subscribers
            .retain(|s| s.try_send(ev.clone()).is_ok() || !s.is_closed());
    }

    /// Makes the runtime answer (or fail every call with `Unreachable`).
    pub fn set_reachable(&self, reachable: bool) {
        self.lock().reachable = reachable;
    }

    /// Makes a program (the first word of a command) or an image missing.
    pub fn set_missing(&self, what: &str, missing: bool) {
        let mut s = self.lock();
        if missing {
            s.missing.insert(what.to_owned());
        } else {
            s.missing.remove(what);
        }
    }

    /// Makes the next `start` that creates an instance lose its answer: the instance runs, the
    /// caller gets `Unreachable`, and the runtime stays unreachable until
    /// [`set_reachable`](Self::set_reachable) (a robot whose link went down mid-call).
    pub fn lose_next_start_answer(&self) {
        self.lock().lose_start_answer = true;
    }

    /// Makes every later `stop` hang without an answer (a runtime that stalls), or answer again.
    pub fn set_stops_hang(&self, hang: bool) {
        self.lock().stops_hang = hang;
    }

    /// Makes every task take `time` (on tokio's clock) before it answers.
    pub fn set_task_time(&self, time: Duration) {
        self.lock().task_time = time;
    }

    /// Makes tasks whose program is `program` exit with `code`.
    pub fn set_task_exit(&self, program: &str, code: i32) {
        self.lock().task_exits.insert(program.to_owned(), code);
    }

    /// Ends a running instance (by its name) with an exit code, as if it crashed or finished.
    pub fn exit(&self, name: &str, exit_code: i32) {
        self.end(name, exit_code, false);
    }

    /// Stops a running instance by hand, as an operator would (`docker stop`).
    pub fn stop_manually(&self, name: &str) {
        self.end(name, 143, true);
    }

    fn end(&self, name: &str, exit_code: i32, stopped_manually: bool) {
        let mut s = self.lock();
        let running = matches!(
            s.instances.get(name),
            Some((_, InstanceState::Running { .. }, _))
        );
        if running {
            if let Some(i) = s.instances.get_mut(name) {
                i.1 = InstanceState::Exited {
                    exit_code,
                    finished_at: None,
                    stopped_manually,
                };
            }
            Self::emit(
                &mut s,
                name,
                RuntimeEventKind::Exited {
                    exit_code,
                    oom_killed: false,
                    stopped_manually,
                },
            );
        }
    }

    /// Names of the instances running now.
    pub fn running(&self) -> Vec<String> {
        self.lock()
            .instances
            .iter()
            .filter(|(_, (_, st, _))| matches!(st, InstanceState::Running { .. }))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// How many instances were started over the runtime's life.
    pub fn start_count(&self) -> u64 {
        self.lock().starts
    }

    /// The argv of every task run, in order.
    pub fn tasks_run(&self) -> Vec<Vec<String>> {
        self.lock().tasks_run.clone()
    }

    fn check(&self) -> Result<std::sync::MutexGuard<'_, State>, RuntimeError> {
        let s = self.lock();
        if s.reachable {
            Ok(s)
        } else {
            Err(RuntimeError::Unreachable {
                message: format!("{} is unreachable", self.name),
            })
        }
    }
}

fn program(spec: &InstanceSpec) -> Option<String> {
    spec.image.clone().or_else(|| spec.command.first().cloned())
}

#[async_trait]
impl Runtime for MemoryRuntime {
    fn name(&self) -> String {
        format!("memory:{}", self.name)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            enforces_restart_policy: self.enforces_restart_policy,
            survives_engine_restart: true,
            exec: true,
            images: false,
        }
    }

    async fn health(&self) -> Result<(), RuntimeError> {
        self.check().map(|_| ())
    }

    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        let s = self.check()?;
        match program(spec) {
            Some(p) if s.missing.contains(&p) => Err(RuntimeError::NotFound { what: p }),
            Some(_) => Ok(()),
            None => Err(RuntimeError::InvalidSpec {
                field: "command",
                message: "nothing to run".to_owned(),
            }),
        }
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        let mut s = self.check()?;
        if let Some(p) = program(spec)
            && s.missing.contains(&p)
        {
            return Err(RuntimeError::NotFound { what: p });
        }
        if s.instances.contains_key(&spec.name) {
            return Err(RuntimeError::AlreadyExists(spec.name.clone()));
        }
        s.starts += 1;
        s.instances.insert(
            spec.name.clone(),
            (
                spec.clone(),
                InstanceState::Running {
                    started_at: Time::EPOCH,
                    pid: None,
                },
                0,
            ),
        );
        Self::emit(&mut s, &spec.name, RuntimeEventKind::Started);
        if std::mem::take(&mut s.lose_start_answer) {
            s.reachable = false;
            return Err(RuntimeError::Unreachable {
                message: format!("{}: the answer to the start was lost", self.name),
            });
        }
        Ok(InstanceId(spec.name.clone()))
    }

    async fn stop(&self, id: &InstanceId, _grace: Duration) -> Result<(), RuntimeError> {
        if self.lock().stops_hang {
            return std::future::pending().await;
        }
        let mut s = self.check()?;
        let Some(inst) = s.instances.get_mut(&id.0) else {
            return Err(RuntimeError::NoSuchInstance(id.0.clone()));
        };
        if matches!(inst.1, InstanceState::Running { .. }) {
            inst.1 = InstanceState::Exited {
                exit_code: 143,
                finished_at: None,
                stopped_manually: false,
            };
        }
        Ok(())
    }

    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError> {
        let mut s = self.check()?;
        if s.instances.remove(&id.0).is_some() {
            Self::emit(&mut s, &id.0, RuntimeEventKind::Removed);
        }
        Ok(())
    }

    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
        let s = self.check()?;
        let (spec, state, restarts) = s
            .instances
            .get(&id.0)
            .ok_or_else(|| RuntimeError::NoSuchInstance(id.0.clone()))?;
        Ok(InstanceInfo {
            id: id.clone(),
            name: spec.name.clone(),
            labels: spec.labels.clone(),
            state: state.clone(),
            restart_count: *restarts,
        })
    }

    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError> {
        let s = self.check()?;
        Ok(s.instances
            .values()
            .filter(|(spec, _, _)| selector.iter().all(|(k, v)| spec.labels.get(k) == Some(v)))
            .map(|(spec, state, restarts)| InstanceInfo {
                id: InstanceId(spec.name.clone()),
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                state: state.clone(),
                restart_count: *restarts,
            })
            .collect())
    }

    async fn events(&self) -> Result<EventReceiver, RuntimeError> {
        let (tx, rx) = mpsc::channel(1024);
        self.lock().subscribers.push(tx);
        Ok(rx)
    }

    async fn logs(&self, id: &InstanceId, _o: LogOptions) -> Result<LogReceiver, RuntimeError> {
        let s = self.check()?;
        let (spec, _, _) = s
            .instances
            .get(&id.0)
            .ok_or_else(|| RuntimeError::NoSuchInstance(id.0.clone()))?;
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(LogLine {
            stream: LogStreamKind::Stdout,
            at: None,
            line: format!("started {}", spec.command.join(" ")),
        });
        Ok(rx)
    }

    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError> {
        let s = self.check()?;
        if !s.instances.contains_key(&id.0) {
            return Err(RuntimeError::NoSuchInstance(id.0.clone()));
        }
        Ok(ExecOutput {
            exit_code: 0,
            stdout: command.join(" "),
            stderr: String::new(),
        })
    }

    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
        let time = self.lock().task_time;
        if !time.is_zero() {
            tokio::time::sleep(time).await;
        }
        let mut s = self.check()?;
        s.tasks_run.push(task.command.clone());
        let program = task.command.first().cloned().unwrap_or_default();
        let exit_code = s.task_exits.get(&program).copied().unwrap_or(0);
        Ok(ExecOutput {
            exit_code,
            stdout: String::new(),
            stderr: if exit_code == 0 {
                String::new()
            } else {
                format!("{program} failed")
            },
        })
    }
}
