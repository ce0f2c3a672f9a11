//! The C ABI's entry points that take JSON or text, called as a C caller would
//! (`robodeploy::fuzzing::entry_point` holds the calls and the properties).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    robodeploy::fuzzing::entry_point(data);
});
