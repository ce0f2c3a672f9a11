//! The process supervisor's socket protocol: any byte stream from a client, decoded line by
//! line as the supervisor's connection decodes it, and each line as a runtime reads replies
//! (`robodeploy_process::fuzzing::supervisor_stream` holds the properties).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    robodeploy_process::fuzzing::supervisor_stream(data);
});
