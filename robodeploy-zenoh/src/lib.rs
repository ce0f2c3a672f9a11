//! Remote robots for robodeploy over [Zenoh](https://zenoh.io): an agent on each robot serves
//! its local runtime (the process or the Docker runtime) under the robot's own key space, and
//! the orchestrator reaches it through a `Runtime` that turns each call into a query.
//!
//! **What exists so far** is what both sides must agree on before either is written: the key
//! space ([`keys`]) and the versioned wire schema ([`wire`]): every runtime call as a
//! [`wire::Request`], its answer as a [`wire::Reply`] or a [`wire::WireError`] that maps back
//! onto the runtime's error (so a remote robot's failures get the same `DEP_E` codes as a local
//! one's), runtime events numbered so a gap is seen, and the hello that carries the protocol
//! version. The agent, the orchestrator's runtime and the `robodeploy-agent` binary are not
//! written yet.

pub mod keys;
pub mod wire;
