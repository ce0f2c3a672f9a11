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
    CreateContainerOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
    WaitContainerOptions,
};
use futures_util::{Stream, StreamExt};
use robodeploy_core::runtime::{ExecOutput, RuntimeError, TaskSpec};

use crate::error::{from_bollard, from_bollard_for};

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

/// Runs `task` as a one-off container named `name`: create, start, wait (killing it after the
/// task's timeout), collect its output, remove it. A container that cannot be removed is an
/// error even when the task itself succeeded.
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
        labels: Some(HashMap::from([(TASK_LABEL.to_owned(), "true".to_owned())])),
        host_config: Some(HostConfig {
            privileged: Some(false),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.to_owned()),
        ..CreateContainerOptions::default()
    };
    docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| from_bollard(&format!("creating task container {name}"), e))?;
    let outcome = run_created(docker, name, task.timeout).await;
    let removed = docker
        .remove_container(
            name,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..RemoveContainerOptions::default()
            }),
        )
        .await;
    let output = outcome?;
    removed.map_err(|e| {
        from_bollard(
            &format!(
                "task exited with {} but its container {name} could not be removed",
                output.exit_code
            ),
            e,
        )
    })?;
    Ok(output)
}

async fn run_created(
    docker: &Docker,
    name: &str,
    timeout: Duration,
) -> Result<ExecOutput, RuntimeError> {
    docker
        .start_container(name, None)
        .await
        .map_err(|e| from_bollard(&format!("starting task container {name}"), e))?;
    let exit_code = match tokio::time::timeout(timeout, wait_exit(docker, name)).await {
        Ok(code) => code?,
        Err(_elapsed) => {
            tracing::warn!(task = name, ?timeout, "task timed out; killing it");
            docker
                .kill_container(name, None::<KillContainerOptions>)
                .await
                .map_err(|e| from_bollard(&format!("killing timed-out task {name}"), e))?;
            wait_exit(docker, name).await?
        }
    };
    let logs = docker.logs(
        name,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            tail: "all".to_owned(),
            ..LogsOptions::default()
        }),
    );
    let mut captured = Captured::default();
    captured
        .drain(Box::pin(logs))
        .await
        .map_err(|e| from_bollard(&format!("reading task output of {name}"), e))?;
    Ok(captured.into_output(exit_code))
}

/// Waits for the container to stop; its exit code.
async fn wait_exit(docker: &Docker, name: &str) -> Result<i32, RuntimeError> {
    let mut wait = docker.wait_container(
        name,
        Some(WaitContainerOptions {
            condition: "not-running".to_owned(),
        }),
    );
    match wait.next().await {
        Some(Ok(r)) => Ok(i32::try_from(r.status_code).unwrap_or(-1)),
        // bollard turns a non-zero exit into an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
            Ok(i32::try_from(code).unwrap_or(-1))
        }
        Some(Err(e)) => Err(from_bollard(&format!("waiting for task {name}"), e)),
        None => Err(RuntimeError::internal(format!(
            "waiting for task {name}: the engine closed the wait without an exit code"
        ))),
    }
}
