//! What the CLI's tests share: temporary directories, running the binary, a real
//! `robodeploy serve` started from the test and stopped (executables cleaned up) at its end.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) mod manifest;

/// `plan` options for a seeded run in which 30 % of the robots fail, answered as JSON.
pub(crate) const FAILING_PLAN: [&str; 6] = ["-o", "json", "--failure-rate", "0.3", "--seed", "4"];

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_robodeploy");

/// A directory removed when the test ends.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("robodeploy-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(std::fs::canonicalize(&dir).expect("canonical temp dir"))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A sample manifest of `examples/manifests`.
pub(crate) fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/manifests")
        .join(name)
}

/// Runs the CLI with `args` in `cwd`, with no server settings from the environment.
pub(crate) fn robodeploy(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .env_remove("ROBODEPLOY_SERVER")
        .env_remove("ROBODEPLOY_TOKEN")
        .env_remove("ROBODEPLOY_STATE_DIR")
        .env_remove("ROBODEPLOY_OUTPUT")
        .env_remove("ROBODEPLOY_CONFIG")
        .env("XDG_CONFIG_HOME", cwd)
        .output()
        .expect("run robodeploy")
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn explain(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

pub(crate) fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", explain(out)))
}

/// Waits until `f` holds, at most `limit`.
pub(crate) fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// A `robodeploy serve` on its own state directory, listening on a free loopback port. Dropped:
/// every live deployment is deprovisioned (executables outlive the server by design), then the
/// server gets SIGTERM.
pub(crate) struct Server {
    pub(crate) dir: TempDir,
    child: Option<Child>,
}

impl Server {
    pub(crate) fn start(tag: &str) -> Server {
        let mut server = Server::unstarted(tag);
        server.spawn();
        server
    }

    /// A server whose process is not started yet ([`Server::spawn_with`] starts it).
    pub(crate) fn unstarted(tag: &str) -> Server {
        Server {
            dir: TempDir::new(tag),
            child: None,
        }
    }

    /// The state directory.
    pub(crate) fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Starts the server process (again).
    pub(crate) fn spawn(&mut self) {
        self.spawn_with(&[]);
    }

    /// Starts the server process (again), with more arguments for `serve`.
    pub(crate) fn spawn_with(&mut self, extra: &[&str]) {
        self.spawn_with_env(extra, &[]);
    }

    /// Starts the server process (again), with more arguments for `serve` and more
    /// environment variables.
    pub(crate) fn spawn_with_env(&mut self, extra: &[&str], env: &[(&str, &str)]) {
        let endpoint = self.state().join("endpoint");
        let _ = std::fs::remove_file(&endpoint);
        let log = std::fs::File::create(self.dir.path().join("serve.log")).expect("log file");
        let child = Command::new(BIN)
            .current_dir(self.dir.path())
            .arg("serve")
            .args(if extra.contains(&"--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .arg("--state-dir")
            .arg(self.state())
            .args(extra)
            .env_remove("ROBODEPLOY_CONFIG")
            .env("XDG_CONFIG_HOME", self.dir.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start robodeploy serve");
        self.child = Some(child);
        assert!(
            eventually(Duration::from_secs(60), || endpoint.exists()),
            "the server did not start: {}",
            self.log()
        );
    }

    /// The server's output so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// The server's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Forgets a server process killed from outside (reaping it).
    pub(crate) fn forget(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit; its exit code.
    pub(crate) fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The CLI as a command against this server (found through the state directory), with no
    /// server settings from the environment; not started.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("ROBODEPLOY_SERVER")
            .env_remove("ROBODEPLOY_TOKEN")
            .env_remove("ROBODEPLOY_OUTPUT")
            .env("ROBODEPLOY_STATE_DIR", self.state())
            .env_remove("ROBODEPLOY_CONFIG")
            .env("XDG_CONFIG_HOME", self.dir.path());
        command
    }

    /// Runs the CLI against this server.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run robodeploy")
    }

    /// `apply -f FILE --min-uptime 1s`, which must succeed; its output.
    pub(crate) fn apply_up(&self, file: &str) -> Output {
        let out = self.cli(&["apply", "-f", file, "--min-uptime", "1s"]);
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
        out
    }

    /// The server's URL and token.
    pub(crate) fn endpoint(&self) -> (String, String) {
        let url = std::fs::read_to_string(self.state().join("endpoint")).expect("endpoint");
        let token = std::fs::read_to_string(self.state().join("token")).expect("token");
        (url.trim().to_owned(), token.trim().to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_some() {
            let out = self.cli(&["get", "deployments", "-o", "json"]);
            if let Ok(Value::Array(all)) = serde_json::from_slice::<Value>(&out.stdout) {
                for d in all {
                    if let Some(id) = d["id"].as_str() {
                        let _ = self.cli(&["deprovision", id]);
                    }
                }
            }
            self.terminate();
        }
    }
}

/// A shell loop that runs until killed; `marker` in its command line finds it.
pub(crate) fn idle(marker: &str) -> String {
    format!("while true; do sleep 1; done # {marker}")
}

/// Processes whose command line contains `needle`, without their children that carry it too
/// (a shell's fork, for the instant before it execs `sleep`, has its parent's command line).
pub(crate) fn processes(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        if std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| {
            String::from_utf8_lossy(&c)
                .replace('\0', " ")
                .contains(needle)
        }) {
            found.push(pid);
        }
    }
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`: the command may hold spaces and parentheses.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let all = found.clone();
    found.retain(|pid| parent(*pid).is_none_or(|p| !all.contains(&p)));
    found
}
