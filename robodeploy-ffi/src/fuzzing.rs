//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not a public API): the C
//! ABI's entry points that take JSON or text, called as a C caller calls them (a
//! NUL-terminated string, an out pointer, then `rd_last_error` on failure).

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use crate::engine::rd_engine;
use crate::result::rd_result;

/// One engine for every input (in memory; no device, nothing runs), made on first use.
struct Shared(*mut rd_engine);

// SAFETY: an `rd_engine` may be used from any thread (its calls take `*const` and lock
// inside); the pointer is never freed.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

fn engine() -> *const rd_engine {
    static ENGINE: OnceLock<Shared> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut out: *mut rd_engine = std::ptr::null_mut();
            let options = CString::new(r#"{"workerThreads": 1}"#).unwrap_or_default();
            // SAFETY: a NUL-terminated string and a writable out pointer.
            let r = unsafe { crate::engine::rd_engine_new(options.as_ptr(), &mut out) };
            assert_eq!(r, rd_result::RD_OK, "the fuzz engine cannot start");
            Shared(out)
        })
        .0
}

/// The last error of this thread: its message and details.
fn last_error() -> (String, String) {
    let read = |f: extern "C" fn(*mut c_char, usize) -> usize| {
        let len = f(std::ptr::null_mut(), 0);
        let mut buf = vec![0u8; len + 1];
        f(buf.as_mut_ptr().cast::<c_char>(), buf.len());
        buf.truncate(len);
        String::from_utf8(buf).expect("rd_last_error gives UTF-8")
    };
    (
        read(crate::last_error::rd_last_error),
        read(crate::last_error::rd_last_error_details),
    )
}

/// Takes a string the C ABI returned and frees it.
///
/// # Safety
/// `s` is a string an `rd_*` call wrote, not freed yet.
unsafe fn take(s: *mut c_char) -> String {
    // SAFETY: per the contract, a NUL-terminated string the library allocated.
    let text = unsafe { std::ffi::CStr::from_ptr(s) }
        .to_str()
        .expect("the ABI returns UTF-8")
        .to_owned();
    // SAFETY: allocated by the library, freed once.
    unsafe { crate::strings::rd_string_free(s) };
    text
}

/// Calls the entry point `data[0]` selects with the rest of `data` as its text (cut at the
/// first NUL, as a C string ends there), and checks what must hold for any input: no panic
/// crosses or is caught at the boundary (`RD_ERR_PANIC`); a failure leaves a message in
/// `rd_last_error`; a validation failure's details name each problem's field path and rule;
/// a returned string is JSON.
///
/// # Panics
/// When one of those properties does not hold (that is the fuzzer's finding).
pub fn entry_point(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = rest.split(|&b| b == 0).next().unwrap_or_default();
    let Ok(text) = CString::new(text) else {
        return;
    };
    let mut out: *mut c_char = std::ptr::null_mut();
    let p = text.as_ptr();
    // SAFETY (every call below): `p` is a NUL-terminated string alive for the call, `out` a
    // writable pointer, the engine a live engine never freed.
    let (r, wrote) = match which % 5 {
        0 => (
            unsafe { crate::manifest::rd_manifest_to_json(p, &mut out) },
            true,
        ),
        1 => (
            unsafe { crate::manifest::rd_manifest_validate(p, &mut out) },
            true,
        ),
        2 => (unsafe { crate::simulate::rd_simulate(p, &mut out) }, true),
        3 => (
            unsafe { crate::catalog::rd_engine_add_package(engine(), p) },
            false,
        ),
        _ => (
            unsafe { crate::catalog::rd_engine_add_fleet(engine(), p) },
            false,
        ),
    };
    assert_ne!(r, rd_result::RD_ERR_PANIC, "panic: {:?}", last_error().0);
    assert_ne!(
        r,
        rd_result::RD_ERR_INTERNAL,
        "internal: {:?}",
        last_error().0
    );
    if r == rd_result::RD_OK {
        if wrote {
            // SAFETY: RD_OK means `out` holds a string the library wrote.
            let json = unsafe { take(out) };
            assert!(
                serde_json::from_str::<serde_json::Value>(&json).is_ok(),
                "not JSON: {json}"
            );
        }
        return;
    }
    let (message, details) = last_error();
    assert!(!message.is_empty(), "{r:?} without a message");
    if r == rd_result::RD_ERR_VALIDATION {
        let report: serde_json::Value = serde_json::from_str(&details).expect("details are JSON");
        let errors = report["errors"].as_array().expect("an errors array");
        assert!(!errors.is_empty(), "a validation failure with no error");
        for e in errors {
            for key in ["path", "rule", "message"] {
                assert!(
                    e[key].as_str().is_some_and(|s| !s.is_empty()),
                    "{key} missing in {e}"
                );
            }
        }
    }
}
