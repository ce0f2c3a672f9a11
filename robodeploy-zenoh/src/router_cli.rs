//! The `robodeploy-router` command: a Zenoh router for a fleet that outgrows the orchestrator's
//! embedded one, set up with robodeploy's own link settings ([`LinkConfig`]).
//!
//! ```text
//! robodeploy-router --listen tls/0.0.0.0:7447 --tls-ca ca.pem --tls-cert router.pem --tls-key router.key
//! robodeploy-router --config /etc/robodeploy/router.yaml
//! ```
//!
//! The config file is a link file (the same YAML `robodeploy serve --remote` reads) whose
//! `mode` is `router` (the default); a flag given on the command line wins over the file. The
//! orchestrator (`robodeploy serve --remote` with `mode: client` and `connect`) and the robots'
//! agents link to it as clients, and it relays between them; killed and started again, both
//! sides link again by themselves. Off loopback it requires mutual TLS like every link, so only
//! holders of a certificate from the fleet's CA can link. Access rules per robot (`robots`)
//! stay the embedded router's: a separate router cannot tell the orchestrator's client session
//! from a robot's yet, so it refuses them rather than shutting the orchestrator out.
//!
//! It runs until SIGTERM or SIGINT and exits 0. Exit status 2 is a usage or configuration error
//! (the message names the setting), 1 a failure to open (a port in use, unreadable TLS files).

use std::path::PathBuf;

use clap::Parser;

use crate::LinkError;
use crate::agent_cli::LinkFlags;
use crate::link::{LinkConfig, Mode};

/// Writes a line on stderr; a stderr that cannot be written loses the line, never panics.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "robodeploy-router: {line}");
}

/// Relays between the orchestrator and the robots' agents.
#[derive(Debug, Parser)]
#[command(
    name = "robodeploy-router",
    version,
    about = "A Zenoh router between the robodeploy server and its robots' agents"
)]
pub struct Args {
    /// A link file (YAML, `mode: router`); flags win over it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// An endpoint to accept links on (repeat for several), e.g. `tls/0.0.0.0:7447`.
    #[arg(long)]
    pub listen: Vec<String>,
    /// How it links: other routers to mesh with (`--connect`), TLS, lease.
    #[command(flatten)]
    pub link: LinkFlags,
}

/// A setting of the router that is missing or breaks a rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterSettingsError {
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The link's settings break a rule.
    #[error(transparent)]
    Link(#[from] LinkError),
}

impl Args {
    /// The router's link: these flags over the config file's.
    ///
    /// # Errors
    /// [`RouterSettingsError`] naming the file or the setting and the rule it breaks: the mode
    /// must be `router`, at least one `listen` endpoint, no `robots`, and the link's own rules.
    pub fn settle(self) -> Result<LinkConfig, RouterSettingsError> {
        let mut link = match &self.config {
            Some(path) => {
                let file = |message: String| RouterSettingsError::File {
                    path: path.clone(),
                    message,
                };
                let text = std::fs::read_to_string(path).map_err(|e| file(e.to_string()))?;
                serde_saphyr::from_str::<LinkConfig>(&text).map_err(|e| file(e.to_string()))?
            }
            None => LinkConfig::default(),
        };
        let invalid = |field, value: String, rule| {
            RouterSettingsError::Link(LinkError::Invalid { field, value, rule })
        };
        if link.mode != Mode::Router {
            return Err(invalid(
                "mode",
                link.mode.as_str().to_owned(),
                "robodeploy-router is a router",
            ));
        }
        if !self.listen.is_empty() {
            link.listen = self.listen;
        }
        self.link.apply_to(&mut link);
        if link.listen.is_empty() {
            return Err(invalid(
                "listen",
                String::new(),
                "a router needs at least one endpoint to accept links on",
            ));
        }
        if let Some(robots) = &link.robots {
            return Err(invalid(
                "robots",
                robots.join(","),
                "access rules are the orchestrator's embedded router's (robodeploy serve)",
            ));
        }
        link.check()?;
        Ok(link)
    }
}

/// Runs the router as the command line says; returns the exit status.
pub fn main() -> i32 {
    let args = Args::parse();
    if let Err(e) = crate::agent_cli::install_log() {
        say(&e);
        return 2;
    }
    let link = match args.settle() {
        Ok(l) => l,
        Err(e) => {
            say(&e.to_string());
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("cannot start: {e}"));
            return 1;
        }
    };
    rt.block_on(route(link))
}

async fn route(link: LinkConfig) -> i32 {
    let session = match link.open().await {
        Ok(s) => s,
        Err(e) => {
            say(&e.to_string());
            return 1;
        }
    };
    say(&format!("routing on {:?}", link.listen));
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            say(&format!("cannot watch SIGTERM: {e}"));
            return 1;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    let _ = session.close().await;
    say("stopped");
    0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn args(argv: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("robodeploy-router").chain(argv.iter().copied()))
            .expect("parses")
    }

    #[test]
    fn a_router_listens_on_what_it_is_told() {
        let link = args(&["--listen", "tcp/127.0.0.1:7447", "--lease", "2s"])
            .settle()
            .unwrap();
        assert_eq!(link.mode, Mode::Router);
        assert_eq!(link.listen, ["tcp/127.0.0.1:7447"]);
        assert_eq!(link.lease, Duration::from_secs(2));
    }

    #[test]
    fn settings_that_break_a_rule_are_named() {
        let e = args(&[]).settle().unwrap_err().to_string();
        assert!(e.contains("listen"), "{e}");
        let e = args(&["--listen", "tcp/10.0.0.1:7447"])
            .settle()
            .unwrap_err()
            .to_string();
        assert!(e.contains("tls"), "{e}");
        let dir = std::env::temp_dir().join(format!("rd-router-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("link.yaml");
        std::fs::write(&file, "mode: client\nconnect: [tcp/127.0.0.1:1]\n").unwrap();
        let e = args(&["--config", file.to_str().unwrap()])
            .settle()
            .unwrap_err()
            .to_string();
        assert!(e.contains("mode") && e.contains("client"), "{e}");
        std::fs::write(
            &file,
            "listen: [tls/127.0.0.1:1]\ntls: {ca: a, certificate: b, key: c}\nrobots: [r1]\n",
        )
        .unwrap();
        let e = args(&["--config", file.to_str().unwrap()])
            .settle()
            .unwrap_err()
            .to_string();
        assert!(e.contains("robots") && e.contains("r1"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
