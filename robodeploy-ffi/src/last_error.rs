//! The detail of the last failed call, kept per thread (as `errno` is).
//!
//! Every export that returns an error code other than `RD_OK` first records its message (and
//! structured details, if any) for the calling thread; a successful call leaves the record as
//! it was. So the record describes the most recent *failed* call on this thread, and a caller
//! reads it right after the failure, on the same thread. The copy-out functions follow
//! `snprintf`: they return the full length, write at most `buf_len - 1` bytes plus a NUL, and
//! never split a UTF-8 character.

use std::cell::RefCell;
use std::ffi::c_char;

use crate::error::FfiError;
use crate::result::rd_result;

thread_local! {
    static LAST: RefCell<Option<FfiError>> = const { RefCell::new(None) };
}

/// Records `e` as this thread's last error and returns its code.
pub(crate) fn record(e: FfiError) -> rd_result {
    let code = e.code;
    LAST.with(|l| *l.borrow_mut() = Some(e));
    code
}

fn with_last<T>(f: impl FnOnce(Option<&FfiError>) -> T) -> T {
    LAST.with(|l| f(l.borrow().as_ref()))
}

/// Copies `text` into `buf` as `snprintf` would; returns `text`'s length in bytes.
fn copy_out(text: &str, buf: *mut c_char, buf_len: usize) -> usize {
    if !buf.is_null() && buf_len > 0 {
        let mut n = text.len().min(buf_len - 1);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: the caller promises `buf` points to at least `buf_len` writable bytes;
        // n + 1 <= buf_len, and the source is a distinct Rust string.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// The message of the last failed call on this thread: what was wrong, naming the argument,
/// field, value or rule (for example `argument `request_json` is not a valid deployment
/// request: EOF while parsing an object at line 1 column 9`).
///
/// Copies at most `buf_len - 1` bytes and a terminating NUL into `buf` (nothing when `buf` is
/// NULL or `buf_len` is 0, so `rd_last_error(NULL, 0)` asks for the length) and returns the
/// message's full length in bytes, without the NUL; 0 when no call on this thread has failed.
/// Truncation never splits a UTF-8 character. Calls that succeed do not clear it.
#[unsafe(no_mangle)]
pub extern "C" fn rd_last_error(buf: *mut c_char, buf_len: usize) -> usize {
    let r = std::panic::catch_unwind(|| {
        with_last(|e| copy_out(e.map_or("", |e| e.message.as_str()), buf, buf_len))
    });
    r.unwrap_or(0)
}

/// Structured details of the last failed call on this thread, as JSON; empty when it had
/// none. For `RD_ERR_VALIDATION` it is the validation report (the shape `rd_manifest_validate`
/// returns: `{"valid": false, "errors": [{"path": …, "rule": …, "message": …}], …}`).
/// Copies and returns lengths exactly as `rd_last_error` does.
#[unsafe(no_mangle)]
pub extern "C" fn rd_last_error_details(buf: *mut c_char, buf_len: usize) -> usize {
    let r = std::panic::catch_unwind(|| {
        with_last(|e| {
            copy_out(
                e.and_then(|e| e.details.as_deref()).unwrap_or(""),
                buf,
                buf_len,
            )
        })
    });
    r.unwrap_or(0)
}

/// The code of the last failed call on this thread; `RD_OK` when none has failed.
#[unsafe(no_mangle)]
pub extern "C" fn rd_last_error_code() -> rd_result {
    let r = std::panic::catch_unwind(|| with_last(|e| e.map_or(rd_result::RD_OK, |e| e.code)));
    r.unwrap_or(rd_result::RD_ERR_PANIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_like_snprintf_without_splitting_characters() {
        record(FfiError::new(rd_result::RD_ERR_NOT_FOUND, "née x"));
        assert_eq!(rd_last_error(std::ptr::null_mut(), 0), 6);
        let mut buf = [0x7f as c_char; 4];
        // "né" is 3 bytes: a 4-byte buffer holds "né" and the NUL; 3 bytes cannot hold "né".
        assert_eq!(rd_last_error(buf.as_mut_ptr(), 4), 6);
        assert_eq!(buf.map(|c| c as u8), [b'n', 0xc3, 0xa9, 0]);
        assert_eq!(rd_last_error(buf.as_mut_ptr(), 3), 6);
        assert_eq!(
            buf[..2].iter().map(|c| *c as u8).collect::<Vec<_>>(),
            [b'n', 0]
        );
        assert_eq!(rd_last_error_code(), rd_result::RD_ERR_NOT_FOUND);
        assert_eq!(rd_last_error_details(buf.as_mut_ptr(), 4), 0);
        assert_eq!(buf[0], 0);
    }
}
