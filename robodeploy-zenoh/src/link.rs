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
//! | `robots` | none | a router's access rules: the robots allowed in, each by its certificate's common name (needs `tls`) |
//!
//! **Access rules.** A router given `robots` admits each robot to its own keys only, by the
//! common name of its certificate: robot `r` may declare its queryable and answer under
//! `robodeploy/r/rt/`, publish its events and logs, and declare its liveliness token; it
//! receives the queries and log subscriptions for its own keys. Everything else is denied: it
//! cannot answer for another robot, issue runtime calls, or read another robot's events or
//! logs. The orchestrator's session is the router itself, whose own messages the rules do not
//! restrict: it is the only one that queries agents. The list is fixed when the router opens.
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
    pub(crate) fn as_str(self) -> &'static str {
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
    /// A router's access rules: the robots admitted, each to its own keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robots: Option<Vec<String>>,
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
            robots: None,
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

    /// The same with access rules admitting these robots, each to its own keys.
    pub fn with_robots<S: Into<String>>(
        mut self,
        robots: impl IntoIterator<Item = S>,
    ) -> LinkConfig {
        self.robots = Some(robots.into_iter().map(Into::into).collect());
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
        if let Some(robots) = &self.robots {
            if self.mode != Mode::Router {
                return Err(invalid("robots", "", "access rules are a router's"));
            }
            if self.tls.is_none() {
                return Err(invalid(
                    "robots",
                    "",
                    "access rules need tls: robots are told apart by their certificates",
                ));
            }
            if let Some(bad) = robots.iter().find(|r| crate::keys::robot_chunk(r).is_err()) {
                return Err(invalid(
                    "robots",
                    bad,
                    "a robot name must not be empty nor hold '/', '*', '$', '?' or '#'",
                ));
            }
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
        if let Some(robots) = &self.robots {
            set("access_control", access_rules(robots).to_string())?;
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

/// Zenoh's access control admitting each robot to its own keys (see the [module](self)).
fn access_rules(robots: &[String]) -> serde_json::Value {
    use serde_json::json;
    let mut rules = Vec::new();
    let mut subjects = Vec::new();
    let mut policies = Vec::new();
    for (i, robot) in robots.iter().enumerate() {
        let own = format!("{}/{robot}/**", crate::keys::ROOT);
        rules.push(json!({
            "id": format!("robot{i}-sends"), "permission": "allow", "flows": ["ingress"],
            "messages": ["put", "reply", "declare_queryable", "liveliness_token"],
            "key_exprs": [own],
        }));
        rules.push(json!({
            "id": format!("robot{i}-receives"), "permission": "allow", "flows": ["egress"],
            "messages": ["query", "declare_subscriber"],
            "key_exprs": [own],
        }));
        subjects.push(json!({"id": format!("robot{i}"), "cert_common_names": [robot]}));
        policies.push(json!({
            "rules": [format!("robot{i}-sends"), format!("robot{i}-receives"), "fleet-events"],
            "subjects": [format!("robot{i}")],
        }));
    }
    // The orchestrator listens to every robot's events with one subscription; a robot's agent
    // must hear of it to publish (it learns only that someone listens, never what others send).
    rules.push(json!({
        "id": "fleet-events", "permission": "allow", "flows": ["egress"],
        "messages": ["declare_subscriber"],
        "key_exprs": [format!("{}/*/events", crate::keys::ROOT)],
    }));
    json!({
        "enabled": true,
        "default_permission": "deny",
        "rules": rules,
        "subjects": subjects,
        "policies": policies,
    })
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
                LinkConfig::router(["tcp/127.0.0.1:1"]).with_robots(["r1"]),
                "robots",
            ),
            (
                LinkConfig::router(["tls/10.0.0.1:1"])
                    .with_tls(tls())
                    .with_robots(["r/1"]),
                "robots",
            ),
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

    #[test]
    fn access_rules_are_accepted_by_zenoh() {
        let c = LinkConfig::router(["tls/10.0.0.1:7447"])
            .with_tls(tls())
            .with_robots(["r1", "r2"]);
        assert!(c.to_zenoh().is_ok());
    }
}
