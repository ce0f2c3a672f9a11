//! Small file systems of a test's own, to fill or make read-only: a tmpfs mounted on a fresh
//! directory, unmounted when dropped. Mounting needs root (or CAP_SYS_ADMIN); where it is not
//! permitted a test says so and passes, unless `CI` or `ROBODEPLOY_REQUIRE_FS_FAULTS` is set
//! ([`faults_required`]): then it fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a test that cannot mount its file system must fail rather than skip: `CI` or
/// `ROBODEPLOY_REQUIRE_FS_FAULTS` is set (and not `0` or `false`).
pub fn faults_required() -> bool {
    let set =
        |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("CI") || set("ROBODEPLOY_REQUIRE_FS_FAULTS")
}

/// A tmpfs mounted for one test; unmounted (lazily) and its directory removed when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"4m"`) whose root directory has `mode` (e.g. `"0700"`)
    /// on `dir` (created; whatever was mounted there before is unmounted). `None`, after
    /// saying why on stderr, when mounting is not permitted here and not
    /// [required](faults_required).
    ///
    /// # Panics
    /// When mounting fails and is required.
    pub fn mount(dir: PathBuf, size: &str, mode: &str) -> Option<Tmpfs> {
        let _ = Command::new("umount").arg(&dir).output();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode={mode}")])
            .arg("tmpfs")
            .arg(&dir)
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Tmpfs { dir }),
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let _ = std::fs::remove_dir(&dir);
        assert!(
            !faults_required(),
            "this test needs a small tmpfs of its own (mount -t tmpfs, as root) and cannot \
             mount one: {why}"
        );
        eprintln!(
            "!!!!!!!! SKIPPED: cannot mount a tmpfs here ({why}); run as root, or set \
             ROBODEPLOY_REQUIRE_FS_FAULTS=1 to make this a failure. !!!!!!!!"
        );
        None
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Remounts it with `options` (`"ro"`, `"rw"`).
    ///
    /// # Panics
    /// When the remount fails.
    pub fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount {options}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Appends zeros to `filler` until the file system holding it is full (a write fails with
/// ENOSPC); returns how many bytes it wrote.
///
/// # Panics
/// On any other write error.
pub fn fill(filler: &Path) -> u64 {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(filler)
        .expect("open the filler");
    let chunk = vec![0u8; 4096];
    let mut written = 0;
    loop {
        match file.write_all(&chunk) {
            Ok(()) => written += chunk.len() as u64,
            Err(e) if e.raw_os_error() == Some(28) => return written,
            Err(e) => panic!("filling: {e}"),
        }
    }
}
