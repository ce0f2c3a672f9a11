//! The output log of an instance: one file of timestamped lines from both streams, rotated at a
//! size limit.
//!
//! Each record is `<unix millis> <o|e> <text>\n` (`o` for stdout, `e` for stderr), so a reader
//! gets both streams in the order the supervisor saw them, with the time of each line. A line longer
//! than [`MAX_LINE`] bytes is split into several records. When a record would take
//! `output.log` past the limit, `output.log` is renamed to `output.log.1` (replacing the previous
//! one) and a new `output.log` begins: an instance never holds more than twice the limit.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use robodeploy_core::runtime::{LogLine, LogStreamKind};
use robodeploy_core::time::Time;

/// The longest line kept as one record, in bytes.
pub const MAX_LINE: usize = 16 * 1024;

/// The smallest log limit a runtime accepts (two maximal records fit).
pub const MIN_LOG_LIMIT: u64 = 2 * (MAX_LINE as u64 + 32);

/// A size-bounded log file with one rotated predecessor.
#[derive(Debug)]
pub(crate) struct RotatingLog {
    path: PathBuf,
    rotated: PathBuf,
    file: File,
    size: u64,
    limit: u64,
    record: Vec<u8>,
}

impl RotatingLog {
    /// Opens (appending to) `path`; `rotated` receives it when it is full.
    pub(crate) fn open(path: PathBuf, rotated: PathBuf, limit: u64) -> io::Result<Self> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingLog {
            path,
            rotated,
            file,
            size,
            limit,
            record: Vec::with_capacity(MAX_LINE + 32),
        })
    }

    /// Appends one line (without its newline) from `stream`, written at `at`.
    pub(crate) fn write_line(
        &mut self,
        stream: LogStreamKind,
        line: &[u8],
        at: Time,
    ) -> io::Result<()> {
        self.record.clear();
        let tag = match stream {
            LogStreamKind::Stdout => 'o',
            LogStreamKind::Stderr => 'e',
        };
        write!(self.record, "{} {tag} ", at.as_millis())?;
        self.record.extend_from_slice(line);
        self.record.push(b'\n');
        if self.size > 0 && self.size + self.record.len() as u64 > self.limit {
            self.rotate()?;
        }
        // One write per record, so a reader never sees half of one unless it reads mid-write.
        if let Err(e) = self.file.write_all(&self.record) {
            // A partial record (the disk filled up mid-write) is cut off again: the file holds
            // whole records only, and the space is given back.
            let _ = self.file.set_len(self.size);
            return Err(e);
        }
        self.size += self.record.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        fs::rename(&self.path, &self.rotated)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

/// Parses one record (without its newline); a line that is not a record is returned whole as
/// stdout with no time, so nothing written is hidden from the reader.
pub(crate) fn parse_record(record: &[u8]) -> LogLine {
    let parsed = (|| {
        let space = record.iter().position(|&b| b == b' ')?;
        let millis: i64 = std::str::from_utf8(&record[..space]).ok()?.parse().ok()?;
        let rest = &record[space + 1..];
        let stream = match rest.get(..2)? {
            b"o " => LogStreamKind::Stdout,
            b"e " => LogStreamKind::Stderr,
            _ => return None,
        };
        Some(LogLine {
            stream,
            at: Some(Time::from_millis(millis)),
            line: String::from_utf8_lossy(&rest[2..]).into_owned(),
        })
    })();
    parsed.unwrap_or_else(|| LogLine {
        stream: LogStreamKind::Stdout,
        at: None,
        line: String::from_utf8_lossy(record).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rd-logfile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn records_round_trip() {
        let dir = temp_dir("rt");
        let mut log =
            RotatingLog::open(dir.join("output.log"), dir.join("output.log.1"), 1 << 20).unwrap();
        log.write_line(LogStreamKind::Stderr, b"warn: x y", Time::from_millis(42))
            .unwrap();
        let text = fs::read(dir.join("output.log")).unwrap();
        assert_eq!(text, b"42 e warn: x y\n");
        assert_eq!(
            parse_record(&text[..text.len() - 1]),
            LogLine {
                stream: LogStreamKind::Stderr,
                at: Some(Time::from_millis(42)),
                line: "warn: x y".to_owned()
            }
        );
        assert_eq!(parse_record(b"garbage").line, "garbage");
        assert_eq!(parse_record(b"garbage").at, None);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rotation_keeps_each_file_under_the_limit_and_one_predecessor() {
        let dir = temp_dir("rot");
        let (path, rotated) = (dir.join("output.log"), dir.join("output.log.1"));
        let limit = 1000;
        let mut log = RotatingLog::open(path.clone(), rotated.clone(), limit).unwrap();
        for i in 0..200 {
            let line = format!("line {i:04}");
            log.write_line(LogStreamKind::Stdout, line.as_bytes(), Time::from_millis(1))
                .unwrap();
            assert!(fs::metadata(&path).unwrap().len() <= limit);
        }
        let current = fs::read_to_string(&path).unwrap();
        let previous = fs::read_to_string(&rotated).unwrap();
        assert!(previous.len() as u64 <= limit && previous.len() as u64 > limit - 20);
        assert!(current.ends_with("1 o line 0199\n"));
        // The two files hold consecutive lines: the predecessor ends right before the current.
        let first_current = current.lines().next().unwrap();
        let last_previous = previous.lines().last().unwrap();
        let n = |l: &str| l[l.len() - 4..].parse::<u32>().unwrap();
        assert_eq!(n(last_previous) + 1, n(first_current));
        fs::remove_dir_all(dir).unwrap();
    }
}
