//! robodeploy-benches: criterion benchmarks and side-by-side comparisons of robodeploy.
//!
//! Run with `cargo bench -p robodeploy-benches`; figures are recorded in `BENCHMARKS.md`.
