//! Runs the Python package's pytest suite (`python/tests`) against the shared library cargo
//! just built. Without python3 or pytest it fails in CI (`CI=true`) and skips loudly elsewhere.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ci, library};

fn missing(what: &str) {
    let msg = format!("{what}: the Python suite cannot run (pip install pytest)");
    assert!(!ci(), "{msg}; CI requires it");
    eprintln!("!!! SKIPPED: {msg}");
}

#[test]
fn python_suite() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    match Command::new(&python).args(["-c", "import pytest"]).output() {
        Err(e) => return missing(&format!("{python} cannot be run ({e})")),
        Ok(out) if !out.status.success() => return missing(&format!("{python} has no pytest")),
        Ok(_) => {}
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(&dir)
        .env("ROBODEPLOY_LIB", library("librobodeploy.so"))
        .env(
            "ROBODEPLOY_PROCESS_SHIM",
            env!("CARGO_BIN_EXE_robodeploy-ffi-shim"),
        )
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit code 5 (no tests collected) is a failure too.
    assert!(
        out.status.success(),
        "pytest failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !stdout.contains("skipped"),
        "no Python test may skip here:\n{stdout}"
    );
    println!("{stdout}");
}
