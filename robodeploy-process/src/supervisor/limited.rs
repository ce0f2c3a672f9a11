//! Starting an executable under a memory limit without `unsafe`: the supervisor runs its own
//! program again as `LIMITED_EXEC_ARG <bytes> <program> <argv…>`, which lowers its address-space
//! limit (`RLIMIT_AS`, soft and hard) and then executes the program in its own place. The
//! environment, working directory, process group and user were set by the supervisor's spawn
//! and carry over the `exec`.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// The first argument of the re-executed supervisor that lowers the limit and executes.
pub(crate) const LIMITED_EXEC_ARG: &str = "--robodeploy-process-limited-exec";

/// The exit code when the limit cannot be set or the program not executed (as a shell's 127).
const EXEC_FAILED: i32 = 127;

/// A command that runs `program` with `argv` under an `RLIMIT_AS` of `bytes`.
pub(crate) fn command(program: &std::path::Path, argv: &[String], bytes: u64) -> Command {
    let mut c = Command::new("/proc/self/exe");
    c.arg(LIMITED_EXEC_ARG)
        .arg(bytes.to_string())
        .arg(program)
        .args(argv);
    c
}

/// Lowers the limit and executes what follows `LIMITED_EXEC_ARG` in `args`; never returns.
pub(crate) fn run(mut args: impl Iterator<Item = OsString>) -> ! {
    let fail = |what: &str| -> ! {
        let _ = writeln!(std::io::stderr(), "robodeploy: {what}");
        std::process::exit(EXEC_FAILED)
    };
    let bytes: u64 = match args.next().and_then(|b| b.into_string().ok()?.parse().ok()) {
        Some(b) => b,
        None => fail("limited exec: no byte count"),
    };
    let (Some(program), Some(arg0)) = (args.next(), args.next()) else {
        fail("limited exec: no program")
    };
    let limit = rustix::process::Rlimit {
        current: Some(bytes),
        maximum: Some(bytes),
    };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::As, limit) {
        fail(&format!("setting the memory limit to {bytes} bytes: {e}"));
    }
    let e = Command::new(&program).arg0(arg0).args(args).exec();
    fail(&format!("executing {}: {e}", program.to_string_lossy()))
}
