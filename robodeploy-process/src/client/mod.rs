//! The runtime's side: what the engine's process holds ([`ProcessRuntime`](runtime::ProcessRuntime))
//! and how it reaches the root's supervisor. Nothing here runs in the supervisor process; what
//! both sides share is in [`wire`](crate::wire), the thin OS calls in [`os`](crate::os).
//!
//! | file | holds |
//! |---|---|
//! | `builder` | [`ProcessRuntimeBuilder`](builder::ProcessRuntimeBuilder): root, shim, environment, log limit |
//! | `runtime` | [`ProcessRuntime`](runtime::ProcessRuntime), the `Runtime` implementation |
//! | `link` | the connection to the supervisor: spawning it, requests and replies, reconnecting |
//! | `launch` | what an instance is started with: argv, shell, environment, working directory |
//! | `supervise` | starting an instance through the supervisor |
//! | `control` | stop and remove |
//! | `inspect` | an instance's state from its records and the processes |
//! | `exits` | exits the supervisor pushes, or polls when it is gone |
//! | `events` | fanning runtime events out to subscribers |
//! | `logs` | reading and following `output.log` |
//! | `oneshot` | `exec` and `run_task`: commands run to completion, output captured |

pub(crate) mod builder;
pub(crate) mod control;
pub(crate) mod events;
pub(crate) mod exits;
pub(crate) mod inspect;
pub(crate) mod launch;
pub(crate) mod limits;
pub(crate) mod link;
pub(crate) mod logs;
pub(crate) mod oneshot;
pub(crate) mod runtime;
pub(crate) mod strays;
pub(crate) mod supervise;
