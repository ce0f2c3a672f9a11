//! Helpers shared by the integration tests: runtimes on temporary roots, specs, and looking at
//! real processes through /proc.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use robodeploy_core::model::DeploymentId;
use robodeploy_core::runtime::{
    EventReceiver, InstanceId, InstanceSpec, Runtime, RuntimeEvent, RuntimeEventKind,
};
use robodeploy_process::{ProcessRuntime, ProcessRuntimeBuilder, Shim};

/// The shim binary cargo built for these tests.
pub const SHIM: &str = env!("CARGO_BIN_EXE_robodeploy-process-shim");

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A number no other test (in this or a parallel test process) uses.
pub fn unique() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    1_000_000
        + (nanos / 1000
            + std::process::id() * 7919
            + COUNTER.fetch_add(1, Ordering::Relaxed) * 104_729)
            % 8_000_000
}

/// A temporary root directory, deleted on drop.
pub struct TempRoot(pub PathBuf);

impl TempRoot {
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "robodeploy-process-test-{tag}-{}-{}",
            std::process::id(),
            unique()
        ));
        TempRoot(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn builder(root: &TempRoot) -> ProcessRuntimeBuilder {
    ProcessRuntime::builder(root.path()).shim(Shim::Program(SHIM.into()))
}

/// A runtime on a fresh root that kills what it started when dropped (a failing test leaves
/// nothing behind).
pub fn runtime(tag: &str) -> (ProcessRuntime, TempRoot) {
    let root = TempRoot::new(tag);
    let rt = builder(&root).kill_on_drop(true).build().expect("runtime");
    (rt, root)
}

/// A spec for executable `executable` of component `component` running `argv`.
pub fn spec(component: &str, executable: &str, argv: &[&str]) -> InstanceSpec {
    let mut spec = InstanceSpec::new(
        DeploymentId::from_u128(u128::from(unique())),
        component,
        executable,
        "demo",
        "1",
    );
    spec.command = argv.iter().map(|s| (*s).to_owned()).collect();
    spec
}

/// The next event about `id` (others are skipped), within `within`.
pub async fn next_event(rx: &mut EventReceiver, id: &InstanceId, within: Duration) -> RuntimeEvent {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no event for {id} within {within:?}"))
            .expect("event stream open");
        if &ev.instance == id {
            return ev;
        }
    }
}

/// The exit code of the next event about `id`, which must be an exit.
pub async fn next_exit(rx: &mut EventReceiver, id: &InstanceId) -> (i32, bool) {
    match next_event(rx, id, Duration::from_secs(10)).await.kind {
        RuntimeEventKind::Exited {
            exit_code,
            stopped_manually,
            ..
        } => (exit_code, stopped_manually),
        other => panic!("expected an exit of {id}, got {other:?}"),
    }
}

/// `args` as `/proc/<pid>/cmdline` holds them: each followed by a NUL.
fn cmdline_of(args: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for arg in args {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// Pids of processes whose command line (NUL-separated argv) satisfies `matches`. A zombie's
/// command line is empty, so a test of a non-empty one sees live processes only.
fn processes_where(matches: impl Fn(&[u8]) -> bool) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| matches(&c)) {
            found.push(pid);
        }
    }
    found
}

/// Pids of live processes whose argv is exactly `argv`.
pub fn processes_with_argv(argv: &[&str]) -> Vec<u32> {
    let wanted = cmdline_of(argv);
    processes_where(|c| c == wanted)
}

/// Pids of live processes whose argv ends with `tail` (whatever the program).
pub fn processes_with_argv_ending(tail: &[&str]) -> Vec<u32> {
    let wanted = cmdline_of(tail);
    processes_where(|c| c.ends_with(&wanted))
}

/// Asserts that every call naming `id` on `rt` answers `NoSuchInstance`.
pub async fn assert_no_such_instance(rt: &ProcessRuntime, id: &InstanceId) {
    use robodeploy_core::runtime::RuntimeError::NoSuchInstance;
    let name = &id.0;
    assert!(
        matches!(rt.inspect(id).await, Err(NoSuchInstance(_))),
        "inspect {name:?}"
    );
    assert!(
        matches!(rt.stop(id, Duration::ZERO).await, Err(NoSuchInstance(_))),
        "stop {name:?}"
    );
    assert!(
        matches!(rt.remove(id).await, Err(NoSuchInstance(_))),
        "remove {name:?}"
    );
    assert!(
        matches!(
            rt.exec(id, &["true".to_owned()]).await,
            Err(NoSuchInstance(_))
        ),
        "exec {name:?}"
    );
    assert!(
        matches!(
            rt.logs(id, Default::default()).await,
            Err(NoSuchInstance(_))
        ),
        "logs {name:?}"
    );
}

/// The process group of a live process.
pub fn pgrp(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// Waits until `cond` holds, polling; false if it did not within `within`.
pub async fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether, within `within`, exactly `count` processes run with this argv (0: none is left).
pub async fn processes_become(argv: &[&str], count: usize, within: Duration) -> bool {
    eventually(within, || processes_with_argv(argv).len() == count).await
}
