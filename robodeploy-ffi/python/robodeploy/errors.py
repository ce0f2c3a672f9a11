"""Exceptions raised by robodeploy, one per ``rd_result`` code of the C ABI."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Type

__all__ = [
    "RobodeployError",
    "NullArgumentError",
    "InvalidUtf8Error",
    "InvalidJsonError",
    "InvalidArgumentError",
    "InvalidConfigError",
    "ManifestSyntaxError",
    "ValidationError",
    "SimulationError",
    "NotFoundError",
    "ConflictError",
    "NotRunningError",
    "TimeoutError",
    "ShutDownError",
    "EndOfStreamError",
    "WrongThreadError",
    "RuntimeBackendError",
    "StoreError",
    "SetupError",
    "PanicError",
    "InternalError",
    "BY_CODE",
    "error_for",
]


class RobodeployError(Exception):
    """A call into librobodeploy failed.

    Attributes:
        code: the ``rd_result`` number.
        message: the detail of the failure (naming the argument, field, value or rule).
        details: structured details, when the library gave some (the validation report for
            :class:`ValidationError`), else ``None``.
    """

    code: int = -1

    def __init__(self, code: int, message: str, details: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} (rd_result {self.code})"


class NullArgumentError(RobodeployError):
    """A required pointer was NULL (a bug in these bindings if it ever happens)."""


class InvalidUtf8Error(RobodeployError):
    """A string argument was not valid UTF-8."""


class InvalidJsonError(RobodeployError, ValueError):
    """A JSON argument did not parse or did not have the model's shape."""


class InvalidArgumentError(RobodeployError, ValueError):
    """An argument was out of its range (an id that is not a UUID, an unknown condition)."""


class InvalidConfigError(RobodeployError, ValueError):
    """A configuration value broke its rule (a lifecycle setting, a Docker endpoint); the
    message names the field, the value and the rule, e.g. ``lifecycle.backoffFactor = 40:
    must be within 1..=16``."""


class ManifestSyntaxError(RobodeployError, ValueError):
    """A manifest did not parse; the message names the line and column."""


class ValidationError(RobodeployError, ValueError):
    """A request broke validation rules; :attr:`report` lists each error with its field path."""

    @property
    def report(self) -> Dict[str, Any]:
        """The validation report: ``{"valid": False, "errors": [...], "warnings": [...]}``."""
        return self.details or {"valid": False, "errors": [], "warnings": []}


class SimulationError(RobodeployError, ValueError):
    """A simulation could not be set up (its model or config breaks a rule)."""


class NotFoundError(RobodeployError, LookupError):
    """No such deployment, job, package, device or fleet."""


class ConflictError(RobodeployError):
    """The request conflicts with what exists (a live deployment of that name, …)."""


class NotRunningError(RobodeployError):
    """The deployment has no instance of that executable."""


class TimeoutError(RobodeployError, TimeoutError):  # noqa: A001 - also the builtin's subclass
    """A wait ran out of time, or nothing arrived in time."""


class ShutDownError(RobodeployError):
    """The engine was shut down."""


class EndOfStreamError(RobodeployError):
    """A stream (followed log, event subscription) has ended."""


class WrongThreadError(RobodeployError):
    """The call is not allowed on this thread (inside the event callback)."""


class RuntimeBackendError(RobodeployError):
    """A runtime backend failed (unreachable, binary or image missing)."""


class StoreError(RobodeployError):
    """The engine's store failed."""


class SetupError(RobodeployError):
    """A runtime or the engine's threads could not be created."""


class PanicError(RobodeployError):
    """A panic was caught inside the library (a bug in robodeploy)."""


class InternalError(RobodeployError):
    """An internal error inside the library (a bug in robodeploy)."""


#: ``rd_result`` number → exception class. The numbers are fixed by the C ABI.
BY_CODE: Dict[int, Type[RobodeployError]] = {
    100: NullArgumentError,
    101: InvalidUtf8Error,
    102: InvalidJsonError,
    103: InvalidArgumentError,
    104: InvalidConfigError,
    200: ManifestSyntaxError,
    201: ValidationError,
    202: SimulationError,
    300: NotFoundError,
    301: ConflictError,
    302: NotRunningError,
    303: TimeoutError,
    304: ShutDownError,
    305: EndOfStreamError,
    306: WrongThreadError,
    400: RuntimeBackendError,
    401: StoreError,
    402: SetupError,
    900: PanicError,
    901: InternalError,
}


def error_for(code: int, message: str, details_text: str) -> RobodeployError:
    """The exception for a failed call's code, message and details JSON (may be empty)."""
    details = json.loads(details_text) if details_text else None
    return BY_CODE.get(code, RobodeployError)(code, message, details)
