//! Thin wrappers over the operating system both sides use: `/proc` (pids with their start
//! times, process listings) and signals to processes and process groups.

pub(crate) mod procfs;
pub(crate) mod signal;
