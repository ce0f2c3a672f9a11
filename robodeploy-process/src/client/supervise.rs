//! Starting an instance: claim its name, record what to run, and have the root's supervisor
//! start it.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::sync::Arc;

use robodeploy_core::runtime::{InstanceId, InstanceSpec, RuntimeError};
use robodeploy_core::time::Time;

use crate::client::launch::{Launch, Request, check_mounts, plan};
use crate::client::link::{self, StartFailure};
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::os::signal::{KILL, signal_group};
use crate::wire::layout::{InstanceDir, validate_name};
use crate::wire::protocol::FailKind;
use crate::wire::state::{InstanceRecord, ProcessRecord, read_json, write_failure, write_json};

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
    match hand_over(inner, spec, launch, &dir).await {
        Ok(()) => Ok(InstanceId(spec.name.clone())),
        Err(e) => {
            // Nothing runs: free the name for a retry.
            let _ = fs::remove_dir_all(dir.path());
            Err(e)
        }
    }
}

/// Records what to run and has the supervisor start it.
async fn hand_over(
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
        // Without one of its own, an executable runs where the runtime does (the supervisor
        // may have been started by another runtime, elsewhere).
        working_dir: launch.working_dir.or_else(|| std::env::current_dir().ok()),
        log_limit: inner.log_limit,
        created_at: Time::now(),
    };
    // Small files are written inline: a blocking-pool round trip costs more than the write.
    write_json(&dir.instance_file(), &record, 0o600)
        .map_err(|e| write_failure("instance.json", &dir.instance_file(), e))?;
    // A supervisor that dies before answering started nothing that still runs (see
    // `abandon`); the start is tried once more with a new one.
    for attempt in 0..2 {
        let link = link::get(inner, true)
            .await?
            .ok_or_else(|| RuntimeError::internal("no supervisor could be started"))?;
        let failure = match link.start(&spec.name).await {
            // The reply's reader tracked it and told `Started`.
            Ok(_) => return Ok(()),
            Err(failure) => failure,
        };
        return Err(match failure {
            StartFailure::Refused(FailKind::NotFound, _) => RuntimeError::NotFound { what: argv0 },
            // The directory was claimed by this start: only a stranger on the socket could
            // have started the name meanwhile. Nothing of this start runs.
            StartFailure::Refused(FailKind::Exists, _) => {
                RuntimeError::AlreadyExists(spec.name.clone())
            }
            StartFailure::Refused(FailKind::Other, message) => {
                RuntimeError::internal(format!("starting {argv0}: {message}"))
            }
            StartFailure::Lost if !abandon(dir) && attempt == 0 => continue,
            StartFailure::Lost => RuntimeError::internal(format!(
                "starting {argv0}: the supervisor exited before answering"
            )),
            StartFailure::TimedOut => {
                abandon(dir);
                RuntimeError::internal(format!(
                    "starting {argv0}: the supervisor did not answer in time"
                ))
            }
        });
    }
    Err(RuntimeError::internal(format!(
        "starting {argv0}: the supervisor exited before answering"
    )))
}

/// Kills whatever a start that got no answer left running; returns whether it had started.
fn abandon(dir: &InstanceDir) -> bool {
    match read_json::<ProcessRecord>(&dir.process_file()) {
        Ok(Some(p)) => {
            if procfs::stat(p.pid).is_some_and(|s| s.start_ticks == p.start_ticks) {
                let _ = signal_group(p.pid, KILL);
            }
            true
        }
        _ => false,
    }
}
