//! Events by callback: one library-owned thread per engine calls the registered function for
//! every event, in order.
//!
//! Why a thread of its own rather than a runtime worker: the callback may block and may call
//! back into the engine (`rd_engine_status` from inside the callback works), neither of which
//! is allowed on a worker of the async runtime.

use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};

use tokio::sync::{broadcast, oneshot};

use robodeploy_core::engine::EngineEvent;

use crate::boundary::{guard, handle_arg};
use crate::engine::{Shared, rd_engine};
use crate::error::FfiError;
use crate::events::event_json;
use crate::result::rd_result;

/// A function called with each engine event as a NUL-terminated JSON object (the shape
/// `rd_events_next` returns) and the `user_data` given at registration. The string is valid
/// only during the call: copy it to keep it.
pub type rd_event_callback =
    Option<unsafe extern "C" fn(event_json: *const c_char, user_data: *mut c_void)>;

/// The user's pointer, handed to the callback thread. The registration contract makes the
/// caller responsible for its use from that thread.
struct UserData(*mut c_void);

// SAFETY: the pointer is only passed back to the user's callback; rd_engine_set_event_callback
// documents that it is used from the callback thread.
unsafe impl Send for UserData {}

struct Running {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// The engine's callback registration: at most one at a time.
#[derive(Default)]
pub(crate) struct CallbackSlot {
    running: Mutex<Option<Running>>,
    /// The callback thread's id, kept apart from `running` so that a check from inside the
    /// callback never waits on a lock held by a thread that is joining it.
    thread_id: Mutex<Option<ThreadId>>,
    /// Held for a whole replacement, so two registering threads never both start one.
    register: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CallbackSlot {
    fn on_callback_thread(&self) -> bool {
        *lock(&self.thread_id) == Some(std::thread::current().id())
    }

    /// Stops the current callback thread and waits for it: once this returns, the old callback
    /// is not running and will not be called again.
    fn stop_and_join(&self) {
        let old = lock(&self.running).take();
        if let Some(r) = old {
            let _ = r.stop.send(());
            let _ = r.thread.join();
        }
        *lock(&self.thread_id) = None;
    }

    /// For `rd_engine_free`: stops the thread; joins it unless called from it (it then ends
    /// when the callback returns).
    pub(crate) fn stop_for_free(&self) {
        if self.on_callback_thread() {
            if let Some(r) = lock(&self.running).take() {
                let _ = r.stop.send(());
            }
        } else {
            self.stop_and_join();
        }
    }

    fn start(
        &self,
        shared: Arc<Shared>,
        events: broadcast::Receiver<EngineEvent>,
        cb: unsafe extern "C" fn(*const c_char, *mut c_void),
        user_data: UserData,
    ) -> Result<(), FfiError> {
        let (stop, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("robodeploy-events".into())
            .spawn(move || deliver(shared, events, stop_rx, cb, user_data))
            .map_err(|e| FfiError::new(rd_result::RD_ERR_SETUP, format!("callback thread: {e}")))?;
        *lock(&self.thread_id) = Some(thread.thread().id());
        *lock(&self.running) = Some(Running { stop, thread });
        Ok(())
    }
}

/// The callback thread: waits for the next event (or the stop signal) on the engine's runtime,
/// then calls the callback outside of it.
fn deliver(
    shared: Arc<Shared>,
    mut events: broadcast::Receiver<EngineEvent>,
    mut stop: oneshot::Receiver<()>,
    cb: unsafe extern "C" fn(*const c_char, *mut c_void),
    user_data: UserData,
) {
    let handle = shared.handle();
    loop {
        let next = handle.block_on(async {
            tokio::select! {
                biased;
                _ = &mut stop => None,
                r = events.recv() => Some(r),
            }
        });
        let json = match next {
            None | Some(Err(broadcast::error::RecvError::Closed)) => break,
            Some(r) => event_json(r),
        };
        let Ok(text) = CString::new(json) else {
            continue;
        };
        // SAFETY: the user registered `cb` with `user_data` for exactly this call; the string
        // lives until the call returns.
        unsafe { cb(text.as_ptr(), user_data.0) };
    }
}

/// Registers `callback` to be called with every engine event from now on, replacing any
/// earlier registration; a NULL `callback` removes it. When this returns, an earlier callback
/// is not running and will not be called again.
///
/// Threading rules: the callback runs on one thread the library owns ("robodeploy-events"),
/// never concurrently with itself, events in the order the engine published them. It may
/// block (events queue up; past the engine's `eventCapacity` the oldest are dropped and a
/// `{"event": "lagged", "missed": n}` event says how many), and it may call any engine
/// function except `rd_engine_set_event_callback` (which returns `RD_ERR_WRONG_THREAD` there).
/// `rd_engine_free` from inside the callback is allowed: the thread ends when the callback
/// returns. `user_data` is passed back untouched, from that thread: whatever it points to must
/// stay valid and be safe to use there until the callback is removed or the engine freed.
/// After `rd_engine_shutdown` no more events come and the thread ends.
///
/// Returns `RD_OK`; `RD_ERR_SHUT_DOWN`; `RD_ERR_WRONG_THREAD` from inside the callback;
/// `RD_ERR_SETUP` when no thread can be started; `RD_ERR_NULL_ARGUMENT` (`engine`).
///
/// # Safety
/// `engine` is NULL or a live engine; `callback` is NULL or a function that may be called
/// with `user_data` from another thread, as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_set_event_callback(
    engine: *const rd_engine,
    callback: rd_event_callback,
    user_data: *mut c_void,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        if e.callback.on_callback_thread() {
            return Err(FfiError::new(
                rd_result::RD_ERR_WRONG_THREAD,
                "rd_engine_set_event_callback was called from inside the event callback",
            ));
        }
        e.check_live()?;
        let _one_at_a_time = lock(&e.callback.register);
        e.callback.stop_and_join();
        match callback {
            Some(cb) => e.callback.start(
                Arc::clone(&e.shared),
                e.engine()?.subscribe(),
                cb,
                UserData(user_data),
            ),
            None => Ok(()),
        }
    })
}
