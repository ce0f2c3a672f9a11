//! An executable's output: read what exists, or follow it as it is written.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use robodeploy_core::model::DeploymentId;
use robodeploy_core::runtime::{LogLine, LogOptions, LogReceiver};

use crate::boundary::{
    guard, guard_free, handle_arg, id_arg, out_arg, str_arg, to_json, write_string,
};
use crate::engine::{Shared, rd_engine};
use crate::error::FfiError;
use crate::result::rd_result;

/// `tail` from C: negative means everything.
fn tail_of(tail: i64) -> Option<usize> {
    usize::try_from(tail).ok()
}

/// Opens an executable's log stream.
///
/// # Safety
/// The pointers as for `rd_engine_logs`.
unsafe fn open<'a>(
    engine: *const rd_engine,
    deployment_id: *const c_char,
    component: *const c_char,
    executable: *const c_char,
    options: LogOptions,
) -> Result<(&'a rd_engine, LogReceiver), FfiError> {
    // SAFETY: the caller's contract.
    let e = unsafe { handle_arg(engine, "engine") }?;
    // SAFETY: the caller's contract.
    let id: DeploymentId = unsafe { id_arg(deployment_id, "deployment_id") }?;
    // SAFETY: the caller's contract.
    let component = unsafe { str_arg(component, "component") }?;
    // SAFETY: the caller's contract.
    let executable = unsafe { str_arg(executable, "executable") }?;
    let rx = e.run(e.engine()?.logs(id, component, executable, options))?;
    Ok((e, rx))
}

/// Reads an executable's output as it is now: the last `tail` lines (a negative `tail`: all
/// the runtime keeps), as a JSON array of `{"stream": "stdout"|"stderr", "at": time|null,
/// "line": text}`, oldest first.
///
/// Returns `RD_OK` and writes `*lines_json_out` (free with `rd_string_free`);
/// `RD_ERR_NOT_RUNNING` (the deployment has no instance of such an executable: never started,
/// or no such component or executable), `RD_ERR_NOT_FOUND` (no such deployment),
/// `RD_ERR_RUNTIME`, `RD_ERR_INVALID_ARGUMENT`,
/// `RD_ERR_SHUT_DOWN`, `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `engine` is NULL or a live engine; the strings are NULL or NUL-terminated;
/// `lines_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_logs(
    engine: *const rd_engine,
    deployment_id: *const c_char,
    component: *const c_char,
    executable: *const c_char,
    tail: i64,
    lines_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(lines_json_out, "lines_json_out")?;
        let options = LogOptions {
            tail: tail_of(tail),
            follow: false,
        };
        // SAFETY: the caller's contract.
        let (e, mut rx) = unsafe { open(engine, deployment_id, component, executable, options) }?;
        let lines: Vec<LogLine> = e.shared.block_on(async move {
            let mut lines = Vec::new();
            while let Some(line) = rx.recv().await {
                lines.push(line);
            }
            lines
        })?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, to_json(&lines)?) }
    })
}

/// A followed log: lines as they are written. Read with `rd_log_stream_next` (from any
/// thread; calls are serialised), free with `rd_log_stream_free` (which stops following).
pub struct rd_log_stream {
    shared: Arc<Shared>,
    lines: Mutex<LogReceiver>,
}

/// Follows an executable's output: the last `tail` lines that exist (negative: all), then
/// every new line as it is written, until the instance is gone.
///
/// Returns `RD_OK` and writes `*stream_out`; the errors of `rd_engine_logs`.
///
/// # Safety
/// `engine` is NULL or a live engine; the strings are NULL or NUL-terminated; `stream_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_logs_follow(
    engine: *const rd_engine,
    deployment_id: *const c_char,
    component: *const c_char,
    executable: *const c_char,
    tail: i64,
    stream_out: *mut *mut rd_log_stream,
) -> rd_result {
    guard(|| {
        let out = out_arg(stream_out, "stream_out")?;
        let options = LogOptions {
            tail: tail_of(tail),
            follow: true,
        };
        // SAFETY: the caller's contract.
        let (e, rx) = unsafe { open(engine, deployment_id, component, executable, options) }?;
        let stream = Box::new(rd_log_stream {
            shared: Arc::clone(&e.shared),
            lines: Mutex::new(rx),
        });
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { out.write(Box::into_raw(stream)) };
        Ok(())
    })
}

/// Waits at most `timeout_ms` (0: do not wait) for the next line of a followed log and
/// returns it as `{"stream", "at", "line"}`.
///
/// Returns `RD_OK` and writes `*line_json_out` (free with `rd_string_free`);
/// `RD_ERR_TIMEOUT` when no line came in time; `RD_ERR_END_OF_STREAM` when the instance is
/// gone (stopped, removed, or the engine freed) and every line was read;
/// `RD_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `stream` is NULL or a live stream; `line_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_log_stream_next(
    stream: *const rd_log_stream,
    timeout_ms: u64,
    line_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(line_json_out, "line_json_out")?;
        // SAFETY: the caller's contract.
        let s = unsafe { handle_arg(stream, "stream") }?;
        let mut rx = s.lines.lock().unwrap_or_else(|p| p.into_inner());
        let line = s.shared.next_within(timeout_ms, "log line", rx.recv())?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, to_json(&line)?) }
    })
}

/// Stops following and frees the stream; NULL is a no-op.
///
/// # Safety
/// `stream` is NULL or a live stream, not used again afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_log_stream_free(stream: *mut rd_log_stream) {
    if stream.is_null() {
        return;
    }
    guard_free(|| {
        // SAFETY: created by rd_engine_logs_follow (Box::into_raw), freed once per the contract.
        drop(unsafe { Box::from_raw(stream) });
    });
}
