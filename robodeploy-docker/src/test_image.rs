//! A tiny image for tests, benchmarks and demos on machines without a registry: Debian's static
//! busybox (`apt-get install busybox-static` gives `/bin/busybox`) in an otherwise empty root
//! filesystem, with `sh`, `sleep`, `echo` and friends as links to it, imported with
//! `docker import` semantics. Enabled by the `test-image` feature.
//!
//! ```
//! # let busybox = std::path::Path::new("/bin/busybox");
//! # if busybox.exists() {
//! let tar = robodeploy_docker::test_image::busybox_rootfs(busybox).unwrap();
//! assert_eq!(tar.len() % 512, 0); // a tar archive is whole 512-byte blocks
//! # }
//! ```

use std::io;
use std::path::Path;

use bytes::Bytes;
use robodeploy_core::runtime::RuntimeError;

use crate::DockerRuntime;

/// Where Debian's `busybox-static` installs the binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";

/// The applets linked in `/bin` besides `busybox` itself.
pub const APPLETS: [&str; 16] = [
    "sh", "sleep", "echo", "cat", "ls", "true", "false", "env", "pwd", "mkdir", "printf", "kill",
    "wc", "head", "tail", "id",
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
    /// The engine refused or could not be reached.
    #[error("importing the test image: {0}")]
    Runtime(#[from] RuntimeError),
}

/// A root filesystem tarball holding `busybox` and its applet links.
pub fn busybox_rootfs(busybox: &Path) -> io::Result<Bytes> {
    busybox_rootfs_with(busybox, &[])
}

/// [`busybox_rootfs`] with extra executable files (mode 0755) at the given absolute paths, such
/// as the scripts a test's job runs (`("/scripts/pre.sh", b"#!/bin/sh\n...")`). Their parent
/// directories are created.
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
    let mut tar = tar::Builder::new(Vec::new());
    for dir in ["bin/", "tmp/", "etc/", "data/"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(if dir == "tmp/" { 0o1777 } else { 0o755 });
        h.set_size(0);
        tar.append_data(&mut h, dir, io::empty())?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(binary.len() as u64);
    tar.append_data(&mut h, "bin/busybox", binary.as_slice())?;
    for applet in APPLETS {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        tar.append_link(&mut h, format!("bin/{applet}"), "busybox")?;
    }
    let mut dirs: Vec<String> = Vec::new();
    for (path, data) in files {
        let rel = path.trim_start_matches('/');
        let mut parent = String::new();
        for part in rel
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, p)| p)
        {
            parent.push_str(part);
            parent.push('/');
            if ["bin/", "tmp/", "etc/", "data/"].contains(&parent.as_str())
                || dirs.contains(&parent)
            {
                continue;
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            tar.append_data(&mut h, &parent, io::empty())?;
            dirs.push(parent.clone());
        }
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        tar.append_data(&mut h, rel, *data)?;
    }
    Ok(Bytes::from(tar.into_inner()?))
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
