"""robodeploy: deploy robot applications to fleets and keep them running.

Python bindings over librobodeploy's C ABI (ctypes, no build step): manifests and their
validation, the deterministic dry-run of a deployment job, and an :class:`Engine` that runs
deployments and jobs on in-memory, process or Docker runtimes, with its restart supervision
(backoff, minimum uptime, crash-loop window) set by ``Engine(lifecycle={...})``.

>>> import robodeploy
>>> robodeploy.validate_manifest('{"apiVersion": "robodeploy/v1", "kind": "Fleet", '
...                              '"spec": {"name": "lab", "robots": []}}')["valid"]
True
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Union

from . import _lib
from .engine import Deployment, Engine, EventSubscription, Job, LogStream
from .errors import *  # noqa: F401,F403 - the exception classes are part of the package API
from .errors import RobodeployError

__all__ = [
    "Deployment", "Engine", "EventSubscription", "Job", "LogStream", "RobodeployError",
    "library_version", "parse_manifest", "simulate", "validate_manifest",
]


def library_version() -> str:
    """The version of the loaded librobodeploy."""
    return _lib.load().rd_version().decode("utf-8")


def parse_manifest(text: str) -> List[Dict[str, Any]]:
    """Parses a YAML or JSON manifest into its documents, ``{"apiVersion", "kind", "spec"}``.
    Raises :class:`ManifestSyntaxError` (with line and column) when it does not parse."""
    lib = _lib.load()
    return _lib.call_json(lib.rd_manifest_to_json, _lib.encode(text))


def validate_manifest(text: str) -> Dict[str, Any]:
    """Validates a YAML or JSON manifest: ``{"valid", "errors", "warnings"}``, each entry with
    its ``document``, field ``path``, ``rule`` and ``message``. Raises
    :class:`ManifestSyntaxError` when it does not parse."""
    lib = _lib.load()
    return _lib.call_json(lib.rd_manifest_validate, _lib.encode(text))


def simulate(spec: Union[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Dry-runs a deployment job deterministically: ``spec`` holds ``job`` and ``fleet``, or
    ``deploymentConfig`` and ``robots``, and optionally ``model``, ``failureRate``, ``seed``,
    ``timeline``. Returns ``{"seed", "report", "stats", "timeline"}``."""
    lib = _lib.load()
    return _lib.call_json(lib.rd_simulate, _lib.dumps(spec))
