//! Starting an instance: claim its name, record what to run, start its shim, and watch it.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::runtime::{InstanceId, InstanceSpec, RuntimeError, RuntimeEventKind};
use robodeploy_core::time::Time;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use crate::exits::{finish, poll_exit, track};
use crate::launch::{Launch, Request, check_mounts, plan};
use crate::layout::{InstanceDir, validate_name};
use crate::runtime::Inner;
use crate::shim::SHIM_ARG;
use crate::state::{InstanceRecord, ProcessRecord, write_json};

/// How long a shim may take to report that the executable runs.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks a spec and locates its binary.
pub(crate) fn prepare(inner: &Inner, spec: &InstanceSpec) -> Result<Launch, RuntimeError> {
    validate_name(&spec.name)?;
    check_mounts(&spec.mounts)?;
    plan(
        &Request {
            command: &spec.command,
            shell: spec.shell,
            env: &spec.env,
            working_dir: spec.working_dir.as_deref(),
            image: spec.image.as_deref(),
        },
        &inner.base_env,
    )
}

pub(crate) async fn start(
    inner: &Arc<Inner>,
    spec: &InstanceSpec,
) -> Result<InstanceId, RuntimeError> {
    let launch = prepare(inner, spec)?;
    let dir = inner.dir(&spec.name);
    // Creating the directory claims the name: of two starts of one name, exactly one wins, in
    // this runtime or in another on the same root.
    match DirBuilder::new().mode(0o700).create(dir.path()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(RuntimeError::AlreadyExists(spec.name.clone()));
        }
        Err(e) => {
            return Err(RuntimeError::internal_from(
                format!("creating {}", dir.path().display()),
                e,
            ));
        }
    }
    match launch_shim(inner, spec, launch, &dir).await {
        Ok(()) => Ok(InstanceId(spec.name.clone())),
        Err(e) => {
            // Nothing runs: free the name for a retry.
            let _ = fs::remove_dir_all(dir.path());
            Err(e)
        }
    }
}

async fn launch_shim(
    inner: &Arc<Inner>,
    spec: &InstanceSpec,
    launch: Launch,
    dir: &InstanceDir,
) -> Result<(), RuntimeError> {
    let argv0 = launch.argv.first().cloned().unwrap_or_default();
    let record = InstanceRecord {
        name: spec.name.clone(),
        labels: spec.labels.clone(),
        program: launch.program,
        argv: launch.argv,
        env: launch.env,
        working_dir: launch.working_dir,
        log_limit: inner.log_limit,
        created_at: Time::now(),
    };
    // Small files are written inline: a blocking-pool round trip costs more than the write.
    write_json(&dir.instance_file(), &record, 0o600)
        .map_err(|e| RuntimeError::internal_from("writing instance.json", e))?;
    let shim_log = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(dir.shim_log())
        .map_err(|e| RuntimeError::internal_from("creating shim.log", e))?;
    let mut child = tokio::process::Command::new(&inner.shim)
        .arg(SHIM_ARG)
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(shim_log)
        // Its own group, so a terminal's Ctrl-C to the engine does not reach it.
        .process_group(0)
        .spawn()
        .map_err(|e| {
            RuntimeError::internal_from(format!("spawning shim {}", inner.shim.display()), e)
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| RuntimeError::internal("shim has no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, lines.next_line()).await;
    let started = match first {
        Ok(Ok(Some(line))) => parse_started(&line, &argv0),
        Ok(_) => Err(RuntimeError::internal(format!(
            "shim exited before starting the executable: {}",
            fs::read_to_string(dir.shim_log())
                .unwrap_or_default()
                .trim()
        ))),
        Err(_) => {
            let _ = child.start_kill();
            Err(RuntimeError::internal(format!(
                "shim did not report within {HANDSHAKE_TIMEOUT:?}"
            )))
        }
    };
    let process = match started {
        Ok(process) => process,
        Err(e) => {
            let _ = child.wait().await;
            return Err(e);
        }
    };
    track(inner, &spec.name, process);
    inner
        .events
        .emit(&spec.name, process.started_at, RuntimeEventKind::Started);
    tokio::spawn(watch_shim(
        Arc::clone(inner),
        spec.name.clone(),
        dir.clone(),
        process,
        lines,
        child,
    ));
    Ok(())
}

/// The shim's first line: `started <process.json>` or `failed <notfound|other> <message>`.
fn parse_started(line: &str, argv0: &str) -> Result<ProcessRecord, RuntimeError> {
    if let Some(json) = line.strip_prefix("started ") {
        return serde_json::from_str(json)
            .map_err(|e| RuntimeError::internal_from("shim sent a garbled start report", e));
    }
    match line.strip_prefix("failed ").map(|r| r.split_once(' ')) {
        Some(Some(("notfound", _))) => Err(RuntimeError::NotFound {
            what: argv0.to_owned(),
        }),
        Some(Some((_, message))) => Err(RuntimeError::internal(format!(
            "starting {argv0}: {message}"
        ))),
        _ => Err(RuntimeError::internal(format!(
            "shim sent an unexpected line: {line:?}"
        ))),
    }
}

/// Waits for the shim's `exited` report (or, should the shim die without one, for exit.json or
/// the loss of both processes), reports the exit, and reaps the shim.
async fn watch_shim(
    inner: Arc<Inner>,
    name: String,
    dir: InstanceDir,
    process: ProcessRecord,
    mut lines: Lines<BufReader<ChildStdout>>,
    mut child: Child,
) {
    let reported = match lines.next_line().await {
        Ok(Some(line)) => line
            .strip_prefix("exited ")
            .and_then(|json| serde_json::from_str(json).ok()),
        _ => None,
    };
    drop(lines);
    let exit = match reported {
        Some(exit) => Some(exit),
        None => poll_exit(&inner, &dir, &process).await,
    };
    if let Some(exit) = exit {
        finish(&inner, &name, exit);
    }
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_reports_are_parsed_into_records_or_typed_errors() {
        let ok = parse_started(
            r#"started {"pid":10,"startTicks":5,"shimPid":9,"shimStartTicks":4,"startedAt":"1970-01-01T00:00:01Z"}"#,
            "x",
        )
        .unwrap();
        assert_eq!((ok.pid, ok.start_ticks, ok.shim_pid), (10, 5, 9));
        assert_eq!(ok.started_at, Time::from_millis(1000));
        assert!(matches!(
            parse_started("failed notfound No such file", "talker"),
            Err(RuntimeError::NotFound { what }) if what == "talker"
        ));
        assert!(matches!(
            parse_started("failed other Permission denied", "talker"),
            Err(RuntimeError::Internal { message, .. }) if message.contains("Permission denied")
        ));
        assert!(parse_started("hello", "x").is_err());
        assert!(parse_started("started {", "x").is_err());
    }
}
