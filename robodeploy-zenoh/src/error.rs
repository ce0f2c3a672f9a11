//! What can go wrong opening a link or serving a robot.

use thiserror::Error;

use crate::keys::KeyError;

/// A link to the fleet could not be configured or opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LinkError {
    /// A setting breaks a rule; names the field, the value and the rule.
    #[error("link setting {field} = {value:?}: {rule}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Its value.
        value: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A robot name that cannot name a key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Zenoh refused the configuration, or the session or a declaration failed.
    #[error("zenoh: {0}")]
    Session(String),
}

impl LinkError {
    /// A Zenoh error, kept as its text (Zenoh's errors are boxed trait objects).
    pub(crate) fn session(e: impl std::fmt::Display) -> LinkError {
        LinkError::Session(e.to_string())
    }
}
