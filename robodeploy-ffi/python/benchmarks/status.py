"""The cost of one status call for a running deployment through the Python package (ctypes
over the C ABI, JSON decoded into a dict): the median of 15 timeit repeats of 2,000 calls.

    ROBODEPLOY_LIB=target/release/librobodeploy.so python3 robodeploy-ffi/python/benchmarks/status.py
"""

from __future__ import annotations

import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import robodeploy  # noqa: E402

DEVICE = {"name": "r1", "architecture": "amd64", "runtime": "preinstalled"}
PACKAGE = {"name": "demo", "version": "1", "components": [{
    "name": "main",
    "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
    "executables": [{"name": "node", "command": ["/usr/bin/demo-node"]}]}]}
REQUEST = {"name": "d1", "package": "demo", "version": "1", "devices": {"main": "r1"}}

CALLS = 2_000
REPEATS = 15


def main() -> None:
    with robodeploy.Engine() as engine:
        engine.add_memory_device(DEVICE)
        engine.add_package(PACKAGE)
        dep = engine.deploy(REQUEST)
        dep.wait("running", timeout=20)
        assert dep.status()["status"] == "Running"
        runs = timeit.repeat(dep.status, number=CALLS, repeat=REPEATS)
    per_call = [r / CALLS * 1e6 for r in runs]
    print(f"status/python: median {statistics.median(per_call):.2f} µs per call "
          f"(min {min(per_call):.2f}, max {max(per_call):.2f}; {REPEATS} × {CALLS} calls)")


if __name__ == "__main__":
    main()
