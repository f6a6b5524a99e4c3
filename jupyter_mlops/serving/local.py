"""Model servers on loopback for `serve(..., mode="local")`: started, found, stopped.

Each is a child process (`local_server`, speaking the v2 protocol) that exits with the process
that started it. A record of it (pid, port, model version) is kept in the workspace's state
folder, so `list` and `delete` find it from any kernel of the workspace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import Unavailable
from .models import ModelRef, Service

MODULE = "jupyter_mlops.serving.local_server"
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class LocalServer:
    """One running local model server, as its record says."""

    name: str
    pid: int
    url: str
    model: str
    version: str
    alias: str | None
    download_uri: str
    model_dir: str
    log: str
    started: str

    def to_service(self, ready: bool) -> Service:
        return Service(
            name=self.name,
            mode="local",
            ready=ready,
            url=self.url,
            reason="" if ready else "the local model server does not answer",
            model=self.model,
            version=self.version,
            alias=self.alias,
            storage_uri=self.download_uri,
            runtime="jupyter-mlops v2 server (mlflow.pyfunc)",
            created=self.started,
        )


class LocalServers:
    """The local model servers of one workspace (records under `root`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def folder(self, name: str) -> Path:
        """Where a server's model and log live."""
        return self.root / name

    def _record(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def start(self, name: str, model_dir: Path, ref: ModelRef, *, timeout: float) -> LocalServer:
        """Serve the downloaded model at `model_dir` as `name`; replaces a server of that name.

        Returns once the model is loaded and the port is open; `Unavailable` with the server's
        last log lines when it fails to load in `timeout` seconds.
        """
        self.stop(name, keep_files=True)
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / "server.log"
        command = [
            sys.executable,
            "-m",
            MODULE,
            *("--model-dir", str(model_dir), "--name", name, "--version", ref.version),
            *("--parent", str(os.getpid())),
        ]
        with log_path.open("wb") as log:
            # Its own session: an interrupt of the kernel does not stop the server.
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        assert child.stdout is not None
        try:
            hello = _first_line(child, child.stdout, timeout, log_path)
        except BaseException:
            _end(child.pid, child)
            raise
        server = LocalServer(
            name=name,
            pid=child.pid,
            url=f"http://127.0.0.1:{int(hello['port'])}",
            model=ref.name,
            version=ref.version,
            alias=ref.alias,
            download_uri=ref.download_uri,
            model_dir=str(model_dir),
            log=str(log_path),
            started=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._children[name] = child
            self._record(name).write_text(json.dumps(asdict(server)))
        return server

    def get(self, name: str) -> LocalServer | None:
        """The running server of that name, if any (a record of a dead one is dropped)."""
        path = self._record(name)
        try:
            server = LocalServer(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not _alive(server.pid, server.name):
            path.unlink(missing_ok=True)
            return None
        return server

    def all(self) -> list[LocalServer]:
        """Every running server of the workspace, by name."""
        if not self.root.is_dir():
            return []
        found = (self.get(p.stem) for p in sorted(self.root.glob("*.json")))
        return [s for s in found if s is not None]

    def stop(self, name: str, *, keep_files: bool = False) -> LocalServer | None:
        """Stop the server of that name (and remove its downloaded model); what was stopped."""
        server = self.get(name)
        with self._lock:
            child = self._children.pop(name, None)
        if server is not None:
            _end(server.pid, child)
        self._record(name).unlink(missing_ok=True)
        if not keep_files:
            shutil.rmtree(self.folder(name), ignore_errors=True)
        return server


def ready(server: LocalServer, timeout: float = 2.0) -> bool:
    """Whether the server answers that its model is ready."""
    import requests

    try:
        answer = requests.get(f"{server.url}/v2/models/{server.name}/ready", timeout=timeout)
    except requests.RequestException:
        return False
    return answer.status_code == 200


def _first_line(
    child: subprocess.Popen[bytes], stdout: IO[bytes], timeout: float, log: Path
) -> dict[str, Any]:
    """The JSON line the server prints once serving; `Unavailable` if it exits or is late."""
    deadline = time.monotonic() + timeout
    pending = b""
    fd = stdout.fileno()
    while b"\n" not in pending:
        code = child.poll()
        if code is not None:
            raise Unavailable(
                "serving", f"the local model server exited ({code}) before serving:\n{_tail(log)}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Unavailable(
                "serving",
                f"the local model server did not load the model within {timeout:g} s:\n"
                f"{_tail(log)}",
            )
        readable, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if readable:
            chunk = os.read(fd, 4096)
            if not chunk:
                time.sleep(0.05)  # closed early: the exit shows on the next poll
            pending += chunk
    stdout.close()
    hello: dict[str, Any] = json.loads(pending.split(b"\n", 1)[0])
    return hello


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid: int, name: str) -> bool:
    """Whether `pid` is still this product's server for `name` (not a reused pid, a zombie)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True  # no /proc here: the pid is all there is to go by
    try:
        words = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in words and name.encode() in words


def _end(pid: int, child: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after a while; reaps the child when it is ours."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return
        if child is None and not _alive_pid(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if child is not None:
        child.wait(STOP_TIMEOUT)


def _alive_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie of another parent still answers the signal; its cmdline is empty.
    with contextlib.suppress(OSError):
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    return True
