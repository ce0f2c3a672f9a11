//! How a [`DockerRuntime`](crate::DockerRuntime) reaches its engine and what it may do there.
//!
//! One runtime per device: a robot's engine (local socket, TCP with TLS client certificates, or
//! SSH) or the cloud's. Where the runtime sits decides how a missing image is reported
//! ([`Placement`]), and whether it may pull decides between "not found" and "not present"
//! ([`DockerConfig::registry`]).
//!
//! ```
//! use robodeploy_docker::{DockerConfig, Endpoint, Placement};
//! let cfg = DockerConfig::new(Endpoint::parse("tcp://10.0.0.7:2376").unwrap(), Placement::Device);
//! assert_eq!(cfg.endpoint.to_string(), "tcp://10.0.0.7:2376");
//! assert!(cfg.registry.is_none());
//! assert!(Endpoint::parse("ftp://robot").is_err());
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where the engine is and how to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The local engine as the Docker CLI finds it: `DOCKER_HOST` when set (with
    /// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` for TLS), else `/var/run/docker.sock`.
    Local,
    /// A Unix socket at this path.
    Unix(PathBuf),
    /// Plain TCP (`tcp://host:port`), without TLS. Only for engines behind a trusted link.
    Tcp(String),
    /// TCP with TLS and a client certificate (`tcp://robot-7:2376`), as `dockerd --tlsverify`
    /// expects: the CA that signed the engine's certificate, and this client's certificate and key.
    Tls {
        /// `tcp://host:port` or `https://host:port`.
        url: String,
        /// CA certificate (PEM) the engine's certificate must chain to.
        ca: PathBuf,
        /// Client certificate (PEM).
        cert: PathBuf,
        /// Client private key (PEM).
        key: PathBuf,
    },
    /// SSH (`ssh://user@robot-7`): the system's `ssh` client runs `docker system dial-stdio` on
    /// the robot, so the robot needs the Docker CLI and the user's key in the agent or `key`.
    Ssh {
        /// `ssh://[user@]host[:port]`.
        url: String,
        /// Private key file, when not the agent's or ssh's default.
        key: Option<PathBuf>,
    },
}

impl Endpoint {
    /// Parses `unix:///path`, `tcp://host:port`, `http://host:port` or `ssh://user@host`.
    /// TLS endpoints need certificate paths and are built as [`Endpoint::Tls`] directly.
    pub fn parse(text: &str) -> Result<Endpoint, ConfigError> {
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(ConfigError::Endpoint {
                    value: text.to_owned(),
                    rule: "a unix endpoint needs a socket path",
                });
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = text
            .strip_prefix("tcp://")
            .or_else(|| text.strip_prefix("http://"))
        {
            if rest.is_empty() {
                return Err(ConfigError::Endpoint {
                    value: text.to_owned(),
                    rule: "a tcp endpoint needs host:port",
                });
            }
            return Ok(Endpoint::Tcp(format!("tcp://{rest}")));
        }
        if text.starts_with("ssh://") && text.len() > "ssh://".len() {
            return Ok(Endpoint::Ssh {
                url: text.to_owned(),
                key: None,
            });
        }
        Err(ConfigError::Endpoint {
            value: text.to_owned(),
            rule: "must start with unix://, tcp://, http:// or ssh://",
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Local => f.write_str("local"),
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp(url) => f.write_str(url),
            Endpoint::Tls { url, .. } => write!(f, "{url} (tls)"),
            Endpoint::Ssh { url, .. } => f.write_str(url),
        }
    }
}

/// Whether the runtime serves a device or the cloud; it decides the error codes of image
/// failures (DEP_E161/E162 on a device, DEP_E153 in the cloud).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A robot's engine.
    Device,
    /// The cloud's engine.
    Cloud,
}

impl Placement {
    /// Whether error codes are the cloud's.
    pub fn is_cloud(self) -> bool {
        matches!(self, Placement::Cloud)
    }
}

/// A registry the runtime may pull missing images from. Without one, images must already be on
/// the engine (air-gapped robots, images loaded at provisioning).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Registry host the credentials are for (`registry.example.com:5000`); none for anonymous
    /// pulls.
    pub server: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Password or token. Never logged.
    pub password: Option<String>,
}

impl fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The default of [`DockerConfig::abandoned_task_age`].
pub const DEFAULT_ABANDONED_TASK_AGE: Duration = Duration::from_secs(60);

/// Everything a [`DockerRuntime`](crate::DockerRuntime) needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DockerConfig {
    /// The engine.
    pub endpoint: Endpoint,
    /// Device or cloud.
    pub placement: Placement,
    /// Where missing images may be pulled from; none means they must be present.
    pub registry: Option<RegistryConfig>,
    /// How long one request may wait for the engine's answer (a stop waits for its grace
    /// period within it, so keep it above the longest grace). Default 120 s.
    pub request_timeout: Duration,
    /// Keep the named volumes robodeploy created when the last container using them is removed
    /// (default `false`: a deprovision leaves nothing behind). Volumes that existed before are
    /// never removed.
    pub keep_volumes: bool,
    /// How old a task container must be, still never started, to count as abandoned by a
    /// process that died between creating and starting it; such containers are removed when
    /// the runtime lists its instances. Default 60 s (a live runtime starts what it creates
    /// within milliseconds).
    pub abandoned_task_age: Duration,
}

impl DockerConfig {
    /// A configuration with the defaults: no registry, 120 s requests, volumes removed, task
    /// containers abandoned after 60 s.
    pub fn new(endpoint: Endpoint, placement: Placement) -> Self {
        DockerConfig {
            endpoint,
            placement,
            registry: None,
            request_timeout: Duration::from_secs(120),
            keep_volumes: false,
            abandoned_task_age: DEFAULT_ABANDONED_TASK_AGE,
        }
    }

    /// The same with a registry to pull from.
    pub fn with_registry(mut self, registry: RegistryConfig) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The same with a request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The same with another age after which a never-started task container is abandoned.
    pub fn with_abandoned_task_age(mut self, age: Duration) -> Self {
        self.abandoned_task_age = age;
        self
    }

    /// The same, keeping created volumes on deprovision.
    pub fn with_keep_volumes(mut self, keep: bool) -> Self {
        self.keep_volumes = keep;
        self
    }
}

/// A configuration the runtime cannot use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The endpoint text is not one the runtime understands.
    #[error("endpoint {value:?}: {rule}")]
    Endpoint {
        /// The endpoint given.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The Docker client could not be built (certificates unreadable, unsupported scheme).
    #[error("endpoint {endpoint}: cannot build the Docker client: {source}")]
    Client {
        /// The endpoint, displayed.
        endpoint: String,
        /// What bollard said.
        #[source]
        source: bollard::errors::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme() {
        assert_eq!(
            Endpoint::parse("unix:///run/docker.sock").unwrap(),
            Endpoint::Unix(PathBuf::from("/run/docker.sock"))
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:2375").unwrap(),
            Endpoint::Tcp("tcp://127.0.0.1:2375".into())
        );
        assert_eq!(
            Endpoint::parse("ssh://ops@robot-7").unwrap(),
            Endpoint::Ssh {
                url: "ssh://ops@robot-7".into(),
                key: None
            }
        );
    }

    #[test]
    fn rejects_empty_and_unknown_endpoints_naming_the_value() {
        for bad in ["unix://", "tcp://", "ssh://", "robot-7:2375", ""] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Endpoint { value, .. } if value == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn unreadable_tls_certificates_are_a_config_error() {
        let endpoint = Endpoint::Tls {
            url: "tcp://robot-7:2376".into(),
            ca: "/nonexistent/robodeploy/ca.pem".into(),
            cert: "/nonexistent/robodeploy/cert.pem".into(),
            key: "/nonexistent/robodeploy/key.pem".into(),
        };
        let err = crate::DockerRuntime::new(DockerConfig::new(endpoint, Placement::Device))
            .expect_err("no CA file");
        match err {
            ConfigError::Client { endpoint, source } => {
                assert_eq!(endpoint, "tcp://robot-7:2376 (tls)");
                assert!(source.to_string().contains("ca.pem"), "{source}");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn registry_password_is_redacted() {
        let r = RegistryConfig {
            server: Some("registry.example.com".into()),
            username: Some("ci".into()),
            password: Some("hunter2".into()),
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
