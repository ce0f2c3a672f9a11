//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not a public API): the
//! HTTP API's request bodies and queries, decoded as the routes decode them.

use axum::extract::Query;

use crate::api::{ApiError, ApplyRequest, ErrorKind, ExecRequest, LogQuery};

use super::apply::check;
use super::error::Refusal;
use super::routes::decode_body;

/// Decodes `data[1..]` as the body or query `data[0]` selects (`POST /v1/apply` and
/// `/v1/delete`, then the manifest read and validated as apply does before it changes
/// anything; `POST .../exec`; the log routes' query), and checks what must hold for any
/// input: no panic, and every refusal is a 400 naming the field at fault (each problem of a
/// manifest naming its own).
///
/// # Panics
/// When one of those properties does not hold (that is the fuzzer's finding).
pub fn request_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let refused = match which % 3 {
        0 => match decode_body::<ApplyRequest>(body) {
            Ok(request) => check(&request).err(),
            Err(r) => Some(r),
        },
        1 => decode_body::<ExecRequest>(body).err(),
        _ => {
            let Ok(text) = std::str::from_utf8(body) else {
                return;
            };
            let Ok(uri) = format!("/v1/jobs/x/logs?{text}").parse::<axum::http::Uri>() else {
                return;
            };
            Query::<LogQuery>::try_from_uri(&uri)
                .err()
                .map(|e| Refusal::invalid("query", e.body_text()))
        }
    };
    if let Some(Refusal(e)) = refused {
        assert_names_the_field(&e);
    }
}

fn assert_names_the_field(e: &ApiError) {
    assert_eq!(e.error, ErrorKind::Invalid, "{e:?}");
    assert!(!e.message.is_empty(), "{e:?}");
    assert!(e.field.as_deref().is_some_and(|f| !f.is_empty()), "{e:?}");
    for p in &e.problems {
        assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
    }
}
