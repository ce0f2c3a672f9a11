//! Reading an instance's output log: the last lines, then (when following) new lines as the
//! supervisor writes them, across rotations, until the instance has exited and its last output is in.
//!
//! A reader runs on Tokio's blocking pool and polls the file every [`FOLLOW_POLL`]; it stops
//! when its receiver is dropped. Should `output.log` rotate twice between two polls (more than
//! twice the log limit written in 25 ms), the lines of the middle file are skipped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use robodeploy_core::runtime::{InstanceId, LogLine, LogOptions, LogReceiver, RuntimeError};
use tokio::sync::mpsc;

use crate::client::inspect::load_instance;
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::wire::layout::InstanceDir;
use crate::wire::logfile::parse_record;
use crate::wire::state::{ProcessRecord, read_json};

/// How often a follower looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(25);

/// Capacity of a log receiver.
const CHANNEL: usize = 1024;

pub(crate) fn open(
    inner: &Inner,
    id: &InstanceId,
    options: LogOptions,
) -> Result<LogReceiver, RuntimeError> {
    let (dir, _) = load_instance(inner, id)?;
    let (tx, rx) = mpsc::channel(CHANNEL);
    tokio::task::spawn_blocking(move || {
        // A read error ends the stream like the end of the output would: nothing else to say.
        let _ = read(&dir, options, &tx);
    });
    Ok(rx)
}

/// A position in the current `output.log` and the bytes of a record not yet complete.
struct Cursor {
    file: Option<File>,
    partial: Vec<u8>,
}

impl Cursor {
    /// Reads what was appended since the last call and returns the complete records.
    fn read_new(&mut self, out: &mut Vec<LogLine>) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let start = self.partial.len();
        file.read_to_end(&mut self.partial)?;
        let mut begin = 0;
        for (i, &b) in self.partial.iter().enumerate().skip(start) {
            if b == b'\n' {
                out.push(parse_record(&self.partial[begin..i]));
                begin = i + 1;
            }
        }
        self.partial.drain(..begin);
        Ok(())
    }

    /// Whether `output.log` is no longer the file this cursor reads (it was rotated away).
    fn rotated(&self, dir: &InstanceDir) -> bool {
        let current = std::fs::metadata(dir.log_file()).ok().map(|m| m.ino());
        let ours = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.ino());
        current.is_some() && current != ours
    }
}

fn read(dir: &InstanceDir, options: LogOptions, tx: &mpsc::Sender<LogLine>) -> io::Result<()> {
    let mut lines = Vec::new();
    let mut cursor = Cursor {
        file: open_existing(&dir.log_file())?,
        partial: Vec::new(),
    };
    // Opened second: if output.log rotated in between, the rotated file is the one the cursor
    // holds, and reading it here too would repeat it.
    if let Some(mut rotated) = open_existing(&dir.rotated_log_file())? {
        let ino = |f: &File| f.metadata().ok().map(|m| m.ino());
        if cursor.file.as_ref().and_then(ino) != ino(&rotated) {
            let mut bytes = Vec::new();
            rotated.read_to_end(&mut bytes)?;
            let records = bytes.split(|&b| b == b'\n').filter(|r| !r.is_empty());
            lines.extend(records.map(parse_record));
        }
    }
    cursor.read_new(&mut lines)?;
    let skip = options.tail.map_or(0, |n| lines.len().saturating_sub(n));
    let mut backlog: VecDeque<LogLine> = lines.into_iter().skip(skip).collect();
    while let Some(line) = backlog.pop_front() {
        if tx.blocking_send(line).is_err() {
            return Ok(());
        }
    }
    if !options.follow {
        return Ok(());
    }
    let process: Option<ProcessRecord> = read_json(&dir.process_file())?;
    loop {
        if tx.is_closed() {
            return Ok(());
        }
        // Decided before the last read, so output written just before the end is not missed.
        let finished = is_finished(dir, process.as_ref());
        let mut fresh = Vec::new();
        if cursor.file.is_none() {
            cursor.file = open_existing(&dir.log_file())?;
        } else if cursor.rotated(dir) {
            cursor.read_new(&mut fresh)?;
            cursor.file = open_existing(&dir.log_file())?;
            cursor.partial.clear();
        }
        cursor.read_new(&mut fresh)?;
        for line in fresh {
            if tx.blocking_send(line).is_err() {
                return Ok(());
            }
        }
        if finished {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// The instance exited and its supervisor relayed the last output (or is gone), or it was removed.
fn is_finished(dir: &InstanceDir, process: Option<&ProcessRecord>) -> bool {
    dir.relay_done_marker().exists()
        || !dir.path().exists()
        || process.is_some_and(|p| !procfs::is_alive(p.shim_pid, p.shim_start_ticks))
}

fn open_existing(path: &std::path::Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
