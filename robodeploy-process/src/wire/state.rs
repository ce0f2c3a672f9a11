//! The state files of an instance (see [`crate::wire::layout`]) and how they are written.
//!
//! Every file is written to a temporary name and renamed into place, so a reader (a fresh
//! runtime after an engine crash) sees either the whole record or none. The runtime writes
//! `instance.json` once; the supervisor writes `process.json` and `exit.json`; nobody writes the same
//! file twice, so no locking is needed.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use robodeploy_core::runtime::RuntimeError;
use robodeploy_core::time::Time;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What to run, as the runtime decided at start: the resolved program and everything the
/// supervisor and later `exec` calls need. Holds the environment, so it is written with mode 0600.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstanceRecord {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    /// The program's resolved absolute path.
    pub(crate) program: PathBuf,
    /// argv, `argv[0]` as the spec gave it.
    pub(crate) argv: Vec<String>,
    /// The complete environment of the executable.
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) working_dir: Option<PathBuf>,
    /// Size at which `output.log` rotates, in bytes.
    pub(crate) log_limit: u64,
    /// The uid and gid to run as (`limits.user`, resolved by the runtime); none: the
    /// supervisor's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<(u32, u32)>,
    /// The address-space limit (`RLIMIT_AS`) in bytes (`limits.memory`); none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) memory_bytes: Option<u64>,
    pub(crate) created_at: Time,
}

/// The running executable and the supervisor that started it, identified by pid and start
/// time (clock ticks since boot, field 22 of `/proc/<pid>/stat`) so a reused pid is never
/// mistaken for them. The supervisor's fields keep their names from the per-instance shims
/// that came before it, so older state files read the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProcessRecord {
    /// The executable's pid, also its process group id.
    pub(crate) pid: u32,
    pub(crate) start_ticks: u64,
    /// The supervisor's pid (`shimPid` in the file).
    pub(crate) shim_pid: u32,
    pub(crate) shim_start_ticks: u64,
    pub(crate) started_at: Time,
}

/// How the executable ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExitRecord {
    /// Exit code; a signal `n` is `128 + n`; [`crate::UNKNOWN_EXIT_CODE`] when lost.
    pub(crate) exit_code: i32,
    pub(crate) finished_at: Option<Time>,
    /// Ended by SIGTERM or SIGINT that the runtime did not send.
    pub(crate) stopped_manually: bool,
}

/// Writes `value` as JSON to `path` atomically (temporary file, then rename). The file is
/// created with `mode` from the start (a temporary file left by a crash is replaced, never
/// reused with its old mode); a write that fails (a full disk) leaves no temporary file.
pub(crate) fn write_json(path: &Path, value: &impl Serialize, mode: u32) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    let tmp = path.with_extension("tmp");
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    let written = file.write_all(&bytes);
    drop(file);
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// The error of a state file that could not be written, saying so plainly when the disk is
/// full (the engine shows this as the executable's reason).
pub(crate) fn write_failure(what: &str, path: &Path, e: io::Error) -> RuntimeError {
    let full = matches!(e.raw_os_error(), Some(code) if code == ENOSPC || code == EDQUOT);
    let message = if full {
        format!(
            "writing {what} ({}): {e}: the disk is full where the runtime keeps its state; \
             free space there and the start can be retried",
            path.display()
        )
    } else {
        format!("writing {what} ({}): {e}", path.display())
    };
    RuntimeError::internal_from(message, e)
}

/// errno: no space left on device.
const ENOSPC: i32 = 28;
/// errno: disk quota exceeded.
const EDQUOT: i32 = 122;

/// Reads a JSON record; `Ok(None)` when the file does not exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates an empty marker file.
pub(crate) fn touch(path: &Path) -> io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_their_files() {
        let dir = std::env::temp_dir().join(format!("rd-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("exit.json");
        assert_eq!(read_json::<ExitRecord>(&path).unwrap(), None);
        let rec = ExitRecord {
            exit_code: 137,
            finished_at: Some(Time::from_millis(5)),
            stopped_manually: false,
        };
        write_json(&path, &rec, 0o600).unwrap();
        assert_eq!(read_json::<ExitRecord>(&path).unwrap(), Some(rec));
        assert!(!path.with_extension("tmp").exists());
        fs::write(&path, b"{not json").unwrap();
        let err = read_json::<ExitRecord>(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(&dir).unwrap();
    }
}
