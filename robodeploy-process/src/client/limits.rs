//! What a process runtime makes of an executable's limits.
//!
//! | limit | a process |
//! |---|---|
//! | `memory` | `RLIMIT_AS` (soft and hard) of the executable: its address space, which bounds what it can allocate (a program that maps much more than it uses, as some JITs do, needs a higher figure than in a container) |
//! | `user` | the executable's uid and gid (a name is looked up in `/etc/passwd`; a uid alone takes the user's group from there, else the same number as gid); another user than the runtime's own needs the runtime to run as root |
//! | `hostNetwork` | nothing to do: a process always has its host's network |
//! | `cpu`, `devices`, `readOnlyRootFilesystem`, `capabilities`, `privileged` | refused with [`RuntimeError::InvalidSpec`] naming the field (validation refuses them on preinstalled components already): a process sees every device and file its user may, has its user's capabilities, and a CPU share needs a cgroup, which this runtime does not manage |

use robodeploy_core::model::UserSpec;
use robodeploy_core::runtime::{InstanceSpec, RuntimeError};

/// The limits a process runtime applies, resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The uid and gid to run as, when another than the runtime's own.
    pub(crate) user: Option<(u32, u32)>,
    /// The address-space limit in bytes.
    pub(crate) memory_bytes: Option<u64>,
}

/// The entry of `/etc/passwd` for `pick` (by name or by uid): its uid and gid.
fn passwd(pick: impl Fn(&str, u32) -> bool) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let (name, _, uid, gid) = (f.next()?, f.next()?, f.next()?, f.next()?);
        let (uid, gid) = (uid.parse().ok()?, gid.parse().ok()?);
        pick(name, uid).then_some((uid, gid))
    })
}

fn refuse(spec: &InstanceSpec, field: &'static str, message: String) -> RuntimeError {
    RuntimeError::InvalidSpec {
        field,
        message: format!("{}: {message}", spec.name),
    }
}

/// Resolves `spec.limits` for a process, or names the field a process cannot apply.
pub(crate) fn resolve(spec: &InstanceSpec) -> Result<Applied, RuntimeError> {
    let l = &spec.limits;
    if let Some(field) = l.container_only().first() {
        let field: &'static str = match *field {
            "cpu" => "limits.cpu",
            "devices" => "limits.devices",
            "readOnlyRootFilesystem" => "limits.readOnlyRootFilesystem",
            "capabilities" => "limits.capabilities",
            _ => "limits.privileged",
        };
        return Err(refuse(
            spec,
            field,
            "a process runtime cannot apply it (only containers do)".to_owned(),
        ));
    }
    let mut applied = Applied::default();
    if let Some(memory) = &l.memory {
        let bytes = memory.memory_bytes().map_err(|rule| {
            refuse(
                spec,
                "limits.memory",
                format!("{:?} must be {rule}", memory.as_text()),
            )
        })?;
        applied.memory_bytes = Some(bytes);
    }
    if let Some(user) = &l.user {
        let parsed = UserSpec::parse(user)
            .map_err(|rule| refuse(spec, "limits.user", format!("{user:?} must be {rule}")))?;
        let (uid, gid) = match parsed {
            UserSpec::Name(name) => passwd(|n, _| n == name).ok_or_else(|| {
                refuse(
                    spec,
                    "limits.user",
                    format!("no user {name:?} in /etc/passwd"),
                )
            })?,
            UserSpec::Id {
                uid,
                gid: Some(gid),
            } => (uid, gid),
            UserSpec::Id { uid, gid: None } => passwd(|_, u| u == uid).unwrap_or((uid, uid)),
        };
        let me = (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
        if (uid, gid) != me {
            if me.0 != 0 {
                return Err(refuse(
                    spec,
                    "limits.user",
                    format!(
                        "running as {uid}:{gid} needs the runtime to run as root (it runs as {}:{})",
                        me.0, me.1
                    ),
                ));
            }
            applied.user = Some((uid, gid));
        }
    }
    Ok(applied)
}
