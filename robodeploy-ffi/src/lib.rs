//! robodeploy-ffi: the C ABI of robodeploy (`librobodeploy`, as a cdylib and a staticlib, with
//! the header `include/robodeploy.h`) and the base of its Python package (`python/`).
//!
//! # Conventions (rustls-ffi's)
//!
//! - **Handles** are opaque: `rd_engine`, `rd_events`, `rd_log_stream`. Each is created by one
//!   function writing it through a `*_out` argument and freed exactly once by its `_free`;
//!   `_free(NULL)` is a no-op.
//! - **Results**: every fallible function returns an [`rd_result`], whose
//!   numbers are fixed and never reused. Outputs are written through `*_out` arguments **only
//!   on `RD_OK`**; on an error they are left untouched.
//! - **Messages**: `rd_result_message(code)` is the fixed text of a code;
//!   `rd_last_error(buf, len)` the detail of the last failed call on the calling thread
//!   (naming the argument, field, value or rule), and `rd_last_error_details` structured
//!   details as JSON (the validation report for `RD_ERR_VALIDATION`). A per-thread record, as
//!   `errno`: read it on the thread that got the error, before that thread's next failure.
//! - **Panics** never cross the boundary: each export runs inside `catch_unwind` and a panic
//!   is `RD_ERR_PANIC`. A configuration value that breaks its rule is `RD_ERR_INVALID_CONFIG`,
//!   its detail naming the field, the value and the rule. NULL pointers (`RD_ERR_NULL_ARGUMENT`), invalid UTF-8
//!   (`RD_ERR_INVALID_UTF8`), invalid JSON (`RD_ERR_INVALID_JSON`) and calls on an engine that
//!   was shut down (`RD_ERR_SHUT_DOWN`) are errors, not crashes.
//! - **Data** crosses as NUL-terminated UTF-8 JSON of robodeploy-core's serde model (camelCase
//!   field names). Strings the library returns are owned by the caller and freed with
//!   `rd_string_free`.
//! - **Threads**: an engine owns a multi-thread tokio runtime; calls block the calling thread
//!   until the engine answers. All functions may be called from any thread, concurrently,
//!   except that a handle's `_free` must not race with other calls on that handle. Calls from a
//!   thread that runs an async runtime return `RD_ERR_WRONG_THREAD`. The event callback runs on
//!   a library thread (see `rd_engine_set_event_callback`).
//!
//! # The functions
//!
//! | concern | functions |
//! |---|---|
//! | library | `rd_version`, `rd_result_message`, `rd_last_error`, `rd_last_error_details`, `rd_last_error_code`, `rd_string_free` |
//! | manifests | `rd_manifest_to_json`, `rd_manifest_validate` |
//! | dry-run | `rd_simulate` |
//! | engine | `rd_engine_new` (store, threads, lifecycle: backoff, min uptime, crash loops), `rd_engine_shutdown`, `rd_engine_free` |
//! | catalog | `rd_engine_add_package`, `rd_engine_add_memory_device`, `rd_engine_add_process_device`, `rd_engine_add_docker_device`, `rd_engine_add_remote_device`, `rd_engine_add_fleet`, `rd_engine_eligible_devices` |
//! | deployments | `rd_engine_deploy`, `rd_engine_deprovision`, `rd_engine_status`, `rd_engine_wait` |
//! | logs | `rd_engine_logs`, `rd_engine_logs_follow`, `rd_log_stream_next`, `rd_log_stream_free` |
//! | jobs | `rd_engine_create_job`, `rd_engine_cancel_job`, `rd_engine_rollback_job`, `rd_engine_job`, `rd_engine_wait_job`, `rd_engine_job_tags`, `rd_engine_tag_job`, `rd_engine_untag_job` |
//! | events | `rd_engine_set_event_callback`, `rd_engine_subscribe`, `rd_events_next`, `rd_events_free` |
//!
//! Called from Rust (as the benches do), every export is an `unsafe extern "C" fn`:
//!
//! ```
//! use std::ffi::CStr;
//! use robodeploy::rd_result;
//!
//! let mut report: *mut std::ffi::c_char = std::ptr::null_mut();
//! let text = c"{\"apiVersion\": \"robodeploy/v1\", \"kind\": \"Fleet\", \"spec\": {\"name\": \"lab\", \"robots\": []}}";
//! // SAFETY: a NUL-terminated manifest and a writable output.
//! let code = unsafe { robodeploy::rd_manifest_validate(text.as_ptr(), &mut report) };
//! assert_eq!(code, rd_result::RD_OK);
//! // SAFETY: RD_OK wrote a NUL-terminated string, freed below.
//! let json = unsafe { CStr::from_ptr(report) }.to_str().unwrap().to_owned();
//! // SAFETY: returned by the library, freed once.
//! unsafe { robodeploy::rd_string_free(report) };
//! assert_eq!(json, r#"{"errors":[],"valid":true,"warnings":[]}"#);
//! ```

#![allow(non_camel_case_types)]

mod boundary;
mod callback;
mod catalog;
mod deployments;
mod docker_device;
mod engine;
mod engine_options;
mod error;
mod events;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod jobs;
mod last_error;
mod logs;
mod manifest;
mod result;
mod simulate;
mod strings;
mod validation;

pub use callback::{rd_engine_set_event_callback, rd_event_callback};
pub use catalog::{
    rd_engine_add_fleet, rd_engine_add_memory_device, rd_engine_add_package,
    rd_engine_add_process_device, rd_engine_add_remote_device, rd_engine_eligible_devices,
};
pub use deployments::{
    rd_engine_deploy, rd_engine_deprovision, rd_engine_status, rd_engine_wait, rd_until,
};
pub use docker_device::rd_engine_add_docker_device;
pub use engine::{rd_engine, rd_engine_free, rd_engine_new, rd_engine_shutdown};
pub use events::{rd_engine_subscribe, rd_events, rd_events_free, rd_events_next};
pub use jobs::{
    rd_engine_cancel_job, rd_engine_create_job, rd_engine_job, rd_engine_job_tags,
    rd_engine_rollback_job, rd_engine_tag_job, rd_engine_untag_job, rd_engine_wait_job,
};
pub use last_error::{rd_last_error, rd_last_error_code, rd_last_error_details};
pub use logs::{
    rd_engine_logs, rd_engine_logs_follow, rd_log_stream, rd_log_stream_free, rd_log_stream_next,
};
pub use manifest::{rd_manifest_to_json, rd_manifest_validate};
pub use result::{rd_result, rd_result_message};
pub use simulate::rd_simulate;
pub use strings::{rd_string_free, rd_version};
