#!/usr/bin/env python3
"""The same deployment job over N robots on process runtimes, local and through agents (issue 13).

One run, against release builds of `robodeploy` (robodeploy-cli) and `robodeploy-agent`
(robodeploy-zenoh), alternating the two setups ROUNDS times (local, remote, local, remote, ...):

  local   `robodeploy serve` on a fresh state directory; a fleet of N robots on this machine
          (`runtime: preinstalled`: the server runs a process runtime per robot, each with its
          own supervisor, under the state directory);
  remote  `robodeploy serve --remote LINK` (its embedded Zenoh router listening on
          tcp/127.0.0.1:PORT) on a fresh state directory, and N `robodeploy-agent --runtime
          process` processes, one a robot, each with its own state directory (so its own
          supervisor), linked to that router; the fleet's robots are declared with
          `connection: {agent: NAME}`. Every robot is online before the job.

The job, the same both ways: a DeploymentJob of a package on the whole fleet, 10 % of the fleet
at once, failure threshold 5 %, a short pre-launch script each (`echo`), an application that
stays up (`exec sleep 100000`). After every robot is online, both setups wait SETTLE seconds
(default 10) so that what the agents' start set going is over, then the job is timed: from the
`apply` of its manifest (`--no-wait`) to the return of `robodeploy jobs wait ID --min-uptime 0s`
(wall time, as a user sees it), and by the engine's own clock, from the job's `createdAt` to the
`createdAt` of the last deployment it made (the job's report holds no per-robot times; a robot's
deployment is made after its pre-launch script, before its start).

Printed per setup: the job's times, the time to bring the robots online, the RSS (and PSS, which
splits shared pages) of the server, of the agents (sum) and of the supervisors (sum) after the
job, the CPU time the server, the agents and the supervisors used during the job (and the
whole machine's busy time, other sessions included), the agents' and the server's CPU while
idle before it (and what the rest of the machine used meanwhile, in cores); per round the
ratio remote / local; and every robot's steps, from the engine's events watched during the job
(`robodeploy events -w`, saved beside the job's report): its deployment created (after its
pre-launch script) → prepared (`starting`) → Running, with "in flight per robot" = job wall ×
in-flight limit / robots, the time a robot held its slot, so that what precedes the deployment's
creation (the job's step, the script) is that less created → Running. A process's CPU is the larger of its
utime + stime (/proc/PID/stat, whole clock ticks, so a process that used 4 ms reads 0, but
threads that ended count) and the sum of its live threads' run time in nanoseconds
(/proc/PID/task/*/schedstat); the applications' CPU (their shell's exec into `sleep` and the
start) is counted whole, as they start during the job; "rest" is the machine's busy time less
all of these (the CLI, the pre-launch scripts, the kernel, other sessions). Every process a setup started
(server, agents, supervisors, applications, scripts) carries a mark in its environment and is
killed by it before the next setup starts.

Usage: python3 benches/scripts/agents_job.py [--robots 500] [--rounds 2] [--settle 10] [--nice -10]
                                            [--skip-build] [--keep]
       (CARGO_TARGET_DIR is honoured for where the binaries are built and looked for.)
Exit status 0 when every job succeeded.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MARK = "ROBODEPLOY_AGENTS_JOB_RUN"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """/proc/PID/status as a dict, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None


def rss_kib(pid):
    s = proc_status(pid)
    return int(s["VmRSS"].split()[0]) if s and "VmRSS" in s else 0


def pss_kib(pid):
    """The proportional set size: shared pages (the program's text) split among their users,
    so a sum over many processes of one program is what they take together."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (its own, not its children's)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def cpu_seconds(pid):
    """CPU seconds of a process: the larger of utime + stime (whole ticks, ended threads
    included) and its live threads' run time (ns, /proc/PID/task/*/schedstat)."""
    ticks = cpu_ticks(pid) / TICK
    ns = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    ns += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    except (FileNotFoundError, ProcessLookupError):
        pass
    return max(ticks, ns / 1e9)


def machine_ticks():
    """(busy, total) clock ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


TICK = os.sysconf("SC_CLK_TCK")


def threads(pid):
    s = proc_status(pid)
    return int(s["Threads"]) if s else 0


def marked(run):
    """Pids of every process whose environment holds MARK=run (not this script's)."""
    needle = f"{MARK}={run}".encode()
    pids = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if needle in env:
            pids.append(int(name))
    return pids


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def raise_limits():
    """Open files up to the hard limit (the router holds a socket per agent; inherited by every
    child). Prints the limits that bound N agents' processes and threads."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    if nproc[0] != resource.RLIM_INFINITY and nproc[0] < nproc[1]:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc[1], nproc[1]))

    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return "?"

    log(
        f"limits: open files {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}, user processes "
        f"{resource.getrlimit(resource.RLIMIT_NPROC)[0]}, pid_max {read('/proc/sys/kernel/pid_max')}, "
        f"threads-max {read('/proc/sys/kernel/threads-max')}; tasks now "
        f"{sum(1 for _ in os.scandir('/proc') if _.name.isdigit())} processes"
    )


class Setup:
    """One server (and, remote, its agents) on a fresh directory; everything it starts is marked."""

    def __init__(self, bench, kind):
        self.bench = bench
        self.kind = kind
        self.n = bench.args.robots
        self.run = f"{os.getpid()}-{kind}-{time.time_ns()}"
        self.work = tempfile.mkdtemp(prefix=f"robodeploy-agents-{kind}-")
        self.state = os.path.join(self.work, "state")
        self.env = dict(
            os.environ, ROBODEPLOY_STATE_DIR=self.state, NO_COLOR="1", **{MARK: self.run}
        )
        self.env.pop("ROBODEPLOY_SERVER", None)
        self.env.pop("ROBODEPLOY_TOKEN", None)
        self.server = None
        self.agents = []
        self.port = None
        self.result = {"kind": kind}

    def robot(self, i):
        return f"bench-r{i:04}"

    def cli(self, *argv, timeout=3600):
        out = subprocess.run(
            [self.bench.robodeploy, *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"robodeploy {' '.join(argv)}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
            )
        return out.stdout

    def start_server(self):
        argv = [self.bench.robodeploy, "serve", "--listen", "127.0.0.1:0"]
        if self.kind == "remote":
            self.port = free_port()
            link = os.path.join(self.work, "link.yaml")
            with open(link, "w") as f:
                f.write(f'mode: router\nlisten: ["tcp/127.0.0.1:{self.port}"]\n')
            argv += ["--remote", link]
        out = open(os.path.join(self.work, "serve.log"), "ab")
        self.server = subprocess.Popen(
            argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        endpoint = os.path.join(self.state, "endpoint")
        for _ in range(600):
            if os.path.exists(endpoint) and os.path.getsize(endpoint) > 0:
                return
            if self.server.poll() is not None:
                raise SystemExit(f"serve exited ({self.server.returncode}); see {out.name}")
            time.sleep(0.1)
        raise SystemExit("serve did not write its endpoint within 60 s")

    def start_agents(self):
        robots = os.path.join(self.work, "robots")
        os.makedirs(robots)
        logs = os.path.join(self.work, "agents")
        os.makedirs(logs)
        began = time.perf_counter()
        for i in range(self.n):
            name = self.robot(i)
            with open(os.path.join(logs, f"{name}.log"), "wb") as out:
                self.agents.append(
                    subprocess.Popen(
                        [
                            self.bench.agent,
                            "--robot", name,
                            "--runtime", "process",
                            "--state-dir", os.path.join(robots, name),
                            "--connect", f"tcp/127.0.0.1:{self.port}",
                        ],
                        env=self.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        self.result["agents_spawned_s"] = time.perf_counter() - began
        dead = [a for a in self.agents if a.poll() is not None]
        if dead:
            raise RuntimeError(f"{len(dead)} agents exited at once; see {logs}")

    def fleet_doc(self):
        if self.kind == "remote":
            robot = (
                "    - {{name: {0}, architecture: amd64, runtime: preinstalled, "
                "connection: {{agent: {0}}}}}"
            )
        else:
            robot = "    - {{name: {0}, architecture: amd64, runtime: preinstalled}}"
        robots = "\n".join(robot.format(self.robot(i)) for i in range(self.n))
        return f"apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: bench\n  robots:\n{robots}\n"

    def job_docs(self):
        pre = os.path.join(self.work, "pre-launch.sh")
        with open(pre, "w") as f:
            f.write("#!/bin/sh\necho pre-launch on \"$ROBODEPLOY_ROBOT\"\n")
        os.chmod(pre, 0o755)
        package = (
            "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: app\n  version: \"1.0.0\"\n"
            "  components:\n    - name: main\n"
            "      placement: {kind: device, runtime: preinstalled, architecture: amd64}\n"
            "      restartPolicy: always\n      executables:\n        - name: main\n"
            '          command: ["sh", "-c", "exec sleep 100000"]\n'
        )
        job = (
            "apiVersion: robodeploy/v1\nkind: DeploymentJob\nspec:\n  fleet: bench\n"
            "  application: app\n  applicationVersion: \"1.0.0\"\n  launchConfig:\n"
            "    packageName: app\n    launchFile: app.launch\n"
            f"    preLaunchFile: {json.dumps(pre)}\n"
            f"    environmentVariables: {{{MARK}: {json.dumps(self.run)}}}\n"
            "  deploymentConfig:\n    concurrentDeploymentPercentage: 10\n"
            "    failureThresholdPercentage: 5\n    robotDeploymentTimeout: 10m\n"
        )
        # The fleet goes along: a job names a fleet of the same manifest.
        return self.fleet_doc() + "---\n" + package + "---\n" + job

    def devices_online(self):
        devices = json.loads(self.cli("get", "devices", "-o", "json"))
        return sum(1 for d in devices if d.get("online") is True), len(devices)

    def prepare(self):
        """Server up, agents (remote) up, fleet registered, every robot online."""
        began = time.perf_counter()
        self.start_server()
        if self.kind == "remote":
            self.start_agents()
        fleet = os.path.join(self.work, "fleet.yaml")
        with open(fleet, "w") as f:
            f.write(self.fleet_doc())
        self.cli("apply", "-f", fleet, "--no-wait")
        # A registered device counts as online until its first health check (every 2 s) says
        # otherwise: wait past it, then for every robot to answer.
        time.sleep(3)
        deadline = time.time() + 600
        while True:
            online, total = self.devices_online()
            if online == self.n and total == self.n:
                break
            if time.time() > deadline:
                raise RuntimeError(f"{online} of {self.n} robots online after 10 min")
            time.sleep(1)
        self.result["online_s"] = time.perf_counter() - began
        if self.kind == "remote":
            self.result["agents_rss_idle_kib"] = sum(rss_kib(a.pid) for a in self.agents)

    def job(self):
        path = os.path.join(self.work, "job.yaml")
        with open(path, "w") as f:
            f.write(self.job_docs())
        # The same settling time both ways, so that what the agents' start set going (their
        # sessions, the router's declarations) is over before the job.
        settle_before = self.cpu()
        settle_machine = machine_ticks()
        time.sleep(self.bench.args.settle)
        settle_machine = (machine_ticks()[0] - settle_machine[0]) / TICK
        settle_after = self.cpu()
        # What the rest of the machine (other sessions, the kernel) used while the setup idled,
        # in cores: an estimate of what it takes from the job.
        self.result["rest_idle_cores"] = (
            settle_machine - sum(settle_after[k] - settle_before.get(k, 0) for k in settle_after)
        ) / max(self.bench.args.settle, 0.001)
        self.result["idle_cpu_pct"] = {
            k: 100 * (settle_after[k] - settle_before.get(k, 0)) / max(self.bench.args.settle, 0.001)
            for k in settle_after
        }
        self.result["load_before"] = loadavg()
        cpu_before = self.cpu()
        machine_before = machine_ticks()
        # The engine's events as they happen, for a timeline of every robot's steps.
        events_path = os.path.join(self.bench.out, f"{self.kind}-events.jsonl")
        events_file = open(events_path, "w")
        watcher = subprocess.Popen(
            [self.bench.robodeploy, "events", "-w", "-o", "json"],
            env=self.env, stdout=events_file, stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        began = time.perf_counter()
        self.cli("apply", "-f", path, "--no-wait")
        applied = time.perf_counter()
        jobs = json.loads(self.cli("get", "jobs", "-o", "json"))
        if len(jobs) != 1:
            raise RuntimeError(f"expected one job, got {jobs}")
        job_id = jobs[0]["id"]
        wait = subprocess.run(
            [self.bench.robodeploy, "jobs", "wait", job_id, "--min-uptime", "0s", "--timeout", "60m"],
            env=self.env,
            capture_output=True,
            text=True,
        )
        ended = time.perf_counter()
        machine_after = machine_ticks()
        time.sleep(0.5)
        watcher.terminate()
        watcher.wait()
        events_file.close()
        cpu_after = self.cpu()
        self.result["cpu_s"] = {
            k: cpu_after[k] - cpu_before.get(k, 0) for k in cpu_after if k != "apps"
        }
        # The applications started during the job: all their CPU is the job's.
        self.result["cpu_s"]["applications"] = cpu_after["apps"]
        busy = machine_after[0] - machine_before[0]
        self.result["machine_busy_s"] = busy / TICK
        self.result["cpu_s"]["rest"] = busy / TICK - sum(self.result["cpu_s"].values())
        self.result["machine_busy_pct"] = 100 * busy / max(1, machine_after[1] - machine_before[1])
        self.result["load_after"] = loadavg()
        self.result["apply_s"] = applied - began
        self.result["wall_s"] = ended - began
        report = json.loads(self.cli("describe", "job", job_id, "-o", "json"))
        with open(os.path.join(self.bench.out, f"{self.kind}-report.json"), "w") as f:
            json.dump(report, f)
        self.result["status"] = report.get("status")
        if wait.returncode != 0 or report.get("status") != "Succeeded":
            raise RuntimeError(
                f"job {job_id} did not succeed (jobs wait exit {wait.returncode}): "
                f"{wait.stdout[-2000:]}\n{wait.stderr[-2000:]}\nsee {self.work}"
            )
        # The report holds no per-robot times; the deployments the job made hold their
        # creation time (after the robot's pre-launch script, before its start).
        created = parse_time(report["createdAt"])
        deployments = [
            d for d in json.loads(self.cli("get", "deployments", "-o", "json"))
            if d.get("job") == job_id
        ]
        with open(os.path.join(self.bench.out, f"{self.kind}-deployments.json"), "w") as f:
            json.dump(deployments, f)

        made = sorted(parse_time(d["createdAt"]) - created for d in deployments)
        self.result["deployments"] = len(made)
        self.result["first_deployment_s"] = made[0]
        self.result["last_deployment_s"] = made[-1]
        self.result["steps"] = steps(events_path, {d["id"] for d in deployments}, created)
        self.result["in_sync"] = sum(1 for r in report["robots"] if r.get("status") == "InSync")
        self.sample()

    def cpu(self):
        """CPU seconds so far (cpu_seconds) of the server, the agents (sum), the supervisors (sum;
        a supervisor started during the job counts from zero) and the applications (sum)."""
        agents = {a.pid for a in self.agents}
        out = {"server": cpu_seconds(self.server.pid), "agents": sum(cpu_seconds(p) for p in agents),
               "supervisors": 0.0, "apps": 0.0}
        for p in marked(self.run):
            argv = cmdline(p)
            if argv[1:2] == [b"--robodeploy-process-supervisor"]:
                out["supervisors"] += cpu_seconds(p)
            elif argv[:1] == [b"sleep"]:
                out["apps"] += cpu_seconds(p)
        return out

    def sample(self):
        """RSS after the job: the server, the agents (sum), the supervisors (sum)."""
        self.result["server_rss_kib"] = rss_kib(self.server.pid)
        self.result["server_threads"] = threads(self.server.pid)
        agent_pids = {a.pid for a in self.agents}
        self.result["agents_rss_kib"] = sum(rss_kib(p) for p in agent_pids)
        self.result["agents_pss_kib"] = sum(pss_kib(p) for p in agent_pids)
        self.result["agents_threads"] = sum(threads(p) for p in agent_pids)
        # A supervisor is the server's or the agent's own program run with robodeploy-process's
        # SHIM_ARG first.
        supervisors = [
            p for p in marked(self.run) if cmdline(p)[1:2] == [b"--robodeploy-process-supervisor"]
        ]
        self.result["supervisors"] = len(supervisors)
        self.result["supervisors_rss_kib"] = sum(rss_kib(p) for p in supervisors)
        self.result["supervisors_pss_kib"] = sum(pss_kib(p) for p in supervisors)
        apps = [p for p in marked(self.run) if cmdline(p)[:1] == [b"sleep"]]
        self.result["applications"] = len(apps)

    def cleanup(self):
        """SIGKILL every marked process (server, agents, supervisors, applications, scripts)
        until none is left, then remove the directory."""
        for _ in range(50):
            pids = marked(self.run)
            if self.server and self.server.poll() is None:
                pids.append(self.server.pid)
            pids += [a.pid for a in self.agents if a.poll() is None]
            if not pids:
                break
            for p in set(pids):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.server:
                try:
                    self.server.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            for a in self.agents:
                try:
                    a.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.5)
        else:
            log(f"warning: marked processes left: {marked(self.run)}")
        if self.bench.args.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def parse_time(text):
    """An RFC 3339 time (the API's) as seconds since the epoch, nanoseconds kept."""
    # 2025-01-01T12:00:00.123456789Z or with an offset.
    from datetime import datetime

    date, _, rest = text.partition("T")
    frac = 0.0
    clock = rest
    tz = ""
    for sep in ("Z", "+", "-"):
        if sep in clock:
            idx = clock.index(sep)
            clock, tz = clock[:idx], clock[idx:]
            break
    if "." in clock:
        clock, f = clock.split(".")
        frac = float("0." + f)
    tz = "+00:00" if tz in ("Z", "") else tz
    whole = datetime.fromisoformat(f"{date}T{clock}{tz}").timestamp()
    return whole + frac


def steps(events_path, ids, job_created):
    """Per-robot step times from the engine's events, as watched during the job (each
    deployment event carries `at`): created (after the robot's pre-launch script) → first
    `starting` (prepared) → first Running. Medians and 90th percentiles in seconds, and the
    job's first and last Running after its creation."""
    first = {}
    with open(events_path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") != "deployment" or e.get("id") not in ids:
                continue
            t = first.setdefault(e["id"], {"created": parse_time(e["createdAt"])})
            at = parse_time(e["at"])
            reasons = [x.get("status", {}).get("reason", {}).get("kind") for x in e.get("executables", [])]
            if "starting" in reasons:
                t.setdefault("starting", at)
            if e.get("status") == "Running":
                t.setdefault("running", at)
    done = [t for t in first.values() if "running" in t and "starting" in t]
    if not done:
        return {}

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    out = {"robots": len(done)}
    for name, a, b in (("prepare", "created", "starting"), ("start", "starting", "running"),
                       ("created_to_running", "created", "running")):
        v = [t[b] - t[a] for t in done]
        out[name] = (pct(v, 0.5), pct(v, 0.9), sum(v) / len(v))
    out["first_running_s"] = min(t["running"] for t in done) - job_created
    out["last_running_s"] = max(t["running"] for t in done) - job_created
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(self.repo, "target")
        target = os.path.abspath(os.path.join(self.repo, target))
        self.robodeploy = os.path.join(target, "release", "robodeploy")
        self.agent = os.path.join(target, "release", "robodeploy-agent")
        self.out = tempfile.mkdtemp(prefix="robodeploy-agents-job-")

    def build(self):
        log("building robodeploy and robodeploy-agent (release, --locked)")
        subprocess.run(
            [
                "cargo", "build", "--release", "--locked",
                "-p", "robodeploy-cli", "--bin", "robodeploy",
                "-p", "robodeploy-zenoh", "--bin", "robodeploy-agent",
            ],
            cwd=self.repo,
            check=True,
        )

    def one(self, kind):
        setup = Setup(self, kind)
        log(f"{kind}: {setup.n} robots; load {loadavg()}")
        try:
            setup.prepare()
            log(f"{kind}: every robot online after {setup.result['online_s']:.1f} s; load {loadavg()}")
            setup.job()
        finally:
            setup.cleanup()
        r = setup.result
        log(
            f"{kind}: job wall {r['wall_s']:.2f} s (apply {r['apply_s']:.2f} s), deployments made "
            f"{r['first_deployment_s']:.2f} .. {r['last_deployment_s']:.2f} s after the job's creation; "
            f"server RSS {r['server_rss_kib'] / 1024:.1f} MiB ({r['server_threads']} threads), "
            f"agents RSS {r['agents_rss_kib'] / 1024:.1f} MiB PSS {r['agents_pss_kib'] / 1024:.1f} MiB "
            f"({r['agents_threads']} threads), {r['supervisors']} supervisors RSS "
            f"{r['supervisors_rss_kib'] / 1024:.1f} MiB PSS {r['supervisors_pss_kib'] / 1024:.1f} MiB, "
            f"{r['applications']} applications; load {r['load_before']} -> {r['load_after']}; CPU during "
            f"the job: server {r['cpu_s']['server']:.2f} s, agents {r['cpu_s']['agents']:.2f} s, "
            f"supervisors {r['cpu_s']['supervisors']:.2f} s, applications "
            f"{r['cpu_s']['applications']:.2f} s, rest {r['cpu_s']['rest']:.2f} s; machine busy {r['machine_busy_s']:.2f} s "
            f"({r['machine_busy_pct']:.0f} % of its cores); idle before the job (every robot online, "
            f"nothing deployed): server {r['idle_cpu_pct']['server']:.1f} %, agents "
            f"{r['idle_cpu_pct']['agents']:.1f} % of one core"
        )
        return r

    def main(self):
        raise_limits()
        if not self.args.skip_build:
            self.build()
        for b in (self.robodeploy, self.agent):
            if not os.access(b, os.X_OK):
                raise SystemExit(f"{b} is missing: build it or drop --skip-build")
        if self.args.nice:
            os.nice(self.args.nice)  # inherited by every process the setups start
        log(f"{self.args.robots} robots, {self.args.rounds} rounds, niceness {os.nice(0)}; "
            f"uptime: {uptime()}")
        rounds = []
        for i in range(self.args.rounds):
            local = self.one("local")
            remote = self.one("remote")
            rounds.append((local, remote))
            log(f"round {i + 1}: remote / local = {remote['wall_s'] / local['wall_s']:.2f}x (wall), "
                f"{remote['last_deployment_s'] / local['last_deployment_s']:.2f}x (engine)")
        log(f"uptime: {uptime()}")
        print()
        print("| round | setup | job wall (apply → jobs wait) | job created → last robot's deployment made "
              "| online before | server RSS | agents' RSS (sum) | supervisors' RSS (sum) | load before → after |")
        print("|---|---|---|---|---|---|---|---|---|")
        for i, (local, remote) in enumerate(rounds, 1):
            for r in (local, remote):
                agents = (f"{r['agents_rss_kib'] / 1024:.0f} MiB ({r['agents_rss_kib'] / 1024 / self.args.robots:.1f} each; "
                          f"PSS {r['agents_pss_kib'] / 1024:.0f} MiB)"
                          if r["kind"] == "remote" else "")
                print(
                    f"| {i} | {r['kind']} | {r['wall_s']:.2f} s | {r['last_deployment_s']:.2f} s | "
                    f"{r['online_s']:.1f} s | "
                    f"{r['server_rss_kib'] / 1024:.1f} MiB | {agents} | "
                    f"{r['supervisors_rss_kib'] / 1024:.0f} MiB ({r['supervisors']}; PSS "
                    f"{r['supervisors_pss_kib'] / 1024:.0f} MiB) | "
                    f"{r['load_before']} → {r['load_after']} |"
                )
        print()
        print("| round | setup | job wall | CPU in the job: server | agents | supervisors | applications "
              "| rest | machine busy |")
        print("|---|---|---|---|---|---|---|---|---|")
        for i, (local, remote) in enumerate(rounds, 1):
            for r in (local, remote):
                c = r["cpu_s"]
                print(
                    f"| {i} | {r['kind']} | {r['wall_s']:.2f} s | {c['server']:.2f} s | "
                    f"{c['agents']:.2f} s | {c['supervisors']:.2f} s | {c['applications']:.2f} s | "
                    f"{c['rest']:.2f} s | {r['machine_busy_s']:.2f} s ({r['machine_busy_pct']:.0f} %) |"
                )
        print()
        print("| round | setup | robots timed | created → prepared (p50 / p90 / mean) | prepared → Running "
              "| created → Running | job created → first / last Running | in flight per robot "
              "(wall × limit / robots) |")
        print("|---|---|---|---|---|---|---|---|")
        limit = max(1, self.args.robots // 10)
        for i, (local, remote) in enumerate(rounds, 1):
            for r in (local, remote):
                st = r.get("steps") or {}
                if not st:
                    continue
                fmt = lambda x: f"{x[0] * 1000:.0f} / {x[1] * 1000:.0f} / {x[2] * 1000:.0f} ms"
                print(
                    f"| {i} | {r['kind']} | {st['robots']} | {fmt(st['prepare'])} | {fmt(st['start'])} | "
                    f"{fmt(st['created_to_running'])} | {st['first_running_s']:.2f} / "
                    f"{st['last_running_s']:.2f} s | {r['wall_s'] * limit / self.args.robots * 1000:.0f} ms |"
                )
        print()
        print("\"rest\" while the setup idled before its job (the SETTLE seconds), in cores: "
              + ", ".join(f"round {i} local {l['rest_idle_cores']:.2f}, remote {r['rest_idle_cores']:.2f}"
                          for i, (l, r) in enumerate(rounds, 1)))
        for i, (local, remote) in enumerate(rounds, 1):
            print(f"round {i}: remote / local = {remote['wall_s'] / local['wall_s']:.2f}x wall, "
                  f"{remote['last_deployment_s'] / local['last_deployment_s']:.2f}x by the engine's times")


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--robots", type=int, default=int(os.environ.get("ROBOTS", 500)))
    p.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 2)))
    p.add_argument("--settle", type=float, default=float(os.environ.get("SETTLE", 10)),
                   help="seconds to wait with every robot online before the job (default 10)")
    p.add_argument("--nice", type=int, default=0,
                   help="run the setups at this niceness (e.g. -10, as root), so that other work "
                   "on the machine weighs less in both; the build is not affected")
    p.add_argument("--skip-build", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work directories")
    Bench(p.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
