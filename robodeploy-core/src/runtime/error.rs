//! Runtime errors, and how they map onto the seed's error codes.

use crate::lifecycle::{Failure, internal};
use crate::model::{ErrorCode, Reason};

/// What went wrong in a runtime. Each maps onto a status reason and a `DEP_E` code by one
/// table, [`RuntimeError::failure`]'s, which the engine uses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The runtime (a Docker engine, a device) cannot be reached → DEP_E151 on a device.
    #[error("runtime unreachable: {message}")]
    Unreachable {
        /// What the transport said.
        message: String,
    },
    /// The image or binary does not exist → DEP_E161 on a device; in the cloud DEP_E153 (an
    /// image) or DEP_E155 (a program).
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

    /// How the engine reads this error of a step on an executable: the one path from a runtime
    /// failure to a status reason and a `DEP_E` code. `image`: the executable runs from an image
    /// (a container); `step`: the step that failed, as the last two digits of an internal code
    /// ([`internal`](crate::lifecycle::internal): 2 create, 3 start, 4 stop, 0 otherwise).
    ///
    #[doc = include_str!("error_codes.md")]
    pub fn failure(&self, image: bool, step: u8) -> Failure {
        match self {
            RuntimeError::NotFound { what } if image => Failure::ImageNotFound {
                image: what.clone(),
            },
            RuntimeError::NotFound { what } => Failure::BinaryNotFound {
                program: what.clone(),
            },
            RuntimeError::PullFailed { message, .. } => Failure::PullFailed {
                message: message.clone(),
            },
            RuntimeError::InvalidSpec { field, message } => Failure::Validation {
                message: format!("{field}: {message}"),
            },
            RuntimeError::Unreachable { message } => Failure::Unreachable {
                message: message.clone(),
            },
            other => Failure::Internal {
                detail: step,
                message: other.to_string(),
            },
        }
    }

    /// The `DEP_E` code of this error for an executable in the cloud (`cloud = true`) or on a
    /// device, running from an image or not, when the step is unknown: the code the engine
    /// gives ([`failure`](Self::failure), the table there) with step 0.
    ///
    /// ```
    /// use robodeploy_core::runtime::RuntimeError;
    /// use robodeploy_core::model::ErrorCode;
    /// let e = RuntimeError::NotFound { what: "busybox:1".into() };
    /// assert_eq!(e.error_code(false, true), ErrorCode::DeviceImageNotFound);
    /// assert_eq!(e.error_code(true, true), ErrorCode::CloudImageUnavailable);
    /// let pull = RuntimeError::PullFailed { image: "busybox:1".into(), message: "not present".into() };
    /// assert_eq!(pull.error_code(false, true).to_string(), "DEP_E162");
    /// ```
    pub fn error_code(&self, cloud: bool, image: bool) -> ErrorCode {
        self.failure(image, internal::UNSPECIFIED).classify(cloud).1
    }

    /// Whether retrying the same operation can help (an unreachable runtime may come back; a
    /// missing binary will not appear by itself).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            RuntimeError::Unreachable { .. } | RuntimeError::Internal { .. }
        )
    }

    /// The status reason an executable on a device shows for this failure (the same path as
    /// [`error_code`](Self::error_code)).
    pub fn reason(&self) -> Reason {
        self.failure(false, internal::UNSPECIFIED).classify(false).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error of each kind the table names.
    fn example(kind: &str) -> RuntimeError {
        match kind {
            "Unreachable" => RuntimeError::Unreachable {
                message: "connection refused".into(),
            },
            "NotFound" => RuntimeError::NotFound {
                what: "busybox:1".into(),
            },
            "PullFailed" => RuntimeError::PullFailed {
                image: "busybox:1".into(),
                message: "not present".into(),
            },
            "InvalidSpec" => RuntimeError::InvalidSpec {
                field: "mounts",
                message: "a named volume".into(),
            },
            "NoSuchInstance" => RuntimeError::NoSuchInstance("rd-x".into()),
            "AlreadyExists" => RuntimeError::AlreadyExists("rd-x".into()),
            "Internal" => RuntimeError::internal("disk full"),
            "Unsupported" => RuntimeError::Unsupported("exec"),
            other => panic!("the table names an unknown error {other:?}"),
        }
    }

    /// The documented table, row by row, against the one path the engine takes.
    #[test]
    fn the_documented_table_is_what_the_engine_produces() {
        let table = include_str!("error_codes.md");
        let mut rows = 0;
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let kind = cells[0].trim_matches('`');
            let images: &[bool] = match cells[1] {
                "an image" => &[true],
                "a program" => &[false],
                "any" => &[true, false],
                other => panic!("runs from {other:?}"),
            };
            for &image in images {
                for step in [internal::CREATE_FAILED, internal::START_FAILED] {
                    for (cloud, documented) in [(false, cells[3]), (true, cells[4])] {
                        let expected = documented.replace("xx", &format!("{step:02}")).to_string();
                        let got = example(kind).failure(image, step).classify(cloud);
                        assert_eq!(
                            got.1.to_string(),
                            expected,
                            "{kind} (image {image}, step {step}, cloud {cloud})"
                        );
                        let reason = format!("{:?}", got.0);
                        let documented_reason = if cells[2].contains("(device)") {
                            if cloud { "Internal" } else { "DeviceOffline" }
                        } else {
                            cells[2].trim_matches('`')
                        };
                        assert!(
                            reason.starts_with(documented_reason),
                            "{kind}: reason {reason} is not {documented_reason}"
                        );
                    }
                }
            }
            rows += 1;
        }
        assert_eq!(rows, 9, "every error kind has its row");
    }
}
