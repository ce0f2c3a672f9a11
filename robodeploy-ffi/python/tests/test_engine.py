"""The engine through the C ABI: deployments, logs, events, jobs and the error paths."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

import robodeploy
from robodeploy.errors import (
    ConflictError, InvalidArgumentError, InvalidConfigError, InvalidJsonError, NotFoundError,
    NotRunningError, ShutDownError, TimeoutError, ValidationError,
)

from conftest import ROBOT, package, request

FLEET = {"name": "lab", "robots": [ROBOT]}
JOB = {
    "fleet": "lab", "application": "demo", "applicationVersion": "1",
    "launchConfig": {"packageName": "demo", "launchFile": "demo.launch"},
    "deploymentConfig": {"concurrentDeploymentPercentage": 50, "failureThresholdPercentage": 50},
}


def test_deploy_wait_logs_deprovision_in_memory(engine: robodeploy.Engine) -> None:
    engine.add_package(package("demo", ["/usr/bin/demo", "--fast"]))
    events = engine.subscribe()
    seen = []
    stopped = threading.Event()

    def on_event(ev: dict) -> None:
        seen.append(ev)
        if ev.get("phase") == "DeploymentStopped":
            stopped.set()

    engine.on_event(on_event)
    dep = engine.deploy(request("d1", "demo"), token="t-1")
    assert engine.deploy(request("d1", "demo"), token="t-1").id == dep.id
    status = dep.wait("running", timeout=20)
    assert (status["phase"], status["status"]) == ("Succeeded", "Running")
    assert dep.status()["executables"][0]["device"] == "r1"
    assert dep.logs("main", "main") == [{"stream": "stdout", "at": None, "line": "started /usr/bin/demo --fast"}]
    dep.deprovision()
    assert dep.wait("stopped", timeout=20)["phase"] == "DeploymentStopped"
    # The callback runs on its own thread: it sees the last event soon, not necessarily yet.
    assert stopped.wait(timeout=20)
    engine.on_event(None)
    phases = []
    while True:
        try:
            ev = events.next(timeout=0)
        except TimeoutError:
            break
        if ev["event"] == "deployment":
            phases.append(ev["phase"])
    assert phases[-1] == "DeploymentStopped"
    assert "Succeeded" in phases
    assert [e["phase"] for e in seen if e["event"] == "deployment"] == phases
    events.close()


def test_jobs_succeed_and_cancel(engine: robodeploy.Engine) -> None:
    engine.add_package(package("demo", ["/usr/bin/demo"]))
    engine.add_fleet(FLEET)
    report = engine.create_job(JOB).wait(timeout=20)
    assert report["status"] == "Succeeded"
    assert [r["status"] for r in report["robots"]] == ["InSync"]
    held = dict(JOB, deploymentConfig=dict(JOB["deploymentConfig"], waves=[
        {"size": {"robots": 1}, "manualResume": True}]))
    engine.add_memory_device(dict(ROBOT, name="r2"))
    engine.add_fleet({"name": "two", "robots": [ROBOT, dict(ROBOT, name="r2")]})
    job = engine.create_job(dict(held, fleet="two"))
    job.cancel()
    assert job.wait(timeout=20)["status"] == "Canceled"
    assert job.report()["fleet"] == "two"


def test_a_job_rolled_back_returns_its_robots_and_a_second_rollback_is_a_conflict(
    engine: robodeploy.Engine,
) -> None:
    engine.add_package(package("demo", ["/usr/bin/demo"]))
    engine.add_package(dict(package("demo", ["/usr/bin/demo", "--v2"]), version="2"))
    engine.add_fleet(FLEET)
    assert engine.create_job(JOB).wait(timeout=20)["status"] == "Succeeded"
    second = engine.create_job(dict(JOB, applicationVersion="2"))
    assert second.wait(timeout=20)["status"] == "Succeeded"
    second.rollback()
    report = second.wait(timeout=20)
    assert report["status"] == "Canceled"
    assert report["rollback"]["requested"] is True
    assert (report["rollback"]["robots"], report["rollback"]["rolledBack"]) == (1, 1)
    with pytest.raises(ConflictError) as err:
        second.rollback()
    assert "nothing to roll back" in str(err.value)


def test_error_paths(engine: robodeploy.Engine) -> None:
    engine.add_package(package("demo", ["/usr/bin/demo"]))
    with pytest.raises(ValidationError) as err:
        engine.deploy(request("bad", "demo", device="nowhere"))
    assert [(e["path"], e["rule"]) for e in err.value.report["errors"]] == [
        ("spec.devices.main", "UnknownDevice")]
    dep = engine.deploy(request("d1", "demo"))
    with pytest.raises(ConflictError):
        engine.deploy(request("d1", "demo"))
    with pytest.raises(NotFoundError):
        engine.deployment("00000000-0000-0000-0000-000000000009").status()
    with pytest.raises(InvalidArgumentError, match="not-an-id"):
        engine.deployment("not-an-id").status()
    with pytest.raises(InvalidJsonError, match="package_json"):
        engine.add_package('{"name": "x", "vers')
    with pytest.raises(NotRunningError):
        dep.logs("main", "nope")
    dep.wait("running", timeout=20)
    with pytest.raises(TimeoutError) as timed_out:
        dep.wait("stopped", timeout=0.05)
    assert timed_out.value.code == 303
    engine.shutdown()
    with pytest.raises(ShutDownError):
        dep.status()
    with pytest.raises(ShutDownError):
        engine.shutdown()


def test_calls_from_several_threads(engine: robodeploy.Engine) -> None:
    engine.add_package(package("demo", ["/usr/bin/demo"]))
    dep = engine.deploy(request("d1", "demo"))
    dep.wait("running", timeout=20)
    phases: list = []

    def poll() -> None:
        for _ in range(50):
            phases.append(dep.status()["phase"])

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert phases == ["Succeeded"] * 200


def test_a_process_deployment_runs_logs_and_stops(process_engine: robodeploy.Engine) -> None:
    e = process_engine
    e.add_package(package("talker", ["echo talker: hello; exec sleep 60"], shell=True))
    dep = e.deploy(request("talker", "talker"))
    status = dep.wait("running", timeout=30)
    assert (status["phase"], status["status"], status["restartCount"]) == ("Succeeded", "Running", 0)
    assert status["executables"][0]["instance"]
    with dep.follow("main", "main", tail=None) as lines:
        assert lines.next(timeout=20)["line"] == "talker: hello"
    assert [line["line"] for line in dep.logs("main", "main")] == ["talker: hello"]
    dep.deprovision()
    assert dep.wait("stopped", timeout=30)["phase"] == "DeploymentStopped"


def test_a_job_past_the_engines_retention_is_deleted() -> None:
    with pytest.raises(InvalidConfigError) as err:
        robodeploy.Engine(job_retention="0s")
    assert err.value.message == "argument `options_json`: jobRetention = 0s: must be positive"
    with robodeploy.Engine(health_interval="200ms", job_retention="2s") as e:
        e.add_memory_device(ROBOT)
        e.add_package(package("demo", ["/usr/bin/demo"]))
        e.add_fleet(FLEET)
        job = e.create_job(JOB)
        report = job.wait(timeout=20)
        assert report["status"] == "Succeeded"

        def at(text: str) -> datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        assert at(report["expiresAt"]) - at(report["createdAt"]) == timedelta(seconds=2)
        # Past it, the next health check deletes it: no report any more.
        deadline = time.monotonic() + 10
        while True:
            try:
                job.report()
            except NotFoundError:
                break
            assert time.monotonic() < deadline, "the job outlived its retention"
            time.sleep(0.1)


def test_an_ended_deployment_past_the_engines_retention_is_deleted() -> None:
    with pytest.raises(InvalidConfigError) as err:
        robodeploy.Engine(deployment_retention="0s")
    assert err.value.message == (
        "argument `options_json`: deploymentRetention = 0s: must be positive"
    )
    with robodeploy.Engine(health_interval="200ms", deployment_retention="2s") as e:
        e.add_memory_device(ROBOT)
        e.add_package(package("demo", ["/usr/bin/demo"]))
        dep = e.deploy(request("d1", "demo"), token="tok-1")
        dep.wait("running", timeout=20)
        dep.deprovision()
        assert dep.wait("stopped", timeout=20)["phase"] == "DeploymentStopped"
        # Its last status is answered within the retention...
        assert dep.status()["phase"] == "DeploymentStopped"
        # ...and past it the next health check deletes it, and its token.
        deadline = time.monotonic() + 10
        while True:
            try:
                dep.status()
            except NotFoundError:
                break
            assert time.monotonic() < deadline, "the deployment outlived its retention"
            time.sleep(0.1)
        again = e.deploy(request("d1", "demo"), token="tok-1")
        assert again.id != dep.id
