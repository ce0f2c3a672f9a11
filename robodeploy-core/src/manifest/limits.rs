//! How much YAML a manifest may hold.
//!
//! The YAML reader counts what it builds (parser events, nodes, scalar bytes, aliases) against a
//! budget, so that a small hostile text cannot make it build a huge value (an alias bomb, a
//! deep nest). Its fixed defaults also stopped honest large files: a fleet of about 35,700
//! robots (7 nodes each) breached its 250,000-node budget.
//!
//! robodeploy scales the budgets that grow with honest content to the length of the text:
//! without aliases every node, event and scalar byte needs at least one byte of input, so a
//! budget of one node, two events and one scalar byte per input byte never stops a manifest
//! that is merely large, and still bounds the work to a constant times the input. What aliases
//! can multiply stays at the reader's fixed limits (50,000 aliases and anchors, 1,000,000
//! retained anchor events, 64 MiB of retained anchor text), as do nesting depth (64) and the
//! number of documents (1,024). A YAML fleet of 1,000,000 robots loads; its time and memory
//! are in BENCHMARKS.md.

/// The reader's options for a YAML text of `len` bytes.
pub(super) fn yaml_options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(len.saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}
