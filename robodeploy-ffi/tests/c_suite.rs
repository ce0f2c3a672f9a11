//! Compiles the C test suite (`tests/c/*.c`) and the C example (`examples/c/`) with
//! `-std=c11 -Wall -Wextra -Werror` against the shared and the static library cargo just built,
//! and runs each program — under valgrind (zero errors, zero definite leaks) when it is
//! installed, which CI (`CI=true`) requires. The Docker part of the API test runs when a Docker
//! engine answers (the harness builds the busybox test image and names it in
//! `ROBODEPLOY_TEST_DOCKER_IMAGE`), and fails the suite when `ROBODEPLOY_REQUIRE_DOCKER=1` and
//! none does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Build, DOCKER_IMAGE_ENV, Link, ci, docker_image};

fn valgrind() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("valgrind"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !ci(),
            "valgrind is required in CI (CI=true): install it (apt-get install -y valgrind)"
        );
        eprintln!(
            "!!! valgrind not found: the C programs run without it (install it to check leaks)"
        );
    }
    found
}

/// Runs a compiled C program (under valgrind when available) and asserts it passed.
fn run(exe: &Path, args: &[&str]) {
    run_with(exe, args, None);
}

/// As [`run`], naming the Docker test image to the program when there is one; returns what
/// the program printed.
fn run_with(exe: &Path, args: &[&str], docker_image: Option<&str>) -> String {
    let mut cmd = match valgrind() {
        Some(vg) => {
            let mut c = Command::new(vg);
            c.args([
                "--quiet",
                "--error-exitcode=97",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
                "--track-fds=no",
            ]);
            c.arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args).env(
        "ROBODEPLOY_PROCESS_SHIM",
        env!("CARGO_BIN_EXE_robodeploy-ffi-shim"),
    );
    match docker_image {
        Some(image) => cmd.env(DOCKER_IMAGE_ENV, image),
        None => cmd.env_remove(DOCKER_IMAGE_ENV),
    };
    let out = cmd.output().expect("run the C program");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        exe.display(),
        out.status
    );
    println!("{}: {}", exe.display(), stdout.trim_end());
    stdout.into_owned()
}

fn suite(link: Link) {
    let build = Build::new(link);
    let image = docker_image();
    for name in ["test_api", "test_negative", "test_validation"] {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/c")
            .join(format!("{name}.c"));
        let exe = build.compile(&src, name);
        let stdout = run_with(&exe, &[], image.as_deref());
        if name == "test_api" && image.is_some() {
            assert!(
                stdout.contains("test_docker_engine: ran"),
                "the Docker part of test_api did not run:\n{stdout}"
            );
        }
    }
}

#[test]
fn c_suite_against_the_shared_library() {
    suite(Link::Shared);
}

#[test]
fn c_suite_against_the_static_library() {
    suite(Link::Static);
}

#[test]
fn c_example_builds_and_runs() {
    let build = Build::new(Link::Shared);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/c/deploy.c");
    let exe = build.compile(&src, "example_deploy");
    let root = std::env::temp_dir().join(format!("rd-c-example-{}", std::process::id()));
    run(&exe, &[root.to_str().expect("a UTF-8 temp dir")]);
    let _ = std::fs::remove_dir_all(&root);
}
