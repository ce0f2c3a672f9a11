//! Commands run to completion: inside a running container (`exec`, debug terminals) or as a
//! one-off container (`run_task`, a job's scripts).
//!
//! Output is captured up to [`OUTPUT_LIMIT`] bytes per stream; the rest is dropped and the
//! captured text ends with a `[… truncated]` marker so a reader knows.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::StartExecResults;
use bollard::models::{ContainerCreateBody, ExecConfig, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, EventsOptions, KillContainerOptions,
};
use futures_util::{Stream, StreamExt};
use robodeploy_core::runtime::{ExecOutput, RuntimeError, TaskSpec};

use crate::error::{from_bollard, from_bollard_for, status_of};

/// Bytes of each output stream kept.
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// Label on task containers (they carry no `io.robodeploy.managed`: they are not instances).
pub const TASK_LABEL: &str = "io.robodeploy.task";

/// Stdout and stderr, each bounded.
#[derive(Default)]
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: [bool; 2],
}

impl Captured {
    fn push(&mut self, item: LogOutput) {
        let (buf, flag, bytes) = match item {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (&mut self.stdout, 0, message)
            }
            LogOutput::StdErr { message } => (&mut self.stderr, 1, message),
            LogOutput::StdIn { .. } => return,
        };
        let room = OUTPUT_LIMIT.saturating_sub(buf.len());
        if bytes.len() > room {
            self.truncated[flag] = true;
        }
        buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    async fn drain<S, E>(&mut self, mut stream: S) -> Result<(), E>
    where
        S: Stream<Item = Result<LogOutput, E>> + Unpin,
    {
        while let Some(item) = stream.next().await {
            self.push(item?);
        }
        Ok(())
    }

    fn into_output(self, exit_code: i32) -> ExecOutput {
        let text = |bytes: Vec<u8>, truncated: bool| {
            let mut s = String::from_utf8_lossy(&bytes).into_owned();
            if truncated {
                s.push_str("[… truncated]");
            }
            s
        };
        ExecOutput {
            exit_code,
            stdout: text(self.stdout, self.truncated[0]),
            stderr: text(self.stderr, self.truncated[1]),
        }
    }
}

/// Runs `command` in running container `id` and waits for it.
pub(crate) async fn exec(
    docker: &Docker,
    id: &str,
    command: &[String],
) -> Result<ExecOutput, RuntimeError> {
    if command.is_empty() {
        return Err(RuntimeError::InvalidSpec {
            field: "command",
            message: "exec needs a command".to_owned(),
        });
    }
    let created = docker
        .create_exec(
            id,
            ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(command.to_vec()),
                ..ExecConfig::default()
            },
        )
        .await
        .map_err(|e| from_bollard_for(id, &format!("creating an exec in {id}"), e))?;
    let started = docker
        .start_exec(&created.id, None)
        .await
        .map_err(|e| from_bollard(&format!("starting an exec in {id}"), e))?;
    let mut captured = Captured::default();
    if let StartExecResults::Attached { output, .. } = started {
        captured
            .drain(output)
            .await
            .map_err(|e| from_bollard(&format!("reading an exec's output in {id}"), e))?;
    }
    let inspected = docker
        .inspect_exec(&created.id)
        .await
        .map_err(|e| from_bollard(&format!("inspecting an exec in {id}"), e))?;
    let exit_code = inspected
        .exit_code
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(-1);
    Ok(captured.into_output(exit_code))
}

/// A task container's labels: [`TASK_LABEL`], and its caller ([`OWNER_LABEL`]) where `/proc`
/// tells who that is, so a task whose caller died can be stopped (see `task_sweep`).
///
/// [`OWNER_LABEL`]: crate::OWNER_LABEL
fn task_labels() -> HashMap<String, String> {
    let mut labels = HashMap::from([(TASK_LABEL.to_owned(), "true".to_owned())]);
    if let Some(owner) = crate::task_owner::TaskOwner::current() {
        labels.insert(crate::task_owner::OWNER_LABEL.to_owned(), owner.label());
    }
    labels
}

/// Runs `task` as a one-off container named `name`: create, attach, start, wait for its exit
/// (killing it after the task's timeout) and collect its output. The container is created with
/// auto-removal (`docker run --rm`), so the engine removes it when it exits even if this process
/// dies first (a SIGKILLed orchestrator leaves no task container behind); the exit code comes
/// from the engine's `die` event, followed from the container's creation so it cannot be missed,
/// and the task returns once the engine has removed the container (`destroy`).
pub(crate) async fn run_task(
    docker: &Docker,
    name: &str,
    image: &str,
    task: &TaskSpec,
) -> Result<ExecOutput, RuntimeError> {
    if task.command.is_empty() {
        return Err(RuntimeError::InvalidSpec {
            field: "command",
            message: "a task needs a command".to_owned(),
        });
    }
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: task.shell.then(|| vec!["/bin/sh".into(), "-c".into()]),
        cmd: Some(if task.shell {
            vec![task.command.join(" ")]
        } else {
            task.command.clone()
        }),
        env: Some(task.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: task.working_dir.clone(),
        labels: Some(task_labels()),
        host_config: Some(HostConfig {
            privileged: Some(false),
            auto_remove: Some(true),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.to_owned()),
        ..CreateContainerOptions::default()
    };
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| from_bollard(&format!("creating task container {name}"), e))?;
    let outcome = run_created(docker, &created.id, name, task.timeout).await;
    if outcome.is_err() {
        // It may never have started (auto-removal only follows an exit): remove it here. Gone
        // already or being removed by the engine is as good.
        let removed = crate::runtime::force_remove(docker, &created.id).await;
        if let Err(e) = removed
            && !matches!(status_of(&e), Some(404 | 409))
        {
            tracing::error!(task = name, error = %e, "could not remove a task container");
        }
    }
    outcome
}

async fn run_created(
    docker: &Docker,
    id: &str,
    name: &str,
    timeout: Duration,
) -> Result<ExecOutput, RuntimeError> {
    let attached = docker
        .attach_container(
            id,
            Some(AttachContainerOptions {
                stdout: true,
                stderr: true,
                stream: true,
                // Attached before it starts, the stream carries every line; `logs: true` would
                // also replay the log file, and under load the engine sent lines both ways
                // (a task's output doubled).
                logs: false,
                ..AttachContainerOptions::default()
            }),
        )
        .await
        .map_err(|e| from_bollard(&format!("attaching to task container {name}"), e))?;
    docker
        .start_container(id, None)
        .await
        .map_err(|e| from_bollard(&format!("starting task container {name}"), e))?;
    // Its creation time, asked after the start to keep the window between creating and starting
    // (the one a killed process leaves a container in) short.
    let created_at = docker
        .inspect_container(id, None)
        .await
        .ok()
        .and_then(|c| c.created)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let since = created_at.map_or_else(
        || "0".to_owned(),
        |t| format!("{}.{:09}", t.as_second(), t.subsec_nanosecond()),
    );
    // Followed from its creation: the exit cannot be missed, whenever the request is made.
    let died = exit_code(docker, id, name, since);
    tokio::pin!(died);
    let mut captured = Captured::default();
    let ran = tokio::time::timeout(timeout, async {
        let (read, code) = tokio::join!(captured.drain(attached.output), &mut died);
        read.map_err(|e| from_bollard(&format!("reading task output of {name}"), e))?;
        code
    })
    .await;
    let exit_code = match ran {
        Ok(code) => code?,
        Err(_elapsed) => {
            tracing::warn!(task = name, ?timeout, "task timed out; killing it");
            match docker
                .kill_container(id, None::<KillContainerOptions>)
                .await
            {
                // Exited meanwhile (409 not running, 404 removed): its exit is on its way.
                Ok(()) => {}
                Err(e) if matches!(status_of(&e), Some(404 | 409)) => {}
                Err(e) => return Err(from_bollard(&format!("killing timed-out task {name}"), e)),
            }
            died.await?
        }
    };
    Ok(captured.into_output(exit_code))
}

/// How long the engine may take to remove an exited task container.
const REMOVAL_WAIT: Duration = Duration::from_secs(30);

/// The exit code of container `id`, from its `die` event at or after `since` (engine time,
/// `seconds.nanoseconds`), once the engine has removed it (its `destroy` event).
async fn exit_code(
    docker: &Docker,
    id: &str,
    name: &str,
    since: String,
) -> Result<i32, RuntimeError> {
    let options = EventsOptions {
        since: Some(since),
        until: None,
        filters: Some(HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            ("container".to_owned(), vec![id.to_owned()]),
            (
                "event".to_owned(),
                vec!["die".to_owned(), "destroy".to_owned()],
            ),
        ])),
    };
    let mut events = docker.events(Some(options));
    let mut code = None;
    loop {
        let next = match code {
            None => events.next().await,
            Some(c) => match tokio::time::timeout(REMOVAL_WAIT, events.next()).await {
                Ok(next) => next,
                Err(_) => {
                    return Err(RuntimeError::internal(format!(
                        "task exited with {c} but its container {name} was not removed"
                    )));
                }
            },
        };
        let Some(event) = next else { break };
        let event = event.map_err(|e| from_bollard(&format!("waiting for task {name}"), e))?;
        match event.action.as_deref() {
            Some("die") => {
                code = event
                    .actor
                    .and_then(|a| a.attributes)
                    .and_then(|a| a.get("exitCode").and_then(|c| c.parse::<i32>().ok()))
                    .or(Some(-1));
            }
            Some("destroy") => return Ok(code.unwrap_or(-1)),
            _ => {}
        }
    }
    Err(RuntimeError::internal(format!(
        "waiting for task {name}: the engine closed its event stream before the task was removed"
    )))
}
