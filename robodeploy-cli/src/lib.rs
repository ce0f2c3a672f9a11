//! The robodeploy command line and server.
//!
//! `robodeploy serve` runs the engine for as long as it is up, on a durable store in its state
//! directory: it supervises what runs (an executable that dies is restarted per its policy,
//! with no command needed), runs deployment jobs, and reaches local process and Docker devices
//! and remote robots (through the device agent, over Zenoh). Its API is HTTP and JSON
//! ([`openapi`] documents every route); the `robodeploy` commands are its client
//! ([`client::Client`] is the same client, for programs).
//!
//! ```text
//! robodeploy serve --state-dir /var/lib/robodeploy &        # the server
//! robodeploy apply -f examples/manifests/talker-listener.yaml  # make it so, wait until it runs
//! robodeploy get deployments                                 # what runs
//! robodeploy logs listener --follow                          # across restarts
//! robodeploy delete -f examples/manifests/talker-listener.yaml
//! ```
//!
//! `validate`, `plan` and `schema` work offline. Every command's exit code tells the truth:
//! `apply` exits 0 only once every deployment it made has stayed up for the minimum uptime and
//! every job succeeded (`robodeploy --help` lists the codes).

pub mod api;
mod cli;
pub mod client;
pub mod openapi;
mod schema;
pub mod server;
mod timeline;

pub use cli::main;
