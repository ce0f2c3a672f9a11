//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not a public API): the
//! supervisor's socket protocol, decoded as the supervisor and a runtime decode it.

use crate::shim::MAX_REQUEST_LINE;
use crate::wire::protocol::{Reply, Request};

/// Feeds `bytes` to the supervisor's connection decoder as one client's whole stream, and each
/// of its lines to the runtime's reply decoder, checking what must hold for any input: no
/// panic; no line held beyond [`MAX_REQUEST_LINE`]; every refused line answered with a reason
/// that carries no raw control character; every accepted request written back reads the same.
///
/// # Panics
/// When one of those properties does not hold (that is the fuzzer's finding).
pub fn supervisor_stream(bytes: &[u8]) {
    let (decided, longest) = crate::supervisor::decode_stream(bytes);
    assert!(
        longest <= MAX_REQUEST_LINE,
        "a line of {longest} bytes was kept"
    );
    for d in decided {
        match d {
            Ok(request) => {
                let line = request.line();
                let again = Request::parse(line.trim_end_matches('\n'));
                assert_eq!(again.as_ref(), Ok(&request), "{line:?}");
            }
            Err(reason) => {
                assert!(!reason.is_empty());
                assert!(
                    !reason.chars().any(char::is_control),
                    "raw control character in {reason:?}"
                );
                // The reply carrying it is one line.
                let reply = Reply::Error(reason).line();
                assert_eq!(reply.matches('\n').count(), 1, "{reply:?}");
            }
        }
    }
    for line in bytes.split(|&b| b == b'\n') {
        if let Ok(text) = std::str::from_utf8(line)
            && let Ok(reply) = Reply::parse(text)
        {
            // What a runtime reads back is what the supervisor would have written.
            let again = Reply::parse(reply.line().trim_end_matches('\n'));
            assert!(
                again.is_ok(),
                "{text:?} read as {reply:?} does not read back"
            );
        }
    }
}
