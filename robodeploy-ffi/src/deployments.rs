//! Deployments: deploy, deprovision, status, wait.

use std::ffi::c_char;

use robodeploy_core::engine::Until;
use robodeploy_core::model::{DeploymentId, DeploymentRequest, Phase, StatusKind};

use crate::boundary::{guard, handle_arg, id_arg, json_arg, opt_str_arg, out_arg, write_string};
use crate::engine::{act, by_id, rd_engine, timeout};
use crate::error::FfiError;
use crate::result::rd_result;

/// What `rd_engine_wait` waits for (pass the number as its `until` argument).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rd_until {
    /// Phase Succeeded and status Running: the deployment is up.
    RD_UNTIL_RUNNING = 1,
    /// A terminal phase: deprovisioned (DeploymentStopped or PartiallyDeprovisioned).
    RD_UNTIL_STOPPED = 2,
    /// Phase FailedToStart.
    RD_UNTIL_FAILED_TO_START = 3,
    /// Status Error (an executable failed; see the status's `errors`).
    RD_UNTIL_ERROR = 4,
}

fn until_of(value: u32) -> Result<Until, FfiError> {
    const RUNNING: u32 = rd_until::RD_UNTIL_RUNNING as u32;
    const STOPPED: u32 = rd_until::RD_UNTIL_STOPPED as u32;
    const FAILED_TO_START: u32 = rd_until::RD_UNTIL_FAILED_TO_START as u32;
    const ERROR: u32 = rd_until::RD_UNTIL_ERROR as u32;
    Ok(match value {
        RUNNING => Until::Running,
        STOPPED => Until::Stopped,
        FAILED_TO_START => Until::Phase(Phase::FailedToStart),
        ERROR => Until::Status(StatusKind::Error),
        other => {
            return Err(FfiError::argument(
                "until",
                format!("{other} is not an rd_until (1..=4)"),
            ));
        }
    })
}

/// Deploys a package version. `request_json` is the model's `DeploymentRequest` (`name`,
/// `package`, `version`, `devices`: component → device, optional `dependsOn`,
/// `routedNetwork`, `restartPolicy`, `labels`, …). With a `token` (NULL: none), calling again
/// with the same token returns the same id and starts nothing twice.
///
/// Returns `RD_OK` and writes the new deployment's id to `*deployment_id_out` (free with
/// `rd_string_free`) as soon as the deployment is accepted: it then goes through its phases
/// (see `rd_engine_wait`). `RD_ERR_VALIDATION` (details: the report, with field paths),
/// `RD_ERR_CONFLICT` (a live deployment with that name), `RD_ERR_NOT_FOUND` (no runtime for
/// a device), `RD_ERR_INVALID_JSON`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `request_json` and `token` are NULL or NUL-terminated
/// strings; `deployment_id_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_deploy(
    engine: *const rd_engine,
    request_json: *const c_char,
    token: *const c_char,
    deployment_id_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(deployment_id_out, "deployment_id_out")?;
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let request: DeploymentRequest =
            unsafe { json_arg(request_json, "request_json", "deployment request") }?;
        // SAFETY: the caller's contract.
        let token = unsafe { opt_str_arg(token, "token") }?;
        let id = e.run(e.engine()?.deploy(request, token))?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, id.to_string()) }
    })
}

/// Deprovisions a deployment: stops every executable (the phase becomes DeploymentStopped, or
/// PartiallyDeprovisioned when one could not be stopped). Returns when the request is
/// accepted; `rd_engine_wait` with `RD_UNTIL_STOPPED` waits for the end.
///
/// Returns `RD_OK`; `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT` (not an id),
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `deployment_id` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_deprovision(
    engine: *const rd_engine,
    deployment_id: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `deployment_id` NULL or
    // NUL-terminated).
    unsafe {
        act(
            engine,
            || id_arg::<DeploymentId>(deployment_id, "deployment_id"),
            |en, id| async move { en.deprovision(id).await },
        )
    }
}

/// A deployment's status now (also after it was deprovisioned), as JSON: `id`, `name`,
/// `package`, `version`, `phase` (`InProgress`, `Provisioning`, `Succeeded`, `FailedToStart`,
/// `PartiallyDeprovisioned`, `DeploymentStopped`), `status` (`Pending`, `Running`, `Error`,
/// `Unknown`, `Stopped`), `errors` (each with its `DEP_E…` code), `restartCount`,
/// `executables` (each with `component`, `name`, `device`, `status`, `restartCount`), `at`.
///
/// Returns `RD_OK` and writes `*status_json_out` (free with `rd_string_free`);
/// `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `deployment_id` is NULL or a NUL-terminated string;
/// `status_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_status(
    engine: *const rd_engine,
    deployment_id: *const c_char,
    status_json_out: *mut *mut c_char,
) -> rd_result {
    by_id!(engine, deployment_id, status_json_out, |en, id| Ok(
        async move { en.status(id).await }
    ))
}

/// Waits at most `timeout_ms` until the deployment reaches `until` (an `rd_until`) and
/// returns the status that satisfied it, as `rd_engine_status` does.
///
/// Returns `RD_OK` and writes `*status_json_out` (free with `rd_string_free`);
/// `RD_ERR_TIMEOUT`, `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT` (not an id, or an unknown
/// `until`), `RD_ERR_SHUT_DOWN` (also when the engine shuts down during the wait),
/// `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `deployment_id` is NULL or a NUL-terminated string;
/// `status_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_wait(
    engine: *const rd_engine,
    deployment_id: *const c_char,
    until: u32,
    timeout_ms: u64,
    status_json_out: *mut *mut c_char,
) -> rd_result {
    by_id!(engine, deployment_id, status_json_out, |en, id| {
        let until = until_of(until)?;
        Ok(async move { en.wait_for(id, until, timeout(timeout_ms)).await })
    })
}
