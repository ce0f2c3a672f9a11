//! A tiny image for tests, benchmarks and demos on machines without a registry, imported with
//! `docker import` semantics. Enabled by the `test-image` feature.
//!
//! By default the image is made from what the machine already has: the host's own [`COMMANDS`]
//! (`sh` is the host's `/bin/sh`, Debian's `dash`; `sleep`, `cat`, … from coreutils) copied into
//! `/bin`, with the dynamic loader and the shared libraries `ldd` lists for them at their host
//! paths. Nothing needs installing, and the image runs on the local Docker engine (same
//! architecture as the host). Where Debian's static busybox is installed
//! (`apt-get install busybox-static` gives `/bin/busybox`), [`busybox_rootfs`] makes the same
//! commands as links to it instead.
//!
//! ```
//! # if std::path::Path::new("/bin/sh").exists() {
//! let tar = robodeploy_docker::test_image::rootfs().unwrap();
//! assert_eq!(tar.len() % 512, 0); // a tar archive is whole 512-byte blocks
//! # }
//! ```

mod host;
mod rootfs;

use std::io;
use std::path::Path;

use bytes::Bytes;
use robodeploy_core::runtime::RuntimeError;

use self::rootfs::Rootfs;
use crate::DockerRuntime;

/// Where Debian's `busybox-static` installs the binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";

/// The commands every test image offers in `/bin` (on the default `PATH` of a container).
pub const COMMANDS: [&str; 15] = [
    "sh", "sleep", "echo", "cat", "ls", "true", "false", "env", "pwd", "mkdir", "printf", "wc",
    "head", "tail", "id",
];

/// Why the test image could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestImageError {
    /// The busybox binary could not be read.
    #[error(
        "cannot read {path} ({source}); install Debian's busybox-static (apt-get install -y busybox-static)"
    )]
    Busybox {
        /// The path tried.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// One of the host's [`COMMANDS`], or a library it needs, could not be found or read.
    #[error("the test image needs the host's `{command}`: {reason}")]
    HostCommand {
        /// The command.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The archive could not be written.
    #[error("writing the test image's root filesystem: {0}")]
    Archive(#[source] io::Error),
    /// The engine refused or could not be reached.
    #[error("importing the test image: {0}")]
    Runtime(#[from] RuntimeError),
}

/// A root filesystem tarball holding the host's [`COMMANDS`] and the libraries they load.
pub fn rootfs() -> Result<Bytes, TestImageError> {
    rootfs_with(&[])
}

/// [`rootfs`] with extra executable files (mode 0755) at the given absolute paths, such as the
/// scripts a test's job runs (`("/scripts/pre.sh", b"#!/bin/sh\n...")`). Their parent
/// directories are created.
///
/// ```
/// # if std::path::Path::new("/bin/sh").exists() {
/// let script: &[u8] = b"#!/bin/sh\nexit 0\n";
/// let tar = robodeploy_docker::test_image::rootfs_with(&[("/scripts/ok.sh", script)]).unwrap();
/// assert_eq!(tar.len() % 512, 0);
/// # }
/// ```
pub fn rootfs_with(files: &[(&str, &[u8])]) -> Result<Bytes, TestImageError> {
    let host = host::files(&COMMANDS)?;
    let write = || -> io::Result<Bytes> {
        let mut tar = Rootfs::new()?;
        for (path, data) in &host {
            tar.file(path, 0o755, data)?;
        }
        extras(tar, files)
    };
    write().map_err(TestImageError::Archive)
}

/// Adds the caller's executable files and closes the archive.
fn extras(mut tar: Rootfs, files: &[(&str, &[u8])]) -> io::Result<Bytes> {
    for (path, data) in files {
        tar.file(path, 0o755, data)?;
    }
    Ok(Bytes::from(tar.finish()?))
}

/// Makes image `repo:tag` from the host's commands ([`rootfs`]) unless the engine already has
/// it.
pub async fn ensure_image(
    runtime: &DockerRuntime,
    repo: &str,
    tag: &str,
) -> Result<(), TestImageError> {
    if runtime.has_image(&format!("{repo}:{tag}")).await? {
        return Ok(());
    }
    runtime.import_rootfs(repo, tag, rootfs()?).await?;
    Ok(())
}

/// A root filesystem tarball holding `busybox` and the [`COMMANDS`] as links to it.
pub fn busybox_rootfs(busybox: &Path) -> io::Result<Bytes> {
    busybox_rootfs_with(busybox, &[])
}

/// [`busybox_rootfs`] with extra executable files, as [`rootfs_with`] adds them.
///
/// ```
/// # let busybox = std::path::Path::new("/bin/busybox");
/// # if busybox.exists() {
/// let script: &[u8] = b"#!/bin/sh\nexit 0\n";
/// let tar =
///     robodeploy_docker::test_image::busybox_rootfs_with(busybox, &[("/scripts/ok.sh", script)])
///         .unwrap();
/// assert_eq!(tar.len() % 512, 0);
/// # }
/// ```
pub fn busybox_rootfs_with(busybox: &Path, files: &[(&str, &[u8])]) -> io::Result<Bytes> {
    let binary = std::fs::read(busybox)?;
    let mut tar = Rootfs::new()?;
    tar.file("/bin/busybox", 0o755, &binary)?;
    for command in COMMANDS {
        tar.symlink(&format!("/bin/{command}"), "busybox")?;
    }
    extras(tar, files)
}

/// Makes image `repo:tag` from the busybox at `busybox` unless the engine already has it.
pub async fn ensure_busybox_image(
    runtime: &DockerRuntime,
    repo: &str,
    tag: &str,
    busybox: &Path,
) -> Result<(), TestImageError> {
    if runtime.has_image(&format!("{repo}:{tag}")).await? {
        return Ok(());
    }
    let tar = busybox_rootfs(busybox).map_err(|source| TestImageError::Busybox {
        path: busybox.display().to_string(),
        source,
    })?;
    runtime.import_rootfs(repo, tag, tar).await?;
    Ok(())
}
