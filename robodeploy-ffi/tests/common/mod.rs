//! What the C and Python test drivers share: where cargo put the libraries, checked fresh,
//! and how C programs are compiled against them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Whether this is CI (`CI=true`), where missing tools fail instead of skipping.
pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The environment variable naming the Docker image the C and Python Docker tests run; set by
/// [`docker_image`] when a Docker engine answers.
pub(crate) const DOCKER_IMAGE_ENV: &str = "ROBODEPLOY_TEST_DOCKER_IMAGE";

/// The test image on the local Docker engine (made from the host's own commands when missing,
/// as robodeploy-docker's own tests do), or `None` after a loud message when no engine
/// answers. With `ROBODEPLOY_REQUIRE_DOCKER=1` a missing engine panics: the test fails.
pub(crate) fn docker_image() -> Option<String> {
    use robodeploy_core::runtime::Runtime;
    use robodeploy_docker::test_image::ensure_image;
    use robodeploy_docker::{DockerRuntime, Placement};

    const REPO: &str = "robodeploy-test/busybox";
    const TAG: &str = "1";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime to reach Docker");
    rt.block_on(async {
        // Without a socket the client cannot even be built: no engine either way.
        let reached = match DockerRuntime::local(Placement::Device) {
            Ok(docker) => docker
                .health()
                .await
                .map(|()| docker)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let docker = match reached {
            Ok(docker) => docker,
            Err(e) => {
                robodeploy_testkit::skip::skip_without_docker(&e);
                return None;
            }
        };
        ensure_image(&docker, REPO, TAG)
            .await
            .expect("building the test image");
        Some(format!("{REPO}:{TAG}"))
    })
}

/// `target/<profile>/`: the test executable lives in its `deps/`.
pub(crate) fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps")
        .to_path_buf()
}

fn newest_source() -> SystemTime {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(m);
            }
        }
    }
    newest
}

/// A library file cargo built for this test run: the newer of `target/<profile>/deps/<file>`
/// (where `cargo test` writes the cdylib and the staticlib, in the same compilation as the
/// rlib the tests link) and `target/<profile>/<file>` (where `cargo build` puts them), checked
/// to be newer than every source file of the crate.
pub(crate) fn library(file: &str) -> PathBuf {
    let dir = profile_dir();
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let (path, built) = [dir.join("deps").join(file), dir.join(file)]
        .into_iter()
        .filter_map(|p| modified(&p).map(|t| (p, t)))
        .max_by_key(|(_, t)| *t)
        .unwrap_or_else(|| {
            panic!(
                "no {file} in {}: build it with `cargo build -p robodeploy-ffi`",
                dir.display()
            )
        });
    assert!(
        built >= newest_source(),
        "{} is older than the sources: run `cargo build -p robodeploy-ffi`",
        path.display()
    );
    path
}

/// Which library a C program links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// `librobodeploy.so`, found at run time through an rpath.
    Shared,
    /// `librobodeploy.a` and the system libraries Rust's std needs.
    Static,
}

/// Compiles C programs against one of the libraries.
pub(crate) struct Build {
    link: Link,
    out_dir: PathBuf,
}

impl Build {
    /// Programs go to `target/<profile>/c-tests/<shared|static>/`.
    pub(crate) fn new(link: Link) -> Self {
        let kind = match link {
            Link::Shared => "shared",
            Link::Static => "static",
        };
        let out_dir = profile_dir().join("c-tests").join(kind);
        std::fs::create_dir_all(&out_dir).expect("create the C output directory");
        Build { link, out_dir }
    }

    /// Compiles `src` into a program named `name`; panics with the compiler's output on error.
    pub(crate) fn compile(&self, src: &Path, name: &str) -> PathBuf {
        let exe = self.out_dir.join(name);
        let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
        let mut cmd = Command::new(cc);
        cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
            .arg(format!(
                "-DRD_EXPECTED_VERSION=\"{}\"",
                env!("CARGO_PKG_VERSION")
            ))
            .arg("-I")
            .arg(&include)
            .arg("-I")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c"))
            .arg("-o")
            .arg(&exe)
            .arg(src);
        match self.link {
            Link::Shared => {
                let lib = library("librobodeploy.so");
                let dir = lib.parent().expect("the library's directory");
                cmd.arg("-L")
                    .arg(dir)
                    // RPATH rather than RUNPATH: it wins over the LD_LIBRARY_PATH cargo sets
                    // for tests, which may name an older build of the library.
                    .arg("-Wl,--disable-new-dtags")
                    .arg(format!("-Wl,-rpath,{}", dir.display()))
                    .arg("-lrobodeploy")
                    .arg("-lpthread");
            }
            Link::Static => {
                cmd.arg(library("librobodeploy.a"));
                // What `rustc --print native-static-libs` lists for Linux targets.
                cmd.args([
                    "-lgcc_s",
                    "-lutil",
                    "-lrt",
                    "-lpthread",
                    "-lm",
                    "-ldl",
                    "-lc",
                ]);
            }
        }
        let out = cmd.output().expect("run the C compiler (cc)");
        assert!(
            out.status.success(),
            "compiling {} failed:\n{}{}",
            src.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        exe
    }
}
