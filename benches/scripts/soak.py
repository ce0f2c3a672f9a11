#!/usr/bin/env python3
"""A soak of `robodeploy serve` (issue 16): long run, crashes, jobs, churn and engine kills.

What runs, on a fresh state directory, against a release build of the CLI:
  * a fleet of 100 local robots (process runtime);
  * 200 deployments of one executable under restartPolicy Always, two per robot; a fifth of them
    crash (exit 3) after 30 to 120 s, every time they start;
  * a deployment job of a new version of a second package on the whole fleet every JOB_EVERY
    seconds (100 more executables, each job replacing the last version);
  * every CHURN_EVERY seconds, five worker deployments deprovisioned and deployed again under new
    names;
  * every KILL_EVERY seconds, the server killed with SIGKILL and started again on the same state.

Every worker appends its pid to a file of its own each time it starts, so starts are counted
outside the engine. At the end, with the churn and the kills stopped, the script checks:
  * restarts counted exactly: for every live worker deployment, the engine's restartCount is the
    number of its starts minus one;
  * nothing duplicated: at most one process of every worker's runs, and none of a deprovisioned
    one's;
  * nothing lost: the server holds exactly the deployments the script made, every job ended
    Succeeded, and every robot runs the last version of the job's package.
It samples the server's RSS, open file descriptors, threads and the store's size every SAMPLE
seconds and prints them at the start and end of every server life (between two kills), so
growth across the hour shows.

Usage: python3 benches/scripts/soak.py [--duration 3600] [--kill-every 600] [--job-every 180]
                                       [--churn-every 60] [--keep] [--wrap CMD]
Exit status 0 when every check holds, 1 otherwise.
"""

import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROBOTS = 100
WORKERS = 200
CRASHY_EVERY = 5  # one worker in five crashes
CHURN = 5
SAMPLE = 30

WORKER_CMD = (
    'echo $$ >> "$SOAK_MARK"; '
    'if [ "$SOAK_CRASHY" = 1 ]; then '
    "sleep $(( $(od -An -N1 -tu1 /dev/urandom) % 91 + 30 )); exit 3; fi; "
    "exec sleep 1000000"
)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Soak:
    def __init__(self, args):
        self.args = args
        self.repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        self.bin = os.path.join(self.repo, "target", "release", "robodeploy")
        self.work = tempfile.mkdtemp(prefix="robodeploy-soak-")
        self.state = os.path.join(self.work, "state")
        self.marks = os.path.join(self.work, "marks")
        os.makedirs(self.marks)
        self.env = dict(os.environ, ROBODEPLOY_STATE_DIR=self.state, NO_COLOR="1")
        self.server = None
        self.lives = []  # per server life: list of samples
        self.live_workers = {}  # name -> crashy
        self.gone_workers = []
        self.generation = {}  # slot -> generation
        self.job_version = 0
        self.jobs = []
        self.kills = 0
        self.failures = []

    # -- the server -------------------------------------------------------------------------
    def start_server(self):
        endpoint = os.path.join(self.state, "endpoint")
        if os.path.exists(endpoint):
            os.remove(endpoint)
        out = open(os.path.join(self.work, "serve.log"), "ab")
        wrap = shlex.split(self.args.wrap) if self.args.wrap else []
        self.server = subprocess.Popen(
            wrap
            + [self.bin, "serve", "--listen", "127.0.0.1:0"]
            + (["--job-retention", self.args.job_retention] if self.args.job_retention else [])
            + (
                ["--deployment-retention", self.args.deployment_retention]
                if self.args.deployment_retention
                else []
            ),
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(600):
            if os.path.exists(endpoint) and os.path.getsize(endpoint) > 0:
                break
            if self.server.poll() is not None:
                raise SystemExit(f"serve exited ({self.server.returncode}); see {out.name}")
            time.sleep(0.1)
        else:
            raise SystemExit("serve did not write its endpoint within 60 s")
        self.lives.append([])

    def server_pid(self):
        """The server's own pid: the wrapper's descendant running the binary, if wrapped."""
        if not self.args.wrap:
            return self.server.pid
        for _ in range(100):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        argv = f.read().split(b"\0")
                    if argv[:2] != [self.bin.encode(), b"serve"]:
                        continue
                    with open(f"/proc/{entry}/environ", "rb") as f:
                        if self.state.encode() in f.read():
                            return int(entry)
                except OSError:
                    continue
            time.sleep(0.1)
        raise RuntimeError("the wrapped server's process was not found")

    def kill_server(self):
        os.kill(self.server_pid(), signal.SIGKILL)
        self.server.wait()
        self.kills += 1

    def cli(self, *argv, check=True):
        out = subprocess.run(
            [self.bin, *argv], env=self.env, capture_output=True, text=True, timeout=600
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"robodeploy {' '.join(argv)}: exit {out.returncode}\n{out.stderr}")
        return out

    def get(self, what):
        # The server may be starting again after a kill: retry for a while.
        for attempt in range(60):
            out = self.cli("get", what, "-o", "json", check=False)
            if out.returncode == 0:
                return json.loads(out.stdout)
            time.sleep(1)
        raise RuntimeError(f"get {what}: {out.stderr}")

    def apply(self, text, wait=False):
        path = os.path.join(self.work, "apply.yaml")
        with open(path, "w") as f:
            f.write(text)
        argv = ["apply", "-f", path]
        argv += ["--min-uptime", "0s", "--timeout", "20m"] if wait else ["--no-wait"]
        for attempt in range(30):
            out = self.cli(*argv, check=False)
            if out.returncode == 0:
                return
            # A server killed mid-apply: applying the same file again completes it.
            time.sleep(2)
        raise RuntimeError(f"apply: {out.stderr}")

    def sample(self):
        pid = self.server_pid()
        try:
            with open(f"/proc/{pid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except FileNotFoundError:
            return
        store = sum(
            os.path.getsize(os.path.join(self.state, n))
            for n in os.listdir(self.state)
            if n.endswith(".redb")
        )
        sample = {
            "t": time.time(),
            "rss_kib": int(status["VmRSS"].split()[0]),
            "threads": int(status["Threads"]),
            "fds": fds,
            "store": store,
        }
        self.lives[-1].append(sample)
        # Every sample, for plotting or reading by hand: one JSON object a line.
        with open(os.path.join(self.work, "samples.jsonl"), "a") as f:
            f.write(json.dumps(dict(sample, life=len(self.lives))) + "\n")

    # -- what the script deploys ------------------------------------------------------------
    def fleet_doc(self):
        robots = "\n".join(
            f"    - {{name: soak-r{i:03}, architecture: amd64, runtime: preinstalled}}"
            for i in range(ROBOTS)
        )
        return f"apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: soak\n  robots:\n{robots}\n"

    def worker_package(self):
        return (
            "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: worker\n  version: \"1\"\n"
            "  components:\n    - name: w\n"
            "      placement: {kind: device, runtime: preinstalled, architecture: amd64}\n"
            "      restartPolicy: always\n      executables:\n        - name: w\n"
            f"          command: [\"sh\", \"-c\", {json.dumps(WORKER_CMD)}]\n"
        )

    def worker_doc(self, slot):
        gen = self.generation.get(slot, 0)
        name = f"w{slot:03}-g{gen}"
        crashy = slot % CRASHY_EVERY == 0
        self.live_workers[name] = crashy
        mark = os.path.join(self.marks, name)
        return (
            f"apiVersion: robodeploy/v1\nkind: Deployment\nspec:\n  name: {name}\n"
            f"  package: worker\n  version: \"1\"\n  devices: {{w: soak-r{slot % ROBOTS:03}}}\n"
            f"  env: {{SOAK_MARK: {json.dumps(mark)}, SOAK_CRASHY: \"{int(crashy)}\"}}\n"
        )

    def job_docs(self):
        self.job_version += 1
        v = self.job_version
        # A file is validated whole: the job's fleet comes with it (unchanged, so untouched).
        return self.fleet_doc() + "---\n" + (
            "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: app\n"
            f"  version: \"{v}.0.0\"\n  components:\n    - name: app\n"
            "      placement: {kind: device, runtime: preinstalled, architecture: amd64}\n"
            "      restartPolicy: always\n      executables:\n        - name: app\n"
            f"          command: [\"sh\", \"-c\", \"exec sleep 1000000 # app {v}\"]\n"
            "---\napiVersion: robodeploy/v1\nkind: DeploymentJob\nspec:\n  fleet: soak\n"
            f"  application: app\n  applicationVersion: \"{v}.0.0\"\n"
            "  launchConfig: {packageName: app, launchFile: app.launch.py}\n"
            "  deploymentConfig: {concurrentDeploymentPercentage: 20, "
            "failureThresholdPercentage: 10}\n"
        )

    # -- the run ----------------------------------------------------------------------------
    def setup(self):
        self.start_server()
        docs = [self.fleet_doc(), self.worker_package()]
        docs += [self.worker_doc(slot) for slot in range(WORKERS)]
        self.apply("---\n".join(docs), wait=False)
        self.wait_running()
        log(f"{WORKERS} workers applied on {ROBOTS} robots")

    def wait_running(self, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            deps = {d["name"]: d for d in self.get("deployments")}
            if all(n in deps and deps[n]["phase"] == "Succeeded" for n in self.live_workers):
                return
            time.sleep(2)
        raise RuntimeError("workers not all Succeeded (provisioned) within the timeout")

    def churn(self):
        slots = random.sample(range(WORKERS), CHURN)
        for slot in slots:
            name = f"w{slot:03}-g{self.generation.get(slot, 0)}"
            for attempt in range(30):
                out = self.cli("deprovision", name, check=False)
                if out.returncode == 0:
                    break
                time.sleep(2)
            else:
                raise RuntimeError(f"deprovision {name}: {out.stderr}")
            del self.live_workers[name]
            self.gone_workers.append(name)
            self.generation[slot] = self.generation.get(slot, 0) + 1
        # A file is validated whole: the deployments' package and robots come with them.
        docs = [self.fleet_doc(), self.worker_package()]
        self.apply("---\n".join(docs + [self.worker_doc(s) for s in slots]))

    def run(self):
        a = self.args
        self.setup()
        t0 = time.time()
        next_kill = t0 + a.kill_every
        next_job = t0
        next_churn = t0 + a.churn_every
        next_sample = t0
        while time.time() - t0 < a.duration:
            now = time.time()
            if now >= next_sample:
                self.sample()
                next_sample = now + SAMPLE
            if now >= next_job:
                self.apply(self.job_docs())
                log(f"job for app {self.job_version}.0.0 applied")
                next_job = now + a.job_every
            if now >= next_churn:
                self.churn()
                next_churn = now + a.churn_every
            if now >= next_kill:
                self.sample()
                self.kill_server()
                log(f"server killed (SIGKILL #{self.kills}), starting it again")
                self.start_server()
                next_kill = now + a.kill_every
            time.sleep(1)
        self.sample()
        log("chaos over; checking")
        self.check()

    # -- the checks -------------------------------------------------------------------------
    def fail(self, msg):
        self.failures.append(msg)
        log(f"FAIL: {msg}")

    def alive(self, name):
        """The pids of `name`'s starts that still run as that worker. A pid alone is not
        trusted: pids are reused (pid_max is 32768 here), so the process must carry the
        worker's own mark in its environment."""
        mark = f"SOAK_MARK={os.path.join(self.marks, name)}".encode()
        alive = []
        for p in self.pids(name):
            try:
                with open(f"/proc/{p}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        alive.append(p)
            except OSError:
                pass
        return alive

    def pids(self, name):
        path = os.path.join(self.marks, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [int(x) for x in f.read().split()]

    def check(self):
        # Jobs end first: every one Succeeded, each a new version.
        deadline = time.time() + 900
        while True:
            jobs = self.get("jobs")
            if all(j["status"] not in ("Pending", "InProgress") for j in jobs):
                break
            if time.time() > deadline:
                self.fail("jobs still running 15 min after the end")
                break
            time.sleep(5)
        # Under a short --job-retention the oldest are deleted: fewer, never more, and the
        # newest always there.
        expected_ok = (
            0 < len(jobs) <= self.job_version
            if self.args.job_retention
            else len(jobs) == self.job_version
        )
        if not expected_ok:
            self.fail(f"{len(jobs)} jobs on the server, {self.job_version} applied")
        for j in jobs:
            if j["status"] != "Succeeded":
                self.fail(f"job {j['id']} (app {j.get('version')}) ended {j['status']}")
        # Deprovisioned deployments stay listed, stopped: what runs is every other one.
        deps = {
            d["name"]: d
            for d in self.get("deployments")
            if d["phase"] not in ("DeploymentStopped", "PartiallyDeprovisioned")
        }
        latest = f"{self.job_version}.0.0"
        apps = [d for d in deps.values() if d["package"] == "app"]
        running_latest = [
            d for d in apps if d["version"] == latest and d["phase"] == "Succeeded"
        ]
        if len(running_latest) != ROBOTS:
            self.fail(f"{len(running_latest)} robots run app {latest}, expected {ROBOTS}")
        workers = {n: d for n, d in deps.items() if d["package"] == "worker"}
        if set(workers) != set(self.live_workers):
            self.fail(
                f"worker deployments differ: missing {sorted(set(self.live_workers) - set(workers))}, "
                f"unexpected {sorted(set(workers) - set(self.live_workers))}"
            )
        starts = 0
        restarts = 0
        for name in sorted(self.live_workers):
            if name not in workers:
                continue
            for attempt in range(20):
                before = self.get_one(name)
                pids = self.pids(name)
                after = self.get_one(name)
                alive = self.alive(name)
                if (
                    before == after
                    and before == len(pids) - 1
                    and len(alive) <= 1
                    and (not alive or alive[-1] == pids[-1])
                ):
                    break
                time.sleep(1)
            else:
                self.fail(
                    f"{name}: engine counts {after} restarts, {len(pids)} starts seen, "
                    f"{len(alive)} alive"
                )
            starts += len(pids)
            restarts += after
        for name in self.gone_workers:
            alive = self.alive(name)
            if alive:
                self.fail(f"{name} was deprovisioned but pids {alive} still run")
        self.summary = {"starts": starts, "restarts": restarts}

    def get_one(self, name):
        out = self.cli("describe", "deployment", name, "-o", "json", check=False)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout)["restartCount"]

    def report(self):
        print()
        print(f"server lives: {len(self.lives)} (SIGKILL {self.kills} times); jobs: {self.job_version}; "
              f"workers deprovisioned and deployed again: {len(self.gone_workers)}")
        if hasattr(self, "summary"):
            print(f"live workers: {len(self.live_workers)}, starts seen {self.summary['starts']}, "
                  f"restarts counted by the engine {self.summary['restarts']}")
        print("life  samples  at start (RSS MiB, threads, fds, store MiB)  at end")
        for i, life in enumerate(self.lives):
            if not life:
                continue
            f, l = life[0], life[-1]
            fmt = lambda s: (f"{s['rss_kib'] / 1024:7.1f} {s['threads']:4d} {s['fds']:5d} "
                             f"{s['store'] / 2**20:7.2f}")
            print(f"{i + 1:4d}  {len(life):7d}  {fmt(f)}                  {fmt(l)}")
        print("RSS MiB every 5 minutes of each life:")
        for i, life in enumerate(self.lives):
            if life:
                t0 = life[0]["t"]
                picks, next_at = [], 0.0
                for sample in life:
                    if sample["t"] - t0 >= next_at:
                        picks.append(f"{sample['rss_kib'] / 1024:.1f}")
                        next_at += 300
                print(f"  life {i + 1}: " + " ".join(picks) + f" (end {life[-1]['rss_kib'] / 1024:.1f})")
        print("checks:", "all hold" if not self.failures else f"{len(self.failures)} failed")
        for f in self.failures:
            print("  -", f)

    def cleanup(self):
        if self.server and self.server.poll() is None:
            for name in list(self.live_workers):
                self.cli("deprovision", name, check=False)
            for d in self.get("deployments"):
                self.cli("deprovision", d["name"], check=False)
            os.kill(self.server_pid(), signal.SIGTERM)
            self.server.wait()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"kept {self.work}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=3600)
    p.add_argument("--kill-every", type=int, default=600)
    p.add_argument("--job-every", type=int, default=180)
    p.add_argument("--churn-every", type=int, default=60)
    p.add_argument("--job-retention", help="the server's --job-retention (default: its own, 90 days)")
    p.add_argument(
        "--deployment-retention",
        help="the server's --deployment-retention (default: its own, 90 days)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument(
        "--wrap",
        help="run the server under this command, e.g. 'heaptrack -o DIR/serve' for a heap profile",
    )
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args()
    soak = Soak(args)
    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-p", "robodeploy-cli", "--bin", "robodeploy"],
            cwd=soak.repo,
            check=True,
        )
    try:
        soak.run()
    finally:
        soak.report()
        soak.cleanup()
    sys.exit(1 if soak.failures else 0)


if __name__ == "__main__":
    main()
