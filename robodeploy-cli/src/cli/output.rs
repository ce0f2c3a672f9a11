//! Everything a command prints on stdout goes through here: a reader that goes away (`| head`,
//! a closed pipe: `BrokenPipe`) ends the output quietly, never a panic, and the command's exit
//! code stays its own. Any other failure to write (a full disk behind `> file`) also stops the
//! output, and the command then exits 3 naming it: a truncated document is never reported as a
//! success. Text from manifests and the server is escaped for the terminal.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::args::Format;
use super::error::CliError;

/// Set once stdout's reader is gone: later output is dropped.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// The first failure to write stdout other than a closed pipe.
static FAILED: OnceLock<String> = OnceLock::new();

/// Prints one line on stdout.
pub(crate) fn line(text: impl AsRef<str>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        // A closed pipe (EPIPE) only means the reader has read enough; anything else is a
        // failure the command reports. Either way, printing stops.
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            let _ = FAILED.set(e.to_string());
        }
    }
}

/// Why stdout could not be written, when it failed for another reason than a closed pipe.
pub(crate) fn write_failure() -> Option<&'static str> {
    FAILED.get().map(String::as_str)
}

/// Prints one line on stderr, dropping it when stderr cannot be written (`eprintln!` would
/// panic then).
pub(crate) fn diagnostic(text: impl AsRef<str>) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

/// Whether stdout's reader is gone (a command streaming output stops then).
pub(crate) fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Resolves once stdout's reader is gone, without writing (later output is dropped then, as
/// after a closed pipe's first failed write): a stream that waits for its next item (`logs
/// --follow` of a quiet executable, `events --watch` on a quiet server) ends with its reader,
/// not at the next item, which may never come. Only a pipe tells its writer that its reader
/// closed (the kernel reports an error on its write end); when stdout is not one (a file, a
/// terminal) this never resolves, and the next write finds out instead.
pub(crate) async fn reader_gone() {
    #[cfg(unix)]
    if let Some(pipe) = stdout_pipe()
        && pipe
            .ready(tokio::io::Interest::ERROR)
            .await
            .is_ok_and(|r| r.is_error())
    {
        CLOSED.store(true, Ordering::Relaxed);
        return;
    }
    std::future::pending().await
}

/// A second descriptor of stdout, registered with the runtime to learn when its reader closes,
/// when stdout is a pipe. It is never written through (so its blocking mode, shared with stdout,
/// does not matter).
#[cfg(unix)]
fn stdout_pipe() -> Option<tokio::net::unix::pipe::Sender> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let file = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().ok()?);
    if !file.metadata().ok()?.file_type().is_fifo() {
        return None;
    }
    tokio::net::unix::pipe::Sender::from_file_unchecked(file).ok()
}

/// Prints a value as JSON or YAML.
pub(crate) fn value(format: Format, v: &impl Serialize) -> Result<(), CliError> {
    let text = match format {
        Format::Yaml => serde_saphyr::to_string(v)
            .map_err(|e| CliError::Failed(format!("cannot write YAML: {e}")))?,
        Format::Json | Format::Table => serde_json::to_string_pretty(v)
            .map_err(|e| CliError::Failed(format!("cannot write JSON: {e}")))?,
    };
    line(text.trim_end());
    Ok(())
}

/// Prints a value as one JSON line (streams).
pub(crate) fn json_line(v: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(v) {
        line(text);
    }
}

/// `text` with every control character escaped (`\u{1b}`, `\r`), borrowed when there is none:
/// a name from a file can never move the cursor or recolour the terminal.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `n thing` or `n things`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A table: a header and rows, columns padded to their widest cell.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints it; an empty table prints `No <what>.` instead.
    pub(crate) fn print(&self, what: &str) {
        if self.rows.is_empty() {
            line(format!("No {what}."));
            return;
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let render = |cells: Vec<&str>| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    text.push_str(cell);
                    text.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            text
        };
        line(render(self.header.clone()));
        for row in &self.rows {
            line(render(row.iter().map(String::as_str).collect()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{count, printable};

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("talker-1 ünï"), "talker-1 ünï");
        assert_eq!(
            printable("evil\u{1b}[2J\rname\u{7}"),
            "evil\\u{1b}[2J\\rname\\u{7}"
        );
    }

    #[test]
    fn plurals_agree() {
        assert_eq!(count(1, "robot", "robots"), "1 robot");
        assert_eq!(count(0, "robot", "robots"), "0 robots");
        assert_eq!(count(2, "robot", "robots"), "2 robots");
    }
}
