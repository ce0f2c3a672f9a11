//! Signalling a process group through rustix's safe wrappers.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use rustix::process::{Pid, Signal, kill_process_group};

/// The polite stop signal.
pub(crate) const TERM: Signal = Signal::TERM;
/// The signal that cannot be ignored.
pub(crate) const KILL: Signal = Signal::KILL;

/// Sends `signal` to every process in group `pgid`. A group that no longer exists is not an
/// error: the goal (nothing left running) holds.
pub(crate) fn signal_group(pgid: u32, signal: Signal) -> io::Result<()> {
    // Group 0 and 1 would mean "our own group" and "every process": never signal those.
    let raw = i32::try_from(pgid)
        .ok()
        .filter(|&p| p > 1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid process group"))?;
    let pid = Pid::from_raw(raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid process group"))?;
    match kill_process_group(pid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The exit code a process killed by `signal` reports: `128 + n`.
pub(crate) fn exit_code_for_signal(signal: i32) -> i32 {
    128 + signal
}

/// The exit code as the runtime reports it: the code, or `128 + n` for a signal `n`.
pub(crate) fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(exit_code_for_signal))
        .unwrap_or(crate::UNKNOWN_EXIT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_group_and_every_process_are_never_signalled() {
        assert!(signal_group(0, TERM).is_err());
        assert!(signal_group(1, TERM).is_err());
        assert!(signal_group(u32::MAX, TERM).is_err());
    }

    #[test]
    fn a_group_that_does_not_exist_is_fine() {
        // pid_max is at most 2^22 on Linux, so this group cannot exist.
        assert!(signal_group(4_194_304 + 7, KILL).is_ok());
    }

    #[test]
    fn signals_map_to_128_plus_n() {
        assert_eq!(exit_code_for_signal(9), 137);
        assert_eq!(exit_code_for_signal(15), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
    }
}
