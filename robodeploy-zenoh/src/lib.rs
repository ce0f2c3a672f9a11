//! Remote robots for robodeploy over [Zenoh](https://zenoh.io).
//!
//! An [`Agent`] on each robot serves its local runtime (the process or the Docker runtime)
//! under the robot's own key space; the orchestrator reaches it through a [`ZenohRuntime`],
//! a `Runtime` whose every call is a query with a timeout, made by an [`Orchestrator`] that
//! holds one session for the whole fleet. The agent connects *out* (a robot behind NAT or on a
//! cellular link needs no address the orchestrator can dial); the orchestrator's embedded
//! router, or the user's own routers, carry the traffic.
//!
//! | part | where |
//! |---|---|
//! | the key space of a robot | [`keys`] |
//! | the versioned wire schema | [`wire`] |
//! | opening a session: router or client, TLS, lease | [`LinkConfig`] |
//! | the robot's side | [`Agent`], and the `robodeploy-agent` binary |
//! | the orchestrator's side | [`Orchestrator`], [`ZenohRuntime`] |
//! | a router of the fleet's own | the `robodeploy-router` binary ([`router_cli`]) |
//!
//! **Offline within a bound.** A robot's health is its agent's liveliness token: withdrawn when
//! the agent closes, gone when its process dies (the link closes), and gone after the link's
//! lease (4 s by default, [`link::DEFAULT_LEASE`]) when the robot vanishes from the network.
//! The engine checks health every 2 s by default, so a robot that vanishes is reported offline
//! (DEP_E151) within the lease, one keep-alive period (a quarter of the lease, when the lease
//! is checked) and one health interval: 7 s by default, 2.25 s measured with a 2 s lease and a
//! 250 ms interval; a robot whose agent stops, within one health interval. When the token
//! returns, the engine inspects every live executable there (its
//! reconcile after an outage): nothing is started twice.
//!
//! **Secure by default.** Off loopback a link must be mutual TLS ([`LinkConfig`] refuses plain
//! TCP there unless told `insecure`), and a router given the fleet's robots admits each, by its
//! certificate's common name, to its own keys only: it cannot answer for another robot, call
//! agents, or read another robot's events and logs (see [`link`]). Environment values travel
//! only inside the start and task calls that need them, and no message is logged.
//!
//! **Nothing is guessed.** Runtime events are numbered; a number skipped (the agent's own
//! runtime stream broke, a message was lost), an event that cannot be read, or an agent that
//! went away and came back makes the next health check report the robot unreachable once, so
//! the engine looks at every executable there again.

mod agent;
pub mod agent_cli;
mod error;
pub mod keys;
pub mod link;
mod orchestrator;
pub mod router_cli;
mod runtime;
mod watch;
pub mod wire;

pub use agent::Agent;
pub use error::LinkError;
pub use link::{LinkConfig, Mode, TlsFiles};
pub use orchestrator::{Orchestrator, Timeouts};
pub use runtime::{ZenohRuntime, capabilities_of};
