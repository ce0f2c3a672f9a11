//! The `robodeploy-agent` command: flags and a config file to [`Agent`].
//!
//! ```text
//! robodeploy-agent --robot robot-1 --runtime process --state-dir /var/lib/robodeploy \
//!     --connect tls/control.example:7447 --tls-ca ca.pem --tls-cert robot-1.pem --tls-key robot-1.key
//! robodeploy-agent --config /etc/robodeploy/agent.yaml
//! ```
//!
//! The config file (YAML) holds the same settings; a flag given on the command line wins over
//! the file:
//!
//! ```yaml
//! robot: robot-1
//! runtime: docker            # or process
//! dockerEndpoint: unix:///var/run/docker.sock
//! stateDir: /var/lib/robodeploy
//! link:
//!   mode: client
//!   connect: [tls/control.example:7447]
//!   tls: {ca: ca.pem, certificate: robot-1.pem, key: robot-1.key}
//! ```
//!
//! It runs until SIGTERM or SIGINT, then withdraws its liveliness token and exits 0; what the
//! runtime runs keeps running. Exit status 2 is a usage or configuration error (the message
//! names the setting), 1 a failure to start serving. It logs on stderr; `ROBODEPLOY_LOG` sets
//! what ([`LOG_VARIABLE`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use robodeploy_core::runtime::Runtime;
use serde::Deserialize;

use crate::link::{LinkConfig, Mode, TlsFiles};
use crate::{Agent, LinkError};

/// Writes a line on stderr like `eprintln!`, but a stderr that cannot be written (a closed
/// pipe) loses the line instead of panicking the agent.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Which local runtime the agent serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// OS processes under the state directory.
    Process,
    /// Containers on the robot's Docker engine.
    Docker,
}

/// The agent's settings as the config file holds them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentFile {
    /// The robot's name.
    pub robot: Option<String>,
    /// The runtime served.
    pub runtime: Option<RuntimeKind>,
    /// The process runtime's directory.
    pub state_dir: Option<PathBuf>,
    /// The Docker engine (`unix:///…`, `tcp://…`); the local one when unset.
    pub docker_endpoint: Option<String>,
    /// How to reach the routers.
    pub link: Option<LinkConfig>,
}

/// Serves a robot's runtime to the orchestrator over Zenoh.
#[derive(Debug, Parser)]
#[command(name = "robodeploy-agent", version, about)]
pub struct Args {
    /// A YAML file of settings; flags win over it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The robot's name (its keys are `robodeploy/<robot>/…`).
    #[arg(long)]
    pub robot: Option<String>,
    /// The runtime to serve.
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeKind>,
    /// The process runtime's directory [default: /var/lib/robodeploy/agent].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The Docker engine [default: the local one].
    #[arg(long)]
    pub docker_endpoint: Option<String>,
    /// How it links: routers, TLS, lease.
    #[command(flatten)]
    pub link: LinkFlags,
}

/// The link settings the agent and the router binaries share as flags; each wins over the
/// config file's.
#[derive(Debug, clap::Args)]
pub struct LinkFlags {
    /// A router endpoint to connect to (repeat for several).
    #[arg(long)]
    pub connect: Vec<String>,
    /// The CA certificate (PEM) every linked party's certificate is signed by.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    pub tls_ca: Option<PathBuf>,
    /// This side's certificate (PEM; a robot's common name is the robot's name).
    #[arg(long, requires_all = ["tls_ca", "tls_key"])]
    pub tls_cert: Option<PathBuf>,
    /// This side's private key (PEM).
    #[arg(long, requires_all = ["tls_ca", "tls_cert"])]
    pub tls_key: Option<PathBuf>,
    /// How long a silent link lives before its party counts as gone (e.g. `4s`).
    #[arg(long, value_parser = robodeploy_core::time::duration::parse)]
    pub lease: Option<Duration>,
    /// Allow plain tcp/ to an address off loopback.
    #[arg(long)]
    pub insecure: bool,
}

impl LinkFlags {
    /// Sets in `link` what these flags say.
    pub fn apply_to(self, link: &mut LinkConfig) {
        if !self.connect.is_empty() {
            link.connect = self.connect;
        }
        if let (Some(ca), Some(certificate), Some(key)) = (self.tls_ca, self.tls_cert, self.tls_key)
        {
            link.tls = Some(TlsFiles {
                ca,
                certificate,
                key,
            });
        }
        if let Some(lease) = self.lease {
            link.lease = lease;
        }
        link.insecure |= self.insecure;
    }
}

/// Everything the agent needs, settled from the flags and the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The robot's name.
    pub robot: String,
    /// The runtime served.
    pub runtime: RuntimeKind,
    /// The process runtime's directory.
    pub state_dir: PathBuf,
    /// The Docker engine.
    pub docker_endpoint: Option<String>,
    /// The link.
    pub link: LinkConfig,
}

/// A setting that is missing or breaks a rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A required setting is missing.
    #[error("{0} is required (flag --{0} or the config file)")]
    Missing(&'static str),
    /// The link's settings break a rule.
    #[error(transparent)]
    Link(#[from] LinkError),
}

impl Args {
    /// The settings these flags give, over the config file's.
    ///
    /// # Errors
    /// [`SettingsError`] naming the file, the missing setting or the rule broken.
    pub fn settle(self) -> Result<Settings, SettingsError> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SettingsError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                serde_saphyr::from_str::<AgentFile>(&text).map_err(|e| SettingsError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            None => AgentFile::default(),
        };
        let robot = self
            .robot
            .or(file.robot)
            .ok_or(SettingsError::Missing("robot"))?;
        crate::keys::robot_chunk(&robot).map_err(LinkError::from)?;
        let runtime = self
            .runtime
            .or(file.runtime)
            .ok_or(SettingsError::Missing("runtime"))?;
        let mut link = file.link.unwrap_or(LinkConfig {
            mode: Mode::Client,
            ..LinkConfig::default()
        });
        self.link.apply_to(&mut link);
        link.check()?;
        Ok(Settings {
            robot,
            runtime,
            state_dir: self
                .state_dir
                .or(file.state_dir)
                .unwrap_or_else(|| "/var/lib/robodeploy/agent".into()),
            docker_endpoint: self.docker_endpoint.or(file.docker_endpoint),
            link,
        })
    }
}

/// The runtime `settings` name. Called inside a Tokio runtime.
///
/// # Errors
/// The runtime's own construction error, as text.
pub fn local_runtime(settings: &Settings) -> Result<Arc<dyn Runtime>, String> {
    Ok(match settings.runtime {
        RuntimeKind::Process => Arc::new(
            robodeploy_process::ProcessRuntime::builder(&settings.state_dir)
                .shim(robodeploy_process::Shim::CurrentExe)
                .build()
                .map_err(|e| e.to_string())?,
        ),
        RuntimeKind::Docker => {
            use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement};
            let endpoint = match &settings.docker_endpoint {
                Some(e) => Endpoint::parse(e).map_err(|e| e.to_string())?,
                None => Endpoint::Local,
            };
            Arc::new(
                DockerRuntime::new(DockerConfig::new(endpoint, Placement::Device))
                    .map_err(|e| e.to_string())?,
            )
        }
    })
}

/// Runs the agent as the command line says; returns the exit status.
pub fn main() -> i32 {
    // The process runtime's supervisors are this same program.
    robodeploy_process::shim::run_if_requested();
    let args = Args::parse();
    if let Err(e) = install_log() {
        say!("robodeploy-agent: {e}");
        return 2;
    }
    let settings = match args.settle() {
        Ok(s) => s,
        Err(e) => {
            say!("robodeploy-agent: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say!("robodeploy-agent: cannot start: {e}");
            return 1;
        }
    };
    rt.block_on(serve(settings))
}

/// The variable that filters the agent's log (`tracing-subscriber`'s syntax: `debug`,
/// `warn,robodeploy_zenoh=trace`, …).
pub const LOG_VARIABLE: &str = "ROBODEPLOY_LOG";

/// Logs `tracing` events on stderr, without colour codes, filtered by [`LOG_VARIABLE`]; unset,
/// robodeploy's crates from `info` and the others (zenoh's) from `warn`.
pub(crate) fn install_log() -> Result<(), String> {
    let filter = match std::env::var(LOG_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => tracing_subscriber::EnvFilter::try_new(&text)
            .map_err(|e| format!("{LOG_VARIABLE}={text:?}: {e}"))?,
        _ => tracing_subscriber::EnvFilter::new(
            "warn,robodeploy_zenoh=info,robodeploy_process=info,robodeploy_docker=info",
        ),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

async fn serve(settings: Settings) -> i32 {
    let runtime = match local_runtime(&settings) {
        Ok(r) => r,
        Err(e) => {
            say!("robodeploy-agent: runtime {:?}: {e}", settings.runtime);
            return 1;
        }
    };
    let session = match settings.link.open().await {
        Ok(s) => s,
        Err(e) => {
            say!("robodeploy-agent: {e}");
            return 1;
        }
    };
    let agent = match Agent::serve(&session, &settings.robot, runtime).await {
        Ok(a) => a,
        Err(e) => {
            say!("robodeploy-agent: {e}");
            return 1;
        }
    };
    say!(
        "robodeploy-agent: serving robot {} ({:?} runtime) via {:?}",
        settings.robot,
        settings.runtime,
        settings.link.connect
    );
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            say!("robodeploy-agent: cannot watch SIGTERM: {e}");
            return 1;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    agent.close().await;
    let _ = session.close().await;
    say!("robodeploy-agent: stopped; what runs keeps running");
    0
}
