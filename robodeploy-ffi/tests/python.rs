//! Runs the Python package's pytest suite (`python/tests`) against the shared library cargo
//! just built. The suite makes its own environment: a virtual environment in
//! `target/python-venv` (`python3 -m venv`), with pytest installed by pip from PyPI the first
//! time and reused afterwards; `PYTHON=<interpreter>` runs an interpreter of your own instead
//! (it must have pytest). Without python3 the test fails in CI (`CI=true`) and skips loudly
//! elsewhere; an environment that cannot be made (no `venv` module, PyPI unreachable) fails.
//! The Docker tests (marker `docker`) run when a Docker engine answers (the harness builds the
//! test image and names it in `ROBODEPLOY_TEST_DOCKER_IMAGE`); without one they are
//! deselected after a loud message, and with `ROBODEPLOY_REQUIRE_DOCKER=1` the test fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{DOCKER_IMAGE_ENV, ci, docker_image, library, profile_dir};

/// What the suite's environment must provide, as pip takes it.
const PYTEST: &str = "pytest>=7";

fn missing(what: &str) {
    let msg = format!("{what}: the Python suite cannot run");
    assert!(!ci(), "{msg}; CI requires it");
    eprintln!("!!! SKIPPED: {msg}");
}

fn has_pytest(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?} ({e})"))
}

fn output_of(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The interpreter the suite runs with: `$PYTHON` as given, else the cached virtual
/// environment's, made (and pytest installed into it) when missing or without pytest. `None`
/// when there is no python3 to make one from.
fn interpreter() -> Option<PathBuf> {
    if let Ok(python) = std::env::var("PYTHON") {
        let python = PathBuf::from(python);
        assert!(
            has_pytest(&python),
            "PYTHON={} cannot import pytest: install it there, or unset PYTHON to let the \
             suite make its own environment",
            python.display()
        );
        return Some(python);
    }
    let target = profile_dir()
        .parent()
        .expect("target/<profile> has a parent")
        .to_path_buf();
    let venv = target.join("python-venv");
    let python = venv.join("bin").join("python");
    if has_pytest(&python) {
        return Some(python);
    }
    if let Err(e) = Command::new("python3").arg("--version").output() {
        missing(&format!("python3 cannot be run ({e})"));
        return None;
    }
    // Made beside its final place and renamed, so an interrupted run leaves no half-made
    // environment that looks ready.
    let fresh = target.join(format!("python-venv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    let out = run(
        Command::new("python3").args(["-m", "venv"]).arg(&fresh),
        "making the Python environment",
    );
    assert!(
        out.status.success(),
        "`python3 -m venv {}` failed (on Debian: apt-get install python3-venv):\n{}",
        fresh.display(),
        output_of(&out)
    );
    let fresh_python = fresh.join("bin").join("python");
    let out = run(
        Command::new(&fresh_python).args(["-m", "pip", "install", "--quiet", PYTEST]),
        "installing pytest",
    );
    assert!(
        out.status.success(),
        "pip could not install {PYTEST} into {}: is PyPI reachable (or PIP_INDEX_URL set to a \
         mirror)? Or run with PYTHON=<an interpreter that has pytest>.\n{}",
        fresh.display(),
        output_of(&out)
    );
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::rename(&fresh, &venv)
        .unwrap_or_else(|e| panic!("moving {} to {}: {e}", fresh.display(), venv.display()));
    assert!(
        has_pytest(&python),
        "{} still has no pytest",
        python.display()
    );
    Some(python)
}

#[test]
fn python_suite() {
    let Some(python) = interpreter() else {
        return;
    };
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
        .env(
            "ROBODEPLOY_AGENT",
            env!("CARGO_BIN_EXE_robodeploy-ffi-agent"),
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
