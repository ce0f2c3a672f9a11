//! The supervisor's own diagnostics: `supervisor.log` in the root, capped and rotated, written
//! so that nothing about it can stop supervision.
//!
//! `eprintln!` panics when stderr cannot be written (a full disk), and a panic in the task
//! tending an instance would drop its pipes and lose its exit. Every diagnostic goes through
//! [`report`] instead, which never panics and never blocks on anything but the write itself:
//!
//! - one record per diagnostic, `<unix millis> <text>\n`, the text on one line with control
//!   characters escaped and at most [`MAX_RECORD`] bytes;
//! - when a record would take the file past [`SUPERVISOR_LOG_LIMIT`], the file is renamed to
//!   `supervisor.log.1` (replacing the previous one) and a new one begins, so the supervisor
//!   keeps at most twice the limit;
//! - a record that cannot be written (no space left) is dropped whole (a partial write is cut
//!   off again) and counted; the next record that can be written is preceded by a note saying
//!   how many were lost and why.
//!
//! The open file is also the process's stderr (so a panic message, should one happen, lands in
//! the current file).

use std::fmt::{self, Write as _};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Mutex, MutexGuard};

use robodeploy_core::time::Time;

use crate::shim::SUPERVISOR_LOG_LIMIT;
use crate::wire::layout::SUPERVISOR_LOG;

/// The longest diagnostic text kept, in bytes (longer ones are cut, marked with `…`).
pub(crate) const MAX_RECORD: usize = 4096;

/// Where rotated diagnostics go, relative to the root.
const ROTATED: &str = "supervisor.log.1";

/// Reports a diagnostic (see the module docs); use like `eprintln!`.
macro_rules! diag {
    ($($arg:tt)*) => {
        $crate::supervisor::diag::report(format_args!($($arg)*))
    };
}
pub(crate) use diag;

/// The log once opened; `None` before (diagnostics then go to stderr as it was inherited).
static LOG: Mutex<Option<DiagLog>> = Mutex::new(None);

#[derive(Debug)]
struct DiagLog {
    file: File,
    size: u64,
    /// Records lost since the last one written, and the last reason.
    dropped: u64,
    reason: Option<String>,
}

fn lock() -> MutexGuard<'static, Option<DiagLog>> {
    LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens `supervisor.log` in the current directory (the root) and makes it stderr too. Call
/// once the supervisor holds the root's lock (only one process rotates the file).
pub(super) fn open() -> io::Result<()> {
    let file = open_log()?;
    let size = file.metadata()?.len();
    rustix::stdio::dup2_stderr(&file)?;
    *lock() = Some(DiagLog {
        file,
        size,
        dropped: 0,
        reason: None,
    });
    Ok(())
}

fn open_log() -> io::Result<File> {
    fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(SUPERVISOR_LOG)
}

/// Writes one diagnostic; never panics, whatever the file system says.
pub(crate) fn report(args: fmt::Arguments<'_>) {
    let record = record(Time::now(), args);
    let mut log = lock();
    match log.as_mut() {
        Some(log) => log.write(&record),
        None => {
            let _ = io::stderr().write_all(record.as_bytes());
        }
    }
}

/// `<millis> <text>\n`, the text escaped onto one line and cut at [`MAX_RECORD`] bytes.
fn record(at: Time, args: fmt::Arguments<'_>) -> String {
    let mut text = String::new();
    let _ = text.write_fmt(args);
    let mut out = format!("{} ", at.as_millis());
    let budget = out.len() + MAX_RECORD;
    for c in text.chars() {
        if out.len() >= budget {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

impl DiagLog {
    fn write(&mut self, record: &str) {
        let mut bytes = String::new();
        if self.dropped > 0 {
            bytes = format!(
                "{} [{} diagnostic(s) lost: {}]\n",
                Time::now().as_millis(),
                self.dropped,
                self.reason.as_deref().unwrap_or("unknown")
            );
        }
        bytes.push_str(record);
        if self.size > 0
            && self.size + bytes.len() as u64 > SUPERVISOR_LOG_LIMIT
            && let Err(e) = self.rotate()
        {
            // Past the cap and unable to start a new file: drop rather than grow.
            self.lost(&e);
            return;
        }
        match self.file.write_all(bytes.as_bytes()) {
            Ok(()) => {
                self.size += bytes.len() as u64;
                self.dropped = 0;
                self.reason = None;
            }
            Err(e) => {
                // Cut a partial record off again, so the file holds whole records only (and
                // gives back the space it took).
                let _ = self.file.set_len(self.size);
                self.lost(&e);
            }
        }
    }

    fn lost(&mut self, e: &io::Error) {
        self.dropped += 1;
        self.reason = Some(e.to_string());
    }

    fn rotate(&mut self) -> io::Result<()> {
        fs::rename(SUPERVISOR_LOG, ROTATED)?;
        let file = open_log()?;
        // Best effort: diagnostics go to `file` either way.
        let _ = rustix::stdio::dup2_stderr(&file);
        self.file = file;
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_one_escaped_line_cut_at_the_limit() {
        let at = Time::from_millis(7);
        assert_eq!(record(at, format_args!("a b")), "7 a b\n");
        assert_eq!(
            record(at, format_args!("x\ny\0z\u{1b}[2J")),
            "7 x\\ny\\u{0}z\\u{1b}[2J\n"
        );
        let long = "é".repeat(MAX_RECORD);
        let r = record(at, format_args!("{long}"));
        assert!(
            r.len() <= MAX_RECORD + 16 && r.ends_with("…\n"),
            "{}",
            r.len()
        );
        assert_eq!(r.matches('\n').count(), 1);
    }
}
