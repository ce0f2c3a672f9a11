//! Runs the Python package's pytest suite (`python/tests`) against the shared library cargo
//! just built. Without python3 or pytest it fails in CI (`CI=true`) and skips loudly elsewhere.
//! The Docker tests (marker `docker`) run when a Docker engine answers (the harness builds the
//! busybox test image and names it in `ROBODEPLOY_TEST_DOCKER_IMAGE`); without one they are
//! deselected after a loud message, and with `ROBODEPLOY_REQUIRE_DOCKER=1` the test fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::{DOCKER_IMAGE_ENV, ci, docker_image, library};

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
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]);
    match docker_image() {
        Some(image) => cmd.env(DOCKER_IMAGE_ENV, image),
        // docker_image() has already failed the test when Docker is required.
        None => cmd.args(["-m", "not docker"]).env_remove(DOCKER_IMAGE_ENV),
    };
    let out = cmd
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
