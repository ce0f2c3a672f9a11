//! The boundary every export runs inside: a panic never unwinds into C, an error is recorded
//! for `rd_last_error` and returned as its code, and arguments are checked before use (NULL,
//! UTF-8, JSON) so that bad input is an error, never undefined behaviour the library can see.

use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::de::DeserializeOwned;

use crate::error::FfiError;
use crate::last_error::record;
use crate::result::rd_result;

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("panic inside robodeploy: {text}")
}

/// Runs `f`, turning its error or its panic into a recorded code. `f` must write its outputs
/// last, after everything that can fail, so that outputs are written only on success.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), FfiError>) -> rd_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => rd_result::RD_OK,
        Ok(Err(e)) => record(e),
        Err(payload) => record(FfiError::new(
            rd_result::RD_ERR_PANIC,
            panic_message(payload.as_ref()),
        )),
    }
}

/// Runs a `_free` body: a panic is swallowed (there is no code to return it through).
pub(crate) fn guard_free(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// A required string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if p.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes.to_str().map_err(|e| {
        FfiError::new(
            rd_result::RD_ERR_INVALID_UTF8,
            format!(
                "argument `{name}` is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { str_arg(p, name) }.map(Some)
}

/// A required JSON argument read into `T`; `what` names `T` for the message.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn json_arg<T: DeserializeOwned>(
    p: *const c_char,
    name: &str,
    what: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    let text = unsafe { str_arg(p, name) }?;
    serde_json::from_str(text).map_err(|e| FfiError::json(name, what, &e))
}

/// A required id argument (a UUID string).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn id_arg<T: std::str::FromStr>(
    p: *const c_char,
    name: &str,
) -> Result<T, FfiError>
where
    T::Err: std::fmt::Display,
{
    // SAFETY: forwarded contract.
    let text = unsafe { str_arg(p, name) }?;
    text.parse()
        .map_err(|e| FfiError::argument(name, format!("{text:?} is not an id: {e}")))
}

/// A required handle argument.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` created by this library.
pub(crate) unsafe fn handle_arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: NULL or live per this function's contract.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// Checks an output pointer early, so a NULL one fails before any work is done.
pub(crate) fn out_arg<T>(p: *mut T, name: &str) -> Result<*mut T, FfiError> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(p)
    }
}

/// Converts `s` into a string the caller owns and frees with `rd_string_free`.
pub(crate) fn owned_string(s: String) -> Result<*mut c_char, FfiError> {
    CString::new(s).map(CString::into_raw).map_err(|_| {
        FfiError::new(
            rd_result::RD_ERR_INTERNAL,
            "a result contains a NUL byte and cannot be returned as a C string",
        )
    })
}

/// Writes an owned string into a checked output pointer.
///
/// # Safety
/// `out` was checked by [`out_arg`] and points to writable storage for a pointer.
pub(crate) unsafe fn write_string(out: *mut *mut c_char, s: String) -> Result<(), FfiError> {
    let p = owned_string(s)?;
    // SAFETY: non-NULL (checked by out_arg) and writable per this function's contract.
    unsafe { out.write(p) };
    Ok(())
}

/// Serialises `value` as JSON (our model types always serialise).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, FfiError> {
    serde_json::to_string(value).map_err(|e| {
        FfiError::new(
            rd_result::RD_ERR_INTERNAL,
            format!("a result does not serialise: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_code_with_its_message() {
        let code = guard(|| panic!("boom {}", 7));
        assert_eq!(code, rd_result::RD_ERR_PANIC);
        let mut buf = [0 as c_char; 64];
        let n = crate::last_error::rd_last_error(buf.as_mut_ptr(), buf.len());
        // SAFETY: rd_last_error NUL-terminated the buffer.
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(text, "panic inside robodeploy: boom 7");
        assert_eq!(n, text.len());
    }

    #[test]
    fn bad_strings_are_errors_naming_the_argument() {
        let bad = c"ab\xffcd";
        // SAFETY: a NUL-terminated literal.
        let e = unsafe { str_arg(bad.as_ptr(), "text") }.unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_UTF8);
        assert_eq!(e.message, "argument `text` is not valid UTF-8 (at byte 2)");
        // SAFETY: NULL is allowed.
        let e = unsafe { str_arg(std::ptr::null(), "text") }.unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_NULL_ARGUMENT);
        // SAFETY: a NUL-terminated literal.
        let e = unsafe { json_arg::<Vec<u32>>(c"[1, 2".as_ptr(), "json", "list") }.unwrap_err();
        assert_eq!(e.code, rd_result::RD_ERR_INVALID_JSON);
        assert!(
            e.message
                .starts_with("argument `json` is not a valid list: EOF"),
            "{}",
            e.message
        );
    }
}
