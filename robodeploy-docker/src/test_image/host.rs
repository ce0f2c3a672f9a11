//! The host's own commands as the content of a test image: each command's binary, the dynamic
//! loader and the shared libraries it needs (as `ldd` lists them), at the paths they have on
//! the host, so the image runs them as the host does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::TestImageError;

/// Where the host's commands are looked for, in order.
const SEARCH: [&str; 4] = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/// The host binary behind `command`: the first of [`SEARCH`] holding it, links followed (so
/// `sh` is Debian's `dash`).
fn find(command: &str) -> Result<PathBuf, TestImageError> {
    SEARCH
        .iter()
        .map(|dir| Path::new(dir).join(command))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
        .ok_or_else(|| TestImageError::HostCommand {
            command: command.to_owned(),
            reason: format!("not found in {}", SEARCH.join(", ")),
        })
}

/// The absolute paths of the loader and the shared libraries `binary` loads, from `ldd`;
/// none for a static binary.
fn libraries(command: &str, binary: &Path) -> Result<Vec<String>, TestImageError> {
    let out =
        Command::new("ldd")
            .arg(binary)
            .output()
            .map_err(|e| TestImageError::HostCommand {
                command: command.to_owned(),
                reason: format!("cannot run ldd on {} ({e})", binary.display()),
            })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if format!("{stdout}{stderr}").contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(TestImageError::HostCommand {
            command: command.to_owned(),
            reason: format!("ldd {} failed: {}", binary.display(), stderr.trim()),
        });
    }
    // Lines are `libc.so.6 => /lib/.../libc.so.6 (0x...)`, `/lib64/ld-linux-x86-64.so.2
    // (0x...)` or `linux-vdso.so.1 (0x...)` (in the kernel, not a file).
    let mut libs = Vec::new();
    for line in stdout.lines() {
        let path = match line.split_once("=>") {
            Some((_, right)) => right.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        match path {
            Some(p) if p.starts_with('/') => libs.push(p.to_owned()),
            Some("not") => {
                return Err(TestImageError::HostCommand {
                    command: command.to_owned(),
                    reason: format!("ldd {}: {}", binary.display(), line.trim()),
                });
            }
            _ => {}
        }
    }
    Ok(libs)
}

/// The files of an image offering `commands` in `/bin`: `/bin/<command>` and each library at
/// its host path, by path (a library many commands share appears once).
pub(super) fn files(commands: &[&str]) -> Result<BTreeMap<String, Vec<u8>>, TestImageError> {
    let read = |command: &str, path: &Path| {
        std::fs::read(path).map_err(|e| TestImageError::HostCommand {
            command: command.to_owned(),
            reason: format!("cannot read {} ({e})", path.display()),
        })
    };
    let mut files = BTreeMap::new();
    for &command in commands {
        let binary = find(command)?;
        for lib in libraries(command, &binary)? {
            if let std::collections::btree_map::Entry::Vacant(slot) = files.entry(lib) {
                let real =
                    std::fs::canonicalize(slot.key()).unwrap_or_else(|_| PathBuf::from(slot.key()));
                slot.insert(read(command, &real)?);
            }
        }
        files.insert(format!("/bin/{command}"), read(command, &binary)?);
    }
    Ok(files)
}
