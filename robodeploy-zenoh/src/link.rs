//! How a Zenoh session is opened: an embedded router, or a client of the user's routers; with
//! TLS and mutual authentication outside loopback.
//!
//! | setting | default | rule |
//! |---|---|---|
//! | `mode` | `router` for the orchestrator, `client` for an agent | `router`, `client` or `peer` |
//! | `listen` | none | endpoints (`tcp/host:port`, `tls/host:port`) a router accepts links on |
//! | `connect` | none | endpoints to link to; an agent needs at least one |
//! | `tls` | none | PEM files: the CA both sides trust, this side's certificate and key |
//! | `lease` | 4 s | a link silent this long is closed: the bound on noticing a robot that vanished |
//! | `insecure` | false | allow plain `tcp/` to an address that is not loopback |
//!
//! **Secure by default.** An endpoint that is not on loopback must be `tls/` with `tls` set
//! (mutual: each side shows a certificate signed by the CA, and a robot's certificate names
//! the robot as its common name), unless `insecure: true` says otherwise, in writing.
//!
//! Scouting (multicast discovery) is off: a robot links to the endpoints it is given. A client
//! (an agent) waits for its first router when it opens, for as long as it takes, and links
//! again by itself whenever the link is lost; a router opens at once.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zenoh::{Config, Session};

use crate::error::LinkError;

/// Which role a session plays in the Zenoh network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Routes for others: the orchestrator's embedded router.
    #[default]
    Router,
    /// Links to routers only: an agent, or an orchestrator using the user's routers.
    Client,
    /// Links to routers and peers directly.
    Peer,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Router => "router",
            Mode::Client => "client",
            Mode::Peer => "peer",
        }
    }
}

/// The PEM files of mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate authority both sides trust.
    pub ca: PathBuf,
    /// This side's certificate (a robot's names the robot as its common name).
    pub certificate: PathBuf,
    /// This side's private key.
    pub key: PathBuf,
}

/// How to open a session; see the [module](self) for the table of settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkConfig {
    /// The session's role.
    #[serde(default)]
    pub mode: Mode,
    /// Endpoints to accept links on.
    #[serde(default)]
    pub listen: Vec<String>,
    /// Endpoints to link to.
    #[serde(default)]
    pub connect: Vec<String>,
    /// Mutual TLS.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// How long a silent link lives.
    #[serde(default = "default_lease", with = "robodeploy_core::time::duration")]
    pub lease: Duration,
    /// Allow plain TCP off loopback.
    #[serde(default)]
    pub insecure: bool,
}

/// The default lease: a vanished robot is noticed within 4 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(4);

fn default_lease() -> Duration {
    DEFAULT_LEASE
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            mode: Mode::Router,
            listen: Vec::new(),
            connect: Vec::new(),
            tls: None,
            lease: DEFAULT_LEASE,
            insecure: false,
        }
    }
}

impl LinkConfig {
    /// An embedded router listening on `endpoints`.
    pub fn router<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> LinkConfig {
        LinkConfig {
            listen: endpoints.into_iter().map(Into::into).collect(),
            ..LinkConfig::default()
        }
    }

    /// A client of the routers at `endpoints`.
    pub fn client<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> LinkConfig {
        LinkConfig {
            mode: Mode::Client,
            connect: endpoints.into_iter().map(Into::into).collect(),
            ..LinkConfig::default()
        }
    }

    /// The same with mutual TLS from these files.
    pub fn with_tls(mut self, tls: TlsFiles) -> LinkConfig {
        self.tls = Some(tls);
        self
    }

    /// Checks the settings against the rules of the [module](self).
    ///
    /// # Errors
    /// [`LinkError::Invalid`] naming the first setting that breaks a rule.
    pub fn check(&self) -> Result<(), LinkError> {
        let invalid = |field, value: &str, rule| LinkError::Invalid {
            field,
            value: value.to_owned(),
            rule,
        };
        if self.mode != Mode::Router && self.connect.is_empty() {
            return Err(invalid(
                "connect",
                "",
                "a client or peer needs at least one endpoint to link to",
            ));
        }
        if self.lease < Duration::from_millis(500) {
            return Err(invalid(
                "lease",
                &format!("{:?}", self.lease),
                "must be at least 500 ms",
            ));
        }
        for (field, endpoints) in [("listen", &self.listen), ("connect", &self.connect)] {
            for e in endpoints {
                let (proto, address) = e
                    .split_once('/')
                    .ok_or_else(|| invalid(field, e, "an endpoint is <protocol>/<host>:<port>"))?;
                match proto {
                    "tls" if self.tls.is_none() => {
                        return Err(invalid(field, e, "a tls/ endpoint needs the tls files"));
                    }
                    "tls" => {}
                    "tcp" if !self.insecure && !is_loopback(address) => {
                        return Err(invalid(
                            field,
                            e,
                            "plain tcp/ off loopback needs insecure: true; use tls/ with the tls files",
                        ));
                    }
                    "tcp" => {}
                    _ => return Err(invalid(field, e, "the protocol must be tcp or tls")),
                }
            }
        }
        Ok(())
    }

    /// The Zenoh configuration these settings make.
    ///
    /// # Errors
    /// [`LinkError::Invalid`] when a setting breaks a rule; [`LinkError::Session`] when Zenoh
    /// refuses the result.
    pub fn to_zenoh(&self) -> Result<Config, LinkError> {
        self.check()?;
        let mut c = Config::default();
        let mut set =
            |key: &str, value: String| c.insert_json5(key, &value).map_err(LinkError::session);
        set("mode", json(self.mode.as_str()))?;
        set("scouting/multicast/enabled", "false".into())?;
        set("listen/endpoints", json(&self.listen))?;
        set("connect/endpoints", json(&self.connect))?;
        // A client keeps trying its routers for ever rather than giving up at start.
        if self.mode != Mode::Router {
            set("connect/timeout_ms", "-1".into())?;
            set("connect/exit_on_failure", "false".into())?;
        }
        set(
            "transport/link/tx/lease",
            self.lease.as_millis().to_string(),
        )?;
        if let Some(tls) = &self.tls {
            let path = |p: &PathBuf| json(&p.to_string_lossy());
            set("transport/link/tls/root_ca_certificate", path(&tls.ca))?;
            set(
                "transport/link/tls/listen_certificate",
                path(&tls.certificate),
            )?;
            set("transport/link/tls/listen_private_key", path(&tls.key))?;
            set(
                "transport/link/tls/connect_certificate",
                path(&tls.certificate),
            )?;
            set("transport/link/tls/connect_private_key", path(&tls.key))?;
            set("transport/link/tls/enable_mtls", "true".into())?;
        }
        Ok(c)
    }

    /// Opens a session with these settings.
    ///
    /// # Errors
    /// As [`to_zenoh`](Self::to_zenoh), and [`LinkError::Session`] when Zenoh cannot open it
    /// (a port in use, unreadable TLS files).
    pub async fn open(&self) -> Result<Session, LinkError> {
        zenoh::open(self.to_zenoh()?)
            .await
            .map_err(LinkError::session)
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Whether `address` (`host:port`, `[v6]:port`) is on loopback.
fn is_loopback(address: &str) -> bool {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> TlsFiles {
        TlsFiles {
            ca: "ca.pem".into(),
            certificate: "me.pem".into(),
            key: "me.key".into(),
        }
    }

    #[test]
    fn plain_tcp_is_for_loopback_unless_said_otherwise() {
        assert!(LinkConfig::router(["tcp/127.0.0.1:7447"]).check().is_ok());
        assert!(LinkConfig::client(["tcp/[::1]:7447"]).check().is_ok());
        assert!(LinkConfig::client(["tcp/localhost:7447"]).check().is_ok());
        let e = LinkConfig::router(["tcp/0.0.0.0:7447"])
            .check()
            .unwrap_err();
        assert!(
            matches!(&e, LinkError::Invalid { field: "listen", value, .. } if value == "tcp/0.0.0.0:7447"),
            "{e}"
        );
        let insecure = LinkConfig {
            insecure: true,
            ..LinkConfig::router(["tcp/0.0.0.0:7447"])
        };
        assert!(insecure.check().is_ok());
        assert!(
            LinkConfig::client(["tls/10.0.0.1:7447"])
                .with_tls(tls())
                .check()
                .is_ok()
        );
    }

    #[test]
    fn each_rule_names_its_setting() {
        let cases = [
            (LinkConfig::client(Vec::<String>::new()), "connect"),
            (LinkConfig::client(["tls/10.0.0.1:7447"]), "connect"),
            (LinkConfig::client(["udp/127.0.0.1:7447"]), "connect"),
            (LinkConfig::client(["127.0.0.1:7447"]), "connect"),
            (
                LinkConfig {
                    lease: Duration::from_millis(10),
                    ..LinkConfig::router(["tcp/127.0.0.1:1"])
                },
                "lease",
            ),
        ];
        for (config, field) in cases {
            match config.check() {
                Err(LinkError::Invalid { field: f, .. }) => assert_eq!(f, field, "{config:?}"),
                other => panic!("{config:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_agent_config_reads_from_yaml_with_defaults() {
        let c: LinkConfig = serde_saphyr::from_str(
            "mode: client\nconnect: [tls/10.0.0.1:7447]\ntls: {ca: ca.pem, certificate: r1.pem, key: r1.key}\n",
        )
        .unwrap();
        assert_eq!(c.lease, DEFAULT_LEASE);
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                certificate: "r1.pem".into(),
                key: "r1.key".into(),
                ca: "ca.pem".into()
            })
        );
        assert!(c.to_zenoh().is_ok());
    }
}
