//! The wire schema: what an agent and the orchestrator send each other, as JSON.
//!
//! Every message is an [`Envelope`]: the protocol version beside the body. A peer that reads a
//! version it does not speak answers [`WireError::Incompatible`] naming both, and the
//! orchestrator treats such a robot as offline (DEP_E151) until one side is upgraded; nothing
//! is guessed from a message of another version.
//!
//! | message | from | body |
//! |---|---|---|
//! | hello | agent, on connect and on each query of `hello` | [`Hello`]: robot, runtime name, capabilities |
//! | call | orchestrator, as a query on `rt/<call>` | [`Request`] |
//! | answer | agent, as the reply | `Result<`[`Reply`]`, `[`WireError`]`>` |
//! | event | agent, published on `events` | [`Numbered`] [`RuntimeEvent`]: a gap in the numbers makes the orchestrator list the runtime again |
//! | log line | agent, published on `logs/<stream>` | [`Numbered`] [`LogItem`]: a line, then the end |
//!
//! Environment values travel inside [`Request::Start`] and [`Request::RunTask`] (the robot
//! needs them) and nowhere else; no message is ever logged with them.

use std::collections::BTreeMap;
use std::time::Duration;

use robodeploy_core::runtime::{
    Capabilities, ExecOutput, InstanceId, InstanceInfo, InstanceSpec, LogLine, LogOptions,
    RuntimeError, RuntimeEvent, TaskSpec,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest message read (16 MiB): a bigger one is refused before it is parsed.
pub const MAX_MESSAGE: usize = 16 << 20;

/// A message with the protocol version it was written in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The protocol version.
    pub v: u32,
    /// The message.
    pub body: T,
}

/// Encodes a message in this build's protocol version.
pub fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out<'a, T> {
        v: u32,
        body: &'a T,
    }
    // Serializing these types cannot fail: no map has non-string keys, nothing is a stream.
    serde_json::to_vec(&Out {
        v: PROTOCOL_VERSION,
        body,
    })
    .unwrap_or_default()
}

/// Decodes a message: its version first, then its body.
///
/// # Errors
/// [`WireError::TooLarge`] over [`MAX_MESSAGE`]; [`WireError::Incompatible`] when it was
/// written in another protocol version; [`WireError::Malformed`] when it is not a message of
/// this schema.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(WireError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_MESSAGE as u64,
        });
    }
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let malformed = |e: serde_json::Error| WireError::Malformed {
        message: e.to_string(),
    };
    let Version { v } = serde_json::from_slice(bytes).map_err(malformed)?;
    if v != PROTOCOL_VERSION {
        return Err(WireError::Incompatible {
            ours: PROTOCOL_VERSION,
            theirs: v,
        });
    }
    let envelope: Envelope<T> = serde_json::from_slice(bytes).map_err(malformed)?;
    Ok(envelope.body)
}

/// What an agent says of itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// The robot it serves.
    pub robot: String,
    /// Its runtime's name (`process`, `docker`, …).
    pub runtime: String,
    /// What its runtime can do.
    pub capabilities: Capabilities,
}

/// One runtime call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum Request {
    /// Who are you? Answered by [`Reply::Hello`].
    Hello,
    /// Is the runtime reachable?
    Health,
    /// Pull or check what an instance needs.
    Prepare {
        /// The instance.
        spec: Box<InstanceSpec>,
    },
    /// Start an instance; answered by [`Reply::Started`].
    Start {
        /// The instance.
        spec: Box<InstanceSpec>,
    },
    /// Stop an instance, killing it after `grace_ms`.
    Stop {
        /// The instance.
        id: InstanceId,
        /// The grace period, in milliseconds.
        grace_ms: u64,
    },
    /// Remove a stopped instance.
    Remove {
        /// The instance.
        id: InstanceId,
    },
    /// Look at one instance; answered by [`Reply::Instance`].
    Inspect {
        /// The instance.
        id: InstanceId,
    },
    /// The instances whose labels include these; answered by [`Reply::Instances`].
    List {
        /// Labels every listed instance has.
        selector: BTreeMap<String, String>,
    },
    /// Stream an instance's output on `logs/<stream>`; answered by [`Reply::Done`] once the
    /// stream is set up.
    Logs {
        /// The instance.
        id: InstanceId,
        /// Tail and follow.
        options: LogOptions,
        /// The stream number the orchestrator chose for its key.
        stream: u64,
    },
    /// Run a command in an instance's context; answered by [`Reply::Output`].
    Exec {
        /// The instance.
        id: InstanceId,
        /// argv.
        command: Vec<String>,
    },
    /// Run a one-shot task on the robot; answered by [`Reply::Output`].
    RunTask {
        /// The task.
        task: Box<TaskSpec>,
    },
}

impl Request {
    /// The last chunk of the call's key (`rt/<call>`).
    pub fn call(&self) -> &'static str {
        match self {
            Request::Hello => "hello",
            Request::Health => "health",
            Request::Prepare { .. } => "prepare",
            Request::Start { .. } => "start",
            Request::Stop { .. } => "stop",
            Request::Remove { .. } => "remove",
            Request::Inspect { .. } => "inspect",
            Request::List { .. } => "list",
            Request::Logs { .. } => "logs",
            Request::Exec { .. } => "exec",
            Request::RunTask { .. } => "runTask",
        }
    }

    /// A stop with its grace period, at millisecond resolution.
    pub fn stop(id: InstanceId, grace: Duration) -> Request {
        Request::Stop {
            id,
            grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A call's answer when it succeeded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "reply",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum Reply {
    /// Done; nothing to return.
    Done,
    /// The agent.
    Hello(Hello),
    /// The instance started.
    Started {
        /// Its id.
        id: InstanceId,
    },
    /// One instance.
    Instance(Box<InstanceInfo>),
    /// Instances.
    Instances {
        /// Them.
        instances: Vec<InstanceInfo>,
    },
    /// A command's outcome.
    Output(ExecOutput),
}

/// An item of a published stream, numbered from 0 per stream so that a gap shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbered<T> {
    /// Its number in the stream.
    pub seq: u64,
    /// The item.
    pub item: T,
}

/// What can go wrong, on the wire: each [`RuntimeError`] by value, and the wire's own faults.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(
    tag = "error",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum WireError {
    /// [`RuntimeError::Unreachable`] on the robot (its Docker engine is down, say).
    #[error("runtime unreachable: {message}")]
    Unreachable {
        /// What the transport said.
        message: String,
    },
    /// [`RuntimeError::NotFound`].
    #[error("not found: {what}")]
    NotFound {
        /// The image or program.
        what: String,
    },
    /// [`RuntimeError::PullFailed`].
    #[error("pull of {image} failed: {message}")]
    PullFailed {
        /// The image.
        image: String,
        /// What the registry said.
        message: String,
    },
    /// [`RuntimeError::InvalidSpec`].
    #[error("invalid instance spec: {field}: {message}")]
    InvalidSpec {
        /// The spec field.
        field: String,
        /// The rule broken.
        message: String,
    },
    /// [`RuntimeError::NoSuchInstance`].
    #[error("no such instance: {id}")]
    NoSuchInstance {
        /// The id.
        id: String,
    },
    /// [`RuntimeError::AlreadyExists`].
    #[error("instance {name} already exists")]
    AlreadyExists {
        /// The instance's name.
        name: String,
    },
    /// [`RuntimeError::Internal`] (its source chain flattened into the message).
    #[error("runtime error: {message}")]
    Internal {
        /// What the runtime said.
        message: String,
    },
    /// [`RuntimeError::Unsupported`].
    #[error("not supported by this runtime: {what}")]
    Unsupported {
        /// The operation.
        what: String,
    },
    /// The peer speaks another protocol version.
    #[error("protocol version {theirs} is not this build's {ours}")]
    Incompatible {
        /// This build's version.
        ours: u32,
        /// The peer's.
        theirs: u32,
    },
    /// A message over [`MAX_MESSAGE`].
    #[error("message of {size} bytes is over the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not a message of this schema.
    #[error("malformed message: {message}")]
    Malformed {
        /// What the decoder said.
        message: String,
    },
}

impl From<&RuntimeError> for WireError {
    fn from(e: &RuntimeError) -> Self {
        match e {
            RuntimeError::Unreachable { message } => WireError::Unreachable {
                message: message.clone(),
            },
            RuntimeError::NotFound { what } => WireError::NotFound { what: what.clone() },
            RuntimeError::PullFailed { image, message } => WireError::PullFailed {
                image: image.clone(),
                message: message.clone(),
            },
            RuntimeError::InvalidSpec { field, message } => WireError::InvalidSpec {
                field: (*field).to_owned(),
                message: message.clone(),
            },
            RuntimeError::NoSuchInstance(id) => WireError::NoSuchInstance { id: id.clone() },
            RuntimeError::AlreadyExists(name) => WireError::AlreadyExists { name: name.clone() },
            RuntimeError::Unsupported(what) => WireError::Unsupported {
                what: (*what).to_owned(),
            },
            RuntimeError::Internal { message, source } => {
                let mut message = message.clone();
                let mut source = source.as_deref().map(|s| s as &dyn std::error::Error);
                while let Some(s) = source {
                    message.push_str(": ");
                    message.push_str(&s.to_string());
                    source = s.source();
                }
                WireError::Internal { message }
            }
            // Whatever a later robodeploy adds: its text survives.
            other => WireError::Internal {
                message: other.to_string(),
            },
        }
    }
}

impl From<WireError> for RuntimeError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Unreachable { message } => RuntimeError::Unreachable { message },
            WireError::NotFound { what } => RuntimeError::NotFound { what },
            WireError::PullFailed { image, message } => RuntimeError::PullFailed { image, message },
            WireError::InvalidSpec { field, message } => RuntimeError::InvalidSpec {
                field: spec_field(&field),
                message: if spec_field(&field) == field {
                    message
                } else {
                    format!("{field}: {message}")
                },
            },
            WireError::NoSuchInstance { id } => RuntimeError::NoSuchInstance(id),
            WireError::AlreadyExists { name } => RuntimeError::AlreadyExists(name),
            WireError::Internal { message } => RuntimeError::internal(message),
            WireError::Unsupported { what } => match OPERATIONS.into_iter().find(|o| *o == what) {
                Some(operation) => RuntimeError::Unsupported(operation),
                None => {
                    RuntimeError::internal(format!("not supported by the robot's runtime: {what}"))
                }
            },
            // A robot that cannot be understood cannot be used: as unreachable as a dead one.
            e @ (WireError::Incompatible { .. }
            | WireError::Malformed { .. }
            | WireError::TooLarge { .. }) => RuntimeError::Unreachable {
                message: e.to_string(),
            },
        }
    }
}

/// The spec fields an [`RuntimeError::InvalidSpec`] can name, so that one read from the wire
/// names the same field; any other becomes `spec` (its name kept in the message).
fn spec_field(field: &str) -> &'static str {
    const FIELDS: [&str; 7] = [
        "command",
        "container",
        "image",
        "mounts",
        "name",
        "network",
        "working_dir",
    ];
    FIELDS.into_iter().find(|f| *f == field).unwrap_or("spec")
}

/// The operations a runtime can refuse as unsupported ([`RuntimeError::Unsupported`]), so
/// that one read from the wire names the same operation.
const OPERATIONS: [&str; 6] = ["exec", "logs", "run_task", "prepare", "inspect", "list"];

/// A call's answer as it travels: what the agent replies.
pub type Answer = Result<Reply, WireError>;

/// A published runtime event.
pub type Event = Numbered<RuntimeEvent>;

/// An item of a log stream: a line, or the stream's end (the instance's output is exhausted,
/// or it is gone while followed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "camelCase")]
pub enum LogItem {
    /// One line.
    Line(LogLine),
    /// Nothing follows.
    End,
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::model::DeploymentId;

    fn spec() -> InstanceSpec {
        let mut s = InstanceSpec::new(DeploymentId::from_u128(7), "main", "node", "demo", "1");
        s.command = vec!["/bin/node".into()];
        s.env.insert("TOKEN".into(), "secret".into());
        s
    }

    #[test]
    fn every_request_goes_through_the_wire_unchanged() {
        let requests = [
            Request::Hello,
            Request::Health,
            Request::Prepare {
                spec: Box::new(spec()),
            },
            Request::Start {
                spec: Box::new(spec()),
            },
            Request::stop(InstanceId("i-1".into()), Duration::from_secs(10)),
            Request::Remove {
                id: InstanceId("i-1".into()),
            },
            Request::Inspect {
                id: InstanceId("i-1".into()),
            },
            Request::List {
                selector: BTreeMap::from([("io.robodeploy.managed".into(), "true".into())]),
            },
            Request::Logs {
                id: InstanceId("i-1".into()),
                options: LogOptions {
                    tail: Some(10),
                    follow: true,
                },
                stream: 3,
            },
            Request::Exec {
                id: InstanceId("i-1".into()),
                command: vec!["ls".into()],
            },
        ];
        for r in requests {
            let bytes = encode(&r);
            assert_eq!(decode::<Request>(&bytes).unwrap(), r, "{}", r.call());
        }
    }

    #[test]
    fn a_message_states_its_version_and_another_version_is_refused_by_name() {
        let bytes = encode(&Request::Health);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, r#"{"v":1,"body":{"call":"health"}}"#);
        let newer = br#"{"v":2,"body":{"call":"health","hint":"new"}}"#;
        assert_eq!(
            decode::<Request>(newer).unwrap_err(),
            WireError::Incompatible { ours: 1, theirs: 2 }
        );
        assert!(matches!(
            decode::<Request>(br#"{"v":1,"body":{"call":"fly"}}"#),
            Err(WireError::Malformed { .. })
        ));
        assert!(matches!(
            decode::<Request>(b"not json"),
            Err(WireError::Malformed { .. })
        ));
    }

    #[test]
    fn a_runtime_error_crosses_the_wire_and_keeps_its_failure_code() {
        let errors = [
            RuntimeError::Unreachable {
                message: "docker down".into(),
            },
            RuntimeError::NotFound {
                what: "/bin/node".into(),
            },
            RuntimeError::PullFailed {
                image: "demo:1".into(),
                message: "denied".into(),
            },
            RuntimeError::InvalidSpec {
                field: "image",
                message: "not on a process runtime".into(),
            },
            RuntimeError::NoSuchInstance("i-9".into()),
            RuntimeError::AlreadyExists("rd-demo".into()),
            RuntimeError::internal("disk full"),
            RuntimeError::Unsupported("exec"),
        ];
        for local in errors {
            let answer: Answer = Err(WireError::from(&local));
            let back = decode::<Answer>(&encode(&answer)).unwrap().unwrap_err();
            let remote = RuntimeError::from(back);
            assert_eq!(remote.to_string(), local.to_string());
            for image in [false, true] {
                assert_eq!(
                    remote.failure(image, 0),
                    local.failure(image, 0),
                    "{local} (image: {image})"
                );
            }
        }
    }

    #[test]
    fn an_internal_error_keeps_its_causes() {
        let local = RuntimeError::internal_from("write failed", std::io::Error::other("disk full"));
        let remote = RuntimeError::from(WireError::from(&local));
        assert_eq!(remote.to_string(), "runtime error: write failed: disk full");
    }

    #[test]
    fn an_oversized_message_is_refused_before_it_is_read() {
        let big = vec![b' '; MAX_MESSAGE + 1];
        assert_eq!(
            decode::<Request>(&big).unwrap_err(),
            WireError::TooLarge {
                size: MAX_MESSAGE as u64 + 1,
                limit: MAX_MESSAGE as u64
            }
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

        /// The decoder's fuzz target: any bytes, and any bytes after a valid envelope's start,
        /// give a message or an error, never a panic.
        #[test]
        fn any_bytes_decode_to_a_message_or_an_error(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = decode::<Request>(&bytes);
            let _ = decode::<Answer>(&bytes);
            let _ = decode::<Event>(&bytes);
            let mut framed = br#"{"v":1,"body":"#.to_vec();
            framed.extend_from_slice(&bytes);
            let _ = decode::<Request>(&framed);
            let _ = decode::<Answer>(&framed);
        }

        /// Every well-formed JSON text in the envelope is either a message or a named error.
        #[test]
        fn any_json_in_the_envelope_is_a_message_or_malformed(text in "\\PC{0,64}") {
            let body = serde_json::to_string(&text).unwrap();
            let framed = format!(r#"{{"v":1,"body":{{"call":{body}}}}}"#);
            match decode::<Request>(framed.as_bytes()) {
                Ok(r) => proptest::prop_assert_eq!(r.call(), text.as_str()),
                Err(e) => proptest::prop_assert!(matches!(e, WireError::Malformed { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn a_peer_that_cannot_be_understood_is_unreachable() {
        let e = RuntimeError::from(WireError::Incompatible { ours: 1, theirs: 2 });
        assert!(matches!(e, RuntimeError::Unreachable { .. }), "{e}");
    }

    #[test]
    fn events_are_numbered() {
        let hello = Reply::Hello(Hello {
            robot: "r1".into(),
            runtime: "process".into(),
            capabilities: Capabilities::default(),
        });
        let answer: Answer = Ok(hello.clone());
        assert_eq!(decode::<Answer>(&encode(&answer)).unwrap(), Ok(hello));
        let line = Numbered {
            seq: 41,
            item: "x".to_owned(),
        };
        assert_eq!(decode::<Numbered<String>>(&encode(&line)).unwrap(), line);
    }
}
