//! Relaying an executable's output into its log: bytes from a pipe cut into lines (at most
//! [`MAX_LINE`] bytes each) and written as records of the instance's [`RotatingLog`].

use std::path::PathBuf;

use robodeploy_core::runtime::LogStreamKind;
use robodeploy_core::time::Time;

use crate::supervisor::diag::diag;
use crate::wire::layout::InstanceDir;
use crate::wire::logfile::{MAX_LINE, RotatingLog};

/// An instance's output log, opened when the first line arrives (an executable that writes
/// nothing costs no open file).
///
/// Writing never fails and never holds the executable up: a line that cannot be written (no
/// space left on the device) is dropped and counted, reported once in the supervisor's log,
/// and once lines can be written again, a record on stderr says how many were lost and why:
/// `[robodeploy: <n> line(s) of output lost: <reason>]`.
#[derive(Debug)]
pub(crate) struct InstanceLog {
    name: String,
    paths: (PathBuf, PathBuf, u64),
    log: Option<RotatingLog>,
    /// Lines lost since the last one written, and the last reason.
    dropped: u64,
    reason: String,
}

impl InstanceLog {
    pub(crate) fn new(name: &str, dir: &InstanceDir, limit: u64) -> Self {
        InstanceLog {
            name: name.to_owned(),
            paths: (dir.log_file(), dir.rotated_log_file(), limit),
            log: None,
            dropped: 0,
            reason: String::new(),
        }
    }

    /// Writes one line, or drops and counts it (see the type's docs).
    pub(crate) fn write(&mut self, stream: LogStreamKind, line: &[u8], at: Time) {
        if self.log.is_none() {
            let (path, rotated, limit) = self.paths.clone();
            match RotatingLog::open(path, rotated, limit) {
                Ok(log) => self.log = Some(log),
                Err(e) => return self.lost(&e),
            }
        }
        let Some(log) = &mut self.log else { return };
        if self.dropped > 0 {
            let note = format!(
                "[robodeploy: {} line(s) of output lost: {}]",
                self.dropped, self.reason
            );
            if let Err(e) = log.write_line(LogStreamKind::Stderr, note.as_bytes(), at) {
                return self.lost(&e);
            }
            diag!(
                "{}: output.log: writing again after {} lost line(s)",
                self.name,
                self.dropped
            );
            self.dropped = 0;
        }
        if let Err(e) = log.write_line(stream, line, at) {
            self.lost(&e);
        }
    }

    fn lost(&mut self, e: &std::io::Error) {
        if self.dropped == 0 {
            diag!(
                "{}: output.log: {e}; output is dropped until it can be written",
                self.name
            );
        }
        self.dropped += 1;
        self.reason = e.to_string();
    }
}

/// Cuts one stream's bytes into lines.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    stream: LogStreamKind,
    pending: Vec<u8>,
}

impl LineSplitter {
    pub(crate) fn new(stream: LogStreamKind) -> Self {
        LineSplitter {
            stream,
            pending: Vec::new(),
        }
    }

    /// Takes the bytes read and writes every complete line (and every full [`MAX_LINE`] piece
    /// of a longer one) to `log`.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], log: &mut InstanceLog) {
        let at = Time::now();
        while let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                self.emit(&chunk[..i], log, at);
            } else {
                self.pending.extend_from_slice(&chunk[..i]);
                self.emit(&self.pending, log, at);
                self.pending.clear();
            }
            chunk = &chunk[i + 1..];
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= MAX_LINE {
            let whole = self.pending.len() - self.pending.len() % MAX_LINE;
            self.emit(&self.pending[..whole], log, at);
            self.pending.drain(..whole);
        }
    }

    /// The stream ended: a last line without its newline is written too.
    pub(crate) fn finish(&mut self, log: &mut InstanceLog) {
        if !self.pending.is_empty() {
            self.emit(&self.pending, log, Time::now());
            self.pending.clear();
        }
    }

    fn emit(&self, line: &[u8], log: &mut InstanceLog, at: Time) {
        if line.is_empty() {
            log.write(self.stream, b"", at);
        }
        for piece in line.chunks(MAX_LINE) {
            log.write(self.stream, piece, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_long_ones_cut_and_a_trailing_partial_line_kept() {
        let root = std::env::temp_dir().join(format!("rd-relay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = InstanceDir::new(&root, "i");
        std::fs::create_dir_all(dir.path()).unwrap();
        let mut log = InstanceLog::new("i", &dir, 1 << 20);
        let mut split = LineSplitter::new(LogStreamKind::Stderr);
        assert!(!dir.log_file().exists(), "opened before any output");
        let long = "x".repeat(MAX_LINE + 5);
        let input = format!("one\n\ntwo\n{long}\ntail");
        // Fed in awkward pieces, as pipes deliver.
        for piece in input.as_bytes().chunks(7) {
            split.feed(piece, &mut log);
        }
        split.finish(&mut log);
        let text = std::fs::read_to_string(dir.log_file()).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.split_once(" e ").expect("stderr record").1)
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[..3], ["one", "", "two"]);
        assert_eq!(lines[3].len(), MAX_LINE);
        assert_eq!(lines[4], "xxxxx");
        assert_eq!(lines[5], "tail");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_log_that_cannot_be_opened_drops_lines_without_failing() {
        let dir = InstanceDir::new(std::path::Path::new("/nonexistent-rd-root"), "i");
        let mut log = InstanceLog::new("i", &dir, 1 << 20);
        let mut split = LineSplitter::new(LogStreamKind::Stdout);
        split.feed(b"a\nb\n", &mut log);
        split.finish(&mut log);
        assert!(log.log.is_none());
    }
}
