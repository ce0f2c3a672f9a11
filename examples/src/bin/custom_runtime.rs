//! A runtime written by a user, registered with the engine like any backend: its executables
//! are tokio tasks running tiny built-in programs, and the engine deploys, watches, reads logs,
//! execs, and deprovisions through it exactly as it does through Docker or processes.
//!
//! Run: `cargo run -p robodeploy-examples --bin custom_runtime`
//!
//! The runtime's programs: `say TEXT…` prints TEXT every 100 ms until stopped; `count N` prints
//! 1..=N and exits 0; `fail CODE` exits with CODE; `echo TEXT…` prints once and exits. Anything
//! else is not found (DEP_E161), which the second deployment shows.

use robodeploy_examples::say;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use robodeploy_core::engine::{DeploymentStatus, Engine, EngineEvent};
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::{
    Architecture, DeploymentId, DeploymentRequest, Device, DeviceRuntime, Phase,
};
use robodeploy_core::runtime::{
    Capabilities, EventReceiver, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, InstanceState,
    LogLine, LogOptions, LogReceiver, LogStreamKind, Runtime, RuntimeError, RuntimeEvent,
    RuntimeEventKind, TaskSpec,
};
use robodeploy_core::time::Time;
use tokio::sync::{broadcast, mpsc, watch};

/// What a task can run.
#[derive(Clone, Debug)]
enum Program {
    Say(String),
    Count(u32),
    Fail(i32),
    Echo(String),
}

impl Program {
    fn parse(argv: &[String]) -> Result<Program, RuntimeError> {
        let (name, args) = argv.split_first().ok_or(RuntimeError::InvalidSpec {
            field: "command",
            message: "empty".into(),
        })?;
        let number = |what: &str| {
            args.first()
                .and_then(|a| a.parse::<u32>().ok())
                .ok_or_else(|| RuntimeError::InvalidSpec {
                    field: "command",
                    message: format!("{name} needs {what}"),
                })
        };
        Ok(match name.as_str() {
            "say" => Program::Say(args.join(" ")),
            "count" => Program::Count(number("a count")?),
            "fail" => Program::Fail(number("an exit code")?.min(255) as i32),
            "echo" => Program::Echo(args.join(" ")),
            _ => return Err(RuntimeError::NotFound { what: name.clone() }),
        })
    }

    /// Runs to its end, or until `stop` turns true (then exits 143, as SIGTERM would).
    async fn run(
        self,
        out: &(dyn Fn(LogStreamKind, String) + Sync),
        mut stop: watch::Receiver<bool>,
    ) -> i32 {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut n = 0;
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return 143,
                _ = tick.tick() => {}
            }
            n += 1;
            match &self {
                Program::Say(text) => out(LogStreamKind::Stdout, text.clone()),
                Program::Count(max) if n <= *max => out(LogStreamKind::Stdout, n.to_string()),
                Program::Count(_) => return 0,
                Program::Fail(code) => {
                    out(LogStreamKind::Stderr, format!("failing with {code}"));
                    return *code;
                }
                Program::Echo(text) => {
                    out(LogStreamKind::Stdout, text.clone());
                    return 0;
                }
            }
        }
    }
}

/// One instance: its spec, state, output, and the switch that stops its task.
struct Task {
    spec: InstanceSpec,
    state: InstanceState,
    lines: Vec<LogLine>,
    followers: Vec<mpsc::Sender<LogLine>>,
    stop: watch::Sender<bool>,
    handle: Option<tokio::task::AbortHandle>,
}

#[derive(Default)]
struct Shared {
    tasks: BTreeMap<String, Task>,
    subscribers: Vec<mpsc::Sender<RuntimeEvent>>,
}

impl Shared {
    fn publish(&mut self, name: &str, kind: RuntimeEventKind) {
        let event = RuntimeEvent {
            instance: InstanceId(name.to_owned()),
            at: Time::now(),
            kind,
        };
        self.subscribers
            .retain(|s| s.try_send(event.clone()).is_ok());
    }

    fn task(&mut self, id: &InstanceId) -> Result<&mut Task, RuntimeError> {
        self.tasks
            .get_mut(&id.0)
            .ok_or_else(|| RuntimeError::NoSuchInstance(id.0.clone()))
    }
}

/// Executables as tokio tasks in this process: a simulated robot for testing orchestration.
#[derive(Clone, Default)]
struct TaskRuntime {
    shared: Arc<Mutex<Shared>>,
}

impl TaskRuntime {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a line to an instance's output and hands it to its followers.
    fn emit(&self, name: &str, stream: LogStreamKind, line: String) {
        let mut shared = self.lock();
        if let Some(task) = shared.tasks.get_mut(name) {
            let line = LogLine {
                stream,
                at: Some(Time::now()),
                line,
            };
            task.followers.retain(|f| f.try_send(line.clone()).is_ok());
            task.lines.push(line);
        }
    }

    fn exited(&self, name: &str, exit_code: i32) {
        let mut shared = self.lock();
        let Some(task) = shared.tasks.get_mut(name) else {
            return;
        };
        if !matches!(task.state, InstanceState::Running { .. }) {
            return;
        }
        task.state = InstanceState::Exited {
            exit_code,
            finished_at: Some(Time::now()),
            stopped_manually: false,
        };
        // Followers see the end of the output.
        task.followers.clear();
        if let Some(handle) = task.handle.take() {
            handle.abort();
        }
        shared.publish(
            name,
            RuntimeEventKind::Exited {
                exit_code,
                oom_killed: false,
                stopped_manually: false,
            },
        );
    }

    fn is_running(&self, id: &InstanceId) -> Result<bool, RuntimeError> {
        let mut shared = self.lock();
        Ok(matches!(
            shared.task(id)?.state,
            InstanceState::Running { .. }
        ))
    }
}

#[async_trait]
impl Runtime for TaskRuntime {
    fn name(&self) -> String {
        "tasks:in-process".to_owned()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            exec: true,
            ..Capabilities::default()
        }
    }

    async fn health(&self) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn prepare(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        if spec.image.is_some() {
            return Err(RuntimeError::InvalidSpec {
                field: "image",
                message: "tasks run built-in programs, not images".into(),
            });
        }
        Program::parse(&spec.command).map(drop)
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<InstanceId, RuntimeError> {
        let program = Program::parse(&spec.command)?;
        let (stop, stopped) = watch::channel(false);
        {
            let mut shared = self.lock();
            if shared.tasks.contains_key(&spec.name) {
                return Err(RuntimeError::AlreadyExists(spec.name.clone()));
            }
            let task = Task {
                spec: spec.clone(),
                state: InstanceState::Running {
                    started_at: Time::now(),
                    pid: None,
                },
                lines: Vec::new(),
                followers: Vec::new(),
                stop,
                handle: None,
            };
            shared.tasks.insert(spec.name.clone(), task);
            shared.publish(&spec.name, RuntimeEventKind::Started);
        }
        let (rt, name) = (self.clone(), spec.name.clone());
        let handle = tokio::spawn(async move {
            let out = |stream, line| rt.emit(&name, stream, line);
            let code = program.run(&out, stopped).await;
            rt.exited(&name, code);
        });
        if let Some(task) = self.lock().tasks.get_mut(&spec.name) {
            // Only a task still running can be killed; one that already ended needs no handle.
            if matches!(task.state, InstanceState::Running { .. }) {
                task.handle = Some(handle.abort_handle());
            }
        }
        Ok(InstanceId(spec.name.clone()))
    }

    async fn stop(&self, id: &InstanceId, grace: Duration) -> Result<(), RuntimeError> {
        let _ = self.lock().task(id)?.stop.send(true);
        // Every program answers the stop at once; the grace period bounds the wait, then the
        // task is aborted and reported killed (137, as SIGKILL would be).
        let deadline = tokio::time::Instant::now() + grace;
        while self.is_running(id)? && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.exited(&id.0, 137);
        Ok(())
    }

    async fn remove(&self, id: &InstanceId) -> Result<(), RuntimeError> {
        if self.is_running(id)? {
            self.stop(id, Duration::ZERO).await?;
        }
        let mut shared = self.lock();
        shared.tasks.remove(&id.0);
        shared.publish(&id.0, RuntimeEventKind::Removed);
        Ok(())
    }

    async fn inspect(&self, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
        let mut shared = self.lock();
        let task = shared.task(id)?;
        Ok(InstanceInfo {
            id: id.clone(),
            name: task.spec.name.clone(),
            labels: task.spec.labels.clone(),
            state: task.state.clone(),
            restart_count: 0,
        })
    }

    async fn list(
        &self,
        selector: &BTreeMap<String, String>,
    ) -> Result<Vec<InstanceInfo>, RuntimeError> {
        let names: Vec<String> = self
            .lock()
            .tasks
            .values()
            .filter(|t| {
                selector
                    .iter()
                    .all(|(k, v)| t.spec.labels.get(k) == Some(v))
            })
            .map(|t| t.spec.name.clone())
            .collect();
        let mut infos = Vec::new();
        for name in names {
            infos.push(self.inspect(&InstanceId(name)).await?);
        }
        Ok(infos)
    }

    async fn events(&self) -> Result<EventReceiver, RuntimeError> {
        let (tx, rx) = mpsc::channel(256);
        self.lock().subscribers.push(tx);
        Ok(rx)
    }

    async fn logs(
        &self,
        id: &InstanceId,
        options: LogOptions,
    ) -> Result<LogReceiver, RuntimeError> {
        let mut shared = self.lock();
        let task = shared.task(id)?;
        let skip = options
            .tail
            .map_or(0, |n| task.lines.len().saturating_sub(n));
        let backlog = &task.lines[skip..];
        let (tx, rx) = mpsc::channel(backlog.len() + 256);
        for line in backlog {
            let _ = tx.try_send(line.clone());
        }
        // Registered under the same lock as the backlog was read: no line is lost or doubled.
        if options.follow && matches!(task.state, InstanceState::Running { .. }) {
            task.followers.push(tx);
        }
        Ok(rx)
    }

    async fn exec(&self, id: &InstanceId, command: &[String]) -> Result<ExecOutput, RuntimeError> {
        let env = self.lock().task(id)?.spec.env.clone();
        // The instance's context: its environment.
        Ok(match command.first().map(String::as_str) {
            Some("env") => ExecOutput {
                exit_code: 0,
                stdout: env.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
                stderr: String::new(),
            },
            _ => self.run_program(command, Duration::from_secs(10)).await?,
        })
    }

    async fn run_task(&self, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
        self.run_program(&task.command, task.timeout).await
    }
}

impl TaskRuntime {
    /// Runs a program to completion, capturing its output; killed (137) at the timeout.
    async fn run_program(
        &self,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, RuntimeError> {
        let program = Program::parse(argv)?;
        let output = Mutex::new(ExecOutput {
            exit_code: 0,
            stdout: String::new(),
            stderr: String::new(),
        });
        let out = |stream, line: String| {
            let mut o = output.lock().unwrap_or_else(|p| p.into_inner());
            let buf = match stream {
                LogStreamKind::Stdout => &mut o.stdout,
                LogStreamKind::Stderr => &mut o.stderr,
            };
            buf.push_str(&line);
            buf.push('\n');
        };
        let (_stop, stopped) = watch::channel(false);
        let code = tokio::time::timeout(timeout, program.run(&out, stopped))
            .await
            .unwrap_or(137);
        let mut output = output.into_inner().unwrap_or_else(|p| p.into_inner());
        output.exit_code = code;
        Ok(output)
    }
}

const PACKAGES: &str = r#"
apiVersion: robodeploy/v1
kind: Package
spec:
  name: greeter
  version: "1.0.0"
  components:
    - name: greeter
      placement: {kind: device, runtime: preinstalled, architecture: amd64}
      restartPolicy: always
      executables:
        - {name: talker, command: [say, hello from a tokio task], env: {GREETING: hello}}
---
apiVersion: robodeploy/v1
kind: Package
spec:
  name: warp
  version: "1.0.0"
  components:
    - name: engine
      placement: {kind: device, runtime: preinstalled, architecture: amd64}
      executables:
        - {name: drive, command: [warp-drive, --engage]}
"#;

/// Prints a deployment's status changes until `done` holds; returns the status then.
async fn follow(
    events: &mut broadcast::Receiver<EngineEvent>,
    id: DeploymentId,
    done: impl Fn(&DeploymentStatus) -> bool,
) -> Result<DeploymentStatus, Box<dyn std::error::Error>> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv()).await??;
        if let EngineEvent::Deployment(s) = event
            && s.id == id
        {
            say!("  [{}] {}, {}", s.name, s.phase, s.status);
            if done(&s) {
                return Ok(*s);
            }
        }
    }
}

fn request(name: &str, package: &str, component: &str) -> DeploymentRequest {
    serde_json::from_value(serde_json::json!({
        "name": name, "package": package, "version": "1.0.0",
        "devices": {component: "sim-1"},
    }))
    .unwrap_or_else(|e| unreachable!("a fixed request: {e}"))
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = Arc::new(TaskRuntime::default());
    let engine = Engine::builder().start();
    let device = Device::new("sim-1", Architecture::Amd64, DeviceRuntime::Preinstalled);
    engine.add_device(device, runtime.clone()).await?;
    for package in Manifest::parse_yaml(PACKAGES)?.packages() {
        engine.add_package(package.clone()).await?;
    }

    // Every status change, as the engine publishes it.
    let mut events = engine.subscribe();

    say!("deploying greeter on sim-1 (a {} runtime)", runtime.name());
    let id = engine
        .deploy(request("greeter", "greeter", "greeter"), None)
        .await?;
    follow(&mut events, id, DeploymentStatus::is_running).await?;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let options = LogOptions {
        tail: Some(2),
        follow: false,
    };
    let mut logs = engine.logs(id, "greeter", "talker", options).await?;
    while let Some(line) = logs.recv().await {
        say!("greeter/talker says: {}", line.line);
    }
    let out = engine
        .exec(id, "greeter", "talker", &["env".to_owned()])
        .await?;
    say!("exec env in greeter/talker: {}", out.stdout.trim());

    say!("deploying warp, whose program this runtime does not have");
    let warp = engine
        .deploy(request("warp", "warp", "engine"), None)
        .await?;
    let s = follow(&mut events, warp, |s| s.phase == Phase::FailedToStart).await?;
    for e in &s.errors {
        say!("warp: {}: {}", e.code, e.detail.as_deref().unwrap_or(""));
    }

    say!("deprovisioning greeter");
    engine.deprovision(id).await?;
    follow(&mut events, id, |s| s.phase.is_terminal()).await?;
    let left = runtime.list(&BTreeMap::new()).await?.len();
    say!("the runtime holds {left} instances");
    engine.shutdown().await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("custom_runtime: cannot start tokio: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custom_runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
