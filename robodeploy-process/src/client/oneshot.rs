//! Commands run to completion: `exec` in an instance's context and `run_task` on the device.
//!
//! Each runs in its own process group. It is over when its main process exits: whatever it left
//! in its group is killed then, and when the caller gives up on it (drops the future) the whole
//! group is killed too. While it runs it is recorded under the root, so that if the caller dies
//! with no chance to kill it, the next runtime on the root does (see [`strays`]). Standard output and standard error are each captured up to
//! [`CAPTURE_LIMIT`] bytes; what comes beyond is read and dropped, and the text notes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use robodeploy_core::runtime::{ExecOutput, InstanceId, RuntimeError, TaskSpec};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::inspect::load_instance;
use crate::client::launch::{Launch, Request, plan};
use crate::client::runtime::Inner;
use crate::client::strays;
use crate::os::signal::{KILL, exit_code, exit_code_for_signal, signal_group};

/// How much of each output stream is kept, in bytes.
pub const CAPTURE_LIMIT: usize = 1024 * 1024;

pub(crate) async fn exec(
    inner: &Inner,
    id: &InstanceId,
    command: &[String],
) -> Result<ExecOutput, RuntimeError> {
    let (_, record) = load_instance(inner, id)?;
    let working_dir = record.working_dir.as_deref().and_then(|p| p.to_str());
    let launch = plan(
        &Request {
            command,
            shell: false,
            env: &BTreeMap::new(),
            working_dir,
            image: None,
        },
        // The instance's own environment, as recorded when it started.
        &record.env,
    )?;
    run(launch, None, &inner.root).await
}

pub(crate) async fn run_task(inner: &Inner, task: &TaskSpec) -> Result<ExecOutput, RuntimeError> {
    let launch = plan(
        &Request {
            command: &task.command,
            shell: task.shell,
            env: &task.env,
            working_dir: task.working_dir.as_deref(),
            image: task.image.as_deref(),
        },
        &inner.base_env,
    )?;
    run(launch, Some(task.timeout), &inner.root).await
}

/// Kills a process group when dropped, unless disarmed: a dropped future leaves nothing behind.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = signal_group(pgid, KILL);
        }
    }
}

async fn run(
    launch: Launch,
    timeout: Option<Duration>,
    root: &Path,
) -> Result<ExecOutput, RuntimeError> {
    let Some((arg0, args)) = launch.argv.split_first() else {
        return Err(RuntimeError::InvalidSpec {
            field: "command",
            message: "must name a program to run".to_owned(),
        });
    };
    let mut command = tokio::process::Command::new(&launch.program);
    command
        .arg0(arg0)
        .args(args)
        .env_clear()
        .envs(&launch.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &launch.working_dir {
        command.current_dir(dir);
    }
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RuntimeError::NotFound { what: arg0.clone() },
        _ => RuntimeError::internal_from(format!("starting {arg0}"), e),
    })?;
    let pgid = child
        .id()
        .ok_or_else(|| RuntimeError::internal("the command exited before it was seen"))?;
    let mut guard = GroupGuard(Some(pgid));
    // Recorded under the root until it ends, so that a runtime built after this process died
    // kills what it left running (see `strays`).
    let _recorded = strays::record(root, pgid);
    let stdout = tokio::spawn(capture(child.stdout.take()));
    let stderr = tokio::spawn(capture(child.stderr.take()));
    let waited = match timeout {
        None => Some(child.wait().await),
        Some(limit) => tokio::time::timeout(limit, child.wait()).await.ok(),
    };
    let timed_out = waited.is_none();
    let status = match waited {
        Some(status) => status,
        None => {
            let _ = signal_group(pgid, KILL);
            child.wait().await
        }
    };
    // The main process is done: the rest of its group goes, which also closes the pipes. (The
    // group id stays reserved while any member lives, so this cannot reach a stranger.)
    let _ = signal_group(pgid, KILL);
    guard.0 = None;
    let status = status.map_err(|e| RuntimeError::internal_from("waiting for the command", e))?;
    let stdout = stdout.await.unwrap_or_default();
    let mut stderr = stderr.await.unwrap_or_default();
    let exit_code = if timed_out {
        let limit = timeout.unwrap_or_default();
        stderr.push_str(&format!(
            "robodeploy: killed after its timeout of {limit:?}\n"
        ));
        exit_code_for_signal(9)
    } else {
        exit_code(status)
    };
    Ok(ExecOutput {
        exit_code,
        stdout,
        stderr,
    })
}

/// Reads a stream to its end, keeping the first [`CAPTURE_LIMIT`] bytes.
async fn capture(reader: Option<impl AsyncRead + Unpin>) -> String {
    let Some(mut reader) = reader else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = CAPTURE_LIMIT - kept.len();
                kept.extend_from_slice(&buf[..n.min(room)]);
                dropped += n.saturating_sub(room);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!(
            "\n[robodeploy: {dropped} more bytes not captured]\n"
        ));
    }
    text
}
