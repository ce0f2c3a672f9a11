//! The custom runtime example runs to completion: its executables run as tokio tasks, the
//! engine reads their logs and execs in them, a missing program fails with DEP_E161, and the
//! deprovision leaves the runtime empty.

use std::process::Command;

#[test]
fn a_user_written_runtime_deploys_and_deprovisions_through_the_engine() {
    let out = Command::new(env!("CARGO_BIN_EXE_custom_runtime"))
        .output()
        .expect("run the custom runtime example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    // In the order they happen.
    let expected = [
        "deploying greeter on sim-1 (a tasks:in-process runtime)",
        "  [greeter] Succeeded, Running",
        "greeter/talker says: hello from a tokio task",
        "greeter/talker says: hello from a tokio task",
        "exec env in greeter/talker: GREETING=hello",
        "  [warp] Failed to start, Error",
        "warp: DEP_E161: not found: warp-drive",
        "  [greeter] Deployment stopped, Stopped",
        "the runtime holds 0 instances",
    ];
    let mut at = 0;
    for want in expected {
        let found = lines[at..].iter().position(|l| *l == want);
        let Some(i) = found else {
            panic!("{want:?} missing after line {at}:\n{stdout}");
        };
        at += i + 1;
    }
}
