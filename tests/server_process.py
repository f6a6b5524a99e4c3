"""A Jupyter server as a subprocess of a test: its command line, its start (until it answers)
and its stop. The browser tests' labs and the contract tests' server start through here."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def server_args(port: int, token: str, root_dir: Path) -> list[str]:
    """The options every test server takes: loopback only, this port or none, this token."""
    args = [
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    return args


@contextmanager
def server_process(
    args: list[str],
    env: dict[str, str],
    log_file: Path,
    answering: Callable[[], bool],
    what: str,
    cwd: Path | None = None,
    poll_seconds: float = 0.1,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` (`what`, in words), its output in `log_file`; yield once `answering()`
    holds, stop it after. A request that fails counts as not answering yet; the test fails
    with the log's end when the server exits or does not answer within START_TIMEOUT."""
    with log_file.open("wb") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            _wait_until_answering(process, log_file, answering, what, poll_seconds)
            yield process
        finally:
            _stop(process)


def _wait_until_answering(
    process: subprocess.Popen[bytes],
    log_file: Path,
    answering: Callable[[], bool],
    what: str,
    poll_seconds: float,
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if answering():
                return
        except requests.RequestException:
            pass
        # Nothing signals readiness but the port answering; retry shortly.
        time.sleep(poll_seconds)
    log = log_file.read_text(errors="replace")[-4000:]
    pytest.fail(f"{what} did not start (exit code {process.poll()}):\n{log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
