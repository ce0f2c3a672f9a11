"""The engine and what it hands out: deployments, jobs, followed logs, event subscriptions."""

from __future__ import annotations

import ctypes
import json
import os
import threading
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

from . import _lib
from .errors import EndOfStreamError, ShutDownError, TimeoutError

JsonLike = Union[str, Mapping[str, Any]]

#: What :meth:`Deployment.wait` waits for (the C ABI's ``rd_until`` numbers).
UNTIL = {"running": 1, "stopped": 2, "failed_to_start": 3, "error": 4}

_FOREVER_MS = 2**64 - 1


def _ms(seconds: Optional[float]) -> int:
    return _FOREVER_MS if seconds is None else max(0, int(seconds * 1000))


class Engine:
    """A robodeploy engine running on threads of its own.

    Methods block until the engine answers and may be called from any thread. Use it as a
    context manager, or call :meth:`close`: that shuts the engine down (deprovisioning every
    deployment) and frees it.

    Args:
        store: path of the embedded store file (created if missing); ``None`` keeps state in
            memory.
        worker_threads: threads of the engine's runtime (default 2).
        health_interval: how often runtimes are checked, e.g. ``"2s"``.
        job_retention: how long a job is kept after its creation (default ``"90 days"``); an
            ended job past it is deleted from memory and the store.
        deployment_retention: how long the last status of a deployment that ended is kept
            after its end (default ``"90 days"``); past it the status and the request token
            that named the deployment are deleted, and :meth:`Deployment.status` raises
            ``NotFoundError``.
        allow_host_takeover_mounts: let packages mount ``/`` or a container engine's socket
            (default ``False``: :meth:`add_package` raises ``ValidationError`` for them).
        allow_privileged: let executables run privileged (``limits.privileged``; default
            ``False``: :meth:`add_package` raises ``ValidationError`` for them).
        lifecycle: restart supervision of every deployment, any of ``initialBackoff``
            (``"1s"``), ``backoffFactor`` (2), ``maxBackoff`` (``"60s"``), ``resetAfter``
            (``"60s"``), ``minUptime`` (``"10s"``), ``crashLoopExits`` (5),
            ``crashLoopWindow`` (``"5m"``), ``stopGrace`` (``"10s"``), ``stopAnswerMargin``
            (``"30s"``), ``historyCapacity`` (256); left-out keys keep these defaults.
        remote: the Zenoh link remote robots' agents reach this engine through (see
            :meth:`add_remote_device`): ``mode`` (``"router"``, the default: an embedded
            router; ``"client"`` of the user's routers), ``listen`` / ``connect`` (endpoints
            such as ``"tls/0.0.0.0:7447"``), ``tls`` (``{"ca", "certificate", "key"}`` PEM
            paths; mutual), ``lease`` (``"4s"``: how soon a vanished robot is noticed),
            ``insecure`` (plain ``tcp/`` off loopback; refused without it).

    Raises:
        InvalidConfigError: a setting breaks its rule (the message names field, value, rule).
        InvalidJsonError: an unknown key, or a duration that is not a span.
    """

    def __init__(
        self,
        store: Optional[Union[str, os.PathLike]] = None,
        *,
        worker_threads: Optional[int] = None,
        health_interval: Optional[str] = None,
        job_retention: Optional[str] = None,
        deployment_retention: Optional[str] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,
        allow_host_takeover_mounts: Optional[bool] = None,
        allow_privileged: Optional[bool] = None,
        remote: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._lib = _lib.load()
        options: Dict[str, Any] = {}
        if store is not None:
            options["store"] = os.fspath(store)
        if worker_threads is not None:
            options["workerThreads"] = worker_threads
        if health_interval is not None:
            options["healthInterval"] = health_interval
        if job_retention is not None:
            options["jobRetention"] = job_retention
        if deployment_retention is not None:
            options["deploymentRetention"] = deployment_retention
        if lifecycle is not None:
            options["lifecycle"] = dict(lifecycle)
        if allow_host_takeover_mounts is not None:
            options["allowHostTakeoverMounts"] = bool(allow_host_takeover_mounts)
        if allow_privileged is not None:
            options["allowPrivileged"] = bool(allow_privileged)
        if remote is not None:
            options["remote"] = dict(remote)
        handle = ctypes.c_void_p()
        _lib.check(self._lib.rd_engine_new(_lib.dumps(options), ctypes.byref(handle)))
        self._handle: Optional[ctypes.c_void_p] = handle
        self._callback: Any = None
        self._shut_down = False

    # -- life cycle -------------------------------------------------------------------------

    @property
    def handle(self) -> ctypes.c_void_p:
        """The ``rd_engine *``; raises :class:`ShutDownError` once closed."""
        if self._handle is None:
            raise ShutDownError(304, "the engine was closed")
        return self._handle

    def shutdown(self, timeout: Optional[float] = 60.0) -> None:
        """Deprovisions everything, cancels every job and stops the engine's driver, waiting
        at most ``timeout`` seconds. Afterwards every call raises :class:`ShutDownError`."""
        _lib.check(self._lib.rd_engine_shutdown(self.handle, _ms(timeout)))
        self._shut_down = True

    def close(self) -> None:
        """Shuts down (if not done yet) and frees the engine. Safe to call twice."""
        if self._handle is None:
            return
        try:
            if not self._shut_down:
                self.shutdown()
        finally:
            self._lib.rd_engine_free(self._handle)
            self._handle = None
            self._callback = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- catalog ----------------------------------------------------------------------------

    def add_package(self, package: JsonLike) -> None:
        """Adds a package version (the model's ``Package`` as a dict or JSON text).

        Raises:
            ValidationError: the package breaks a rule (an empty name, duplicate component
                names, an executable without a command, …); its report names each field.
            ConflictError: a different package has this name and version.
        """
        _lib.check(self._lib.rd_engine_add_package(self.handle, _lib.dumps(package)))

    def add_memory_device(self, device: JsonLike) -> None:
        """Registers a device whose executables run in memory (nothing is executed)."""
        _lib.check(self._lib.rd_engine_add_memory_device(self.handle, _lib.dumps(device)))

    def add_process_device(self, device: JsonLike, root_dir: Union[str, os.PathLike]) -> None:
        """Registers a device whose executables run as local processes under ``root_dir``.

        The process runtime needs its shim program: ``ROBODEPLOY_PROCESS_SHIM``, or a
        ``robodeploy-process-shim`` / ``robodeploy-ffi-shim`` next to the library.
        """
        _lib.check(
            self._lib.rd_engine_add_process_device(
                self.handle, _lib.dumps(device), _lib.encode(os.fspath(root_dir))
            )
        )

    def add_remote_device(self, device: JsonLike) -> None:
        """Registers a remote robot reached through its device agent (``robodeploy-agent``)
        over the engine's ``remote`` link: the agent its ``connection`` names
        (``{"agent": "<name>"}``), or the one serving under the device's own name. Until the
        agent connects the device is offline (DEP_E151)."""
        _lib.check(self._lib.rd_engine_add_remote_device(self.handle, _lib.dumps(device)))

    def add_docker_device(
        self,
        device: JsonLike,
        endpoint: Optional[str] = None,
        *,
        tls: Optional[Mapping[str, Union[str, os.PathLike]]] = None,
        ssh_key: Optional[Union[str, os.PathLike]] = None,
        registry: Optional[Mapping[str, str]] = None,
        request_timeout: Optional[str] = None,
        keep_volumes: Optional[bool] = None,
    ) -> None:
        """Registers a device (``"runtime": "docker"``) whose executables run as containers
        on a Docker engine.

        Args:
            device: the model's ``Device``.
            endpoint: ``unix:///path``, ``tcp://host:port``, ``http://host:port`` or
                ``ssh://[user@]host``; ``None``: the device's own ``endpoint``, else the local
                engine (``DOCKER_HOST``, else ``/var/run/docker.sock``).
            tls: ``{"ca", "cert", "key"}`` PEM files for a ``tcp://``/``https://`` endpoint.
            ssh_key: private key file for an ``ssh://`` endpoint.
            registry: ``{"server", "username", "password"}`` to pull missing images from.
            request_timeout: how long one request may wait for the engine, e.g. ``"120s"``.
            keep_volumes: keep the named volumes robodeploy created on deprovision.

        Nothing is sent to the engine yet: an engine that is down marks the device offline.

        Raises:
            InvalidConfigError: the device's runtime is not ``docker``, or an endpoint, ``tls``
                or ``ssh_key`` breaks its rule (the message names field, value and rule).
            SetupError: the Docker client cannot be built (unreadable certificates).
            ConflictError: a different device with that name is registered.
        """
        options: Dict[str, Any] = {}
        if endpoint is not None:
            options["endpoint"] = endpoint
        if tls is not None:
            options["tls"] = {k: os.fspath(v) for k, v in tls.items()}
        if ssh_key is not None:
            options["sshKey"] = os.fspath(ssh_key)
        if registry is not None:
            options["registry"] = dict(registry)
        if request_timeout is not None:
            options["requestTimeout"] = request_timeout
        if keep_volumes is not None:
            options["keepVolumes"] = keep_volumes
        _lib.check(
            self._lib.rd_engine_add_docker_device(
                self.handle, _lib.dumps(device), _lib.dumps(options)
            )
        )

    def add_fleet(self, fleet: JsonLike) -> None:
        """Registers a fleet; its robots must be registered devices."""
        _lib.check(self._lib.rd_engine_add_fleet(self.handle, _lib.dumps(fleet)))

    def eligible_devices(self, package: str, version: str, component: str) -> List[Dict[str, Any]]:
        """The registered devices a component of a package version can be deployed on: the
        online devices with its architecture and device runtime (and ROS distro, for a ROS
        component), as the model's ``Device`` dicts; ``[]`` for a cloud component.

        Raises:
            NotFoundError: no such package version, or no such component in it.
        """
        return _lib.call_json(
            self._lib.rd_engine_eligible_devices, self.handle, _lib.encode(package),
            _lib.encode(version), _lib.encode(component),
        )

    # -- deployments and jobs ----------------------------------------------------------------

    def deploy(self, request: JsonLike, token: Optional[str] = None) -> "Deployment":
        """Deploys a package version; with a ``token``, repeating the call starts nothing
        twice and returns the same deployment."""
        ident = _lib.call_string(
            self._lib.rd_engine_deploy, self.handle, _lib.dumps(request), _lib.encode(token)
        )
        return Deployment(self, ident)

    def deployment(self, ident: str) -> "Deployment":
        """The deployment with this id (checked when used)."""
        return Deployment(self, ident)

    def create_job(self, job: JsonLike, token: Optional[str] = None) -> "Job":
        """Creates and starts a deployment job (a rollout to a fleet).

        Raises:
            ValidationError: the job breaks a rule (an environment variable name that is not
                ``[A-Z_][A-Z0-9_]*`` or begins with ``AWS``, a value outside 1..=1024
                characters, …); its :attr:`~robodeploy.errors.ValidationError.report` names
                each field. Nothing starts.
            NotFoundError: no such fleet or application version.
        """
        ident = _lib.call_string(
            self._lib.rd_engine_create_job, self.handle, _lib.dumps(job), _lib.encode(token)
        )
        return Job(self, ident)

    def job_tags(self, job: Union["Job", str]) -> Dict[str, str]:
        """A job's tags (by :class:`Job` or id)."""
        return _lib.call_json(self._lib.rd_engine_job_tags, self.handle, _lib.encode(_job_id(job)))

    def tag_job(self, job: Union["Job", str], tags: Mapping[str, str]) -> None:
        """Adds tags to a job, overwriting the values of keys it has. The tags afterwards must
        follow RoboMaker's rules (keys of 1..=128 characters not beginning with ``aws:``,
        values of at most 256 characters, at most 50 tags); they are stored with the job.

        Raises:
            ValidationError: a tag breaks a rule (its report names ``spec.tags.KEY``); nothing
                changes.
            NotFoundError: no such job.
        """
        _lib.check(
            self._lib.rd_engine_tag_job(self.handle, _lib.encode(_job_id(job)), _lib.dumps(dict(tags)))
        )

    def untag_job(self, job: Union["Job", str], keys: List[str]) -> None:
        """Removes tags from a job by key; keys it does not have are ignored.

        Raises:
            ValidationError: a key breaks the tag key rule; nothing changes.
            NotFoundError: no such job.
        """
        if isinstance(keys, str):
            raise TypeError("keys must be a list of tag keys, not one string")
        _lib.check(
            self._lib.rd_engine_untag_job(self.handle, _lib.encode(_job_id(job)), _lib.dumps(list(keys)))
        )

    # -- events ------------------------------------------------------------------------------

    def subscribe(self) -> "EventSubscription":
        """Every event the engine publishes from now on, read by polling."""
        handle = ctypes.c_void_p()
        _lib.check(self._lib.rd_engine_subscribe(self.handle, ctypes.byref(handle)))
        return EventSubscription(handle)

    def on_event(self, callback: Optional[Callable[[Dict[str, Any]], None]]) -> None:
        """Calls ``callback(event)`` for every event, on a library thread, one at a time;
        ``None`` removes it (when this returns, the old callback is not running). An
        exception in the callback is printed and ignored. The callback may call the engine,
        but not :meth:`on_event`."""
        if callback is None:
            _lib.check(self._lib.rd_engine_set_event_callback(self.handle, _lib.EVENT_CALLBACK(), None))
            self._callback = None
            return

        def trampoline(event_json: bytes, _user: Optional[int]) -> None:
            callback(json.loads(event_json.decode("utf-8")))

        c_callback = _lib.EVENT_CALLBACK(trampoline)
        _lib.check(self._lib.rd_engine_set_event_callback(self.handle, c_callback, None))
        # Kept alive for as long as the library may call it.
        self._callback = c_callback


def _job_id(job: Union["Job", str]) -> str:
    return job.id if isinstance(job, Job) else job


class Deployment:
    """One deployment of an engine, by id."""

    def __init__(self, engine: Engine, ident: str) -> None:
        self.engine = engine
        self.id = ident

    def __repr__(self) -> str:
        return f"Deployment({self.id!r})"

    def status(self) -> Dict[str, Any]:
        """Its status now: ``phase``, ``status``, ``errors``, ``restartCount``, ``executables``…"""
        e = self.engine
        return _lib.call_json(e._lib.rd_engine_status, e.handle, _lib.encode(self.id))

    def wait(self, until: str = "running", timeout: Optional[float] = 60.0) -> Dict[str, Any]:
        """Waits until ``until`` (``"running"``, ``"stopped"``, ``"failed_to_start"``,
        ``"error"``) holds, at most ``timeout`` seconds; returns the status that satisfied it.
        Raises :class:`robodeploy.errors.TimeoutError` when it did not."""
        if until not in UNTIL:
            raise ValueError(f"until must be one of {sorted(UNTIL)}, not {until!r}")
        e = self.engine
        return _lib.call_json(
            e._lib.rd_engine_wait, e.handle, _lib.encode(self.id), UNTIL[until], _ms(timeout)
        )

    def deprovision(self) -> None:
        """Stops every executable; :meth:`wait` with ``"stopped"`` waits for the end."""
        e = self.engine
        _lib.check(e._lib.rd_engine_deprovision(e.handle, _lib.encode(self.id)))

    def logs(self, component: str, executable: str, tail: Optional[int] = None) -> List[Dict[str, Any]]:
        """An executable's output now: ``[{"stream", "at", "line"}, …]``, the last ``tail``
        lines (all when ``None``)."""
        e = self.engine
        return _lib.call_json(
            e._lib.rd_engine_logs, e.handle, _lib.encode(self.id), _lib.encode(component),
            _lib.encode(executable), -1 if tail is None else tail,
        )

    def follow(self, component: str, executable: str, tail: Optional[int] = 0) -> "LogStream":
        """Follows an executable's output: the last ``tail`` lines, then new ones."""
        e = self.engine
        handle = ctypes.c_void_p()
        _lib.check(
            e._lib.rd_engine_logs_follow(
                e.handle, _lib.encode(self.id), _lib.encode(component), _lib.encode(executable),
                -1 if tail is None else tail, ctypes.byref(handle),
            )
        )
        return LogStream(handle)


class Job:
    """One deployment job of an engine, by id."""

    def __init__(self, engine: Engine, ident: str) -> None:
        self.engine = engine
        self.id = ident

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def report(self) -> Dict[str, Any]:
        """Its report now: ``status``, ``failure``, and every robot's status and step."""
        e = self.engine
        return _lib.call_json(e._lib.rd_engine_job, e.handle, _lib.encode(self.id))

    def wait(self, timeout: Optional[float] = 60.0) -> Dict[str, Any]:
        """Waits until the job ends, at most ``timeout`` seconds; returns its report."""
        e = self.engine
        return _lib.call_json(e._lib.rd_engine_wait_job, e.handle, _lib.encode(self.id), _ms(timeout))

    def cancel(self) -> None:
        """Cancels the job: no new robots; robots in flight are aborted."""
        e = self.engine
        _lib.check(e._lib.rd_engine_cancel_job(e.handle, _lib.encode(self.id)))

    def rollback(self) -> None:
        """Rolls the job back: a running job stops as on :meth:`cancel`, then every robot the
        new version reached returns to the version it ran before; an ended job is rolled back
        the same way. Raises ``ConflictError`` when nothing is left to roll back."""
        e = self.engine
        _lib.check(e._lib.rd_engine_rollback_job(e.handle, _lib.encode(self.id)))


class _Stream:
    """A handle read with a timeout until it ends; freed by :meth:`close` or ``with``."""

    _next_fn = ""
    _free_fn = ""

    def __init__(self, handle: ctypes.c_void_p) -> None:
        self._lib = _lib.load()
        self._handle: Optional[ctypes.c_void_p] = handle
        self._lock = threading.Lock()

    def next(self, timeout: Optional[float] = 10.0) -> Dict[str, Any]:
        """The next item, waiting at most ``timeout`` seconds (:class:`TimeoutError` if none
        came; :class:`EndOfStreamError` once the stream ended)."""
        if self._handle is None:
            raise EndOfStreamError(305, "the stream was closed")
        return _lib.call_json(getattr(self._lib, self._next_fn), self._handle, _ms(timeout))

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        """Items until the stream ends or nothing comes for 10 seconds."""
        while True:
            try:
                yield self.next()
            except (EndOfStreamError, TimeoutError):
                return

    def close(self) -> None:
        """Frees the stream. Safe to call twice."""
        with self._lock:
            if self._handle is not None:
                getattr(self._lib, self._free_fn)(self._handle)
                self._handle = None

    def __enter__(self) -> "_Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class LogStream(_Stream):
    """A followed log: each item is ``{"stream", "at", "line"}``."""

    _next_fn = "rd_log_stream_next"
    _free_fn = "rd_log_stream_free"


class EventSubscription(_Stream):
    """Engine events: each item is a dict tagged by ``event`` (``deployment``, ``robot``,
    ``job``, ``device``, or ``lagged`` when events were missed)."""

    _next_fn = "rd_events_next"
    _free_fn = "rd_events_free"
