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
//!
//! Shell completions and the manual page are rendered by the crate's build script (`build.rs`)
//! from the same command-line definition the binary parses, into the build's `OUT_DIR`;
//! `robodeploy completions SHELL` (bash, zsh, fish, elvish, powershell) and `robodeploy man`
//! print those files, so what a package ships is what the build generated. A packager installs
//! them from the built binary:
//!
//! ```text
//! robodeploy completions bash > /usr/share/bash-completion/completions/robodeploy
//! robodeploy completions zsh > /usr/share/zsh/site-functions/_robodeploy
//! robodeploy completions fish > /usr/share/fish/vendor_completions.d/robodeploy.fish
//! robodeploy man > robodeploy.1    # then into /usr/share/man/man1/
//! ```

pub mod api;
mod cli;
pub mod client;
pub mod openapi;
mod schema;
pub mod server;
mod timeline;

pub use cli::main;
