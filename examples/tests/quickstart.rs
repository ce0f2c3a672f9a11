//! The README's first command works: the quickstart rolls out to 50 local robots, two fail their
//! pre-launch check, the job succeeds, and nothing is left running.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One quickstart at a time: the first test counts every talker on the machine once its
/// quickstart exits, so another quickstart running meanwhile would be counted.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn quickstart_rolls_out_to_fifty_robots_and_cleans_up() {
    let _turn = turn();
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .output()
        .expect("run the quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quickstart failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(": Succeeded in "), "{stdout}");
    assert!(
        stdout.contains("48 in sync, 2 failed, 0 not deployed"),
        "{stdout}"
    );
    for robot in ["robot-017", "robot-042"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(robot))
            .unwrap_or_else(|| panic!("no summary line for {robot}: {stdout}"));
        assert!(
            line.contains("Failed") && line.contains("PreLaunchFileFailure"),
            "{line}"
        );
    }
    // Every talker was stopped before the quickstart exited.
    let talkers = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains("talker on $ROBODEPLOY_ROBOT"))
        .count();
    assert_eq!(talkers, 0, "talkers left running");
}

/// With 20 robots the threshold (5 %) is one robot, and robot-017 fails its pre-launch check: the
/// job fails, and the quickstart says so with its exit code.
#[test]
fn quickstart_exits_non_zero_when_its_job_fails() {
    let _turn = turn();
    let out = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .args(["--robots", "20"])
        .output()
        .expect("run the quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(": Failed (FailureThresholdBreached) in "),
        "{stdout}"
    );
}

/// `quickstart | head -n 1`: a reader that goes away ends the printing, never the rollout; the
/// exit status is still the job's (0 here), not a panic's (101).
#[test]
fn quickstart_survives_a_reader_that_goes_away() {
    let _turn = turn();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the quickstart");
    {
        use std::io::Read;
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).expect("the first bytes");
        // The read end closes here: every later write is EPIPE.
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
