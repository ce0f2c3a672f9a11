//! Streamed responses: JSON lines (`application/x-ndjson`), one object per line, fed from a
//! channel, ending when the producer ends, the server stops, or the client goes away (its
//! receiver dropped, the producer's next send fails).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use robodeploy_core::engine::EngineEvent;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::Ctx;

/// How many lines wait for a slow client before the producer waits too.
const BUFFER: usize = 256;

/// A sender of JSON lines to one client.
#[derive(Clone)]
pub(crate) struct Lines(mpsc::Sender<Bytes>);

impl Lines {
    /// Sends one value as a line; `false` once the client is gone.
    pub(crate) async fn send(&self, value: &impl Serialize) -> bool {
        let mut text = match serde_json::to_vec(value) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("cannot serialize a streamed value: {e}");
                return true;
            }
        };
        text.push(b'\n');
        self.0.send(Bytes::from(text)).await.is_ok()
    }

    /// Whether the client is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// A streamed response and the sender that feeds it.
pub(crate) fn channel() -> (Lines, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<Bytes, Infallible>(bytes), rx))
    });
    let response = (
        [(CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response();
    (Lines(tx), response)
}

/// What `GET /v1/events` sends when the client fell behind the engine's event buffer: the
/// events it missed are gone; read the state again.
#[derive(Serialize)]
struct Lagged {
    event: &'static str,
    missed: u64,
}

/// Every engine event from now on, until the server stops or the client goes away.
pub(crate) fn events(ctx: Arc<Ctx>) -> Response {
    let (lines, response) = channel();
    let mut events = ctx.engine.subscribe();
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        loop {
            let sent = tokio::select! {
                () = super::stopped(&mut stopping) => return,
                next = events.recv() => match next {
                    Ok(event) => send_event(&lines, &event).await,
                    Err(RecvError::Lagged(missed)) => {
                        lines.send(&Lagged { event: "lagged", missed }).await
                    }
                    Err(RecvError::Closed) => return,
                },
            };
            if !sent {
                return;
            }
        }
    });
    response
}

async fn send_event(lines: &Lines, event: &EngineEvent) -> bool {
    lines.send(event).await
}
