//! Commands a dead caller left running.
//!
//! A task (`run_task`, a job's pre-launch script, say) or an `exec` runs as a child of the
//! process that asked for it, in a process group of its own; while that process lives, the
//! command's group is killed when it ends or when the caller gives up on it. When the caller
//! dies with no chance to clean up (SIGKILL, a crash), nothing kills the group: the script and
//! whatever it started would keep running, and a restarted engine that runs the step again
//! would run it twice at once.
//!
//! So each running command is recorded under the root, in `tasks/<pgid>.json` (0600, in a
//! 0700 directory) with the start time of its group leader and of the caller, and the record
//! is removed when the command ends. A runtime built on the root sweeps the records of callers
//! that are gone: their command groups are killed before the new runtime runs anything. A pid
//! alone is not trusted: a group whose leader is alive with another start time is a stranger's
//! and left alone. A record that cannot be written (a full disk) does not stop the command; it
//! only loses this protection.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::os::procfs;
use crate::os::signal::{KILL, signal_group};
use crate::wire::state::{read_json, write_json};

/// The directory of the records, under the root.
fn dir(root: &Path) -> PathBuf {
    root.join("tasks")
}

/// One running command's record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StrayRecord {
    /// The command's process group (its leader's pid).
    pgid: u32,
    /// The leader's start time (clock ticks since boot).
    start_ticks: u64,
    /// The caller's pid.
    owner_pid: u32,
    /// The caller's start time.
    owner_start_ticks: u64,
}

/// The record of one running command; removed when dropped (the command ended, or the caller
/// gave up on it and killed its group).
pub(crate) struct Recorded(Option<PathBuf>);

impl Drop for Recorded {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Records the command group `pgid` started by this process under `root`.
pub(crate) fn record(root: &Path, pgid: u32) -> Recorded {
    let (Some(leader), Some(me)) = (procfs::stat(pgid), procfs::stat_self()) else {
        return Recorded(None);
    };
    let dir = dir(root);
    if fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .is_err()
    {
        return Recorded(None);
    }
    let path = dir.join(format!("{pgid}.json"));
    let record = StrayRecord {
        pgid,
        start_ticks: leader.start_ticks,
        owner_pid: std::process::id(),
        owner_start_ticks: me.start_ticks,
    };
    match write_json(&path, &record, 0o600) {
        Ok(()) => Recorded(Some(path)),
        Err(_) => Recorded(None),
    }
}

/// Kills the command groups under `root` whose caller is gone; how many were killed.
pub(crate) fn sweep(root: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir(root)) else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            // A temporary file of a write cut short.
            let _ = fs::remove_file(&path);
            continue;
        }
        let record: StrayRecord = match read_json(&path) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => {
                let _ = fs::remove_file(&path);
                continue;
            }
        };
        if procfs::is_alive(record.owner_pid, record.owner_start_ticks) {
            continue;
        }
        // The leader alive with another start time: the pid was reused, the group is not ours.
        // The leader gone: the group id stays reserved while any member lives, so what is
        // left in it is what the command started.
        let stranger =
            procfs::stat(record.pgid).is_some_and(|s| s.start_ticks != record.start_ticks);
        if !stranger && signal_group(record.pgid, KILL).is_ok() {
            killed += 1;
        }
        let _ = fs::remove_file(&path);
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    /// A `sleep` in a process group of its own, as tasks run.
    fn group() -> Child {
        Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .expect("spawn sleep")
    }

    fn root(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("rd-strays-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("root");
        root
    }

    /// Rewrites a record as if another process had made it.
    fn disown(path: &Path, owner_pid: u32, owner_start_ticks: u64, start_ticks: Option<u64>) {
        let mut r: StrayRecord = read_json(path).expect("read").expect("record");
        r.owner_pid = owner_pid;
        r.owner_start_ticks = owner_start_ticks;
        if let Some(t) = start_ticks {
            r.start_ticks = t;
        }
        write_json(path, &r, 0o600).expect("write");
    }

    fn exited(child: &mut Child) -> bool {
        for _ in 0..50 {
            if child.try_wait().expect("try_wait").is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn the_groups_of_a_dead_caller_are_killed_and_no_other() {
        let root = root("sweep");
        let (mut orphan, mut mine, mut stranger) = (group(), group(), group());
        let orphan_record = record(&root, orphan.id());
        let mine_record = record(&root, mine.id());
        let stranger_record = record(&root, stranger.id());
        let paths: Vec<PathBuf> = [&orphan_record, &mine_record, &stranger_record]
            .iter()
            .map(|r| r.0.clone().expect("recorded"))
            .collect();
        let mode = fs::metadata(&paths[0]).expect("meta").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        // pid 1 started long before this test: a caller that is gone has another start time.
        disown(&paths[0], 1, u64::MAX, None);
        // The same dead caller, but the group's leader has another start time: pid reused.
        let leader = procfs::stat(stranger.id()).expect("stat").start_ticks;
        disown(&paths[2], 1, u64::MAX, Some(leader + 1));
        std::mem::forget(orphan_record);
        std::mem::forget(stranger_record);

        assert_eq!(sweep(&root), 1);
        assert!(exited(&mut orphan), "the dead caller's group still runs");
        assert!(!exited(&mut mine), "a live caller's group was killed");
        assert!(!exited(&mut stranger), "a stranger's group was killed");
        assert!(!paths[0].exists() && !paths[2].exists());
        assert!(paths[1].exists());
        drop(mine_record);
        assert!(!paths[1].exists(), "an ended command's record stays");
        for c in [&mut mine, &mut stranger] {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_dir_all(&root);
    }
}
