"""Requests through Python are checked by the manifest validator (ValidationError naming the
field, nothing stored); a job's tags; and the devices a component can be deployed on."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest

import robodeploy
from robodeploy.errors import InvalidJsonError, NotFoundError, ValidationError

from conftest import ROBOT

PACKAGE: Dict[str, Any] = {
    "name": "demo",
    "version": "1",
    "components": [{
        "name": "main",
        "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
        "executables": [{"name": "main", "command": ["/usr/bin/demo"]}],
    }],
}


def job(env: Dict[str, str], tags: Dict[str, str] = {}) -> Dict[str, Any]:  # noqa: B006
    return {
        "fleet": "lab", "application": "demo", "applicationVersion": "1",
        "launchConfig": {"packageName": "demo", "launchFile": "demo.launch",
                         "environmentVariables": env},
        "deploymentConfig": {"concurrentDeploymentPercentage": 100,
                             "failureThresholdPercentage": 100},
        "tags": tags,
    }


@pytest.fixture
def lab(engine: robodeploy.Engine) -> robodeploy.Engine:
    """The in-memory engine with package demo@1 and fleet lab of r1."""
    engine.add_package(PACKAGE)
    engine.add_fleet({"name": "lab", "robots": [ROBOT]})
    return engine


def only_error(err: ValidationError) -> Dict[str, Any]:
    errors = err.report["errors"]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    "env, path, rule",
    [
        ({"ros_domain": "7"}, "spec.launchConfig.environmentVariables.ros_domain", "InvalidEnvName"),
        ({"AWS_REGION": "eu-west-1"}, "spec.launchConfig.environmentVariables.AWS_REGION",
         "ReservedEnvName"),
        ({"MAP": "m" * 1025}, "spec.launchConfig.environmentVariables.MAP", "EnvValueLength"),
    ],
)
def test_create_job_refuses_bad_environment(lab: robodeploy.Engine, env, path, rule) -> None:
    with pytest.raises(ValidationError) as caught:
        lab.create_job(job(env), token="t-1")
    assert caught.value.code == 201
    e = only_error(caught.value)
    assert (e["path"], e["rule"]) == (path, rule)
    assert path in caught.value.message
    # Nothing was created, and the token was not spent: it creates the valid job now.
    created = lab.create_job(job({"ROS_DOMAIN": "7"}), token="t-1")
    assert created.wait(timeout=20)["status"] == "Succeeded"


def test_a_1024_character_value_is_accepted(lab: robodeploy.Engine) -> None:
    assert lab.create_job(job({"MAP": "m" * 1024})).wait(timeout=20)["status"] == "Succeeded"


def test_add_package_refuses_empty_name_duplicate_components_and_empty_command(
    lab: robodeploy.Engine,
) -> None:
    empty_name = copy.deepcopy(PACKAGE)
    empty_name["name"] = ""
    duplicates = copy.deepcopy(PACKAGE)
    duplicates["name"] = "twice"
    duplicates["components"] = [PACKAGE["components"][0], PACKAGE["components"][0]]
    no_command = copy.deepcopy(PACKAGE)
    no_command["name"] = "nocmd"
    no_command["components"][0]["executables"][0]["command"] = []
    cases = [
        (empty_name, "spec.name", "InvalidName"),
        (duplicates, "spec.components[1].name", "Duplicate"),
        (no_command, "spec.components[0].executables[0].command", "MissingCommand"),
    ]
    for package, path, rule in cases:
        with pytest.raises(ValidationError) as caught:
            lab.add_package(package)
        e = only_error(caught.value)
        assert (e["path"], e["rule"]) == (path, rule)
        assert path in str(caught.value)
    # None was added: deploying one is refused as an unknown package.
    with pytest.raises(NotFoundError):
        lab.deploy({"name": "t1", "package": "twice", "version": "1", "devices": {"main": "r1"}})


def test_deploy_device_and_fleet_are_validated(lab: robodeploy.Engine) -> None:
    with pytest.raises(ValidationError) as caught:
        lab.deploy({"name": "d1", "package": "demo", "version": "1", "devices": {"main": "r1"},
                    "env": {"AWS_KEY": "x"}})
    assert only_error(caught.value)["path"] == "spec.env.AWS_KEY"
    with pytest.raises(ValidationError) as caught:
        lab.add_memory_device({"name": "Robot_2", "architecture": "amd64", "runtime": "preinstalled"})
    assert only_error(caught.value)["path"] == "spec.name"
    assert "Robot_2" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        lab.add_fleet({"name": "Lab 2", "robots": []})
    assert only_error(caught.value)["path"] == "spec.name"
    assert [d["name"] for d in lab.eligible_devices("demo", "1", "main")] == ["r1"]


def test_job_tags_can_be_read_added_and_removed(lab: robodeploy.Engine) -> None:
    j = lab.create_job(job({}, {"team": "nav", "site": "lab-1"}))
    assert lab.job_tags(j) == {"team": "nav", "site": "lab-1"}
    assert j.report()["tags"] == {"team": "nav", "site": "lab-1"}
    lab.tag_job(j, {"team": "perception", "stage": "beta"})
    lab.untag_job(j.id, ["site", "absent"])
    assert lab.job_tags(j.id) == {"team": "perception", "stage": "beta"}
    assert j.wait(timeout=20)["tags"] == {"team": "perception", "stage": "beta"}


def test_job_tags_follow_robomakers_rules(lab: robodeploy.Engine) -> None:
    j = lab.create_job(job({}, {"team": "nav"}))
    cases = [
        ({"aws:owner": "me"}, 'spec.tags["aws:owner"]', "InvalidTagKey"),
        ({"k" * 129: "v"}, f'spec.tags.{"k" * 129}', "InvalidTagKey"),
        ({"note": "v" * 257}, "spec.tags.note", "InvalidTagValue"),
        ({f"t{i}": "x" for i in range(50)}, "spec.tags", "TooMany"),
    ]
    for tags, path, rule in cases:
        with pytest.raises(ValidationError) as caught:
            lab.tag_job(j, tags)
        e = only_error(caught.value)
        assert (e["path"], e["rule"]) == (path, rule)
    with pytest.raises(ValidationError):
        lab.untag_job(j, [""])
    with pytest.raises(TypeError):
        lab.untag_job(j, "team")  # type: ignore[arg-type]
    with pytest.raises(InvalidJsonError):
        lab.tag_job(j, {"n": 1})  # type: ignore[dict-item]
    assert lab.job_tags(j) == {"team": "nav"}
    ghost = "00000000-0000-0000-0000-000000000007"
    for call in (lambda: lab.job_tags(ghost), lambda: lab.tag_job(ghost, {"a": "b"}),
                 lambda: lab.untag_job(ghost, ["a"])):
        with pytest.raises(NotFoundError):
            call()


def test_eligible_devices(lab: robodeploy.Engine) -> None:
    lab.add_memory_device({"name": "pi", "architecture": "arm64v8", "runtime": "preinstalled"})
    lab.add_memory_device({"name": "nuc", "architecture": "amd64", "runtime": "docker"})
    assert [d["name"] for d in lab.eligible_devices("demo", "1", "main")] == ["r1"]
    with pytest.raises(NotFoundError) as caught:
        lab.eligible_devices("demo", "1", "nope")
    assert 'no component "nope"' in caught.value.message
    with pytest.raises(NotFoundError):
        lab.eligible_devices("other", "1", "main")


def mounting(source: str) -> Dict[str, Any]:
    p = copy.deepcopy(PACKAGE)
    p["name"] = "mounter"
    p["components"][0]["executables"][0]["mounts"] = [{"source": source, "target": "/host"}]
    return p


@pytest.mark.parametrize("source", ["/", "/var/run/docker.sock"])
def test_host_takeover_mounts_are_refused_unless_allowed(engine: robodeploy.Engine, source) -> None:
    with pytest.raises(ValidationError) as caught:
        engine.add_package(mounting(source))
    e = only_error(caught.value)
    assert (e["path"], e["rule"]) == (
        "spec.components[0].executables[0].mounts[0].source", "HostTakeoverMountRefused")
    with robodeploy.Engine(allow_host_takeover_mounts=True) as allowing:
        allowing.add_package(mounting(source))


def limited(runtime: str, limits: Dict[str, Any]) -> Dict[str, Any]:
    p = copy.deepcopy(PACKAGE)
    p["name"] = "camera"
    p["components"][0]["placement"]["runtime"] = runtime
    exe = p["components"][0]["executables"][0]
    if runtime == "docker":
        exe.pop("command")
        exe["image"] = "robot/cam:1"
    exe["limits"] = limits
    return p


LIMITS = "spec.components[0].executables[0].limits"


@pytest.mark.parametrize(
    "runtime, limits, path, rule",
    [
        ("docker", {"memory": "0"}, LIMITS + ".memory", "InvalidMemoryLimit"),
        ("docker", {"cpu": -1}, LIMITS + ".cpu", "InvalidCpuLimit"),
        ("docker", {"devices": ["/etc/passwd"]}, LIMITS + ".devices[0]", "InvalidDevicePath"),
        ("docker", {"capabilities": ["FLY"]}, LIMITS + ".capabilities[0]", "UnknownCapability"),
        ("preinstalled", {"user": "Robot"}, LIMITS + ".user", "InvalidUser"),
        ("preinstalled", {"devices": ["/dev/video0"]}, LIMITS + ".devices", "ContainerOnlyLimit"),
    ],
)
def test_bad_limits_name_field_and_rule(engine: robodeploy.Engine, runtime, limits, path, rule) -> None:
    with pytest.raises(ValidationError) as caught:
        engine.add_package(limited(runtime, limits))
    e = only_error(caught.value)
    assert (e["path"], e["rule"]) == (path, rule)


def test_privileged_is_refused_unless_allowed(engine: robodeploy.Engine) -> None:
    with pytest.raises(ValidationError) as caught:
        engine.add_package(limited("docker", {"privileged": True}))
    e = only_error(caught.value)
    assert (e["path"], e["rule"]) == (LIMITS + ".privileged", "PrivilegedRefused")
    engine.add_package(limited("docker", {"cpu": "500m", "memory": "512Mi", "hostNetwork": True}))
    with robodeploy.Engine(allow_privileged=True) as allowing:
        allowing.add_package(limited("docker", {"privileged": True}))
