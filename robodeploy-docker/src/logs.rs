//! A container's output as [`LogLine`]s, with tail and follow.
//!
//! The engine is asked for timestamps, so each line carries the instant the engine recorded it.
//! Frames of the multiplexed stream do not align with lines; each stream keeps its partial line
//! until the newline arrives (or the stream ends).

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use robodeploy_core::runtime::{LogLine, LogOptions, LogReceiver, LogStreamKind};
use robodeploy_core::time::Time;
use tokio::sync::mpsc;

/// Lines buffered for the reader.
const BUFFER: usize = 256;

/// Splits one stream's bytes into lines.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes; returns the lines they complete (without their newline).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let rest = self.partial.split_off(pos + 1);
            let mut line = std::mem::replace(&mut self.partial, rest);
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        lines
    }

    /// The unterminated last line, if any.
    pub(crate) fn finish(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned())
    }
}

/// Splits the engine's `2025-11-21T10:00:00.123456789Z text` into its instant and text.
pub(crate) fn parse_timestamped(stream: LogStreamKind, raw: String) -> LogLine {
    if let Some((ts, text)) = raw.split_once(' ')
        && let Ok(at) = ts.parse::<jiff::Timestamp>()
    {
        return LogLine {
            stream,
            at: Some(Time::from(at)),
            line: text.to_owned(),
        };
    }
    LogLine {
        stream,
        at: None,
        line: raw,
    }
}

/// Starts reading `container`'s output; the receiver ends with the output (or, following, when
/// the container stops). Errors after the start end the stream early and are logged.
pub(crate) fn stream(docker: &Docker, container: &str, options: LogOptions) -> LogReceiver {
    let query = LogsOptions {
        follow: options.follow,
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: options
            .tail
            .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ..LogsOptions::default()
    };
    let mut source = docker.logs(container, Some(query));
    let container = container.to_owned();
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(async move {
        let mut out = LineSplitter::default();
        let mut err = LineSplitter::default();
        while let Some(item) = source.next().await {
            let (kind, splitter, bytes) = match item {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    (LogStreamKind::Stdout, &mut out, message)
                }
                Ok(LogOutput::StdErr { message }) => (LogStreamKind::Stderr, &mut err, message),
                Ok(LogOutput::StdIn { .. }) => continue,
                Err(e) => {
                    tracing::warn!(container, error = %e, "log stream ended early");
                    break;
                }
            };
            for line in splitter.push(&bytes) {
                if tx.send(parse_timestamped(kind, line)).await.is_err() {
                    return; // reader gone: stop following
                }
            }
        }
        for (kind, splitter) in [
            (LogStreamKind::Stdout, &mut out),
            (LogStreamKind::Stderr, &mut err),
        ] {
            if let Some(line) = splitter.finish() {
                let _ = tx.send(parse_timestamped(kind, line)).await;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_frames() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"hel").is_empty());
        assert_eq!(s.push(b"lo\r\nwor"), vec!["hello".to_owned()]);
        assert_eq!(s.push(b"ld\n\nx"), vec!["world".to_owned(), String::new()]);
        assert_eq!(s.finish(), Some("x".to_owned()));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn parses_the_engine_timestamp() {
        let l = parse_timestamped(
            LogStreamKind::Stderr,
            "2025-11-21T10:00:00.123456789Z warn: low battery".into(),
        );
        assert_eq!(l.at, Some(Time::from_millis(1_763_719_200_123)));
        assert_eq!(l.line, "warn: low battery");
        assert_eq!(l.stream, LogStreamKind::Stderr);
        let l = parse_timestamped(LogStreamKind::Stdout, "no timestamp here".into());
        assert_eq!(l.at, None);
        assert_eq!(l.line, "no timestamp here");
    }
}
