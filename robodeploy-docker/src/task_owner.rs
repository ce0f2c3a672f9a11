//! Which process runs a task container, so that a task whose caller died can be stopped.
//!
//! A task container (a job's pre-launch script, say) is auto-removed when it exits, but nothing
//! stops it while it runs: when the process that ran it is killed (SIGKILL, a crash), the
//! script runs on, and an engine started again that runs the step again would run it twice at
//! once. So every task container carries [`OWNER_LABEL`]: the boot of the machine the caller
//! runs on, the caller's pid and the pid's start time. A runtime sweeping task containers (see
//! `task_sweep`) kills a running one whose caller ran on this machine, in this boot, and is
//! gone (no such pid, or a pid started at another time: a reused one). A task whose caller runs
//! on another machine (an orchestrator elsewhere sharing this Docker engine) cannot be judged
//! from here and is left alone, as is one without the label.

/// The label that names a task container's caller: `<boot id> <pid> <start ticks>`.
pub const OWNER_LABEL: &str = "io.robodeploy.task-owner";

/// A process on a machine, in one boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskOwner {
    boot_id: String,
    pid: u32,
    start_ticks: u64,
}

impl TaskOwner {
    /// This process; `None` where `/proc` does not tell (not Linux), and then tasks carry no
    /// owner and are never swept.
    pub(crate) fn current() -> Option<TaskOwner> {
        let pid = std::process::id();
        Some(TaskOwner {
            boot_id: boot_id()?,
            pid,
            start_ticks: start_ticks(pid)?,
        })
    }

    /// The label's value.
    pub(crate) fn label(&self) -> String {
        format!("{} {} {}", self.boot_id, self.pid, self.start_ticks)
    }

    /// Reads a label's value; `None` when it is not one.
    pub(crate) fn parse(label: &str) -> Option<TaskOwner> {
        let mut parts = label.split(' ');
        let owner = TaskOwner {
            boot_id: parts.next().filter(|b| !b.is_empty())?.to_owned(),
            pid: parts.next()?.parse().ok()?,
            start_ticks: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(owner)
    }

    /// Whether this owner ran on this machine in this boot and is gone.
    pub(crate) fn is_gone_here(&self) -> bool {
        boot_id().is_some_and(|b| b == self.boot_id)
            && start_ticks(self.pid) != Some(self.start_ticks)
    }
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`).
fn boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(text.trim().to_owned()).filter(|b| !b.is_empty())
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`);
/// `None` when there is no such process.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_round_trips_and_this_process_is_not_gone() {
        let me = TaskOwner::current().expect("Linux");
        assert_eq!(TaskOwner::parse(&me.label()), Some(me.clone()));
        assert!(!me.is_gone_here());
    }

    #[test]
    fn a_dead_or_reused_pid_is_gone_and_another_boot_is_not_judged() {
        let me = TaskOwner::current().expect("Linux");
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        let dead = TaskOwner { pid, ..me.clone() };
        assert!(dead.is_gone_here());
        let reused = TaskOwner {
            start_ticks: me.start_ticks + 1,
            ..me.clone()
        };
        assert!(reused.is_gone_here());
        let elsewhere = TaskOwner {
            boot_id: "another-boot".to_owned(),
            pid,
            ..me
        };
        assert!(!elsewhere.is_gone_here());
    }

    #[test]
    fn labels_that_are_not_owners_are_refused() {
        for bad in ["", "b", "b 1", "b x 2", "b 1 2 3", " 1 2", "b 1 -2"] {
            assert_eq!(TaskOwner::parse(bad), None, "{bad:?}");
        }
    }
}
