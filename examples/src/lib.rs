//! robodeploy-examples: runnable examples of robodeploy (see `src/bin/`), and the sample
//! manifests under `examples/manifests/` they use.

/// The folder of the bundled sample manifests.
pub const MANIFEST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests");
