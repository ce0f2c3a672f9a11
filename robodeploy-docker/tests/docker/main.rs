//! The Docker runtime against the real engine on this machine (skipped loudly when there is none,
//! failed instead when `ROBODEPLOY_REQUIRE_DOCKER=1`). One test binary, many modules: each test
//! uses its own deployment id, so they run in parallel and clean up only what is theirs.

#![allow(unreachable_pub, missing_docs)]

#[macro_use]
mod support;

mod deploy;
mod endpoint_cut;
mod images;
mod limits;
mod logs_exec;
mod proxy;
mod restart;
mod storage;
mod unreachable;
