"""Remote robots through the C ABI: a robot reached through its device agent is offline until
the agent connects, runs what is deployed, is offline (DEP_E151) when the agent is killed, and
when the agent returns the engine adopts what runs instead of starting it again."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

import robodeploy
from robodeploy.errors import InvalidConfigError, SetupError

from conftest import package, request, require_shim

ROBOT = {
    "name": "r1",
    "architecture": "amd64",
    "runtime": "preinstalled",
    "connection": {"agent": "r1"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent(port: int, state) -> subprocess.Popen:
    return subprocess.Popen(
        [os.environ["ROBODEPLOY_AGENT"], "--robot", "r1", "--runtime", "process",
         "--state-dir", os.fspath(state), "--connect", f"tcp/127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )


def eligible(engine: robodeploy.Engine) -> list:
    return [d["name"] for d in engine.eligible_devices("sleeper", "1", "main")]


def eventually(check, what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_remote_robot_runs_through_its_agent_and_is_adopted_after_the_agent_dies(tmp_path):
    require_shim()
    port = free_port()
    remote = {"listen": [f"tcp/127.0.0.1:{port}"]}
    with robodeploy.Engine(health_interval="200ms", remote=remote) as e:
        e.add_package(package("sleeper", ["/bin/sleep", "600"]))
        e.add_remote_device(ROBOT)
        # No agent yet: the first health check finds the robot offline.
        eventually(lambda: eligible(e) == [], "offline without an agent")
        first = agent(port, tmp_path / "r1")
        try:
            eventually(lambda: eligible(e) == ["r1"], "online once the agent connects")
            d = e.deploy(request("d1", "sleeper"))
            status = d.wait("running", timeout=30)
            instance = status["executables"][0]["instance"]
            first.kill()
            first.wait()
            status = d.wait("error", timeout=30)
            assert status["errors"][0]["code"] == "DEP_E151", status
        finally:
            first.kill()
        second = agent(port, tmp_path / "r1")
        try:
            status = d.wait("running", timeout=30)
            assert status["executables"][0]["instance"] == instance
            assert status["executables"][0]["restartCount"] == 0, status
            e.shutdown(timeout=30)
        finally:
            second.kill()
            second.wait()


def test_remote_devices_need_a_remote_link_and_a_good_agent_name():
    with robodeploy.Engine() as e:
        with pytest.raises(SetupError, match="no remote link"):
            e.add_remote_device(ROBOT)
    port = free_port()
    with robodeploy.Engine(remote={"listen": [f"tcp/127.0.0.1:{port}"]}) as e:
        bad = dict(ROBOT, connection={"agent": "r1/rt"})
        with pytest.raises(robodeploy.errors.ValidationError, match="connection.agent"):
            e.add_remote_device(bad)
    with pytest.raises(InvalidConfigError, match=r"remote.listen = tcp/0.0.0.0:1"):
        robodeploy.Engine(remote={"listen": ["tcp/0.0.0.0:1"]})
