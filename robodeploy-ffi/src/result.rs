//! `rd_result`: what every fallible export returns, with fixed numbers.
//!
//! Numbers are grouped by concern (1xx: arguments, 2xx: documents, 3xx: engine state, 4xx:
//! backends, 9xx: the library itself) and are never reused: a code removed from the list stays
//! retired, so a program compiled against an old header never misreads a new library.

use std::ffi::c_char;

/// The outcome of a call. `RD_OK` is 0; every other value is an error whose message
/// `rd_result_message` gives, and whose detail for the failed call `rd_last_error` gives.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rd_result {
    /// Success; the `*_out` arguments were written.
    RD_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    RD_ERR_NULL_ARGUMENT = 100,
    /// A string argument is not valid UTF-8.
    RD_ERR_INVALID_UTF8 = 101,
    /// A JSON argument does not parse, or does not have the expected shape.
    RD_ERR_INVALID_JSON = 102,
    /// An argument is out of its range (an unknown `rd_until`, an id that is not a UUID).
    RD_ERR_INVALID_ARGUMENT = 103,
    /// A configuration value breaks its rule (a lifecycle setting, a Docker endpoint); the
    /// detail names the field, the value and the rule.
    RD_ERR_INVALID_CONFIG = 104,
    /// A manifest does not parse (syntax, unknown key, wrong type); the detail has the position.
    RD_ERR_MANIFEST_SYNTAX = 200,
    /// A request breaks a validation rule; the details are the validation report as JSON.
    RD_ERR_VALIDATION = 201,
    /// A simulation could not be set up (its fleet model or deployment config breaks a rule).
    RD_ERR_SIMULATION = 202,
    /// No such deployment, job, package, device, fleet or running executable.
    RD_ERR_NOT_FOUND = 300,
    /// Conflicts with what exists: a live deployment with that name, a changed package version,
    /// a device or package in use.
    RD_ERR_CONFLICT = 301,
    /// The deployment has no instance of that executable (never started, or no such component
    /// or executable).
    RD_ERR_NOT_RUNNING = 302,
    /// A wait ran out of time before its condition held, or nothing arrived in time.
    RD_ERR_TIMEOUT = 303,
    /// The engine was shut down (`rd_engine_shutdown`); only `rd_engine_free` remains.
    RD_ERR_SHUT_DOWN = 304,
    /// A stream (log follow, event subscription) has ended: nothing more will come.
    RD_ERR_END_OF_STREAM = 305,
    /// The call was made from a thread where it would deadlock (inside an event callback of the
    /// same engine).
    RD_ERR_WRONG_THREAD = 306,
    /// A runtime backend failed (unreachable, image or binary missing, refused spec).
    RD_ERR_RUNTIME = 400,
    /// The engine's store failed (I/O, corrupt or newer file).
    RD_ERR_STORE = 401,
    /// A runtime or the engine's own threads could not be created.
    RD_ERR_SETUP = 402,
    /// A panic was caught at the boundary: a bug in robodeploy; the detail has its message.
    RD_ERR_PANIC = 900,
    /// An internal error (a result that cannot be encoded); a bug in robodeploy.
    RD_ERR_INTERNAL = 901,
}

/// Every code, for the lookup by number and its tests.
const ALL: [rd_result; 21] = [
    rd_result::RD_OK,
    rd_result::RD_ERR_NULL_ARGUMENT,
    rd_result::RD_ERR_INVALID_UTF8,
    rd_result::RD_ERR_INVALID_JSON,
    rd_result::RD_ERR_INVALID_ARGUMENT,
    rd_result::RD_ERR_INVALID_CONFIG,
    rd_result::RD_ERR_MANIFEST_SYNTAX,
    rd_result::RD_ERR_VALIDATION,
    rd_result::RD_ERR_SIMULATION,
    rd_result::RD_ERR_NOT_FOUND,
    rd_result::RD_ERR_CONFLICT,
    rd_result::RD_ERR_NOT_RUNNING,
    rd_result::RD_ERR_TIMEOUT,
    rd_result::RD_ERR_SHUT_DOWN,
    rd_result::RD_ERR_END_OF_STREAM,
    rd_result::RD_ERR_WRONG_THREAD,
    rd_result::RD_ERR_RUNTIME,
    rd_result::RD_ERR_STORE,
    rd_result::RD_ERR_SETUP,
    rd_result::RD_ERR_PANIC,
    rd_result::RD_ERR_INTERNAL,
];

impl rd_result {
    /// The code with this number, if it is one.
    pub fn from_u32(code: u32) -> Option<rd_result> {
        ALL.into_iter().find(|r| *r as u32 == code)
    }

    /// The fixed message of this code, as a NUL-terminated static string.
    pub fn message(self) -> &'static std::ffi::CStr {
        use rd_result::*;
        match self {
            RD_OK => c"success",
            RD_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
            RD_ERR_INVALID_UTF8 => c"a string argument is not valid UTF-8",
            RD_ERR_INVALID_JSON => c"a JSON argument does not parse or has the wrong shape",
            RD_ERR_INVALID_ARGUMENT => c"an argument is out of its range",
            RD_ERR_INVALID_CONFIG => c"a configuration value breaks its rule",
            RD_ERR_MANIFEST_SYNTAX => c"the manifest does not parse",
            RD_ERR_VALIDATION => c"the request breaks a validation rule",
            RD_ERR_SIMULATION => c"the simulation could not be set up",
            RD_ERR_NOT_FOUND => c"no such deployment, job, package, device or fleet",
            RD_ERR_CONFLICT => c"the request conflicts with what exists",
            RD_ERR_NOT_RUNNING => c"the executable has no running instance",
            RD_ERR_TIMEOUT => c"timed out",
            RD_ERR_SHUT_DOWN => c"the engine has shut down",
            RD_ERR_END_OF_STREAM => c"the stream has ended",
            RD_ERR_WRONG_THREAD => c"the call is not allowed on this thread (an event callback)",
            RD_ERR_RUNTIME => c"a runtime backend failed",
            RD_ERR_STORE => c"the engine's store failed",
            RD_ERR_SETUP => c"a runtime or the engine's threads could not be created",
            RD_ERR_PANIC => c"a panic was caught in robodeploy (a bug)",
            RD_ERR_INTERNAL => c"an internal error in robodeploy (a bug)",
        }
    }
}

/// The fixed, static message of a result code (any number: an unknown one gets
/// "unknown result code"). Never NULL; never free it.
///
/// The detail of the last failed call on this thread is `rd_last_error`.
#[unsafe(no_mangle)]
pub extern "C" fn rd_result_message(code: u32) -> *const c_char {
    // No panic boundary needed: a table lookup that cannot panic.
    match rd_result::from_u32(code) {
        Some(r) => r.message().as_ptr(),
        None => c"unknown result code".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_messages_distinct() {
        let mut codes: Vec<u32> = ALL.iter().map(|r| *r as u32).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        let mut messages: Vec<&std::ffi::CStr> = ALL.iter().map(|r| r.message()).collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), ALL.len());
        assert_eq!(rd_result::from_u32(304), Some(rd_result::RD_ERR_SHUT_DOWN));
        assert_eq!(
            rd_result::from_u32(104),
            Some(rd_result::RD_ERR_INVALID_CONFIG)
        );
        assert_eq!(rd_result::from_u32(7), None);
    }
}
