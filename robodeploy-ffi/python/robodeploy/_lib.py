"""Loading librobodeploy and declaring the C functions robodeploy calls (ctypes)."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
from pathlib import Path
from typing import Any, Optional

from .errors import error_for

#: Environment variable naming the shared library to load.
LIB_ENV = "ROBODEPLOY_LIB"
#: Environment variable the process runtime reads to find its shim program.
SHIM_ENV = "ROBODEPLOY_PROCESS_SHIM"
_SHIMS = ("robodeploy-process-shim", "robodeploy-ffi-shim")

c_char_pp = ctypes.POINTER(ctypes.c_char_p)
EVENT_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


def _find() -> str:
    explicit = os.environ.get(LIB_ENV)
    if explicit:
        return explicit
    beside = Path(__file__).with_name("librobodeploy.so")
    if beside.is_file():
        return str(beside)
    found = ctypes.util.find_library("robodeploy")
    if found:
        return found
    raise OSError(
        f"librobodeploy not found: set {LIB_ENV} to its path (cargo builds it as "
        "target/<profile>/librobodeploy.so), or copy it next to the robodeploy package"
    )


def _point_at_shim(lib_path: str) -> None:
    """Lets the process runtime find a shim built beside the library, unless told otherwise."""
    if os.environ.get(SHIM_ENV):
        return
    here = Path(lib_path).resolve().parent
    for directory in (here, here.parent):
        for name in _SHIMS:
            candidate = directory / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                os.environ[SHIM_ENV] = str(candidate)
                return


def _declare(lib: ctypes.CDLL) -> None:
    P = ctypes.c_void_p
    S = ctypes.c_char_p
    R = ctypes.c_uint32
    U64 = ctypes.c_uint64
    sigs = {
        "rd_version": ([], S),
        "rd_result_message": ([R], S),
        "rd_last_error": ([ctypes.c_char_p, ctypes.c_size_t], ctypes.c_size_t),
        "rd_last_error_details": ([ctypes.c_char_p, ctypes.c_size_t], ctypes.c_size_t),
        "rd_string_free": ([P], None),
        "rd_manifest_to_json": ([S, ctypes.POINTER(P)], R),
        "rd_manifest_validate": ([S, ctypes.POINTER(P)], R),
        "rd_simulate": ([S, ctypes.POINTER(P)], R),
        "rd_engine_new": ([S, ctypes.POINTER(P)], R),
        "rd_engine_shutdown": ([P, U64], R),
        "rd_engine_free": ([P], None),
        "rd_engine_add_package": ([P, S], R),
        "rd_engine_add_memory_device": ([P, S], R),
        "rd_engine_add_process_device": ([P, S, S], R),
        "rd_engine_add_docker_device": ([P, S, S], R),
        "rd_engine_add_remote_device": ([P, S], R),
        "rd_engine_add_fleet": ([P, S], R),
        "rd_engine_deploy": ([P, S, S, ctypes.POINTER(P)], R),
        "rd_engine_deprovision": ([P, S], R),
        "rd_engine_status": ([P, S, ctypes.POINTER(P)], R),
        "rd_engine_wait": ([P, S, R, U64, ctypes.POINTER(P)], R),
        "rd_engine_logs": ([P, S, S, S, ctypes.c_int64, ctypes.POINTER(P)], R),
        "rd_engine_logs_follow": ([P, S, S, S, ctypes.c_int64, ctypes.POINTER(P)], R),
        "rd_log_stream_next": ([P, U64, ctypes.POINTER(P)], R),
        "rd_log_stream_free": ([P], None),
        "rd_engine_create_job": ([P, S, S, ctypes.POINTER(P)], R),
        "rd_engine_cancel_job": ([P, S], R),
        "rd_engine_rollback_job": ([P, S], R),
        "rd_engine_job": ([P, S, ctypes.POINTER(P)], R),
        "rd_engine_wait_job": ([P, S, U64, ctypes.POINTER(P)], R),
        "rd_engine_job_tags": ([P, S, ctypes.POINTER(P)], R),
        "rd_engine_tag_job": ([P, S, S], R),
        "rd_engine_untag_job": ([P, S, S], R),
        "rd_engine_eligible_devices": ([P, S, S, S, ctypes.POINTER(P)], R),
        "rd_engine_set_event_callback": ([P, EVENT_CALLBACK, P], R),
        "rd_engine_subscribe": ([P, ctypes.POINTER(P)], R),
        "rd_events_next": ([P, U64, ctypes.POINTER(P)], R),
        "rd_events_free": ([P], None),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res


def load() -> ctypes.CDLL:
    """Loads the library once (ctypes.CDLL releases the GIL during each call)."""
    global _LIB
    if _LIB is None:
        path = _find()
        lib = ctypes.CDLL(path)
        _declare(lib)
        _point_at_shim(path)
        _LIB = lib
    return _LIB


_LIB: Optional[ctypes.CDLL] = None


def _copy_out(fn: Any) -> str:
    n = fn(None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    fn(buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def check(code: int) -> None:
    """Raises the exception for a non-zero ``rd_result``, with this thread's last error."""
    if code == 0:
        return
    lib = load()
    raise error_for(code, _copy_out(lib.rd_last_error), _copy_out(lib.rd_last_error_details))


def encode(text: Optional[str]) -> Optional[bytes]:
    """A Python string as a NUL-terminated UTF-8 argument (None stays NULL)."""
    return None if text is None else text.encode("utf-8")


def take_string(ptr: ctypes.c_void_p) -> str:
    """Copies a string the library returned and frees it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        load().rd_string_free(ptr)


def call_string(fn: Any, *args: Any) -> str:
    """Calls a function whose last argument is a ``char **`` output and returns that string."""
    out = ctypes.c_void_p()
    check(fn(*args, ctypes.byref(out)))
    return take_string(out)


def call_json(fn: Any, *args: Any) -> Any:
    """As :func:`call_string`, parsing the string as JSON."""
    return json.loads(call_string(fn, *args))


def dumps(value: Any) -> bytes:
    """A JSON argument: a string is passed as it is, anything else is serialised."""
    if isinstance(value, (str, bytes)):
        return value.encode("utf-8") if isinstance(value, str) else value
    return json.dumps(value).encode("utf-8")
