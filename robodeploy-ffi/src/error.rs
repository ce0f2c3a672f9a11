//! [`FfiError`]: a failed call as it crosses the boundary — its code, a message naming what
//! was wrong, and optional structured details (JSON) — and the mapping of every library error
//! onto a code.

use robodeploy_core::engine::{CatalogError, DeviceError, EngineError};
use robodeploy_core::manifest::ManifestError;
use robodeploy_core::runtime::RuntimeError;
use robodeploy_core::sim::SimError;
use robodeploy_core::validate::Report;

use crate::result::rd_result;
use crate::validation::report_json;

/// A failed call: what the caller gets back as a code and, through `rd_last_error`, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    /// The code returned.
    pub(crate) code: rd_result,
    /// A message naming the argument, value or rule.
    pub(crate) message: String,
    /// Structured details as JSON (a validation report), when there are any.
    pub(crate) details: Option<String>,
}

impl FfiError {
    /// An error with a message and no details.
    pub(crate) fn new(code: rd_result, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// A NULL pointer where the argument `name` is required.
    pub(crate) fn null(name: &str) -> Self {
        FfiError::new(
            rd_result::RD_ERR_NULL_ARGUMENT,
            format!("argument `{name}` is NULL"),
        )
    }

    /// A JSON argument that does not parse or does not fit the expected type.
    pub(crate) fn json(name: &str, what: &str, e: &serde_json::Error) -> Self {
        FfiError::new(
            rd_result::RD_ERR_INVALID_JSON,
            format!("argument `{name}` is not a valid {what}: {e}"),
        )
    }

    /// An argument out of its range.
    pub(crate) fn argument(name: &str, why: impl std::fmt::Display) -> Self {
        FfiError::new(
            rd_result::RD_ERR_INVALID_ARGUMENT,
            format!("argument `{name}`: {why}"),
        )
    }

    /// A configuration value in the JSON argument `arg` that breaks its rule: `field` is its
    /// path in that JSON (`lifecycle.backoffFactor`), `value` what was given.
    pub(crate) fn config(
        arg: &str,
        field: &str,
        value: impl std::fmt::Display,
        rule: impl std::fmt::Display,
    ) -> Self {
        FfiError::new(
            rd_result::RD_ERR_INVALID_CONFIG,
            format!("argument `{arg}`: {field} = {value}: {rule}"),
        )
    }

    /// A validation report with errors.
    pub(crate) fn validation(report: &Report) -> Self {
        FfiError {
            code: rd_result::RD_ERR_VALIDATION,
            message: report.to_string(),
            details: Some(report_json(report).to_string()),
        }
    }
}

impl From<ManifestError> for FfiError {
    fn from(e: ManifestError) -> Self {
        FfiError::new(rd_result::RD_ERR_MANIFEST_SYNTAX, e.to_string())
    }
}

impl From<SimError> for FfiError {
    fn from(e: SimError) -> Self {
        FfiError::new(rd_result::RD_ERR_SIMULATION, e.to_string())
    }
}

fn runtime_code(e: &RuntimeError) -> rd_result {
    match e {
        RuntimeError::NoSuchInstance(_) => rd_result::RD_ERR_NOT_RUNNING,
        RuntimeError::AlreadyExists(_) => rd_result::RD_ERR_CONFLICT,
        _ => rd_result::RD_ERR_RUNTIME,
    }
}

impl From<EngineError> for FfiError {
    fn from(e: EngineError) -> Self {
        use rd_result::*;
        let code = match &e {
            EngineError::Invalid(report) => return FfiError::validation(report),
            EngineError::Catalog(CatalogError::NotFound { .. }) => RD_ERR_NOT_FOUND,
            EngineError::Catalog(CatalogError::NotNumbered { .. }) => RD_ERR_INVALID_ARGUMENT,
            EngineError::Catalog(_) => RD_ERR_CONFLICT,
            EngineError::Device(DeviceError::NotFound(_)) => RD_ERR_NOT_FOUND,
            EngineError::Device(_) => RD_ERR_CONFLICT,
            EngineError::Spec(_) | EngineError::Rollout(_) => RD_ERR_INVALID_ARGUMENT,
            EngineError::NoSuchDeployment(_)
            | EngineError::NoSuchFleet(_)
            | EngineError::NoSuchJob(_)
            | EngineError::NoSuchComponent { .. }
            | EngineError::NoRuntime(_) => RD_ERR_NOT_FOUND,
            EngineError::DuplicateName { .. } | EngineError::NothingToRollBack(_) => {
                RD_ERR_CONFLICT
            }
            EngineError::NotRunning { .. } => RD_ERR_NOT_RUNNING,
            EngineError::Runtime(r) => runtime_code(r),
            EngineError::Store(_) => RD_ERR_STORE,
            EngineError::Timeout(_) => RD_ERR_TIMEOUT,
            EngineError::Shutdown => RD_ERR_SHUT_DOWN,
            // A variant added to the engine later: still an error, never a success.
            _ => RD_ERR_INTERNAL,
        };
        FfiError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::model::DeploymentId;

    #[test]
    fn engine_errors_map_onto_their_codes() {
        let id = DeploymentId::from_u128(1);
        let cases = [
            (EngineError::Shutdown, rd_result::RD_ERR_SHUT_DOWN),
            (
                EngineError::NoSuchDeployment(id.to_string()),
                rd_result::RD_ERR_NOT_FOUND,
            ),
            (
                EngineError::DuplicateName {
                    name: "a".into(),
                    id,
                },
                rd_result::RD_ERR_CONFLICT,
            ),
            (
                EngineError::Timeout(std::time::Duration::from_millis(5)),
                rd_result::RD_ERR_TIMEOUT,
            ),
            (
                EngineError::Runtime(RuntimeError::NoSuchInstance("x".into())),
                rd_result::RD_ERR_NOT_RUNNING,
            ),
        ];
        for (e, code) in cases {
            let text = e.to_string();
            let f = FfiError::from(e);
            assert_eq!(f.code, code, "{text}");
            assert_eq!(f.message, text);
        }
    }
}
