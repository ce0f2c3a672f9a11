//! robodeploy-examples: runnable examples of robodeploy (see `src/bin/`), and the sample
//! manifests under `examples/manifests/` they use.

/// The folder of the bundled sample manifests.
pub const MANIFEST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests");

/// Prints a line on stdout like `println!`, except that a reader that went away (`quickstart |
/// head -n 3`) ends the printing quietly instead of panicking: the example runs on and exits
/// with its own status.
#[macro_export]
macro_rules! say {
    () => {
        $crate::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say_line(format_args!($($arg)*))
    };
}

/// Set once stdout's reader is gone.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What [`say!`] calls: writes `line` and a newline on stdout, unless stdout's reader is gone.
pub fn say_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}
