//! Events by polling: a subscription handle read with a timeout.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use robodeploy_core::engine::EngineEvent;
use serde_json::json;
use tokio::sync::broadcast;

use crate::boundary::{guard, guard_free, handle_arg, out_arg, write_string};
use crate::engine::{Shared, rd_engine};
use crate::result::rd_result;

/// An event as JSON: the engine's own event, or the `lagged` marker. `Closed` never gets here.
pub(crate) fn event_json(r: Result<EngineEvent, broadcast::error::RecvError>) -> String {
    match r {
        Ok(event) => serde_json::to_string(&event).unwrap_or_else(|e| {
            json!({"event": "unencodable", "error": e.to_string()}).to_string()
        }),
        Err(broadcast::error::RecvError::Lagged(missed)) => {
            json!({"event": "lagged", "missed": missed}).to_string()
        }
        Err(broadcast::error::RecvError::Closed) => json!({"event": "closed"}).to_string(),
    }
}

/// A subscription to an engine's events, from its creation on. Read it with `rd_events_next`
/// (from any thread; calls are serialised), free it with `rd_events_free`. It stays valid
/// after the engine is shut down or freed: it then drains what was published and ends.
pub struct rd_events {
    shared: Arc<Shared>,
    events: Mutex<broadcast::Receiver<EngineEvent>>,
}

/// Subscribes to every event the engine publishes from now on.
///
/// Returns `RD_OK` and writes `*events_out`; `RD_ERR_SHUT_DOWN`; `RD_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `engine` is NULL or a live engine; `events_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_subscribe(
    engine: *const rd_engine,
    events_out: *mut *mut rd_events,
) -> rd_result {
    guard(|| {
        let out = out_arg(events_out, "events_out")?;
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        e.check_live()?;
        let sub = Box::new(rd_events {
            shared: Arc::clone(&e.shared),
            events: Mutex::new(e.engine()?.subscribe()),
        });
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { out.write(Box::into_raw(sub)) };
        Ok(())
    })
}

/// Waits at most `timeout_ms` (0: do not wait) for the next event and returns it as a JSON
/// object tagged by `event`: `{"event": "deployment", "id", "phase", "status", …}` (a
/// deployment's status changed), `{"event": "robot", "job", "report"}`, `{"event": "job",
/// "job", "status"}`, `{"event": "device", "device", "online"}`, or `{"event": "lagged",
/// "missed": n}` when this subscriber fell more than the engine's `eventCapacity` behind and
/// `n` events were dropped.
///
/// Returns `RD_OK` and writes `*event_json_out` (free with `rd_string_free`);
/// `RD_ERR_TIMEOUT` when none came in time; `RD_ERR_END_OF_STREAM` once the engine is shut
/// down or freed and every event was read; `RD_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `events` is NULL or a live subscription; `event_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_events_next(
    events: *const rd_events,
    timeout_ms: u64,
    event_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(event_json_out, "event_json_out")?;
        // SAFETY: the caller's contract.
        let sub = unsafe { handle_arg(events, "events") }?;
        let mut rx = sub.events.lock().unwrap_or_else(|p| p.into_inner());
        let next = async {
            match rx.recv().await {
                Err(broadcast::error::RecvError::Closed) => None,
                r => Some(r),
            }
        };
        let r = sub.shared.next_within(timeout_ms, "event", next)?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, event_json(r)) }
    })
}

/// Frees a subscription; NULL is a no-op.
///
/// # Safety
/// `events` is NULL or a live subscription, not used again afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_events_free(events: *mut rd_events) {
    if events.is_null() {
        return;
    }
    guard_free(|| {
        // SAFETY: created by rd_engine_subscribe (Box::into_raw), freed once per the contract.
        drop(unsafe { Box::from_raw(events) });
    });
}
