//! `robodeploy serve`: the engine for as long as the server is up, and its HTTP API.
//!
//! The server owns a state directory:
//!
//! ```text
//! <state-dir>/            0700
//!   state.redb            the engine's durable store: packages, devices, fleets, deployments, jobs
//!   lock                  held while a server runs on the directory (a second one is refused)
//!   token                 the API's bearer token (0600), made at the first start and kept
//!   endpoint              the URL the server listens on, while it runs (clients read it)
//!   devices/<device>/     the root of a preinstalled device's process runtime
//! ```
//!
//! At start the engine loads the store and brings every stored device back through a runtime
//! factory (a process runtime for a preinstalled device, a Docker client for a Docker device, the
//! device agent for a robot reached through one), then reconciles: an executable still running
//! is adopted, one that exited is restarted per its policy. While the server runs, the engine
//! checks health and restarts what dies, with no command needed. SIGTERM (or SIGINT) stops the
//! listener, detaches the engine (every executable keeps running, the store is closed) and
//! exits 0; the next start adopts everything again.
//!
//! The API listens on loopback by default. Every route but `GET /v1/health` and
//! `GET /openapi.json` needs `Authorization: Bearer <token>`. An address other than loopback
//! needs TLS (`--tls-cert`, `--tls-key`): the token never crosses a network in the clear.

mod apply;
mod auth;
mod dashboard;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod logs;
mod routes;
mod runtimes;
mod state_dir;
mod streams;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use robodeploy_core::engine::{Engine, EngineConfig, EngineError};
use robodeploy_zenoh::{LinkConfig, Orchestrator};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};

pub use error::ServeError;
use runtimes::Runtimes;
use state_dir::StateDir;

use crate::timeline::Recorder;
pub use tls::ServerTls;

/// The default address of the API.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7670";

/// How a server is started.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The state directory (created 0700 when missing).
    pub state_dir: PathBuf,
    /// Where the API listens; port 0 picks a free port (written to `<state-dir>/endpoint`).
    /// An address other than loopback needs [`ServeConfig::tls`].
    pub listen: SocketAddr,
    /// Serve the API over TLS with this certificate.
    pub tls: Option<ServerTls>,
    /// The Zenoh link for robots reached through the device agent; none: no remote robots.
    pub remote: Option<LinkConfig>,
    /// The engine's settings.
    pub engine: EngineConfig,
}

impl ServeConfig {
    /// A server on `state_dir`, listening on [`DEFAULT_LISTEN`], without remote robots.
    pub fn new(state_dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            state_dir: state_dir.into(),
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 7670))),
            remote: None,
            tls: None,
            engine: EngineConfig::default(),
        }
    }
}

/// What every request handler shares.
pub(crate) struct Ctx {
    pub(crate) engine: Engine,
    pub(crate) runtimes: Runtimes,
    pub(crate) state: StateDir,
    pub(crate) token: String,
    /// One apply or delete at a time: each reads what exists, then changes it.
    pub(crate) apply_lock: Mutex<()>,
    /// Becomes true when the server stops: open streams end.
    pub(crate) stopping: watch::Receiver<bool>,
    /// Each job's robot steps as the server saw them, for its timeline picture.
    pub(crate) timeline: Arc<Recorder>,
}

/// Returns once the server stops (or its stop handle is gone).
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Feeds `recorder` every engine event until the server stops; once a minute it forgets the
/// jobs the engine no longer has (deleted at the end of their retention).
fn record_timelines(engine: &Engine, recorder: Arc<Recorder>, mut stopping: watch::Receiver<bool>) {
    let mut events = engine.subscribe();
    let engine = engine.clone();
    tokio::spawn(async move {
        let mut prune = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                () = stopped(&mut stopping) => return,
                _ = prune.tick() => {
                    if let Ok(jobs) = engine.jobs().await {
                        recorder.retain(&jobs.iter().map(|j| j.id).collect());
                    }
                }
                next = events.recv() => match next {
                    Ok(event) => recorder.record(&event, robodeploy_core::time::Time::now()),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
}

/// A running server: its address, and how to stop it.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// Opens the state directory, starts the engine on its store (bringing back and reconciling
    /// what it holds), and starts serving the API. Returns once the API listens.
    ///
    /// # Errors
    /// [`ServeError`]: the state directory cannot be made or read, another server holds it, the
    /// store is damaged or newer, the address is taken or not loopback, the remote link's
    /// settings are wrong.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        if !config.listen.ip().is_loopback() && config.tls.is_none() {
            return Err(ServeError::NotLoopback {
                addr: config.listen,
            });
        }
        let acceptor = config.tls.as_ref().map(ServerTls::acceptor).transpose()?;
        let state = StateDir::create(&config.state_dir)?;
        let lock = state.lock()?;
        let token = state.token()?;
        let orchestrator = match &config.remote {
            Some(link) => Some(Arc::new(
                Orchestrator::open(link).await.map_err(ServeError::Remote)?,
            )),
            None => None,
        };
        let runtimes = Runtimes::new(state.devices_dir(), orchestrator.clone());
        let store = state.open_store()?;
        let engine = Engine::builder()
            .config(config.engine.clone())
            .store(store)
            .runtime_factory(runtimes.factory())
            .try_start()
            .map_err(|e| match e {
                EngineError::Store(source) => ServeError::Store {
                    path: state.store_path(),
                    source,
                },
                other => ServeError::Engine(other),
            })?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        state.write_endpoint(&format!("{scheme}://{addr}"))?;
        let (stop, stopping) = watch::channel(false);
        let timeline = Arc::new(Recorder::default());
        record_timelines(&engine, Arc::clone(&timeline), stopping.clone());
        let ctx = Arc::new(Ctx {
            engine,
            runtimes,
            state,
            token,
            apply_lock: Mutex::new(()),
            stopping: stopping.clone(),
            timeline,
        });
        let app = routes::router(Arc::clone(&ctx));
        let task = tokio::spawn(async move {
            let mut until = stopping;
            let served = match acceptor {
                Some(acceptor) => {
                    let tls = tls::TlsListener {
                        tcp: listener,
                        acceptor,
                    };
                    axum::serve(tls, app)
                        .with_graceful_shutdown(async move { stopped(&mut until).await })
                        .await
                }
                None => {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move { stopped(&mut until).await })
                        .await
                }
            };
            // Whatever happened to the listener, leave everything running.
            let detached = ctx.engine.detach().await;
            ctx.state.remove_endpoint();
            drop(orchestrator);
            drop(lock);
            served.map_err(|source| ServeError::Bind { addr, source })?;
            match detached {
                Ok(()) | Err(EngineError::Shutdown) => Ok(()),
                Err(e) => Err(ServeError::Engine(e)),
            }
        });
        Ok(Server { addr, stop, task })
    }

    /// Where the API listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server: open streams end, the listener closes, the engine detaches (every
    /// executable keeps running). Waits until it is done.
    ///
    /// # Errors
    /// The listener or the engine failed while stopping.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits until the server stops (after [`Server::stop`] from elsewhere, or a failure).
    ///
    /// # Errors
    /// The listener or the engine failed.
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ServeError::Task(e.to_string())),
        }
    }

    /// A handle that stops the server from elsewhere (a signal handler).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Serves until SIGTERM or SIGINT, then stops cleanly (see the [module docs](self)).
///
/// # Errors
/// As [`Server::start`], and a failure while serving.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let server = Server::start(config).await?;
    let stop = server.stopper();
    let addr = server.addr();
    eprintln!("robodeploy: serving on http://{addr}");
    let signals = tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = stop.send(true);
    });
    let result = server.wait().await;
    signals.abort();
    result
}
