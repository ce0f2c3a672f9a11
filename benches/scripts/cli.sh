#!/usr/bin/env bash
# Figures of the `robodeploy` CLI against a real `robodeploy serve` (release build), on a fresh
# state directory:
#   1. `robodeploy get deployments` with 1,000 live deployments (100 robots x 10), wall time
#      per call (goal <= 100 ms), and `-o json`;
#   2. `robodeploy apply --no-wait` of a fleet file of 10,000 robots (registering them), and
#      the same file again (unchanged).
# Usage: bash benches/scripts/cli.sh [RUNS]   (RUNS calls per figure, default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}

cargo build --release --locked -p robodeploy-cli --bin robodeploy >/dev/null
bin=$PWD/target/release/robodeploy
work=$(mktemp -d)
export ROBODEPLOY_STATE_DIR=$work/state
"$bin" serve --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server=$!
cleanup() {
  "$bin" get deployments -o json 2>/dev/null | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["id"])' | while read -r id; do "$bin" deprovision "$id" >/dev/null 2>&1 || true; done
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 300); do [ -s "$work/state/endpoint" ] && break; sleep 0.1; done

# Milliseconds of wall time of each of $runs runs of a command: min, median, max.
timed() {
  python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"min {times[0]:.1f} ms, median {times[len(times)//2]:.1f} ms, max {times[-1]:.1f} ms ({runs} runs)")
PY
}

python3 - "$work/thousand.yaml" <<'PY'
import sys
robots = [f"    - {{name: bench-r{i:03}, architecture: amd64, runtime: preinstalled}}" for i in range(100)]
docs = ["apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: bench\n  robots:\n" + "\n".join(robots),
        "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: idle\n  version: \"1.0.0\"\n  components:\n"
        "    - name: idle\n      placement: {kind: device, runtime: preinstalled, architecture: amd64}\n"
        "      restartPolicy: always\n      executables:\n        - name: idle\n          command: [\"sleep\", \"3600\"]"]
for i in range(1000):
    docs.append(f"apiVersion: robodeploy/v1\nkind: Deployment\nspec:\n  name: idle-{i:04}\n  package: idle\n"
                f"  version: \"1.0.0\"\n  devices: {{idle: bench-r{i % 100:03}}}")
open(sys.argv[1], "w").write("\n---\n".join(docs) + "\n")
PY
start=$(date +%s.%N)
"$bin" apply -f "$work/thousand.yaml" --min-uptime 0s --timeout 10m > /dev/null
echo "apply of 1,000 deployments on 100 robots, until all Running: $(python3 -c "print(f'{($(date +%s.%N) - $start):.1f} s')")"
echo "get deployments (1,000, table): $(timed "$bin" get deployments)"
echo "get deployments (1,000, -o json): $(timed "$bin" get deployments -o json)"

python3 - "$work/fleet.yaml" <<'PY'
import sys
robots = [f"    - {{name: fleet-r{i:05}, architecture: amd64, runtime: preinstalled}}" for i in range(10000)]
open(sys.argv[1], "w").write("apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: big\n  robots:\n" + "\n".join(robots) + "\n")
PY
start=$(date +%s.%N)
"$bin" apply -f "$work/fleet.yaml" --no-wait > /dev/null
echo "apply of a 10,000-robot fleet file (registering every robot): $(python3 -c "print(f'{($(date +%s.%N) - $start):.2f} s')")"
echo "the same file again (unchanged): $(runs=5 timed "$bin" apply -f "$work/fleet.yaml" --no-wait)"
