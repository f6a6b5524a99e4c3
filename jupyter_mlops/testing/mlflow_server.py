"""A real MLflow tracking server on loopback, run as a subprocess for tests and the demo."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

__all__ = ["MlflowServer", "MlflowServerError", "free_port", "mlflow_server_fixture"]


class MlflowServerError(RuntimeError):
    """The MLflow server did not start, or did not answer its health check in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class MlflowServer:
    """An ``mlflow server`` subprocess with a sqlite store and proxied artifacts in a temp dir.

    Use it as a context manager; ``url`` is the tracking URI once it has started::

        with MlflowServer() as server:
            client = mlflow.MlflowClient(tracking_uri=server.url)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout: float = 120.0,
        stop_timeout: float = 10.0,
        workspaces: bool = False,
    ) -> None:
        self.host = host
        #: Started with ``--enable-workspaces``: each request's ``X-MLFLOW-WORKSPACE`` header
        #: picks the workspace, created beforehand with :meth:`create_workspace`.
        self.workspaces = workspaces
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.start_seconds: float | None = None
        #: The server's process id, also the id of the process group it leads; kept after stop.
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        """The tracking URI, e.g. ``http://127.0.0.1:40123``; only valid once started."""
        if self._process is None:
            raise MlflowServerError("the MLflow server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def workdir(self) -> Path:
        """The temp dir holding the sqlite database, the artifacts and the server log."""
        if self._workdir is None:
            raise MlflowServerError("the MLflow server is not running")
        return self._workdir

    @property
    def artifacts_dir(self) -> Path:
        """Where the server stores the artifacts clients upload through it."""
        return self.workdir / "artifacts"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        workdir = self.workdir
        return [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            # Proxied artifacts: clients upload over HTTP, as a notebook pod must in a
            # cluster where it cannot reach the server's disk.
            "--serve-artifacts",
            "--default-artifact-root",
            "mlflow-artifacts:/",
            "--artifacts-destination",
            str(workdir / "artifacts"),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            "1",
            # Loopback clients name the host either way; the default list may omit one.
            "--allowed-hosts",
            f"{self.host}:{self.port},localhost:{self.port}",
            "--uvicorn-opts",
            "--log-level warning --no-access-log",
            *(["--enable-workspaces"] if self.workspaces else []),
        ]

    def create_workspace(self, name: str) -> None:
        """Create workspace ``name`` on a server started with ``workspaces=True``."""
        import json

        request = urllib.request.Request(
            f"{self.url}/api/3.0/mlflow/workspaces",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status not in (200, 201):
                raise MlflowServerError(f"workspace {name!r} not created: HTTP {response.status}")

    def start(self) -> MlflowServer:
        """Start the server and wait until ``/health`` answers; raise if it does not in time."""
        if self._process is not None:
            return self
        began = time.monotonic()
        self._workdir = Path(tempfile.mkdtemp(prefix="jupyter-mlops-mlflow-"))
        if self.port == 0:
            self.port = free_port(self.host)
        env = dict(os.environ)
        # The background job runner spawns a worker pool that tests never use; it costs
        # seconds at start and leaves more processes to stop.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        env.pop("MLFLOW_TRACKING_URI", None)
        # A client-only setting: the server refuses to start with it.
        env.pop("MLFLOW_WORKSPACE", None)
        self._log = (self._workdir / "server.log").open("wb")
        try:
            self._process = subprocess.Popen(
                self.command(),
                cwd=self._workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                # Its own process group, so stop() can end the workers the CLI spawns.
                start_new_session=True,
            )
            self.pid = self._process.pid
            self._wait_healthy(began + self.start_timeout)
        except BaseException:
            log = self._log_tail()
            self.stop()
            raise MlflowServerError(f"MLflow server did not start:\n{log}") from None
        self.start_seconds = time.monotonic() - began
        return self

    def _wait_healthy(self, deadline: float) -> None:
        health = f"http://{self.host}:{self.port}/health"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise MlflowServerError("the MLflow server exited during start")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            # The server offers no readiness event to wait on; poll its health route.
            time.sleep(0.1)
        raise MlflowServerError("the MLflow server did not answer /health in time")

    def _log_tail(self, limit: int = 4000) -> str:
        if self._workdir is None:
            return ""
        try:
            text = (self._workdir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return text[-limit:]

    def stop(self) -> None:
        """Stop the server (terminate, then kill after ``stop_timeout``) and remove its temp dir."""
        process, self._process = self._process, None
        if process is not None:
            group = process.pid
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(group, signal.SIGKILL)
                    process.wait(self.stop_timeout)
            # A worker that outlived the CLI process still holds the port: end the group.
            if _signal_group(group, signal.SIGTERM):
                _wait_group_gone(group, self.stop_timeout)
                _signal_group(group, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> MlflowServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(group: int, signum: int) -> bool:
    """Send ``signum`` to the process group; False when the group has no process left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def _wait_group_gone(group: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _signal_group(group, 0):
            return
        time.sleep(0.05)


FixtureScope = Literal["session", "package", "module", "class", "function"]


def mlflow_server_fixture(
    scope: FixtureScope = "session", **options: Any
) -> Callable[[], Iterator[MlflowServer]]:
    """A pytest fixture yielding a started :class:`MlflowServer`, one per ``scope``.

    In a conftest.py: ``mlflow_server = mlflow_server_fixture()``; ``options`` go to
    :class:`MlflowServer`.
    """
    import pytest

    def server() -> Iterator[MlflowServer]:
        with MlflowServer(**options) as running:
            yield running

    return pytest.fixture(scope=scope)(server)
