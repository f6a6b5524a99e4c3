"""P1: JupyterLab's time-to-ready with the extension vs without it, alternating in one run.

Time-to-ready is from process start until `GET /api/status` answers 200. The server extension
is switched off through a user config dir, which takes precedence over the one the package
installs. Writes entry P1 of benchmarks/results.json.
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


def time_to_ready(with_extension: bool, root: Path) -> float:
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
        if with_extension:
            mlops = f"http://127.0.0.1:{port}/mlops/api/status?token={token}"
            with urllib.request.urlopen(mlops, timeout=10) as answer:
                assert answer.status == 200, "the extension is not loaded"
        return elapsed
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="p1-root-"))
    time_to_ready(True, root)  # warm the file cache once; not counted
    with_ext: list[float] = []
    without_ext: list[float] = []
    for _ in range(ROUNDS):
        without_ext.append(time_to_ready(False, root))
        with_ext.append(time_to_ready(True, root))
    ratio = statistics.median(with_ext) / statistics.median(without_ext)
    entry = record(
        "P1",
        value=round(ratio, 3),
        unit="ratio of time-to-ready (median)",
        goal=f"<= {GOAL}",
        baseline="the same JupyterLab with the jupyter_mlops server extension disabled",
        met=ratio <= GOAL,
        rounds=ROUNDS,
        with_extension_s=round(statistics.median(with_ext), 3),
        without_extension_s=round(statistics.median(without_ext), 3),
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
