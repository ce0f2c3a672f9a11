"""Manifests and the dry-run, through the C ABI."""

from __future__ import annotations

import pytest

import robodeploy
from robodeploy.errors import InvalidJsonError, ManifestSyntaxError, SimulationError

BAD_JOB = """
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: lab
  application: talker
  applicationVersion: $LATEST
  launchConfig: {packageName: talker, launchFile: talker.launch.py,
                 environmentVariables: {AWS_REGION: eu-west-1}}
  deploymentConfig: {concurrentDeploymentPercentage: 20, failureThresholdPercentage: 5}
"""

GOOD = """
apiVersion: robodeploy/v1
kind: Fleet
spec:
  name: lab
  robots:
    - {name: robot-001, architecture: amd64, runtime: preinstalled}
"""


def test_library_version_is_the_crate_version() -> None:
    assert robodeploy.library_version() == "0.1.0"


def test_a_valid_manifest_validates_and_parses() -> None:
    report = robodeploy.validate_manifest(GOOD)
    assert report == {"valid": True, "errors": [], "warnings": []}
    docs = robodeploy.parse_manifest(GOOD)
    assert [d["kind"] for d in docs] == ["Fleet"]
    assert docs[0]["spec"]["robots"][0]["name"] == "robot-001"


def test_errors_carry_field_paths_and_rules() -> None:
    report = robodeploy.validate_manifest(BAD_JOB)
    assert report["valid"] is False
    found = [(e["path"], e["rule"]) for e in report["errors"]]
    assert found == [
        ("spec.applicationVersion", "LatestVersion"),
        ("spec.launchConfig.environmentVariables.AWS_REGION", "ReservedEnvName"),
        ("spec.fleet", "UnknownFleet"),
    ]
    assert report["errors"][0]["document"] == {"index": 0, "kind": "DeploymentJob", "name": None}
    assert [w["rule"] for w in report["warnings"]] == ["ThresholdBelowConcurrency"]


def test_a_manifest_that_does_not_parse_raises_with_its_position() -> None:
    with pytest.raises(ManifestSyntaxError) as err:
        robodeploy.validate_manifest('[{"apiVersion": "robodeploy/v1", "kind": ')
    assert err.value.code == 200
    assert "line 1" in err.value.message


def test_simulation_is_deterministic_and_reports_the_threshold() -> None:
    spec = {
        "deploymentConfig": {"concurrentDeploymentPercentage": 10, "failureThresholdPercentage": 5},
        "robots": 200,
        "seed": 3,
        "failureRate": 0.5,
    }
    first = robodeploy.simulate(spec)
    assert first == robodeploy.simulate(spec)
    assert first["report"]["status"] == "Failed"
    assert first["report"]["failureCode"] == "FailureThresholdBreached"
    ok = robodeploy.simulate({**spec, "failureRate": 0.0})
    assert ok["report"]["status"] == "Succeeded"
    assert ok["report"]["counts"]["inSync"] == 200


def test_simulation_errors_name_the_field() -> None:
    with pytest.raises(SimulationError, match="failureProbability"):
        robodeploy.simulate({
            "deploymentConfig": {"concurrentDeploymentPercentage": 10, "failureThresholdPercentage": 5},
            "robots": 10,
            "failureRate": 8,
        })
    with pytest.raises(InvalidJsonError, match="colour"):
        robodeploy.simulate({"robots": 1, "colour": "red"})
