//! A TCP proxy on 127.0.0.1 in front of the engine's socket, started and killed by the tests: the
//! engine endpoint disappearing (a robot dropping off the network) and coming back on the same
//! port.

use std::time::Duration;

use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement};
use tokio::net::{TcpListener, UnixStream};
use tokio::task::JoinSet;

fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// Forwards 127.0.0.1:port to the engine's socket. Dropping it (or `kill`) closes the
/// listener and every forwarded connection, as a robot dropping off the network would.
pub struct Proxy {
    pub port: u16,
    tasks: JoinSet<()>,
}

impl Proxy {
    /// Listens on `port` (0: any free port) of 127.0.0.1.
    pub async fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut tcp, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut unix) = UnixStream::connect(engine_socket()).await {
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                    }
                });
            }
        });
        Proxy { port, tasks }
    }

    /// Closes the listener and every live connection; returns the port, free to listen again.
    pub async fn kill(mut self) -> u16 {
        self.tasks.shutdown().await;
        self.port
    }
}

/// A runtime on the engine through the proxy at `port`.
pub fn through(port: u16) -> DockerRuntime {
    let cfg = DockerConfig::new(
        Endpoint::Tcp(format!("tcp://127.0.0.1:{port}")),
        Placement::Device,
    )
    .with_request_timeout(Duration::from_secs(10));
    DockerRuntime::new(cfg).unwrap()
}
