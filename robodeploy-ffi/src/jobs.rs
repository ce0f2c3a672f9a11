//! Deployment jobs: create, cancel, report, wait.

use std::collections::BTreeMap;
use std::ffi::c_char;

use robodeploy_core::model::{DeploymentJobRequest, JobId};

use crate::boundary::{guard, handle_arg, id_arg, json_arg, opt_str_arg, out_arg, write_string};
use crate::engine::{act, by_id, rd_engine, timeout};
use crate::result::rd_result;

/// Creates a deployment job and starts it: rolls `applicationVersion` of `application` out to
/// every robot of `fleet`, by waves, within the concurrency and failure threshold of its
/// `deploymentConfig`. `job_json` is the model's `DeploymentJobRequest`. With a `token` (NULL:
/// none), calling again with the same token returns the same id and starts nothing twice.
///
/// The job is checked by the manifest validator: environment variable names must be
/// `[A-Z_][A-Z0-9_]*` and not begin with `AWS`, values 1..=1024 characters, and so on; a
/// refusal is `RD_ERR_VALIDATION` with a message naming the field
/// (`spec.launchConfig.environmentVariables.lower`), the value and the rule, and nothing starts.
///
/// Returns `RD_OK` and writes the job id to `*job_id_out` (free with `rd_string_free`);
/// `RD_ERR_VALIDATION` (details: the report), `RD_ERR_NOT_FOUND` (no such fleet or package),
/// `RD_ERR_INVALID_ARGUMENT` (a config the scheduler refuses), `RD_ERR_INVALID_JSON`,
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_json` and `token` are NULL or NUL-terminated
/// strings; `job_id_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_create_job(
    engine: *const rd_engine,
    job_json: *const c_char,
    token: *const c_char,
    job_id_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(job_id_out, "job_id_out")?;
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let job: DeploymentJobRequest =
            unsafe { json_arg(job_json, "job_json", "deployment job") }?;
        // SAFETY: the caller's contract.
        let token = unsafe { opt_str_arg(token, "token") }?;
        let id = e.run(e.engine()?.create_job(job, token))?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, id.to_string()) }
    })
}

/// Cancels a job: no new robots start; robots in flight are aborted
/// (RobotDeploymentAborted), and rolled back when the job asks for it.
///
/// Returns `RD_OK`; `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT` (not an id),
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_cancel_job(
    engine: *const rd_engine,
    job_id: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `job_id` NULL or NUL-terminated).
    unsafe {
        act(
            engine,
            || id_arg::<JobId>(job_id, "job_id"),
            |en, id| async move { en.cancel_job(id).await },
        )
    }
}

/// Rolls a job back: a job still running stops as on `rd_engine_cancel_job`, then every robot
/// the new version reached returns to the version it ran before the job (whether or not the
/// job asked for automatic rollback); an ended job is rolled back the same way (InProgress
/// again, then Canceled, or Failed if it had failed). The report's `rollback` object follows it.
///
/// Returns `RD_OK` when a rollback started; `RD_ERR_CONFLICT` when the job rolled back already
/// or none of its robots runs its version (nothing changes); `RD_ERR_NOT_FOUND`,
/// `RD_ERR_INVALID_ARGUMENT` (not an id), `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_rollback_job(
    engine: *const rd_engine,
    job_id: *const c_char,
) -> rd_result {
    // SAFETY: the caller's contract (`engine` NULL or live, `job_id` NULL or NUL-terminated).
    unsafe {
        act(
            engine,
            || id_arg::<JobId>(job_id, "job_id"),
            |en, id| async move { en.rollback_job(id).await },
        )
    }
}

/// A job's report now, as JSON: `id`, `fleet`, `application`, `version`, `status`
/// (`Pending`, `Preparing`, `InProgress`, `Failed`, `Succeeded`, `Canceled`), `failure`,
/// `inFlightLimit`, `failureThreshold`, `tags` (an object of strings), `createdAt`,
/// `expiresAt`, `rollback` (once one started), `robots` (each with `robot`, `status`, `step`,
/// `percentDone`, `eta`, `failure`, `failureDetail`, `deployment`), and `waves` (each with
/// `start`, `end`, `threshold`, `failed`, `state`: `Waiting`, `Deploying`, `Soaking`,
/// `AwaitingResume`, `Completed`, `Halted` or `Skipped`; `soak`, `manualResume`, `startedAt`,
/// `completedAt`, `soakEndsAt`).
///
/// Returns `RD_OK` and writes `*report_json_out` (free with `rd_string_free`);
/// `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` is NULL or a NUL-terminated string;
/// `report_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_job(
    engine: *const rd_engine,
    job_id: *const c_char,
    report_json_out: *mut *mut c_char,
) -> rd_result {
    by_id!(engine, job_id, report_json_out, |en, id| Ok(async move {
        en.job(id).await
    }))
}

/// Waits at most `timeout_ms` until a job ends (Succeeded, Failed or Canceled) and returns its
/// report, as `rd_engine_job` does.
///
/// Returns `RD_OK` and writes `*report_json_out`; `RD_ERR_TIMEOUT`, and the errors of
/// `rd_engine_job`.
///
/// # Safety
/// As `rd_engine_job`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_wait_job(
    engine: *const rd_engine,
    job_id: *const c_char,
    timeout_ms: u64,
    report_json_out: *mut *mut c_char,
) -> rd_result {
    by_id!(engine, job_id, report_json_out, |en, id| Ok(async move {
        en.wait_for_job(id, timeout(timeout_ms)).await
    }))
}

/// A job's tags, as a JSON object of strings (`{"team": "nav"}`; `{}` when it has none).
///
/// Returns `RD_OK` and writes `*tags_json_out` (free with `rd_string_free`);
/// `RD_ERR_NOT_FOUND` (no such job), `RD_ERR_INVALID_ARGUMENT` (not an id),
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` is NULL or a NUL-terminated string;
/// `tags_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_job_tags(
    engine: *const rd_engine,
    job_id: *const c_char,
    tags_json_out: *mut *mut c_char,
) -> rd_result {
    by_id!(engine, job_id, tags_json_out, |en, id| Ok(async move {
        en.job_tags(id).await
    }))
}

/// Adds tags to a job, overwriting the values of keys it has. `tags_json` is a JSON object of
/// strings. The job's tags afterwards must follow RoboMaker's rules (keys of 1..=128
/// characters not beginning with `aws:`, values of at most 256, at most 50 tags); they are
/// stored with the job and survive a restart.
///
/// Returns `RD_OK`; `RD_ERR_VALIDATION` (the message and the details name the tag, e.g.
/// `spec.tags.aws:owner`, and nothing changes), `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT`,
/// `RD_ERR_INVALID_JSON`, `RD_ERR_STORE`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` and `tags_json` are NULL or NUL-terminated
/// strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_tag_job(
    engine: *const rd_engine,
    job_id: *const c_char,
    tags_json: *const c_char,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let id: JobId = unsafe { id_arg(job_id, "job_id") }?;
        // SAFETY: the caller's contract.
        let tags: BTreeMap<String, String> =
            unsafe { json_arg(tags_json, "tags_json", "object of string tags") }?;
        e.run(e.engine()?.tag_job(id, tags))
    })
}

/// Removes tags from a job by key. `keys_json` is a JSON array of strings; keys the job does
/// not have are ignored.
///
/// Returns `RD_OK`; `RD_ERR_VALIDATION` (a key that breaks the tag key rule; nothing
/// changes), `RD_ERR_NOT_FOUND`, `RD_ERR_INVALID_ARGUMENT`, `RD_ERR_INVALID_JSON`,
/// `RD_ERR_STORE`, `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; `job_id` and `keys_json` are NULL or NUL-terminated
/// strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_untag_job(
    engine: *const rd_engine,
    job_id: *const c_char,
    keys_json: *const c_char,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        // SAFETY: the caller's contract.
        let id: JobId = unsafe { id_arg(job_id, "job_id") }?;
        // SAFETY: the caller's contract.
        let keys: Vec<String> = unsafe { json_arg(keys_json, "keys_json", "array of tag keys") }?;
        e.run(e.engine()?.untag_job(id, &keys))
    })
}
