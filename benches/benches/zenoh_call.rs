//! One runtime call through a remote robot's agent over Zenoh on loopback, against the same
//! call on the local runtime, and one agent's idle footprint as a process (issue 13).
//!
//! - `zenoh_call/memory_local` and `memory_zenoh`: `inspect` of a running instance of a
//!   `MemoryRuntime`, called directly or through a `ZenohRuntime` whose agent runs in this
//!   process (orchestrator with an embedded router on `tcp/127.0.0.1`, agent as a client of it).
//! - `zenoh_call/process_local` and `process_agent`: `inspect` of `/bin/sleep 600` on a
//!   `ProcessRuntime` in this process, or through a separate `robodeploy-agent --runtime
//!   process` process linked to the same router (the instance is started through the
//!   `ZenohRuntime`, stopped and removed at the end).
//!
//! Besides criterion's mean, each pair is also timed call by call (20,000 calls after 1,000 of
//! warm-up) and printed as `zenoh_call/<name>: p50 … p99 … p999 …`, with the latency the
//! remote call adds at p50 and p99. Then `agent_idle:` gives a fresh agent process's `VmRSS`
//! 10 s after it linked, and the CPU it used over the next 30 s idle (utime + stime from
//! `/proc/<pid>/stat`).
//!
//! The agent binary is `$ROBODEPLOY_AGENT` when set, else `robodeploy-agent` next to this
//! bench's directory (`target/release`, where `cargo build --profile bench -p robodeploy-zenoh
//! --bin robodeploy-agent` puts it); without it the process half is skipped with a message.
//! The local process runtime's shim is `robodeploy-process-shim` from the same directory
//! (`cargo build --profile bench -p robodeploy-process --bin robodeploy-process-shim`), else
//! this bench binary serves as its own shim.

mod support;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use robodeploy_core::model::{DeploymentId, DeviceRuntime};
use robodeploy_core::runtime::{InstanceId, InstanceSpec, InstanceState, MemoryRuntime, Runtime};
use robodeploy_process::{ProcessRuntime, Shim};
use robodeploy_zenoh::{Agent, LinkConfig, Orchestrator, ZenohRuntime};
use support::{free_port, root, tokio};
use tokio::runtime::Runtime as Tokio;

/// Calls timed one by one for the percentiles.
const CALLS: usize = 20_000;
/// Calls made before those, untimed.
const WARM_UP: usize = 1_000;

/// A binary built beside this bench (`target/release/<name>`), or `None`.
fn sibling(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn agent_binary() -> Option<PathBuf> {
    std::env::var_os("ROBODEPLOY_AGENT")
        .map(PathBuf::from)
        .or_else(|| sibling("robodeploy-agent"))
}

fn sleeper(n: u128, name: &str, command: &[&str]) -> InstanceSpec {
    let mut spec = InstanceSpec::new(DeploymentId::from_u128(n), "bench", name, "bench", "1");
    spec.command = command.iter().map(|s| (*s).to_owned()).collect();
    spec
}

/// A `robodeploy-agent` process, stopped with SIGTERM (and reaped) when dropped.
struct AgentProcess {
    child: Child,
    state: PathBuf,
}

impl AgentProcess {
    fn spawn(binary: &Path, port: u16, robot: &str, tag: &str) -> AgentProcess {
        let state = root(tag);
        let _ = std::fs::remove_dir_all(&state);
        let child = Command::new(binary)
            .args(["--robot", robot, "--runtime", "process", "--state-dir"])
            .arg(&state)
            .args(["--connect", &format!("tcp/127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the agent starts");
        AgentProcess { child, state }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// Waits until `rt`'s agent is up and greeted, at most 30 s.
async fn until_up(rt: &ZenohRuntime) {
    let began = Instant::now();
    while rt.health().await.is_err() {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the agent of robot {} is not up within 30 s",
            rt.robot()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn running(rt: &dyn Runtime, id: &InstanceId) {
    let info = rt.inspect(id).await.expect("inspect");
    assert!(
        matches!(info.state, InstanceState::Running { .. }),
        "not running: {:?}",
        info.state
    );
}

/// `CALLS` inspects timed one by one, sorted.
async fn samples(rt: &dyn Runtime, id: &InstanceId) -> Vec<Duration> {
    for _ in 0..WARM_UP {
        black_box(rt.inspect(id).await.expect("inspect"));
    }
    let mut out = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let began = Instant::now();
        black_box(rt.inspect(id).await.expect("inspect"));
        out.push(began.elapsed());
    }
    out.sort_unstable();
    out
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn report(name: &str, sorted: &[Duration]) {
    let mean = sorted.iter().sum::<Duration>() / sorted.len() as u32;
    println!(
        "zenoh_call/{name}: p50 {} p99 {} p999 {} max {} mean {} ({} calls)",
        micros(quantile(sorted, 0.50)),
        micros(quantile(sorted, 0.99)),
        micros(quantile(sorted, 0.999)),
        micros(*sorted.last().expect("samples")),
        micros(mean),
        sorted.len()
    );
}

fn added(remote: &str, local: &str, r: &[Duration], l: &[Duration]) {
    let (r50, l50) = (quantile(r, 0.50), quantile(l, 0.50));
    let (r99, l99) = (quantile(r, 0.99), quantile(l, 0.99));
    println!(
        "zenoh_call/{remote} vs {local}: added p50 {} p99 {} (ratio p50 {:.1}x); goal ≤ 500 µs added at p50: {}",
        micros(r50.saturating_sub(l50)),
        micros(r99.saturating_sub(l99)),
        r50.as_secs_f64() / l50.as_secs_f64(),
        if r50.saturating_sub(l50) <= Duration::from_micros(500) {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}

/// Criterion's mean of `inspect` on `rt`.
fn bench_inspect(
    c: &mut Criterion,
    tokio: &Tokio,
    name: &str,
    rt: &Arc<dyn Runtime>,
    id: &InstanceId,
) {
    let mut group = c.benchmark_group("zenoh_call");
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            tokio.block_on(async {
                let began = Instant::now();
                for _ in 0..iters {
                    black_box(rt.inspect(id).await.expect("inspect"));
                }
                began.elapsed()
            })
        })
    });
    group.finish();
}

fn memory(c: &mut Criterion) {
    let tokio = tokio();
    println!("load before memory pair: {}", load());
    let port = free_port();
    let (orchestrator, agent, agent_session, local) = tokio.block_on(async {
        let orchestrator = support::orchestrator_on(port).await;
        let local = Arc::new(MemoryRuntime::new("r1"));
        let agent_session = LinkConfig::client([format!("tcp/127.0.0.1:{port}")])
            .open()
            .await
            .expect("the agent's session opens");
        let agent = Agent::serve(&agent_session, "r1", local.clone())
            .await
            .expect("the agent serves");
        (orchestrator, agent, agent_session, local)
    });
    let remote = orchestrator
        .runtime("r1", DeviceRuntime::Preinstalled)
        .expect("a robot name");
    let id = tokio.block_on(async {
        until_up(&remote).await;
        let id = remote
            .start(&sleeper(1, "sleeper", &["/bin/sleep", "600"]))
            .await
            .expect("start");
        running(&remote, &id).await;
        id
    });
    let local: Arc<dyn Runtime> = local;
    let remote: Arc<dyn Runtime> = Arc::new(remote);
    bench_inspect(c, &tokio, "memory_local", &local, &id);
    bench_inspect(c, &tokio, "memory_zenoh", &remote, &id);
    let (l, r) = tokio.block_on(async {
        let l = samples(local.as_ref(), &id).await;
        let r = samples(remote.as_ref(), &id).await;
        (l, r)
    });
    report("memory_local", &l);
    report("memory_zenoh", &r);
    added("memory_zenoh", "memory_local", &r, &l);
    println!("load after memory pair: {}", load());
    tokio.block_on(async {
        remote.remove(&id).await.expect("remove");
        agent.close().await;
        let _ = agent_session.close().await;
    });
    drop(remote);
    drop(orchestrator);
}

fn process(c: &mut Criterion) {
    let Some(binary) = agent_binary() else {
        println!(
            "zenoh_call/process_*: SKIPPED, no robodeploy-agent binary (build it with \
             `cargo build --profile bench -p robodeploy-zenoh --bin robodeploy-agent` or set \
             ROBODEPLOY_AGENT)"
        );
        return;
    };
    println!("agent binary: {}", binary.display());
    let tokio = tokio();
    println!("load before process pair: {}", load());
    let port = free_port();
    let orchestrator = tokio.block_on(support::orchestrator_on(port));
    let agent = AgentProcess::spawn(&binary, port, "r1", "agent-calls");
    let remote = orchestrator
        .runtime("r1", DeviceRuntime::Preinstalled)
        .expect("a robot name");
    let _ = std::fs::remove_dir_all(root("local-process"));
    let shim = match sibling("robodeploy-process-shim") {
        Some(p) => Shim::Program(p),
        None => Shim::CurrentExe,
    };
    println!("local shim: {shim:?}");
    // The runtime's supervisor is watched from a Tokio task: it is built inside the runtime.
    let local = tokio.block_on(async {
        ProcessRuntime::builder(root("local-process"))
            .shim(shim)
            .kill_on_drop(true)
            .build()
            .expect("process runtime")
    });
    let spec = sleeper(2, "sleeper", &["/bin/sleep", "600"]);
    let (remote_id, local_id) = tokio.block_on(async {
        until_up(&remote).await;
        let remote_id = remote.start(&spec).await.expect("start remote");
        let local_id = local.start(&spec).await.expect("start local");
        tokio::time::sleep(Duration::from_millis(200)).await;
        running(&remote, &remote_id).await;
        running(&local, &local_id).await;
        (remote_id, local_id)
    });
    let local: Arc<dyn Runtime> = Arc::new(local);
    let remote: Arc<dyn Runtime> = Arc::new(remote);
    bench_inspect(c, &tokio, "process_local", &local, &local_id);
    bench_inspect(c, &tokio, "process_agent", &remote, &remote_id);
    let (l, r) = tokio.block_on(async {
        let l = samples(local.as_ref(), &local_id).await;
        let r = samples(remote.as_ref(), &remote_id).await;
        (l, r)
    });
    report("process_local", &l);
    report("process_agent", &r);
    added("process_agent", "process_local", &r, &l);
    println!("load after process pair: {}", load());
    tokio.block_on(async {
        let grace = Duration::from_secs(5);
        remote.stop(&remote_id, grace).await.expect("stop remote");
        remote.remove(&remote_id).await.expect("remove remote");
        local.stop(&local_id, grace).await.expect("stop local");
        local.remove(&local_id).await.expect("remove local");
    });
    drop(agent);
    drop(local);
    let _ = std::fs::remove_dir_all(root("local-process"));

    idle(&tokio, &orchestrator, &binary, port);
    drop(remote);
    drop(orchestrator);
}

/// The number in field `key` of `/proc/<pid>/status` (kB for the memory fields).
fn status_field(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100)
}

/// A fresh agent process, linked and idle: its RSS after 10 s, its CPU over the next 30 s.
fn idle(tokio: &Tokio, orchestrator: &Orchestrator, binary: &Path, port: u16) {
    const SETTLE: Duration = Duration::from_secs(10);
    const WINDOW: Duration = Duration::from_secs(30);
    println!("load before agent_idle: {}", load());
    let agent = AgentProcess::spawn(binary, port, "idle", "agent-idle");
    let rt = orchestrator
        .runtime("idle", DeviceRuntime::Preinstalled)
        .expect("a robot name");
    tokio.block_on(until_up(&rt));
    std::thread::sleep(SETTLE);
    let pid = agent.pid();
    let rss = status_field(pid, "VmRSS");
    let threads = status_field(pid, "Threads");
    let t0 = cpu_ticks(pid);
    let began = Instant::now();
    std::thread::sleep(WINDOW);
    let ticks = cpu_ticks(pid) - t0;
    let elapsed = began.elapsed();
    let rss_end = status_field(pid, "VmRSS");
    let hwm = status_field(pid, "VmHWM");
    let cpu = Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64);
    println!(
        "agent_idle: VmRSS {:.1} MB after {}s linked, {:.1} MB {}s later (VmHWM {:.1} MB), {} threads; \
         CPU {} ms over {:.1} s idle ({:.3} % of one core); goal ≤ 20 MB RSS: {}",
        rss as f64 / 1024.0,
        SETTLE.as_secs(),
        rss_end as f64 / 1024.0,
        WINDOW.as_secs(),
        hwm as f64 / 1024.0,
        threads,
        cpu.as_millis(),
        elapsed.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64(),
        if rss.max(rss_end) <= 20 * 1024 {
            "met"
        } else {
            "MISSED"
        }
    );
    println!("load after agent_idle: {}", load());
    drop(agent);
}

criterion_group!(benches, memory, process);

fn main() {
    // When no shim binary was built, this binary is the local process runtime's shim.
    robodeploy_process::shim::run_if_requested();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
