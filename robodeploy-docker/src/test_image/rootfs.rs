//! The tar stream of a root filesystem: directories made once, in order, before what they hold.

use std::io;

/// Writes a root filesystem tarball. Paths are absolute (`/bin/sh`); missing parent
/// directories are added (mode 0755) before the first entry below them.
pub(super) struct Rootfs {
    tar: tar::Builder<Vec<u8>>,
    dirs: Vec<String>,
}

impl Rootfs {
    /// An archive holding the directories every test image has: `/bin`, `/tmp` (mode 1777),
    /// `/etc` and `/data`.
    pub(super) fn new() -> io::Result<Self> {
        let mut rootfs = Rootfs {
            tar: tar::Builder::new(Vec::new()),
            dirs: Vec::new(),
        };
        for (dir, mode) in [
            ("bin/", 0o755),
            ("tmp/", 0o1777),
            ("etc/", 0o755),
            ("data/", 0o755),
        ] {
            rootfs.dir(dir, mode)?;
        }
        Ok(rootfs)
    }

    fn dir(&mut self, dir: &str, mode: u32) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        self.tar.append_data(&mut h, dir, io::empty())?;
        self.dirs.push(dir.to_owned());
        Ok(())
    }

    /// Adds the directories above `rel` (a path without its leading `/`) not yet in the archive.
    fn parents(&mut self, rel: &str) -> io::Result<()> {
        let mut parent = String::new();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in parts.split_last().map_or(&[][..], |(_, p)| p) {
            parent.push_str(part);
            parent.push('/');
            if !self.dirs.contains(&parent) {
                self.dir(&parent.clone(), 0o755)?;
            }
        }
        Ok(())
    }

    /// Adds a regular file with `mode` at the absolute `path`.
    pub(super) fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        let rel = path.trim_start_matches('/');
        self.parents(rel)?;
        let mut h = tar::Header::new_gnu();
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        self.tar.append_data(&mut h, rel, data)
    }

    /// Adds a symbolic link at the absolute `path` pointing to `target`.
    pub(super) fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        let rel = path.trim_start_matches('/');
        self.parents(rel)?;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        self.tar.append_link(&mut h, rel, target)
    }

    /// The finished archive.
    pub(super) fn finish(self) -> io::Result<Vec<u8>> {
        self.tar.into_inner()
    }
}
