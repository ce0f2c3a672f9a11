//! Where a process runtime keeps things: one directory per instance under its root, and the
//! files of the root's supervisor (see [`crate::shim`]).
//!
//! ```text
//! <root>/
//!   supervisor.lock   held (flock) by the root's one supervisor while it runs
//!   supervisor.sock   the supervisor's Unix socket; removed when it exits
//!   supervisor.log    the supervisor's own diagnostics
//!   tasks/<pgid>.json a task or exec running for a caller (its group, the caller's identity);
//!                     removed when it ends, swept by the next runtime if the caller died
//!   instances/<name>/
//!     instance.json   what to run (program, argv, env, working dir, labels); written by the runtime
//!     process.json    pid and start time of the executable and of its supervisor; written by the
//!                     supervisor
//!     exit.json       exit code and time; written by the supervisor when the executable exits
//!     stop.requested  marker: the runtime asked for this stop (so it is not a manual stop)
//!     relay.done      marker: the supervisor relayed the last output and writes here no more
//!     output.log      stdout and stderr lines, timestamped; output.log.1 after a rotation
//! ```

use std::path::{Path, PathBuf};

use robodeploy_core::runtime::RuntimeError;

/// The longest instance name accepted (it becomes a directory name).
const MAX_NAME_LEN: usize = 200;

/// The supervisor's lock file, relative to the root.
pub(crate) const SUPERVISOR_LOCK: &str = "supervisor.lock";

/// The supervisor's socket, relative to the root.
pub(crate) const SUPERVISOR_SOCKET: &str = "supervisor.sock";

/// The supervisor's diagnostics, relative to the root.
pub(crate) const SUPERVISOR_LOG: &str = "supervisor.log";

/// The directory holding every instance directory of a runtime rooted at `root`.
pub(crate) fn instances_dir(root: &Path) -> PathBuf {
    root.join("instances")
}

/// Paths of one instance's files.
#[derive(Clone, Debug)]
pub(crate) struct InstanceDir {
    path: PathBuf,
}

impl InstanceDir {
    /// The directory of instance `name` under `root` (the name must be valid, see [`validate_name`]).
    pub(crate) fn new(root: &Path, name: &str) -> Self {
        InstanceDir {
            path: instances_dir(root).join(name),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn instance_file(&self) -> PathBuf {
        self.path.join("instance.json")
    }

    pub(crate) fn process_file(&self) -> PathBuf {
        self.path.join("process.json")
    }

    pub(crate) fn exit_file(&self) -> PathBuf {
        self.path.join("exit.json")
    }

    pub(crate) fn stop_marker(&self) -> PathBuf {
        self.path.join("stop.requested")
    }

    pub(crate) fn relay_done_marker(&self) -> PathBuf {
        self.path.join("relay.done")
    }

    pub(crate) fn log_file(&self) -> PathBuf {
        self.path.join("output.log")
    }

    pub(crate) fn rotated_log_file(&self) -> PathBuf {
        self.path.join("output.log.1")
    }
}

/// Instance names become directory names, so only a conservative alphabet is accepted:
/// ASCII letters, digits, `.`, `_` and `-`, not starting with `.`, without `..`, at most 200
/// bytes. So no `/`, no NUL, nothing that leaves `instances/`, whatever the engine passes.
pub(crate) fn validate_name(name: &str) -> Result<(), RuntimeError> {
    let rule = if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!(
            "{} bytes is longer than {MAX_NAME_LEN}",
            name.len()
        ))
    } else if name.starts_with('.') {
        Some(format!("{name:?} must not start with '.'"))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map(|c| {
                format!(
                    "{name:?} contains {c:?}; only ASCII letters, digits, '.', '_' and '-' are \
                     allowed"
                )
            })
            .or_else(|| {
                name.contains("..")
                    .then(|| format!("{name:?} must not contain \"..\""))
            })
    };
    match rule {
        Some(message) => Err(RuntimeError::InvalidSpec {
            field: "name",
            message,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_safe_directory_names_pass() {
        assert!(validate_name("rd-0123abcd-talker-talker").is_ok());
        assert!(validate_name("a.b_c-d").is_ok());
    }

    #[test]
    fn names_that_could_escape_the_root_are_refused() {
        for bad in [
            "", ".", "..", "../x", "a/b", ".hidden", "a b", "é", "a..b", "a\0b", "a/../b",
        ] {
            let err = validate_name(bad).unwrap_err();
            assert!(
                matches!(err, RuntimeError::InvalidSpec { field: "name", .. }),
                "{bad:?} gave {err:?}"
            );
        }
        assert!(validate_name(&"x".repeat(201)).is_err());
        assert!(validate_name(&"x".repeat(256)).is_err());
        assert!(validate_name(&"x".repeat(200)).is_ok());
    }

    #[test]
    fn files_live_in_the_instance_directory() {
        let dir = InstanceDir::new(Path::new("/r"), "n");
        assert_eq!(dir.path(), Path::new("/r/instances/n"));
        assert_eq!(dir.exit_file(), Path::new("/r/instances/n/exit.json"));
        assert_eq!(
            dir.rotated_log_file(),
            Path::new("/r/instances/n/output.log.1")
        );
    }
}
