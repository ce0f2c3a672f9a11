"""Shared fixtures: engines that are always closed, and the model documents the tests use."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator

import pytest

import robodeploy

ROBOT = {"name": "r1", "architecture": "amd64", "runtime": "preinstalled"}


def package(name: str, command: list, shell: bool = False, policy: str = "always") -> Dict[str, Any]:
    """A one-executable device package (component and executable both named ``main``)."""
    return {
        "name": name,
        "version": "1",
        "components": [{
            "name": "main",
            "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
            "restartPolicy": policy,
            "executables": [{"name": "main", "command": command, "shell": shell}],
        }],
    }


def request(name: str, pkg: str, device: str = "r1") -> Dict[str, Any]:
    """A deployment of version 1 of ``pkg`` on ``device``."""
    return {"name": name, "package": pkg, "version": "1", "devices": {"main": device}}


def require_shim() -> None:
    """Skips a test that runs processes when the process runtime has no shim."""
    robodeploy.library_version()  # loading the library points the variable at a shim beside it
    if not os.environ.get("ROBODEPLOY_PROCESS_SHIM"):
        pytest.skip("ROBODEPLOY_PROCESS_SHIM is not set and no shim is next to the library")


@pytest.fixture
def engine() -> Iterator[robodeploy.Engine]:
    """An in-memory engine with one in-memory robot, r1."""
    with robodeploy.Engine(health_interval="200ms") as e:
        e.add_memory_device(ROBOT)
        yield e


@pytest.fixture
def process_engine(tmp_path) -> Iterator[robodeploy.Engine]:
    """An engine with one process robot, r1, rooted in a temporary directory."""
    require_shim()
    with robodeploy.Engine(store=tmp_path / "engine.redb") as e:
        e.add_process_device(ROBOT, tmp_path / "r1")
        yield e


#: The environment variable the test harness (``cargo test --test python``) sets to the busybox
#: test image it built when a Docker engine answers.
DOCKER_IMAGE_ENV = "ROBODEPLOY_TEST_DOCKER_IMAGE"


@pytest.fixture
def docker_image() -> str:
    """The Docker test image; skips without one, fails instead with
    ``ROBODEPLOY_REQUIRE_DOCKER=1``."""
    image = os.environ.get(DOCKER_IMAGE_ENV)
    if image:
        return image
    if os.environ.get("ROBODEPLOY_REQUIRE_DOCKER") == "1":
        pytest.fail(f"ROBODEPLOY_REQUIRE_DOCKER=1 but {DOCKER_IMAGE_ENV} is not set: "
                    "no Docker engine answered the harness")
    pytest.skip(f"{DOCKER_IMAGE_ENV} is not set (no Docker engine)")
