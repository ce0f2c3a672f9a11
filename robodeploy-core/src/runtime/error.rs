//! Runtime errors, and how they map onto the seed's error codes.

use crate::model::{ErrorCode, Reason};

/// What went wrong in a runtime. Each maps onto a `DEP_E` code with [`RuntimeError::error_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The runtime (a Docker engine, a device) cannot be reached → DEP_E151.
    #[error("runtime unreachable: {message}")]
    Unreachable {
        /// What the transport said.
        message: String,
    },
    /// The image or binary does not exist → DEP_E161 on a device, DEP_E153 in the cloud.
    #[error("not found: {what}")]
    NotFound {
        /// The image reference or program looked for.
        what: String,
    },
    /// The image could not be pulled (registry unreachable, denied) → DEP_E153 in the cloud,
    /// DEP_E162 on a device ("images not present on docker device").
    #[error("pull of {image} failed: {message}")]
    PullFailed {
        /// The image reference.
        image: String,
        /// What the registry or engine said.
        message: String,
    },
    /// The spec cannot run on this runtime (an image on a process runtime, a bad mount) →
    /// DEP_E162.
    #[error("invalid instance spec: {field}: {message}")]
    InvalidSpec {
        /// The spec field.
        field: &'static str,
        /// The rule broken.
        message: String,
    },
    /// No instance with this id.
    #[error("no such instance: {0}")]
    NoSuchInstance(String),
    /// An instance with this deterministic name already exists (starting it again is refused).
    #[error("instance {0} already exists")]
    AlreadyExists(String),
    /// The runtime failed internally → DEP_E3xx on a device, DEP_E2xx in the cloud.
    #[error("runtime error: {message}")]
    Internal {
        /// What the runtime said.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The operation is not supported by this runtime.
    #[error("not supported by this runtime: {0}")]
    Unsupported(&'static str),
}

impl RuntimeError {
    /// An internal error from a message.
    pub fn internal(message: impl Into<String>) -> Self {
        RuntimeError::Internal {
            message: message.into(),
            source: None,
        }
    }

    /// An internal error wrapping its source.
    pub fn internal_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        RuntimeError::Internal {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The seed's error code for this failure, for an executable in the cloud (`cloud = true`)
    /// or on a device.
    ///
    /// | error | device | cloud |
    /// |---|---|---|
    /// | Unreachable | DEP_E151 | DEP_E151 |
    /// | NotFound | DEP_E161 | DEP_E153 |
    /// | PullFailed | DEP_E162 | DEP_E153 |
    /// | InvalidSpec | DEP_E162 | DEP_E162 |
    /// | NoSuchInstance, AlreadyExists, Internal, Unsupported | DEP_E300 | DEP_E200 |
    ///
    /// ```
    /// use robodeploy_core::runtime::RuntimeError;
    /// use robodeploy_core::model::ErrorCode;
    /// let e = RuntimeError::NotFound { what: "busybox:1".into() };
    /// assert_eq!(e.error_code(false), ErrorCode::DeviceImageNotFound);
    /// assert_eq!(e.error_code(true), ErrorCode::CloudImageUnavailable);
    /// ```
    pub fn error_code(&self, cloud: bool) -> ErrorCode {
        match (self, cloud) {
            (RuntimeError::Unreachable { .. }, _) => ErrorCode::DeviceOffline,
            (RuntimeError::NotFound { .. }, false) => ErrorCode::DeviceImageNotFound,
            (RuntimeError::NotFound { .. } | RuntimeError::PullFailed { .. }, true) => {
                ErrorCode::CloudImageUnavailable
            }
            (RuntimeError::PullFailed { .. }, false) | (RuntimeError::InvalidSpec { .. }, _) => {
                ErrorCode::Validation
            }
            (_, false) => ErrorCode::InternalDevice(300),
            (_, true) => ErrorCode::InternalCloud(200),
        }
    }

    /// Whether retrying the same operation can help (an unreachable runtime may come back; a
    /// missing binary will not appear by itself).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            RuntimeError::Unreachable { .. } | RuntimeError::Internal { .. }
        )
    }

    /// The status reason an executable shows for this failure.
    pub fn reason(&self) -> Reason {
        match self {
            RuntimeError::Unreachable { .. } => Reason::DeviceOffline,
            RuntimeError::NotFound { what } => Reason::NotFound { what: what.clone() },
            RuntimeError::PullFailed { message, .. } => Reason::PullFailed {
                message: message.clone(),
            },
            RuntimeError::InvalidSpec { field, message } => Reason::Validation {
                message: format!("{field}: {message}"),
            },
            other => Reason::Internal {
                message: other.to_string(),
            },
        }
    }
}
