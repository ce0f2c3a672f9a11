//! Starting an instance: claim its name, record what to run, and have the root's supervisor
//! start it.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use robodeploy_core::runtime::{InstanceId, InstanceSpec, RuntimeError};
use robodeploy_core::time::Time;

use crate::client::launch::{Launch, Request, check_mounts, plan};
use crate::client::link::{self, StartFailure};
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::os::signal::{KILL, signal_group};
use crate::wire::layout::{InstanceDir, instances_dir, validate_name};
use crate::wire::protocol::FailKind;
use crate::wire::state::{InstanceRecord, ProcessRecord, read_json, write_failure, write_json};

/// Checks a spec and locates its binary.
pub(crate) fn prepare(inner: &Inner, spec: &InstanceSpec) -> Result<Launch, RuntimeError> {
    validate_name(&spec.name)?;
    check_mounts(&spec.mounts)?;
    crate::client::limits::resolve(spec)?;
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
    let argv0 = launch.argv.first().cloned().unwrap_or_default();
    let record = record_of(inner, spec, launch)?;
    let dir = inner.dir(&spec.name);
    claim(inner, &spec.name, &dir, &record)?;
    match hand_over(inner, &spec.name, &argv0, &dir).await {
        Ok(()) => Ok(InstanceId(spec.name.clone())),
        Err(e) => {
            // Nothing runs: free the name for a retry.
            let _ = fs::remove_dir_all(dir.path());
            Err(e)
        }
    }
}

/// What the supervisor runs for `spec`.
fn record_of(
    inner: &Inner,
    spec: &InstanceSpec,
    launch: Launch,
) -> Result<InstanceRecord, RuntimeError> {
    let applied = crate::client::limits::resolve(spec)?;
    Ok(InstanceRecord {
        name: spec.name.clone(),
        labels: spec.labels.clone(),
        program: launch.program,
        argv: launch.argv,
        env: launch.env,
        // Without one of its own, an executable runs where the runtime does (the supervisor
        // may have been started by another runtime, elsewhere).
        working_dir: launch.working_dir.or_else(|| std::env::current_dir().ok()),
        log_limit: inner.log_limit,
        user: applied.user,
        memory_bytes: applied.memory_bytes,
        created_at: Time::now(),
    })
}

/// The prefix of a claim's directory (not a valid instance name, so no listing shows it).
const CLAIM_PREFIX: &str = ".claim-";

/// Tells claims of one process apart.
static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// Claims `name`: a directory of its own holding the record is renamed into place, so of two
/// starts of one name exactly one wins (in this runtime or another on the same root), and a
/// start killed at any instant leaves either nothing under the name or a whole record (an
/// instance that never ran, which is listed and can be replaced), never a bare directory that
/// blocks the name while no listing shows it. A bare directory an older runtime left is
/// replaced (a rename onto an empty directory succeeds).
fn claim(
    inner: &Inner,
    name: &str,
    dir: &InstanceDir,
    record: &InstanceRecord,
) -> Result<(), RuntimeError> {
    let staging = inner.dir(&format!(
        "{CLAIM_PREFIX}{name}-{}-{}",
        std::process::id(),
        CLAIMS.fetch_add(1, Ordering::Relaxed)
    ));
    let made = DirBuilder::new()
        .mode(0o700)
        .create(staging.path())
        .map_err(|e| {
            RuntimeError::internal_from(format!("creating {}", staging.path().display()), e)
        })
        // Small files are written inline: a blocking-pool round trip costs more than the write.
        .and_then(|()| {
            write_json(&staging.instance_file(), record, 0o600)
                .map_err(|e| write_failure("instance.json", &staging.instance_file(), e))
        })
        .and_then(|()| match fs::rename(staging.path(), dir.path()) {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
                ) =>
            {
                Err(RuntimeError::AlreadyExists(name.to_owned()))
            }
            Err(e) => Err(RuntimeError::internal_from(
                format!("claiming {}", dir.path().display()),
                e,
            )),
        });
    if made.is_err() {
        let _ = fs::remove_dir_all(staging.path());
    }
    made
}

/// Removes the claims of processes that are gone (killed between making a claim and renaming
/// it into place); returns how many.
pub(crate) fn sweep_claims(root: &Path) -> usize {
    let Ok(entries) = fs::read_dir(instances_dir(root)) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(CLAIM_PREFIX)) else {
            continue;
        };
        // `<name>-<pid>-<n>`: the pid is the second field from the end.
        let pid = rest.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| procfs::stat(pid).is_none())
            && fs::remove_dir_all(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Has the supervisor start the claimed instance `name`.
async fn hand_over(
    inner: &Arc<Inner>,
    name: &str,
    argv0: &str,
    dir: &InstanceDir,
) -> Result<(), RuntimeError> {
    // A supervisor that dies before answering started nothing that still runs (see
    // `abandon`); the start is tried once more with a new one.
    for attempt in 0..2 {
        let link = link::get(inner, true)
            .await?
            .ok_or_else(|| RuntimeError::internal("no supervisor could be started"))?;
        let failure = match link.start(name).await {
            // The reply's reader tracked it and told `Started`.
            Ok(_) => return Ok(()),
            Err(failure) => failure,
        };
        return Err(match failure {
            StartFailure::Refused(FailKind::NotFound, _) => RuntimeError::NotFound {
                what: argv0.to_owned(),
            },
            // The directory was claimed by this start: only a stranger on the socket could
            // have started the name meanwhile. Nothing of this start runs.
            StartFailure::Refused(FailKind::Exists, _) => {
                RuntimeError::AlreadyExists(name.to_owned())
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
