//! What `/proc` says about a process: is it (still) the one we started?
//!
//! A pid alone is not an identity (pids are reused), so the runtime records each process's start
//! time in clock ticks since boot (field 22 of `/proc/<pid>/stat`) and compares both.

use std::fs;

/// The fields of `/proc/<pid>/stat` the runtime uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// State letter (`R`, `S`, `Z` for a zombie, …).
    pub(crate) state: char,
    /// Process group id.
    pub(crate) pgrp: u32,
    /// Start time in clock ticks since boot.
    pub(crate) start_ticks: u64,
}

/// Parses the text of `/proc/<pid>/stat`. The command name (field 2) may hold spaces and
/// parentheses, so parsing starts after its last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // fields after the name: state (3), ppid (4), pgrp (5), …, starttime (22).
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    let start_ticks = fields.nth(16)?.parse().ok()?;
    Some(ProcStat {
        state,
        pgrp,
        start_ticks,
    })
}

/// `/proc/<pid>/stat` of a process, `None` when it does not exist.
pub(crate) fn stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `/proc/self/stat` of the calling process.
pub(crate) fn stat_self() -> Option<ProcStat> {
    parse_stat(&fs::read_to_string("/proc/self/stat").ok()?)
}

/// Whether `pid` is the process that started at `start_ticks` and has not exited (a zombie has
/// exited: only its parent's wait is missing).
pub(crate) fn is_alive(pid: u32, start_ticks: u64) -> bool {
    stat(pid).is_some_and(|s| s.start_ticks == start_ticks && !matches!(s.state, 'Z' | 'X'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let text = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(text),
            Some(ProcStat {
                state: 'S',
                pgrp: 4242,
                start_ticks: 987_654
            })
        );
    }

    #[test]
    fn truncated_or_garbled_stat_is_none() {
        assert_eq!(parse_stat("12 (x) S 1 12"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
        assert_eq!(parse_stat("1 (x) S 1 notanumber 1"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_different_start_time_is_not() {
        let me = stat_self().expect("/proc/self/stat");
        assert!(is_alive(std::process::id(), me.start_ticks));
        assert!(!is_alive(std::process::id(), me.start_ticks + 1));
    }
}
