"""P1: JupyterLab's time-to-ready with the extension vs without it, alternating in one run.

Time-to-ready is from process start until `GET /api/status` answers 200 and, with the
extension, until its first `GET /mlops/api/status` answers too: that is the sidebar's first
request, and its answer is when the sidebar can show anything (issue 17: the window stopped
before it, leaving out the imports it defers). The server extension is switched off through a
user config dir, which takes precedence over the one the package installs. Writes entry P1 of
benchmarks/results.json.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _results import record

ROUNDS = int(os.environ.get("P1_ROUNDS", "7"))
GOAL = 1.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def time_to_ready(with_extension: bool, root: Path) -> tuple[float, float]:
    """Seconds until ready (with the extension: its first status answered), and of those the
    seconds the extension's first status took."""
    config_dir = Path(tempfile.mkdtemp(prefix="p1-config-"))
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mlops": with_extension}}})
    )
    port, token = free_port(), "p1"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KF_", "MLFLOW_"))}
    env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        elapsed = time.perf_counter() - started
                        break
            except OSError:
                time.sleep(0.01)
        else:
            raise RuntimeError("JupyterLab did not become ready within 60 s")
        if not with_extension:
            return elapsed, 0.0
        mlops = f"http://127.0.0.1:{port}/mlops/api/status?token={token}"
        asked = time.perf_counter()
        with urllib.request.urlopen(mlops, timeout=30) as answer:
            assert answer.status == 200, "the extension is not loaded"
            answer.read()
        done = time.perf_counter()
        return done - started, done - asked
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="p1-root-"))
    time_to_ready(True, root)  # warm the file cache once; not counted
    with_ext: list[float] = []
    without_ext: list[float] = []
    first_status: list[float] = []
    for round_ in range(ROUNDS):
        # Alternate who goes first, so neither always meets a just-freed machine.
        for with_extension in (False, True) if round_ % 2 == 0 else (True, False):
            seconds, status = time_to_ready(with_extension, root)
            (with_ext if with_extension else without_ext).append(seconds)
            if with_extension:
                first_status.append(status)
    ratio = statistics.median(with_ext) / statistics.median(without_ext)
    entry = record(
        "P1",
        value=round(ratio, 3),
        unit="ratio of time-to-ready (median); with the extension, until its first "
        "/mlops/api/status answered (the sidebar's first request)",
        goal=f"<= {GOAL}",
        baseline="the same JupyterLab with the jupyter_mlops server extension disabled, "
        "until /api/status answers",
        met=ratio <= GOAL,
        rounds=ROUNDS,
        with_extension_s=round(statistics.median(with_ext), 3),
        without_extension_s=round(statistics.median(without_ext), 3),
        first_mlops_status_s=round(statistics.median(first_status), 3),
        seconds_range={
            "with_extension": [round(min(with_ext), 3), round(max(with_ext), 3)],
            "without_extension": [round(min(without_ext), 3), round(max(without_ext), 3)],
        },
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
