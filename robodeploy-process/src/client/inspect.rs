//! Reading an instance's state from its files: `inspect`, `list` and `health`.
//!
//! The files are the truth, not the runtime's memory, so a runtime created after an engine
//! crash reports exactly what the previous one would have.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use robodeploy_core::runtime::{InstanceId, InstanceInfo, InstanceState, RuntimeError};
use serde::de::DeserializeOwned;

use crate::UNKNOWN_EXIT_CODE;
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::wire::layout::{InstanceDir, instances_dir, validate_name};
use crate::wire::state::{ExitRecord, InstanceRecord, ProcessRecord, read_json};

/// Reads a state file; `None` when it does not exist.
pub(crate) fn read_record<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, RuntimeError> {
    read_json(path)
        .map_err(|e| RuntimeError::internal_from(format!("reading {}", path.display()), e))
}

/// The directory and record of an existing instance, or [`RuntimeError::NoSuchInstance`].
pub(crate) fn load_instance(
    inner: &Inner,
    id: &InstanceId,
) -> Result<(InstanceDir, InstanceRecord), RuntimeError> {
    let missing = || RuntimeError::NoSuchInstance(id.0.clone());
    // A name that is not a valid directory name cannot have been created here.
    validate_name(&id.0).map_err(|_| missing())?;
    let dir = inner.dir(&id.0);
    let record = read_record(&dir.instance_file())?.ok_or_else(missing)?;
    Ok((dir, record))
}

pub(crate) fn inspect(inner: &Inner, id: &InstanceId) -> Result<InstanceInfo, RuntimeError> {
    let (dir, record) = load_instance(inner, id)?;
    // An exit this runtime was told of, though its exit.json is not written yet (the
    // supervisor is waiting for room on a full disk).
    let told = inner.live().get(&id.0).and_then(|live| {
        let exit = *live.exit.borrow();
        exit.map(|exit| (live.process.pid, exit))
    });
    info(&dir, record, told)
}

fn info(
    dir: &InstanceDir,
    record: InstanceRecord,
    told: Option<(u32, ExitRecord)>,
) -> Result<InstanceInfo, RuntimeError> {
    let exited = |exit: ExitRecord| InstanceState::Exited {
        exit_code: exit.exit_code,
        finished_at: exit.finished_at,
        stopped_manually: exit.stopped_manually,
    };
    let state = match read_record::<ExitRecord>(&dir.exit_file())? {
        Some(exit) => exited(exit),
        None => match read_record::<ProcessRecord>(&dir.process_file())? {
            None => InstanceState::Created,
            Some(p) if told.is_some_and(|(pid, _)| pid == p.pid) => match told {
                Some((_, exit)) => exited(exit),
                None => InstanceState::Created,
            },
            // The supervisor writes exit.json before it forgets an instance, so while it lives
            // the instance counts as running even if the executable has just ended.
            Some(p)
                if procfs::is_alive(p.shim_pid, p.shim_start_ticks)
                    || procfs::is_alive(p.pid, p.start_ticks) =>
            {
                InstanceState::Running {
                    started_at: p.started_at,
                    pid: Some(p.pid),
                }
            }
            // Both gone: exit.json may have appeared meanwhile; if not, the status is lost.
            Some(_) => match read_record::<ExitRecord>(&dir.exit_file())? {
                Some(exit) => exited(exit),
                None => InstanceState::Exited {
                    exit_code: UNKNOWN_EXIT_CODE,
                    finished_at: None,
                    stopped_manually: false,
                },
            },
        },
    };
    Ok(InstanceInfo {
        id: InstanceId(record.name.clone()),
        name: record.name,
        labels: record.labels,
        state,
        restart_count: 0,
    })
}

pub(crate) fn list(
    inner: &Inner,
    selector: &BTreeMap<String, String>,
) -> Result<Vec<InstanceInfo>, RuntimeError> {
    let dir = instances_dir(&inner.root);
    let entries = fs::read_dir(&dir)
        .map_err(|e| RuntimeError::internal_from(format!("listing {}", dir.display()), e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RuntimeError::internal_from("listing instances", e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let info = match inspect(inner, &InstanceId(name)) {
            Ok(info) => info,
            // Removed meanwhile, or a start that has not written its record yet.
            Err(RuntimeError::NoSuchInstance(_)) => continue,
            Err(e) => return Err(e),
        };
        if selector.iter().all(|(k, v)| info.labels.get(k) == Some(v)) {
            found.push(info);
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The runtime is healthy when files can be created in its root. The probe is an empty file,
/// so a full disk is no unhealthy device (it is reported where it hurts: a start that cannot
/// record what to run says the disk is full).
pub(crate) fn health(inner: &Inner) -> Result<(), RuntimeError> {
    let probe = inner.root.join(".health");
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&probe)
        .and_then(|_| fs::remove_file(&probe))
        .map_err(|e| RuntimeError::Unreachable {
            message: format!("root {} is not writable: {e}", inner.root.display()),
        })
}
