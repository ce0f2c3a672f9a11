//! The bearer token every route but the health check and the API document needs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Ctx;
use super::error::Refusal;
use crate::api::ErrorKind;

/// Lets a request through only with `Authorization: Bearer <the server's token>`.
pub(crate) async fn require_token(
    State(ctx): State<Arc<Ctx>>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if same(token.trim().as_bytes(), ctx.token.as_bytes()) => {
            next.run(request).await
        }
        Some(_) => Refusal::new(
            ErrorKind::Unauthorized,
            "the bearer token is not this server's",
        )
        .into_response(),
        None => Refusal::new(
            ErrorKind::Unauthorized,
            "this route needs `Authorization: Bearer <token>` (the token is in the server's \
             state directory, file `token`)",
        )
        .into_response(),
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_by_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
    }
}
