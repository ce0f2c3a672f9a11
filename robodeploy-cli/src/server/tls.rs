//! Serving the API over TLS: a listener that completes each connection's handshake (bounded in
//! time, so a client that stalls cannot hold the listener) before axum sees it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

use super::ServeError;

/// How long a client has to complete its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The server's certificate chain and key (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    /// The certificate, then any intermediates.
    pub certificate: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

fn bad(path: &Path, what: &str, e: impl std::fmt::Display) -> ServeError {
    ServeError::Tls(format!("{} ({what}): {e}", path.display()))
}

impl ServerTls {
    /// Reads the files into an acceptor.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, ServeError> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.certificate)
            .map_err(|e| bad(&self.certificate, "--tls-cert", e))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(&self.certificate, "--tls-cert", e))?;
        if certs.is_empty() {
            return Err(bad(
                &self.certificate,
                "--tls-cert",
                "no certificate in the file",
            ));
        }
        let key =
            PrivateKeyDer::from_pem_file(&self.key).map_err(|e| bad(&self.key, "--tls-key", e))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(&self.key, "--tls-key", e))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A TCP listener whose connections come out of their TLS handshake.
pub(crate) struct TlsListener {
    pub(crate) tcp: TcpListener,
    pub(crate) acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on accepting.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE, self.acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::debug!("TLS handshake with {addr}: {e}"),
                Err(_) => tracing::debug!("TLS handshake with {addr}: timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
