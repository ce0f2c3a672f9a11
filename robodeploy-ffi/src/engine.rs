//! The engine handle: an [`Engine`] with the multi-thread tokio runtime it runs on, owned by
//! the handle, and the blocking bridge every engine call goes through.

use std::ffi::c_char;
use std::future::Future;
use std::sync::{Arc, RwLock};

use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError};
use robodeploy_core::store::{MemoryStore, RedbStore, Store};

use crate::boundary::{
    guard, guard_free, handle_arg, id_arg, opt_str_arg, out_arg, to_json, write_string,
};
use crate::callback::CallbackSlot;
use crate::engine_options::{EngineOptions, Settings};
use crate::error::FfiError;
use crate::result::rd_result;

/// The longest wait any call accepts; longer timeouts are clamped to it (about 30 years), so
/// `UINT64_MAX` means "no timeout" without overflowing a deadline.
const MAX_WAIT: Duration = Duration::from_secs(1_000_000_000);

/// A timeout in milliseconds from C, clamped to [`MAX_WAIT`].
/// The body of a call that names one object by id and writes the engine's answer as JSON:
/// the output checked first (a NULL one fails before any work), then the engine and the id,
/// then `ask` makes the engine's call (it may refuse further arguments first), and the answer
/// is encoded into `*out`.
///
/// # Safety
/// `engine` is NULL or a live engine; `id` is NULL or a NUL-terminated string; `out` is NULL or
/// writable.
pub(crate) unsafe fn answer_by_id<I, T, F>(
    engine: *const rd_engine,
    id: *const c_char,
    id_name: &str,
    out: *mut *mut c_char,
    out_name: &str,
    ask: impl FnOnce(Engine, I) -> Result<F, FfiError>,
) -> Result<(), FfiError>
where
    I: std::str::FromStr,
    I::Err: std::fmt::Display,
    T: serde::Serialize,
    F: Future<Output = Result<T, EngineError>>,
{
    let out = out_arg(out, out_name)?;
    // SAFETY: forwarded contract.
    let e = unsafe { handle_arg(engine, "engine") }?;
    // SAFETY: forwarded contract.
    let id: I = unsafe { id_arg(id, id_name) }?;
    let answer = e.run(ask(e.engine()?, id)?)?;
    // SAFETY: checked by out_arg; writable per this function's contract.
    unsafe { write_string(out, to_json(&answer)?) }
}

/// The body of an exported call that names an object by id and answers JSON: [`answer_by_id`]
/// under [`guard`](crate::boundary::guard), the id and output arguments named after the
/// exported function's own parameters.
macro_rules! by_id {
    ($engine:ident, $id:ident, $out:ident, $ask:expr) => {
        $crate::boundary::guard(|| {
            // SAFETY: the exported function's contract is answer_by_id's (`engine` NULL or
            // live, the id NULL or NUL-terminated, the output NULL or writable).
            unsafe {
                $crate::engine::answer_by_id(
                    $engine,
                    $id,
                    stringify!($id),
                    $out,
                    stringify!($out),
                    $ask,
                )
            }
        })
    };
}
pub(crate) use by_id;

/// The body of an exported call that takes the engine and one more argument and answers only
/// a result code, under [`guard`]: the engine is checked first, then `arg` reads the other
/// argument, then `act` makes the engine's call (whatever it answers beyond success is
/// dropped).
///
/// # Safety
/// `engine` is NULL or a live engine; `arg` reads only pointers its caller's contract covers.
pub(crate) unsafe fn act<A, T, F>(
    engine: *const rd_engine,
    arg: impl FnOnce() -> Result<A, FfiError>,
    act: impl FnOnce(Engine, A) -> F,
) -> rd_result
where
    F: Future<Output = Result<T, EngineError>>,
{
    guard(|| {
        // SAFETY: this function's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        let a = arg()?;
        e.run(act(e.engine()?, a)).map(drop)
    })
}

pub(crate) fn timeout(ms: u64) -> Duration {
    Duration::from_millis(ms).min(MAX_WAIT)
}

/// The tokio runtime the engine runs on. Shared (by `Arc`) with the handles that outlive the
/// engine handle — event subscriptions, log streams, the callback thread — so that it is
/// dropped last, outside any async context.
pub(crate) struct Shared {
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
}

/// How long dropping the runtime waits for its blocking tasks before leaving them behind.
const DROP_GRACE: Duration = Duration::from_secs(5);

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(DROP_GRACE);
        }
    }
}

impl Shared {
    fn new(runtime: tokio::runtime::Runtime) -> Self {
        Shared {
            runtime: Some(runtime),
        }
    }

    /// A handle to the runtime, for threads that wait on it.
    pub(crate) fn handle(&self) -> tokio::runtime::Handle {
        self.rt().handle().clone()
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime is present until Shared is dropped")
    }

    /// Enters the runtime's context (to build things that spawn tasks).
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.rt().enter()
    }

    /// Blocks the calling thread on `fut`. Refuses a thread of an async runtime, where
    /// blocking would panic or deadlock.
    pub(crate) fn block_on<T>(&self, fut: impl Future<Output = T>) -> Result<T, FfiError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(FfiError::new(
                rd_result::RD_ERR_WRONG_THREAD,
                "called from a thread that runs an async runtime; call from a plain thread",
            ));
        }
        Ok(self.rt().block_on(fut))
    }

    /// The next item of a stream (`None`: it ended), waiting at most `timeout_ms`:
    /// `RD_ERR_TIMEOUT` when nothing came, `RD_ERR_END_OF_STREAM` when it ended.
    pub(crate) fn next_within<T>(
        &self,
        timeout_ms: u64,
        what: &str,
        next: impl Future<Output = Option<T>>,
    ) -> Result<T, FfiError> {
        let limit = timeout(timeout_ms);
        // The timer is created inside the runtime's context, where it can register.
        match self.block_on(async move { tokio::time::timeout(limit, next).await })? {
            Ok(Some(item)) => Ok(item),
            Ok(None) => Err(FfiError::new(
                rd_result::RD_ERR_END_OF_STREAM,
                format!("the stream has ended: no {what} will come"),
            )),
            Err(_) => Err(FfiError::new(
                rd_result::RD_ERR_TIMEOUT,
                format!("no {what} within {timeout_ms} ms"),
            )),
        }
    }
}

/// An engine: deployments, jobs, devices and their runtimes, driven on threads the handle
/// owns. Create it with `rd_engine_new`, stop it with `rd_engine_shutdown`, free it with
/// `rd_engine_free`. Every function taking a `const rd_engine *` may be called from any thread,
/// concurrently (it is `Send` and `Sync`); only `rd_engine_free` must not race with other calls
/// on the same engine.
pub struct rd_engine {
    pub(crate) shared: Arc<Shared>,
    /// `None` once shut down: dropping the handle lets the driver end and event streams close.
    engine: RwLock<Option<Engine>>,
    pub(crate) callback: CallbackSlot,
    /// The link remote robots' agents reach this engine through, when its options name one.
    pub(crate) remote: Option<Arc<robodeploy_zenoh::Orchestrator>>,
}

impl rd_engine {
    /// A handle to the engine; `RD_ERR_SHUT_DOWN` once `rd_engine_shutdown` was called.
    pub(crate) fn engine(&self) -> Result<Engine, FfiError> {
        self.engine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| FfiError::from(EngineError::Shutdown))
    }

    /// `RD_ERR_SHUT_DOWN` once `rd_engine_shutdown` was called.
    pub(crate) fn check_live(&self) -> Result<(), FfiError> {
        self.engine().map(drop)
    }

    /// Runs an engine call to completion on the engine's runtime.
    pub(crate) fn run<T>(
        &self,
        fut: impl Future<Output = Result<T, EngineError>>,
    ) -> Result<T, FfiError> {
        self.shared.block_on(fut)?.map_err(FfiError::from)
    }
}

fn build(options: EngineOptions) -> Result<rd_engine, FfiError> {
    let Settings {
        worker_threads,
        config,
    } = options.settings()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .thread_name("robodeploy")
        .enable_all()
        .build()
        .map_err(|e| FfiError::new(rd_result::RD_ERR_SETUP, format!("engine threads: {e}")))?;
    let store: Arc<dyn Store> = match &options.store {
        Some(path) => Arc::new(RedbStore::open(path).map_err(EngineError::from)?),
        None => Arc::new(MemoryStore::new()),
    };
    let shared = Arc::new(Shared::new(runtime));
    let remote = match &options.remote {
        Some(link) => Some(Arc::new(
            shared
                .block_on(robodeploy_zenoh::Orchestrator::open(link))?
                .map_err(|e| FfiError::new(rd_result::RD_ERR_SETUP, format!("remote link: {e}")))?,
        )),
        None => None,
    };
    let engine = {
        let _entered = shared.enter();
        let mut builder = Engine::builder().config(config).store(store);
        // Stored robots reached through agents come back with the engine.
        if let Some(o) = &remote {
            builder = builder.runtime_factory(o.factory());
        }
        builder.start()
    };
    Ok(rd_engine {
        shared,
        engine: RwLock::new(Some(engine)),
        callback: CallbackSlot::default(),
        remote,
    })
}

/// Creates an engine with its own runtime threads and starts it.
///
/// `options_json` may be NULL (everything default: an in-memory store, 2 worker threads) or
/// an object with any of: `store` (path of the embedded store file, created if missing; on
/// start the engine adopts what an earlier engine on the same file left running),
/// `workerThreads` (1..=64), `healthInterval` (how often runtimes are checked, `"2s"`),
/// `scriptTimeout` (a job script's limit, `"10m"`), `eventCapacity` (how far a subscriber may
/// fall behind before it misses events), `allowHostTakeoverMounts` (`false`: `rd_engine_add_package`
/// refuses a mount of `/` or of a container engine's socket with `RD_ERR_VALIDATION`),
/// `allowPrivileged` (`false`: `rd_engine_add_package` refuses an executable with
/// `limits.privileged: true` with `RD_ERR_VALIDATION`), `jobRetention` (how long a job is
/// kept after its creation, `"90 days"`; an ended job past it leaves memory and the store),
/// `deploymentRetention` (how long the last status of a deployment that ended is kept after
/// its end, `"90 days"`; past it the status and the request token that named the deployment
/// leave the store, and `rd_engine_status` answers `RD_ERR_NOT_FOUND`),
/// `lifecycle` (restart supervision of every
/// deployment, an object with any of: `initialBackoff` (`"1s"`), `backoffFactor` (1..=16, 2),
/// `maxBackoff` (`"60s"`), `resetAfter` (`"60s"`, at least `minUptime`), `minUptime`
/// (`"10s"`: an earlier exit is "exited too early"), `crashLoopExits` (1..=64, 5) early exits
/// within `crashLoopWindow` (`"5m"`) are a crash loop, DEP_E163; `stopGrace` (`"10s"`),
/// `stopAnswerMargin` (`"30s"`), `historyCapacity` (256); left-out fields keep these
/// defaults), `remote` (the Zenoh link remote robots' agents reach the engine through, for
/// `rd_engine_add_remote_device`: `mode` (`"router"`, the default: an embedded router;
/// `"client"` of the user's routers), `listen` and `connect` (endpoints such as
/// `"tls/0.0.0.0:7447"`), `tls` (`{"ca", "certificate", "key"}`: PEM paths, mutual TLS),
/// `lease` (`"4s"`: how soon a vanished robot is noticed), `insecure` (plain `tcp/` off
/// loopback, refused without it); a stored robot reached through an agent comes back with the
/// engine). Durations are spans: `"250ms"`, `"90s"`, `"1m 30s"`.
///
/// Returns `RD_OK` and writes `*engine_out`; `RD_ERR_INVALID_JSON` (does not parse, an
/// unknown field, a duration that is not a span), `RD_ERR_INVALID_CONFIG` (a value breaks its
/// rule; the detail names field, value and rule: "argument `options_json`:
/// lifecycle.backoffFactor = 40: must be within 1..=16"), `RD_ERR_INVALID_ARGUMENT` (workerThreads out of range),
/// `RD_ERR_STORE` (the store cannot be opened: the detail says why), `RD_ERR_SETUP`
/// (threads, or the remote link cannot be opened: a port in use, unreadable TLS files),
/// `RD_ERR_NULL_ARGUMENT` (`engine_out`), `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `engine_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_new(
    options_json: *const c_char,
    engine_out: *mut *mut rd_engine,
) -> rd_result {
    guard(|| {
        let out = out_arg(engine_out, "engine_out")?;
        // SAFETY: the caller's contract.
        let options = match unsafe { opt_str_arg(options_json, "options_json") }? {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| FfiError::json("options_json", "engine options object", &e))?,
            None => EngineOptions::default(),
        };
        let engine = Box::new(build(options)?);
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { out.write(Box::into_raw(engine)) };
        Ok(())
    })
}

/// Shuts the engine down: deprovisions every deployment, cancels every job, waits (at most
/// `timeout_ms`) until every executable is stopped, and ends event streams. Afterwards every
/// call on this engine, this one included, returns `RD_ERR_SHUT_DOWN`; only `rd_engine_free`
/// remains to be called.
///
/// Returns `RD_OK`; `RD_ERR_TIMEOUT` when stopping took longer (it goes on in the background
/// until `rd_engine_free`); `RD_ERR_SHUT_DOWN` when called before; `RD_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `engine` is NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_shutdown(
    engine: *const rd_engine,
    timeout_ms: u64,
) -> rd_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let e = unsafe { handle_arg(engine, "engine") }?;
        let engine = e.engine()?;
        let limit = timeout(timeout_ms);
        let done = e
            .shared
            .block_on(async { tokio::time::timeout(limit, engine.shutdown()).await })?;
        *e.engine.write().unwrap_or_else(|p| p.into_inner()) = None;
        match done {
            Ok(result) => result.map_err(FfiError::from),
            Err(_) => Err(FfiError::from(EngineError::Timeout(limit))),
        }
    })
}

/// Frees an engine; NULL is a no-op. Without a prior `rd_engine_shutdown` the engine
/// detaches: its executables are left running, as if the program had crashed, and an engine
/// started later on the same store (and process runtime directories) adopts them. Streams still
/// open (`rd_events`, `rd_log_stream`) do not keep the engine alive: the detach happens before
/// this returns (waiting at most 10 s for the engine to release its runtimes), and an open
/// `rd_events` then ends with `RD_ERR_END_OF_STREAM`. Stops the event callback first (unless
/// called from inside it, where the detach completes in the background). Call it exactly once,
/// when no other call on this engine is running.
///
/// # Safety
/// `engine` is NULL or a live engine, not used again afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_engine_free(engine: *mut rd_engine) {
    if engine.is_null() {
        return;
    }
    guard_free(|| {
        // SAFETY: created by rd_engine_new (Box::into_raw) and freed once, per the contract.
        let e = unsafe { Box::from_raw(engine) };
        e.callback.stop_for_free();
        let handle = e.engine.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            // From a thread that runs the async runtime (the callback), block_on refuses: the
            // handle is dropped instead, which detaches in the background.
            let _ = e.shared.block_on(async move {
                tokio::time::timeout(FREE_DETACH_LIMIT, handle.detach()).await
            });
        }
        drop(e);
    });
}

/// How long `rd_engine_free` waits for the engine to detach.
const FREE_DETACH_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);
