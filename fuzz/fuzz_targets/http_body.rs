//! The HTTP API's request bodies and queries, decoded as the server's routes decode them
//! (`robodeploy_cli::server::fuzzing::request_body` holds the properties).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    robodeploy_cli::server::fuzzing::request_body(data);
});
