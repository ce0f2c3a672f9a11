//! Reaping the supervisor's children: on SIGCHLD, every exited child is collected with one
//! `wait(WNOHANG)` each and its exit code handed to the task tending it.
//!
//! A per-child pidfd would cost an open file per running instance, and every spawn copies the
//! supervisor's file table and closes those files again at `exec`: with a thousand instances
//! that is a thousand closes per start. Waiting for any child keeps the cost of an exit
//! constant too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rustix::io::Errno;
use rustix::process::{WaitOptions, WaitStatus, wait};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use crate::UNKNOWN_EXIT_CODE;
use crate::os::signal::exit_code_for_signal;

/// Children waited for, and exits collected before anyone waited for them.
#[derive(Debug, Default)]
pub(super) struct Reaper {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    waiting: HashMap<u32, oneshot::Sender<i32>>,
    early: HashMap<u32, i32>,
}

impl Reaper {
    /// Installs the SIGCHLD handler and starts reaping; call before spawning any child, so no
    /// exit goes unnoticed.
    pub(super) fn start() -> std::io::Result<Arc<Self>> {
        let mut sigchld = signal(SignalKind::child())?;
        let reaper = Arc::new(Reaper::default());
        let this = Arc::clone(&reaper);
        tokio::spawn(async move {
            loop {
                // Signals coalesce: each wake-up collects every child that has exited.
                this.reap();
                if sigchld.recv().await.is_none() {
                    return;
                }
            }
        });
        Ok(reaper)
    }

    /// The exit code of child `pid`, once it exits. Call right after spawning it, before the
    /// next await (the reaper cannot run in between on this single thread, and an exit it
    /// collected earlier is kept).
    pub(super) fn exit_of(&self, pid: u32) -> oneshot::Receiver<i32> {
        let (tx, rx) = oneshot::channel();
        let mut table = self.table();
        match table.early.remove(&pid) {
            Some(code) => {
                let _ = tx.send(code);
            }
            None => {
                table.waiting.insert(pid, tx);
            }
        }
        rx
    }

    fn reap(&self) {
        loop {
            match wait(WaitOptions::NOHANG) {
                Ok(Some((pid, status))) => {
                    let pid = pid.as_raw_nonzero().get().unsigned_abs();
                    let code = code_of(status);
                    let mut table = self.table();
                    match table.waiting.remove(&pid) {
                        Some(tx) => {
                            let _ = tx.send(code);
                        }
                        None => {
                            table.early.insert(pid, code);
                        }
                    }
                }
                Ok(None) | Err(Errno::CHILD) => return,
                Err(Errno::INTR) => {}
                Err(e) => {
                    super::diag::diag!("supervisor: waiting for children: {e}");
                    return;
                }
            }
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The exit code as the runtime reports it: the code, or `128 + n` for a signal `n`.
fn code_of(status: WaitStatus) -> i32 {
    status
        .exit_status()
        .or_else(|| status.terminating_signal().map(exit_code_for_signal))
        .unwrap_or(UNKNOWN_EXIT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    // The reaper under test is what waits for these children.
    #[expect(clippy::zombie_processes)]
    #[tokio::test]
    async fn exits_are_collected_with_their_codes_even_before_anyone_waits() {
        let reaper = Reaper::start().unwrap();
        let quick = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
        let killed = Command::new("sleep").arg("30").spawn().unwrap();
        // The quick one has surely exited (and may have been reaped) before this asks.
        std::thread::sleep(std::time::Duration::from_millis(100));
        tokio::task::yield_now().await;
        let quick_exit = reaper.exit_of(quick.id());
        let killed_exit = reaper.exit_of(killed.id());
        assert_eq!(quick_exit.await, Ok(7));
        let pid = rustix::process::Pid::from_raw(killed.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
        assert_eq!(killed_exit.await, Ok(137));
    }
}
