//! The bollard client for one endpoint, with the API version negotiated before first use.
//!
//! bollard speaks a newer API (1.53) than Debian's engine (1.41), which refuses it; the version
//! must be negotiated. Negotiation needs the engine, which may be down when the runtime is built
//! (a robot still booting), so it happens lazily on the first call that reaches the engine and is
//! retried on every call until it succeeds. The negotiated version lives in the client (bollard
//! shares it between clones), so it is done once per runtime.

use std::sync::atomic::{AtomicBool, Ordering};

use bollard::Docker;
use robodeploy_core::runtime::RuntimeError;
use tokio::sync::Mutex;

use crate::config::{ConfigError, Endpoint};
use crate::error::from_bollard;

/// A client whose API version is negotiated before it is handed out.
pub(crate) struct Client {
    docker: Docker,
    negotiated: AtomicBool,
    negotiating: Mutex<()>,
}

impl Client {
    /// Builds the transport for `endpoint`; nothing is sent yet.
    pub(crate) fn new(endpoint: &Endpoint, timeout_secs: u64) -> Result<Client, ConfigError> {
        let version = bollard::API_DEFAULT_VERSION;
        let built = match endpoint {
            Endpoint::Local => Docker::connect_with_defaults(),
            Endpoint::Unix(path) => Docker::connect_with_unix(
                &format!("unix://{}", path.display()),
                timeout_secs,
                version,
            ),
            Endpoint::Tcp(url) => Docker::connect_with_http(url, timeout_secs, version),
            Endpoint::Tls { url, ca, cert, key } => {
                Docker::connect_with_ssl(url, key, cert, ca, timeout_secs, version)
            }
            Endpoint::Ssh { url, key } => Docker::connect_with_ssh(
                url,
                timeout_secs,
                version,
                key.as_ref().map(|k| k.display().to_string()),
            ),
        };
        let docker = built.map_err(|source| ConfigError::Client {
            endpoint: endpoint.to_string(),
            source,
        })?;
        let docker = docker.with_timeout(std::time::Duration::from_secs(timeout_secs));
        Ok(Client {
            docker,
            negotiated: AtomicBool::new(false),
            negotiating: Mutex::new(()),
        })
    }

    /// The client, after negotiating the API version if that has not succeeded yet.
    /// Unreachable engines give [`RuntimeError::Unreachable`].
    pub(crate) async fn get(&self) -> Result<&Docker, RuntimeError> {
        if self.negotiated.load(Ordering::Acquire) {
            return Ok(&self.docker);
        }
        let _one_at_a_time = self.negotiating.lock().await;
        if !self.negotiated.load(Ordering::Acquire) {
            // negotiate_version consumes a clone; the version it settles on is shared with ours.
            self.docker
                .clone()
                .negotiate_version()
                .await
                .map_err(|e| from_bollard("negotiating the API version", e))?;
            self.negotiated.store(true, Ordering::Release);
        }
        Ok(&self.docker)
    }
}
