//! bollard's errors as [`RuntimeError`]s.
//!
//! The one distinction that matters to a fleet is whether the engine answered at all: a transport
//! failure (socket gone, connection refused or reset, a request that timed out) is
//! [`RuntimeError::Unreachable`] (DEP_E151, retried until the device is back); an answer that
//! refuses the request is the caller's concern and keeps the engine's own message.

use bollard::errors::Error as BollardError;
use robodeploy_core::runtime::RuntimeError;

/// The HTTP status the engine answered with, when it answered.
pub(crate) fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine's message, when it answered with an error.
pub(crate) fn engine_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.clone(),
        BollardError::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// Whether the error means the engine could not be reached (as opposed to refusing).
pub(crate) fn is_unreachable(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::HyperLegacyError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::IOError { .. }
            | BollardError::RequestTimeoutError
            | BollardError::SocketNotFoundError(_)
    )
}

/// Maps any bollard error met while `doing` something: unreachable, or internal with the
/// engine's message and the error as source.
pub(crate) fn from_bollard(doing: &str, e: BollardError) -> RuntimeError {
    if is_unreachable(&e) {
        return RuntimeError::Unreachable {
            message: format!("{doing}: {}", describe_transport(&e)),
        };
    }
    let message = format!("{doing}: {}", engine_message(&e));
    RuntimeError::internal_from(message, e)
}

/// Maps an error about one container: 404 is [`RuntimeError::NoSuchInstance`].
pub(crate) fn from_bollard_for(id: &str, doing: &str, e: BollardError) -> RuntimeError {
    if status_of(&e) == Some(404) {
        return RuntimeError::NoSuchInstance(id.to_owned());
    }
    from_bollard(doing, e)
}

/// The transport error with its causes, since hyper's top-level message ("client error
/// (Connect)") alone does not say what failed.
fn describe_transport(e: &BollardError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status_code: u16, message: &str) -> BollardError {
        BollardError::DockerResponseServerError {
            status_code,
            message: message.to_owned(),
        }
    }

    #[test]
    fn transport_failures_are_unreachable() {
        let refused = BollardError::IOError {
            err: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
        };
        let e = from_bollard("pinging", refused);
        assert!(
            matches!(&e, RuntimeError::Unreachable { message } if message.starts_with("pinging: ") && message.contains("refused")),
            "{e}"
        );
        assert!(matches!(
            from_bollard("x", BollardError::RequestTimeoutError),
            RuntimeError::Unreachable { .. }
        ));
        assert!(matches!(
            from_bollard("x", BollardError::SocketNotFoundError("/run/x.sock".into())),
            RuntimeError::Unreachable { .. }
        ));
    }

    #[test]
    fn engine_refusals_keep_the_engine_message() {
        let e = from_bollard("creating rd-1", server(500, "driver failed programming"));
        match e {
            RuntimeError::Internal { message, source } => {
                assert_eq!(message, "creating rd-1: driver failed programming");
                assert!(source.is_some());
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn missing_container_is_no_such_instance() {
        let e = from_bollard_for("abc", "inspecting", server(404, "No such container: abc"));
        assert!(matches!(e, RuntimeError::NoSuchInstance(id) if id == "abc"));
        let e = from_bollard_for("abc", "removing", server(409, "is running"));
        assert!(
            matches!(&e, RuntimeError::Internal { message, .. } if message == "removing: is running")
        );
    }
}
