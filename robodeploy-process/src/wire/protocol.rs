//! The lines a runtime and its root's supervisor exchange over `supervisor.sock`.
//!
//! One message per line, a keyword first; instance names never hold spaces (see
//! [`validate_name`]), so every message but `failed` splits on single spaces, and a JSON record
//! (one line, as `serde_json` writes it) ends a line. Every reply names its instance, so many
//! starts can be in flight on one connection.
//!
//! ```text
//! runtime → supervisor                 supervisor → runtime
//!                                      ready <pid> <start ticks>         on connecting
//! start <name>                         started <name> <process.json>
//!                                      failed <name> <notfound|exists|other> <message>
//! watch <name> <pid>                   unknown <name>                    (not held: read exit.json)
//!                                      exited <name> <exit.json>         to the starter and watchers
//! (a line that is no request)          error <message>
//! ```
//!
//! A request line is at most [`MAX_REQUEST_LINE`] bytes of UTF-8; anything else is answered
//! `error` (its text escaped and cut short) and the connection goes on.

#[cfg(doc)]
use crate::shim::MAX_REQUEST_LINE;
use crate::wire::layout::validate_name;
use crate::wire::state::{ExitRecord, ProcessRecord};

/// What a runtime asks of the supervisor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Start the instance whose `instance.json` the runtime wrote in `instances/<name>`.
    Start(String),
    /// Report the exit of instance `name`, running as `pid`, to this connection too.
    Watch(String, u32),
}

/// Why the supervisor could not start an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailKind {
    /// The program does not exist (any more).
    NotFound,
    /// The instance was started already (it runs, or ran and exited): a name is started once.
    Exists,
    /// Anything else (permissions, a damaged `instance.json`, no resources).
    Other,
}

/// What the supervisor tells a runtime.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reply {
    /// Sent once, when the connection is accepted: the supervisor's pid and start time.
    Ready { pid: u32, start_ticks: u64 },
    /// The instance runs.
    Started(String, ProcessRecord),
    /// The instance could not be started; nothing of it runs.
    Failed(String, FailKind, String),
    /// The supervisor does not hold this instance (it exited already, or another supervisor
    /// started it): its `exit.json` is the truth.
    Unknown(String),
    /// The instance exited; `exit.json` was written before this was sent (unless the disk
    /// was full: the supervisor then keeps trying to write it).
    Exited(String, ExitRecord),
    /// A line that is no request (too long, not UTF-8, unknown, a bad name): why.
    Error(String),
}

impl Request {
    /// The line for this request, newline included.
    pub(crate) fn line(&self) -> String {
        match self {
            Request::Start(name) => format!("start {name}\n"),
            Request::Watch(name, pid) => format!("watch {name} {pid}\n"),
        }
    }

    /// Parses a line (without its newline); the error says what is wrong with it.
    pub(crate) fn parse(line: &str) -> Result<Self, String> {
        let mut words = line.split(' ');
        let request = match (words.next(), words.next(), words.next()) {
            (Some("start"), Some(name), None) => Request::Start(name.to_owned()),
            (Some("watch"), Some(name), Some(pid)) => Request::Watch(
                name.to_owned(),
                pid.parse()
                    .map_err(|_| format!("watch: pid {} is not a number", excerpt(pid)))?,
            ),
            _ => return Err(format!("unknown request {}", excerpt(line))),
        };
        let (Request::Start(name) | Request::Watch(name, _)) = &request;
        validate_name(name).map_err(|_| {
            format!(
                "instance name {} is not one: only ASCII letters, digits, '.', '_' and '-', \
                 not starting with '.', at most 200 bytes",
                excerpt(name)
            )
        })?;
        Ok(request)
    }
}

/// Text from a client as it may be echoed: escaped (no control character comes back raw) and
/// cut to a few dozen characters.
pub(crate) fn excerpt(text: &str) -> String {
    const KEEP: usize = 64;
    let mut out: String = text
        .chars()
        .take(KEEP)
        .collect::<String>()
        .escape_debug()
        .collect();
    out.insert(0, '"');
    out.push('"');
    if text.chars().nth(KEEP).is_some() {
        out.push('…');
    }
    out
}

impl Reply {
    /// The line for this reply, newline included.
    pub(crate) fn line(&self) -> String {
        match self {
            Reply::Ready { pid, start_ticks } => format!("ready {pid} {start_ticks}\n"),
            Reply::Started(name, p) => format!("started {name} {}\n", json(p)),
            Reply::Failed(name, kind, message) => {
                let kind = match kind {
                    FailKind::NotFound => "notfound",
                    FailKind::Exists => "exists",
                    FailKind::Other => "other",
                };
                format!("failed {name} {kind} {}\n", message.replace('\n', " "))
            }
            Reply::Unknown(name) => format!("unknown {name}\n"),
            Reply::Exited(name, e) => format!("exited {name} {}\n", json(e)),
            Reply::Error(message) => format!("error {}\n", message.replace('\n', " ")),
        }
    }

    /// Parses a line (without its newline).
    pub(crate) fn parse(line: &str) -> Result<Self, String> {
        let bad = || format!("unexpected line from the supervisor: {line:?}");
        let (word, rest) = line.split_once(' ').ok_or_else(bad)?;
        let named = || rest.split_once(' ').ok_or_else(bad);
        Ok(match word {
            "ready" => {
                let (pid, ticks) = rest.split_once(' ').ok_or_else(bad)?;
                Reply::Ready {
                    pid: pid.parse().map_err(|_| bad())?,
                    start_ticks: ticks.parse().map_err(|_| bad())?,
                }
            }
            "started" => {
                let (name, record) = named()?;
                Reply::Started(
                    name.to_owned(),
                    record_from(record).map_err(|e| format!("{}: {e}", bad()))?,
                )
            }
            "exited" => {
                let (name, record) = named()?;
                Reply::Exited(
                    name.to_owned(),
                    record_from(record).map_err(|e| format!("{}: {e}", bad()))?,
                )
            }
            "failed" => {
                let (name, rest) = named()?;
                let (kind, message) = rest.split_once(' ').unwrap_or((rest, ""));
                let kind = match kind {
                    "notfound" => FailKind::NotFound,
                    "exists" => FailKind::Exists,
                    "other" => FailKind::Other,
                    _ => return Err(bad()),
                };
                Reply::Failed(name.to_owned(), kind, message.to_owned())
            }
            "unknown" if !rest.contains(' ') => Reply::Unknown(rest.to_owned()),
            "error" => Reply::Error(rest.to_owned()),
            _ => return Err(bad()),
        })
    }
}

fn record_from<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_str(text)
}

/// A record as one line of JSON. The records hold only numbers, times and booleans, so this
/// cannot fail; were it to, the reader refuses the empty object instead of misreading it.
fn json(record: &impl serde::Serialize) -> String {
    serde_json::to_string(record).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::time::Time;

    #[test]
    fn requests_round_trip_and_bad_names_are_refused() {
        for r in [
            Request::Start("a.b-c".into()),
            Request::Watch("x".into(), 42),
        ] {
            let line = r.line();
            assert_eq!(Request::parse(line.trim_end()), Ok(r));
        }
        assert!(Request::parse("start ../etc").is_err());
        assert!(Request::parse("start").is_err());
        assert!(Request::parse("start a b").is_err());
        assert!(Request::parse("watch a notapid").is_err());
        assert!(Request::parse("stop a").is_err());
        let long = format!("start {}", "\u{1b}".repeat(10_000));
        let message = Request::parse(&long).unwrap_err();
        assert!(
            message.len() < 600 && !message.contains('\u{1b}'),
            "{message}"
        );
    }

    #[test]
    fn replies_round_trip() {
        let process = ProcessRecord {
            pid: 10,
            start_ticks: 5,
            shim_pid: 9,
            shim_start_ticks: 4,
            started_at: Time::from_millis(1000),
        };
        let exit = ExitRecord {
            exit_code: 137,
            finished_at: Some(Time::from_millis(7)),
            stopped_manually: true,
        };
        for r in [
            Reply::Ready {
                pid: 3,
                start_ticks: 99,
            },
            Reply::Started("n".into(), process),
            Reply::Failed("n".into(), FailKind::NotFound, "No such file".into()),
            Reply::Failed("n".into(), FailKind::Other, String::new()),
            Reply::Failed("n".into(), FailKind::Exists, "started already".into()),
            Reply::Error("unknown request \"x\"".into()),
            Reply::Unknown("n".into()),
            Reply::Exited("n".into(), exit),
        ] {
            let line = r.line();
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert_eq!(Reply::parse(line.trim_end()), Ok(r));
        }
        assert_eq!(
            Reply::parse("failed n other two\nlines"),
            Ok(Reply::Failed(
                "n".into(),
                FailKind::Other,
                "two\nlines".into()
            ))
        );
        assert_eq!(
            Reply::Failed("n".into(), FailKind::Other, "two\nlines".into()).line(),
            "failed n other two lines\n"
        );
        for bad in [
            "",
            "ready",
            "ready x 1",
            "started n {",
            "failed n maybe x",
            "hello",
        ] {
            assert!(Reply::parse(bad).is_err(), "{bad:?}");
        }
    }
}
