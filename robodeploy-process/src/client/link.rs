//! A runtime's connection to its root's supervisor (see [`crate::shim`]): found or spawned on
//! demand, kept until the runtime is dropped, with every start in flight at once on it.
//!
//! Replies are handled by one reader task. A `started` is tracked and told as an event there,
//! before any later `exited` of the same instance is read, so events keep their order. When the
//! connection is lost (the supervisor died), pending starts fail, and the instances it held are
//! watched by polling their files instead (see [`exits::spawn_poll`]).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use robodeploy_core::runtime::{RuntimeError, RuntimeEventKind};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::client::exits::{self, finish, track};
use crate::client::runtime::Inner;
use crate::os::procfs;
use crate::os::signal::{KILL, signal_group};
use crate::shim::SHIM_ARG;
use crate::wire::layout::{SUPERVISOR_LOG, SUPERVISOR_SOCKET};
use crate::wire::protocol::{FailKind, Reply, Request};
use crate::wire::state::ProcessRecord;

/// How long a supervisor may take to answer: to greet a connection, to report that it
/// listens, or to answer a start (many may be queued before it).
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a runtime keeps trying to reach a supervisor for its root (one may be exiting
/// while another starts).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause between two attempts to reach a supervisor that is starting or exiting.
const RETRY_PAUSE: Duration = Duration::from_millis(5);

/// Longest socket path `connect` takes (`sun_path` holds 108 bytes with the final NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Why a start got no `started`.
#[derive(Debug)]
pub(crate) enum StartFailure {
    /// The supervisor refused it.
    Refused(FailKind, String),
    /// The connection ended before the answer: the supervisor died.
    Lost,
    /// No answer within [`REPLY_TIMEOUT`].
    TimedOut,
}

type Pending = HashMap<String, oneshot::Sender<Result<ProcessRecord, StartFailure>>>;

/// An open connection to the supervisor.
#[derive(Debug)]
pub(crate) struct Link {
    /// The supervisor's pid and start time, as its instances' `process.json` hold them.
    supervisor: (u32, u64),
    lines: mpsc::UnboundedSender<String>,
    /// Starts waiting for their answer; `None` once the connection is lost.
    pending: Mutex<Option<Pending>>,
    /// Set when the runtime is dropped: both tasks end and the socket closes.
    closing: watch::Sender<bool>,
}

impl Link {
    fn pending(&self) -> MutexGuard<'_, Option<Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether instances recorded with this supervisor pid and start time are its own.
    pub(crate) fn holds(&self, process: &ProcessRecord) -> bool {
        (process.shim_pid, process.shim_start_ticks) == self.supervisor
    }

    /// Asks the supervisor to start instance `name` (its `instance.json` written) and waits for
    /// the answer. On `started`, the reader task has already tracked it and told `Started`.
    pub(crate) async fn start(&self, name: &str) -> Result<ProcessRecord, StartFailure> {
        let (tx, rx) = oneshot::channel();
        match self.pending().as_mut() {
            Some(pending) => pending.insert(name.to_owned(), tx),
            None => return Err(StartFailure::Lost),
        };
        if self
            .lines
            .send(Request::Start(name.to_owned()).line())
            .is_err()
        {
            self.forget(name);
            return Err(StartFailure::Lost);
        }
        match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(StartFailure::Lost),
            Err(_) => {
                // A late `started` finds no one waiting and kills what it started.
                self.forget(name);
                Err(StartFailure::TimedOut)
            }
        }
    }

    fn forget(&self, name: &str) {
        if let Some(pending) = self.pending().as_mut() {
            pending.remove(name);
        }
    }

    /// Asks for the exit of instance `name` (running as `pid`) to be sent here too. An
    /// `unknown` answer makes the reader poll its files instead.
    pub(crate) fn watch(&self, name: &str, pid: u32) -> bool {
        self.lines
            .send(Request::Watch(name.to_owned(), pid).line())
            .is_ok()
    }

    /// Ends the connection (the runtime is being dropped).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// The runtime's link to its supervisor: the open one, or a new connection to a running
/// supervisor, or (when `spawn`) a supervisor started for it. `Ok(None)` when no supervisor
/// runs and `spawn` is false.
pub(crate) async fn get(
    inner: &Arc<Inner>,
    spawn: bool,
) -> Result<Option<Arc<Link>>, RuntimeError> {
    if let Some(link) = inner.link() {
        return Ok(Some(link));
    }
    // One connection attempt at a time per runtime: concurrent starts share its result.
    let _turn = inner.connecting.lock().await;
    if let Some(link) = inner.link() {
        return Ok(Some(link));
    }
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        if let Some(link) = connect(inner).await? {
            return Ok(Some(link));
        }
        if !spawn {
            return Ok(None);
        }
        if spawn_supervisor(inner).await? == Spawned::Busy {
            // Another is taking the root (or the last one is leaving it): ask again shortly.
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        if Instant::now() >= deadline {
            return Err(RuntimeError::internal(format!(
                "no supervisor answered on {} within {CONNECT_TIMEOUT:?}",
                inner.root.join(SUPERVISOR_SOCKET).display()
            )));
        }
    }
}

/// Connects to the root's supervisor if one listens and greets; `Ok(None)` if none does.
async fn connect(inner: &Arc<Inner>) -> Result<Option<Arc<Link>>, RuntimeError> {
    let stream = match open_socket(inner).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(RuntimeError::internal_from(
                "connecting to the supervisor",
                e,
            ));
        }
    };
    let (read, write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    // A supervisor that was exiting as we connected closes without a greeting.
    let greeting = match tokio::time::timeout(REPLY_TIMEOUT, lines.next_line()).await {
        Ok(Ok(Some(line))) => line,
        Ok(Ok(None) | Err(_)) => return Ok(None),
        Err(_) => {
            return Err(RuntimeError::internal(format!(
                "the supervisor did not greet within {REPLY_TIMEOUT:?}"
            )));
        }
    };
    let Ok(Reply::Ready { pid, start_ticks }) = Reply::parse(&greeting) else {
        return Err(RuntimeError::internal(format!(
            "the supervisor greeted with {greeting:?}"
        )));
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let (closing, closed) = watch::channel(false);
    let link = Arc::new(Link {
        supervisor: (pid, start_ticks),
        lines: tx,
        pending: Mutex::new(Some(HashMap::new())),
        closing,
    });
    tokio::spawn(write_requests(write, rx, closed.clone()));
    tokio::spawn(read_replies(
        Arc::downgrade(inner),
        Arc::clone(&link),
        lines,
        closed,
    ));
    *inner.link_slot() = Some(Arc::clone(&link));
    // Dropped meanwhile: the drop found no link to close, so close this one.
    if inner.is_closed() {
        inner.link_slot().take();
        link.close();
    }
    Ok(Some(link))
}

/// Connects to `<root>/supervisor.sock`; through `/proc/self/fd` when its path is too long
/// for a socket address.
async fn open_socket(inner: &Inner) -> io::Result<UnixStream> {
    let path = inner.root.join(SUPERVISOR_SOCKET);
    if path.as_os_str().len() <= MAX_SOCKET_PATH {
        return UnixStream::connect(&path).await;
    }
    let root = fs::File::open(&inner.root)?;
    let short =
        PathBuf::from(format!("/proc/self/fd/{}", root.as_raw_fd())).join(SUPERVISOR_SOCKET);
    let stream = UnixStream::connect(&short).await;
    drop(root);
    stream
}

#[derive(Debug, PartialEq, Eq)]
enum Spawned {
    /// It listens.
    Ready,
    /// Another supervisor holds the root.
    Busy,
}

/// Starts a supervisor for the root and waits until it listens (or finds the root taken).
async fn spawn_supervisor(inner: &Inner) -> Result<Spawned, RuntimeError> {
    let root = std::path::absolute(&inner.root)
        .map_err(|e| RuntimeError::internal_from("resolving the root directory", e))?;
    let log_path = root.join(SUPERVISOR_LOG);
    let log = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| RuntimeError::internal_from(format!("opening {}", log_path.display()), e))?;
    let mut child = tokio::process::Command::new(&inner.shim)
        .arg(SHIM_ARG)
        .arg(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| {
            RuntimeError::internal_from(format!("spawning supervisor {}", inner.shim.display()), e)
        })?;
    let stdout = child.stdout.take();
    let first = match stdout {
        Some(out) => {
            let mut lines = BufReader::new(out).lines();
            tokio::time::timeout(REPLY_TIMEOUT, lines.next_line()).await
        }
        None => Ok(Ok(None)),
    };
    if first.is_err() {
        let _ = child.start_kill();
    }
    // Reaped whenever it exits, so it leaves no zombie behind in a long-lived engine.
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    match first {
        Ok(Ok(Some(line))) if line == "ready" => Ok(Spawned::Ready),
        Ok(Ok(Some(line))) if line == "busy" => Ok(Spawned::Busy),
        Err(_) => Err(RuntimeError::internal(format!(
            "supervisor {} did not report within {REPLY_TIMEOUT:?}",
            inner.shim.display()
        ))),
        Ok(_) => {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let last = log.lines().last().unwrap_or("no diagnostics").to_owned();
            Err(RuntimeError::internal(format!(
                "supervisor {} did not start: {last}",
                inner.shim.display()
            )))
        }
    }
}

async fn write_requests(
    mut write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<String>,
    mut closed: watch::Receiver<bool>,
) {
    let mut batch = String::new();
    loop {
        let line = tokio::select! {
            line = rx.recv() => line,
            _ = closed.wait_for(|&c| c) => None,
        };
        let Some(line) = line else { return };
        batch.clear();
        batch.push_str(&line);
        while let Ok(more) = rx.try_recv() {
            batch.push_str(&more);
        }
        if write.write_all(batch.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn read_replies(
    inner: Weak<Inner>,
    link: Arc<Link>,
    mut lines: Lines<BufReader<OwnedReadHalf>>,
    mut closed: watch::Receiver<bool>,
) {
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = closed.wait_for(|&c| c) => return,
        };
        let Some(inner) = inner.upgrade() else { return };
        match line {
            Ok(Some(line)) => handle(&inner, &link, &line),
            Ok(None) | Err(_) => {
                lost(&inner, &link);
                return;
            }
        }
    }
}

fn handle(inner: &Arc<Inner>, link: &Link, line: &str) {
    let reply = match Reply::parse(line) {
        Ok(reply) => reply,
        // Nothing to answer to a garbled line; the instance it concerned is polled if lost.
        Err(_) => return,
    };
    match reply {
        Reply::Started(name, process) => {
            let waiting = link.pending().as_mut().and_then(|p| p.remove(&name));
            match waiting {
                Some(tx) => {
                    track(inner, &name, process);
                    inner
                        .events
                        .emit(&name, process.started_at, RuntimeEventKind::Started);
                    let _ = tx.send(Ok(process));
                }
                // The start timed out and reported failure: nothing of it may run.
                None => {
                    if procfs::stat(process.pid)
                        .is_some_and(|s| s.start_ticks == process.start_ticks)
                    {
                        let _ = signal_group(process.pid, KILL);
                    }
                }
            }
        }
        Reply::Failed(name, kind, message) => {
            if let Some(tx) = link.pending().as_mut().and_then(|p| p.remove(&name)) {
                let _ = tx.send(Err(StartFailure::Refused(kind, message)));
            }
        }
        Reply::Exited(name, exit) => finish(inner, &name, None, exit),
        Reply::Unknown(name) => {
            let process = inner.live().get(&name).map(|l| l.process);
            if let Some(process) = process {
                exits::spawn_poll(inner, name, process);
            }
        }
        // Answers to lines this runtime never sends: nothing to do.
        Reply::Ready { .. } | Reply::Error(_) => {}
    }
}

/// The supervisor is gone: fail pending starts and poll for the exits it would have sent.
fn lost(inner: &Arc<Inner>, link: &Arc<Link>) {
    let pending = link.pending().take().unwrap_or_default();
    for (_, tx) in pending {
        let _ = tx.send(Err(StartFailure::Lost));
    }
    {
        let mut slot = inner.link_slot();
        if slot.as_ref().is_some_and(|l| Arc::ptr_eq(l, link)) {
            *slot = None;
        }
    }
    let orphaned: Vec<(String, ProcessRecord)> = inner
        .live()
        .iter()
        .filter(|(_, l)| l.exit.borrow().is_none() && link.holds(&l.process))
        .map(|(name, l)| (name.clone(), l.process))
        .collect();
    for (name, process) in orphaned {
        exits::spawn_poll(inner, name, process);
    }
}
