"""The sample package on the process runtime, the lifecycle configuration, and Docker devices."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict

import pytest

import robodeploy
from robodeploy.errors import (
    ConflictError, InvalidConfigError, InvalidJsonError, SetupError, ValidationError,
)

from conftest import ROBOT, package, request, require_shim

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "manifests"
DOCK = {"name": "dock-1", "architecture": "amd64", "runtime": "docker"}


def status_once(dep: robodeploy.Deployment, needle: str, timeout: float = 20.0) -> Dict[str, Any]:
    """The deployment's status once its JSON mentions ``needle`` (polled, at most ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        status = dep.status()
        if needle in repr(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_the_sample_talker_runs_as_a_process(tmp_path: Path) -> None:
    require_shim()
    docs = robodeploy.parse_manifest((SAMPLES / "talker-listener.yaml").read_text())
    by_kind: Dict[str, list] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc["spec"])
    robot = by_kind["Fleet"][0]["robots"][0]
    packages = {p["name"]: p for p in by_kind["Package"]}
    deployments = {d["name"]: d for d in by_kind["Deployment"]}
    with robodeploy.Engine() as engine:
        engine.add_process_device(robot, tmp_path / robot["name"])
        engine.add_package(packages["talker"])
        engine.add_package(packages["lab-net"])
        # Its routed network must run first: refused, naming the field, and nothing created
        # (the same name deploys below).
        with pytest.raises(ValidationError) as refused:
            engine.deploy(deployments["talker"])
        assert "spec.routedNetwork.name" in str(refused.value)
        assert 'routed network "lab-net" does not exist' in str(refused.value)
        network = engine.deploy(deployments["lab-net"])
        assert network.wait("running", timeout=30)["status"] == "Running"
        dep = engine.deploy(deployments["talker"])
        status = dep.wait("running", timeout=30)
        assert (status["phase"], status["status"]) == ("Succeeded", "Running")
        assert [(x["component"], x["device"]) for x in status["executables"]] == [
            ("talker", "robot-001")]
        with dep.follow("talker", "talker", tail=None) as lines:
            assert lines.next(timeout=20)["line"] == "talker: hello from robot-001"
        dep.deprovision()
        assert dep.wait("stopped", timeout=30)["phase"] == "DeploymentStopped"
        network.deprovision()
        assert network.wait("stopped", timeout=30)["phase"] == "DeploymentStopped"


def test_the_lifecycle_configuration_sets_the_crash_loop_threshold(tmp_path: Path) -> None:
    require_shim()
    lifecycle = {"initialBackoff": "100ms", "backoffFactor": 1, "minUptime": "5s",
                 "resetAfter": "10s", "crashLoopExits": 2, "crashLoopWindow": "1m"}
    with robodeploy.Engine(lifecycle=lifecycle) as engine:
        engine.add_process_device(ROBOT, tmp_path / "r1")
        engine.add_package(package("crasher", ["exit 3"], shell=True))
        dep = engine.deploy(request("crasher", "crasher"))
        status = status_once(dep, "DEP_E163")
        assert status["status"] == "Error"
        assert [e["code"] for e in status["errors"]][-1:] == ["DEP_E163"], status["errors"]
        assert status["executables"][0]["status"]["reason"] == {"kind": "crashLoop", "earlyExits": 2}


@pytest.mark.parametrize("lifecycle, message", [
    ({"backoffFactor": 40}, "lifecycle.backoffFactor = 40: must be within 1..=16"),
    ({"initialBackoff": "2s", "maxBackoff": "1s"},
     "lifecycle.maxBackoff = 1000 ms: must be at least initial_backoff"),
    ({"minUptime": "2m", "resetAfter": "1m"},
     "lifecycle.resetAfter = 60000 ms: must be positive and at least min_uptime"),
    ({"historyCapacity": 0}, "lifecycle.historyCapacity = 0: must be at least 1"),
])
def test_lifecycle_rules_name_field_value_and_rule(lifecycle: Dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        robodeploy.Engine(lifecycle=lifecycle)
    assert err.value.code == 104
    assert err.value.message == f"argument `options_json`: {message}"


def test_lifecycle_unknown_keys_and_bad_spans_are_json_errors() -> None:
    with pytest.raises(InvalidJsonError, match="unknown field `backoff`"):
        robodeploy.Engine(lifecycle={"backoff": "1s"})
    with pytest.raises(InvalidJsonError, match='"soon"'):
        robodeploy.Engine(lifecycle={"minUptime": "soon"})


def test_docker_device_errors(engine: robodeploy.Engine) -> None:
    with pytest.raises(InvalidConfigError) as err:
        engine.add_docker_device(DOCK, "ftp://robot-7")
    assert err.value.message == ('argument `docker_json`: endpoint = "ftp://robot-7": '
                                 "must start with unix://, tcp://, http:// or ssh://")
    with pytest.raises(InvalidConfigError, match='runtime = "preinstalled"'):
        engine.add_docker_device(dict(DOCK, runtime="preinstalled"))
    with pytest.raises(InvalidConfigError, match="sshKey = set: needs an ssh:// endpoint"):
        engine.add_docker_device(DOCK, "tcp://robot-7:2375", ssh_key="/k")
    with pytest.raises(InvalidConfigError, match="a TLS endpoint must be"):
        engine.add_docker_device(DOCK, "unix:///run/d.sock",
                                 tls={"ca": "a.pem", "cert": "b.pem", "key": "c.pem"})
    with pytest.raises(SetupError, match="ca.pem"):
        engine.add_docker_device(DOCK, "tcp://robot-7:2376", tls={
            "ca": "/nonexistent/ca.pem", "cert": "/nonexistent/cert.pem",
            "key": "/nonexistent/key.pem"})
    # An engine nobody serves is registered (nothing is sent yet); a different device with
    # the same name is a conflict.
    engine.add_docker_device(DOCK, "tcp://127.0.0.1:1", request_timeout="2s")
    with pytest.raises(ConflictError):
        engine.add_docker_device(dict(DOCK, architecture="arm64v8"), "tcp://127.0.0.1:1")


@pytest.mark.docker
def test_a_container_runs_logs_and_stops(docker_image: str) -> None:
    pkg = {
        "name": "boxed", "version": "1",
        "components": [{
            "name": "main",
            "placement": {"kind": "device", "runtime": "docker", "architecture": "amd64"},
            "restartPolicy": "always",
            "executables": [{"name": "main", "image": docker_image,
                             "command": ["sh", "-c", "echo hello-from-python; exec sleep 60"]}],
        }],
    }
    with robodeploy.Engine() as engine:
        engine.add_docker_device(DOCK)  # the local engine
        engine.add_package(pkg)
        dep = engine.deploy(request("boxed", "boxed", device="dock-1"))
        status = dep.wait("running", timeout=60)
        assert (status["phase"], status["status"]) == ("Succeeded", "Running")
        with dep.follow("main", "main", tail=None) as lines:
            assert lines.next(timeout=20)["line"] == "hello-from-python"
        assert [x["line"] for x in dep.logs("main", "main")] == ["hello-from-python"]
        dep.deprovision()
        assert dep.wait("stopped", timeout=60)["phase"] == "DeploymentStopped"
