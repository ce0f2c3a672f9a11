"""Environment values stay secret through the Python package (issue 16): a deployment and a
deployment job on a process robot carry a canary value; the executables get it, and it appears
in no status, job report, event, log line, error message or file the engine writes but the
store and the instance records (0600)."""

from __future__ import annotations

import json
import os
import stat

import pytest

import robodeploy
from robodeploy.errors import RobodeployError

from conftest import ROBOT, package, request

CANARY = "canary-41c9-through-python"


def _files(root: str) -> dict:
    """Every file under ``root`` but the store and the instance records, by path."""
    seen = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISREG(mode):
                continue
            if name in ("engine.redb", "instance.json"):
                assert stat.S_IMODE(mode) == 0o600, path
                continue
            with open(path, "rb") as f:
                seen[path] = f.read().decode("utf-8", "replace")
    return seen


def test_a_canary_environment_value_is_in_no_output(process_engine: robodeploy.Engine, tmp_path) -> None:
    e = process_engine
    seen = []
    events = e.subscribe()
    e.add_package(package("svc", ['test -n "$API_TOKEN" && echo svc has its token; exec sleep 60'],
                          shell=True))
    dep = e.deploy(dict(request("svc", "svc"), env={"API_TOKEN": CANARY}))
    seen.append(dep.wait("running", timeout=30))
    seen.append(dep.status())
    seen.append(repr(dep))
    # The line is written once the executable runs: follow until it comes (never a snapshot).
    with dep.follow("main", "main", tail=None) as stream:
        first = stream.next(timeout=20)
    assert first["line"] == "svc has its token"
    seen.append(first)
    seen.append(dep.logs("main", "main"))

    e.add_package(dict(package("app", ['test -n "$JOB_TOKEN" && echo app has its token; exec sleep 60'],
                               shell=True), version="2"))
    e.add_fleet({"name": "lab", "robots": [ROBOT]})
    job = e.create_job({
        "fleet": "lab", "application": "app", "applicationVersion": "2",
        "launchConfig": {"packageName": "app", "launchFile": "app.launch",
                         "environmentVariables": {"JOB_TOKEN": CANARY}},
        "deploymentConfig": {"concurrentDeploymentPercentage": 100, "failureThresholdPercentage": 100},
    })
    report = job.wait(timeout=60)
    assert report["status"] == "Succeeded", report
    seen.append(report)
    seen.append(repr(job))

    # Refusals name the field, never the value.
    refusals = [
        lambda: e.deploy(dict(request("bad", "svc"), env={"API_TOKEN": CANARY + "x" * 1100})),
        lambda: e.deploy(dict(request("bad", "svc"), env={"lower": CANARY})),
        lambda: e.create_job({
            "fleet": "lab", "application": "app", "applicationVersion": "2",
            "launchConfig": {"packageName": "app", "launchFile": "app.launch",
                             "environmentVariables": {"AWS_TOKEN": CANARY, "JOB": CANARY * 40}},
            "deploymentConfig": {"concurrentDeploymentPercentage": 100,
                                 "failureThresholdPercentage": 100},
        }),
    ]
    for refuse in refusals:
        with pytest.raises(RobodeployError) as err:
            refuse()
        seen.append(str(err.value))
        seen.append(repr(err.value))
        seen.append(getattr(err.value, "report", None))

    dep.deprovision()
    seen.append(dep.wait("stopped", timeout=30))
    while True:
        try:
            seen.append(events.next(timeout=0.5))
        except robodeploy.errors.TimeoutError:
            break
    events.close()
    e.shutdown()

    text = json.dumps(seen, default=str)
    assert "svc has its token" in text
    assert CANARY not in text, [str(s)[:300] for s in seen if CANARY in json.dumps(s, default=str)]
    for path, content in _files(str(tmp_path)).items():
        assert CANARY not in content, path
