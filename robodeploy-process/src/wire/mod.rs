//! What the runtime and the supervisor share: the socket protocol between them and the files
//! both read and write in a root (its layout, the per-instance records, the output log format).
//! Changing anything here changes what an older supervisor or a later runtime understands.
//!
//! | file | holds |
//! |---|---|
//! | `protocol` | the requests and replies on `supervisor.sock`, one JSON line each |
//! | `layout` | where everything lives under a root |
//! | `state` | the instance records (`process.json`, `exit.json`, the instance spec) |
//! | `logfile` | the `output.log` line format, its limits and rotation |

pub(crate) mod layout;
pub(crate) mod logfile;
pub(crate) mod protocol;
pub(crate) mod state;
