//! Reading an instance's output.

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::time::Time;

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogStreamKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// Which stream.
    pub stream: LogStreamKind,
    /// When the runtime recorded it, where known.
    pub at: Option<Time>,
    /// The text, without its newline.
    pub line: String,
}

/// What to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogOptions {
    /// Only the last `tail` lines of what exists (all when none).
    pub tail: Option<usize>,
    /// Keep the stream open and deliver new lines as they are written.
    pub follow: bool,
}

/// A stream of log lines; it ends when the output is exhausted (without `follow`) or when the
/// instance is gone (with `follow`). Dropping it stops following.
pub type LogReceiver = mpsc::Receiver<LogLine>;
