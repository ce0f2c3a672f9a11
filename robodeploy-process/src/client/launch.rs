//! From a spec to what is executed: the program resolved, argv, the environment and the working
//! directory. No shell is involved unless the spec asks for one.
//!
//! Environment: by default an executable starts from a clean environment holding only
//! [`KEPT_VARIABLES`] from the runtime's own environment (`PATH` always, with a default when the
//! runtime has none), then the spec's variables on top. A runtime built with
//! `inherit_env(true)` passes its whole environment instead. Either way the environment is
//! fixed at start and recorded, so `exec` sees the same one.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use robodeploy_core::model::Mount;
use robodeploy_core::runtime::RuntimeError;

/// Variables a clean environment keeps from the runtime's own.
pub const KEPT_VARIABLES: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];

/// `PATH` when the runtime's environment has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The shell used when a spec sets `shell: true`.
const SHELL: &str = "/bin/sh";

/// What to execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Launch {
    pub(crate) program: PathBuf,
    pub(crate) argv: Vec<String>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) working_dir: Option<PathBuf>,
}

/// The environment every executable of a runtime starts from, computed once.
pub(crate) fn base_env(inherit: bool) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| inherit || KEPT_VARIABLES.contains(&k.as_str()))
        .collect();
    env.entry("PATH".to_owned())
        .or_insert_with(|| DEFAULT_PATH.to_owned());
    env
}

/// What a spec or task asks to run, independent of where it came from.
pub(crate) struct Request<'a> {
    pub(crate) command: &'a [String],
    pub(crate) shell: bool,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) working_dir: Option<&'a str>,
    pub(crate) image: Option<&'a str>,
}

/// Checks a request and resolves its program: the `prepare` of a process runtime.
pub(crate) fn plan(
    req: &Request<'_>,
    base: &BTreeMap<String, String>,
) -> Result<Launch, RuntimeError> {
    if let Some(image) = req.image {
        return Err(RuntimeError::InvalidSpec {
            field: "image",
            message: format!("{image:?}: a process runtime runs preinstalled binaries, not images"),
        });
    }
    let Some(first) = req.command.first() else {
        return Err(RuntimeError::InvalidSpec {
            field: "command",
            message: "must name a program to run".to_owned(),
        });
    };
    let working_dir = req.working_dir.map(check_working_dir).transpose()?;
    let mut env = base.clone();
    env.extend(req.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (program, argv) = if req.shell {
        let program = resolve(SHELL, None, None)?;
        (
            program,
            vec!["sh".to_owned(), "-c".to_owned(), req.command.join(" ")],
        )
    } else {
        let path = env.get("PATH").map(String::as_str);
        (
            resolve(first, path, working_dir.as_deref())?,
            req.command.to_vec(),
        )
    };
    Ok(Launch {
        program,
        argv,
        env,
        working_dir,
    })
}

fn check_working_dir(dir: &str) -> Result<PathBuf, RuntimeError> {
    check_host_path("working_dir", dir)?;
    let path = PathBuf::from(dir);
    let message = if !path.is_dir() {
        format!("{dir:?} is not an existing directory")
    } else {
        return Ok(path);
    };
    Err(RuntimeError::InvalidSpec {
        field: "working_dir",
        message,
    })
}

/// Finds `program` the way `execvp` would: a name with a `/` is a path (relative to the working
/// directory), any other name is searched on `path`. Missing or not executable → NotFound.
fn resolve(program: &str, path: Option<&str>, cwd: Option<&Path>) -> Result<PathBuf, RuntimeError> {
    let not_found = || RuntimeError::NotFound {
        what: program.to_owned(),
    };
    if program.contains('/') {
        let candidate = match cwd {
            Some(dir) if !program.starts_with('/') => dir.join(program),
            _ => PathBuf::from(program),
        };
        return is_executable(&candidate)
            .then_some(candidate)
            .ok_or_else(not_found);
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(not_found)
}

/// Whether `path` is a file someone may execute.
pub(crate) fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The longest path accepted, in bytes (`PATH_MAX` holds 4096 with the final NUL).
const MAX_PATH: usize = 4095;

/// The longest path component accepted, in bytes (`NAME_MAX`).
const MAX_COMPONENT: usize = 255;

/// A host path named by a spec (a working directory, a mount source): absolute, in plain
/// components (no `..`, which could lead out of where it seems to point), no NUL, no component
/// over 255 bytes and at most 4095 bytes in all, whatever the engine passes.
pub(crate) fn check_host_path(field: &'static str, path: &str) -> Result<(), RuntimeError> {
    let shown = || format!("{:?}", path.chars().take(64).collect::<String>());
    let message = if !path.starts_with('/') {
        format!("{} must be an absolute path", shown())
    } else if path.contains('\0') {
        format!("{} contains a NUL byte", shown())
    } else if path.len() > MAX_PATH {
        format!("{} bytes is longer than {MAX_PATH}", path.len())
    } else if path.split('/').any(|c| c == "..") {
        format!("{} must not contain a \"..\" component", shown())
    } else if let Some(c) = path.split('/').find(|c| c.len() > MAX_COMPONENT) {
        format!(
            "{}: a component of {} bytes is longer than {MAX_COMPONENT}",
            shown(),
            c.len()
        )
    } else {
        return Ok(());
    };
    Err(RuntimeError::InvalidSpec { field, message })
}

/// Mounts mean nothing to a process: it sees the host's files. An absolute source is accepted
/// (the process reads it at that path; the target is ignored); a named volume is refused.
pub(crate) fn check_mounts(mounts: &[Mount]) -> Result<(), RuntimeError> {
    for m in mounts.iter().filter(|m| m.source.starts_with('/')) {
        check_host_path("mounts", &m.source)?;
    }
    match mounts.iter().find(|m| !m.source.starts_with('/')) {
        Some(m) => Err(RuntimeError::InvalidSpec {
            field: "mounts",
            message: format!(
                "source {:?} is not an absolute host path; a process runtime has no named \
                 volumes (absolute sources are used in place, targets are ignored)",
                m.source
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(command: &'a [String], env: &'a BTreeMap<String, String>) -> Request<'a> {
        Request {
            command,
            shell: false,
            env,
            working_dir: None,
            image: None,
        }
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_program_on_path_resolves_to_its_absolute_path() {
        let env = BTreeMap::new();
        let cmd = argv(&["sh", "-c", "exit 0"]);
        let launch = plan(&req(&cmd, &env), &base_env(false)).unwrap();
        assert!(launch.program.is_absolute());
        assert!(launch.program.ends_with("sh"));
        assert_eq!(launch.argv, cmd);
        assert!(launch.env.contains_key("PATH"));
    }

    #[test]
    fn a_missing_program_is_not_found_and_not_retryable() {
        let env = BTreeMap::new();
        let cmd = argv(&["robodeploy-no-such-binary"]);
        let err = plan(&req(&cmd, &env), &base_env(false)).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::NotFound { what } if what == "robodeploy-no-such-binary")
        );
        assert!(!err.is_retryable());
        let cmd = argv(&["/nonexistent/bin/x"]);
        assert!(matches!(
            plan(&req(&cmd, &env), &base_env(false)),
            Err(RuntimeError::NotFound { .. })
        ));
    }

    #[test]
    fn spec_path_overrides_the_base_path_for_lookup() {
        let mut env = BTreeMap::new();
        env.insert("PATH".to_owned(), "/nonexistent".to_owned());
        let cmd = argv(&["sh"]);
        assert!(matches!(
            plan(&req(&cmd, &env), &base_env(false)),
            Err(RuntimeError::NotFound { .. })
        ));
    }

    #[test]
    fn shell_joins_the_command_for_sh_c() {
        let env = BTreeMap::new();
        let cmd = argv(&["echo", "a", "&&", "echo", "b"]);
        let mut r = req(&cmd, &env);
        r.shell = true;
        let launch = plan(&r, &base_env(false)).unwrap();
        assert_eq!(launch.program, PathBuf::from("/bin/sh"));
        assert_eq!(launch.argv, argv(&["sh", "-c", "echo a && echo b"]));
    }

    #[test]
    fn images_empty_commands_and_bad_working_dirs_are_invalid() {
        let env = BTreeMap::new();
        let cmd = argv(&["true"]);
        let mut r = req(&cmd, &env);
        r.image = Some("busybox:1");
        assert!(matches!(
            plan(&r, &base_env(false)),
            Err(RuntimeError::InvalidSpec { field: "image", .. })
        ));
        let empty: Vec<String> = Vec::new();
        assert!(matches!(
            plan(&req(&empty, &env), &base_env(false)),
            Err(RuntimeError::InvalidSpec {
                field: "command",
                ..
            })
        ));
        for wd in ["relative/dir", "/nonexistent/dir"] {
            let mut r = req(&cmd, &env);
            r.working_dir = Some(wd);
            assert!(matches!(
                plan(&r, &base_env(false)),
                Err(RuntimeError::InvalidSpec {
                    field: "working_dir",
                    ..
                })
            ));
        }
    }

    #[test]
    fn host_paths_that_could_lead_elsewhere_are_refused() {
        let env = BTreeMap::new();
        let cmd = argv(&["true"]);
        let long_component = format!("/tmp/{}", "x".repeat(256));
        let long_path = "/x".repeat(2048);
        for wd in [
            "/tmp/../etc",
            "/..",
            "/tmp/a\0b",
            long_component.as_str(),
            long_path.as_str(),
        ] {
            let mut r = req(&cmd, &env);
            r.working_dir = Some(wd);
            let err = plan(&r, &base_env(false)).unwrap_err();
            assert!(
                matches!(
                    &err,
                    RuntimeError::InvalidSpec {
                        field: "working_dir",
                        ..
                    }
                ),
                "{wd:?}: {err:?}"
            );
            assert!(!err.to_string().contains('\0'));
            let m = Mount {
                source: wd.to_owned(),
                target: "/data".to_owned(),
                read_only: false,
            };
            assert!(matches!(
                check_mounts(&[m]),
                Err(RuntimeError::InvalidSpec {
                    field: "mounts",
                    ..
                })
            ));
        }
        let mut r = req(&cmd, &env);
        r.working_dir = Some("/tmp/./");
        assert!(plan(&r, &base_env(false)).is_ok());
    }

    #[test]
    fn a_clean_environment_keeps_only_the_listed_variables() {
        let env = base_env(false);
        assert!(env.keys().all(|k| KEPT_VARIABLES.contains(&k.as_str())));
        assert!(env.contains_key("PATH"));
    }

    #[test]
    fn named_volumes_are_refused_and_host_paths_accepted() {
        let mount = |source: &str| Mount {
            source: source.to_owned(),
            target: "/data".to_owned(),
            read_only: false,
        };
        assert!(check_mounts(&[mount("/var/lib/maps")]).is_ok());
        assert!(matches!(
            check_mounts(&[mount("/ok"), mount("maps")]),
            Err(RuntimeError::InvalidSpec { field: "mounts", message }) if message.contains("\"maps\"")
        ));
    }
}
