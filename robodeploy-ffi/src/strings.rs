//! Strings the library hands out, and the library version.

use std::ffi::{CString, c_char};

use crate::boundary::guard_free;

/// Frees a string this library returned through a `*_out` argument; NULL is a no-op. Never
/// free such a string with `free()`, nor one the library did not return (`rd_version`,
/// `rd_result_message` return static strings).
///
/// # Safety
/// `s` is NULL or a string returned by this library, not freed before and not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    guard_free(|| {
        // SAFETY: created by CString::into_raw in this library and freed once, per the contract.
        drop(unsafe { CString::from_raw(s) });
    });
}

/// The library version (`"0.1.0"`): a static NUL-terminated string; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn rd_version() -> *const c_char {
    VERSION.as_ptr()
}

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("the package version contains a NUL byte"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_package_version() {
        // SAFETY: rd_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(rd_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
