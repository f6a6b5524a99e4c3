"""P7: the first page of runs, served by our route from a KFP API holding 5,000 runs.

A real `jupyter server` subprocess with the extension talks to the KFP API emulator (seeded
with 5,000 finished runs) through kfp.Client. After a warm-up, the first page of
`GET /mlops/api/pipelines/runs?source=cluster` is timed several times, then the following
pages through the page tokens. Writes entry P7 of benchmarks/results.json.
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
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from _results import record

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator

RUNS = 5000
ROUNDS = int(os.environ.get("P7_ROUNDS", "15"))
PAGES = 10
PAGE_SIZE = 20
GOAL_MS = 300.0
TOKEN = "p7-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def fetch(url: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = json.loads(answer.read())
    return (time.perf_counter() - started) * 1000, body


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="p7-root-"))
    with KfpEmulator(token=TOKEN, step_seconds=0.05) as kfp_api:
        kfp_api.seed_runs(RUNS)
        port, token = free_port(), "p7"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KF_", "MLFLOW"))}
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.jpserver_extensions=jupyter_mlops=True",
            f"--MLOpsConfig.kfp_endpoint={kfp_api.url}",
            f"--MLOpsConfig.kfp_token={TOKEN}",
            f"--MLOpsConfig.namespace={DEFAULT_NAMESPACE}",
            "--MLOpsConfig.cluster=none",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}/mlops/api/pipelines/runs"

        def url(**params: str) -> str:
            query = {"token": token, "source": "cluster", "page_size": str(PAGE_SIZE), **params}
            return f"{base}?{urllib.parse.urlencode(query)}"

        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    fetch(url())
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("jupyter server did not answer within 60 s") from None
                    time.sleep(0.05)
            for _ in range(3):  # warm-up: imports, connection pool, experiment names
                fetch(url())
            first: list[float] = []
            for _ in range(ROUNDS):
                elapsed, page = fetch(url())
                assert len(page["runs"]) == PAGE_SIZE
                assert page["pages"]["cluster"]["total_size"] == RUNS
                first.append(elapsed)
            following: list[float] = []
            page_token = page["pages"]["cluster"]["next_page_token"]
            names = {r["name"] for r in page["runs"]}
            for _ in range(PAGES):
                elapsed, page = fetch(url(page_token=page_token))
                following.append(elapsed)
                seen = {r["name"] for r in page["runs"]}
                assert not seen & names, "pages overlap"
                names |= seen
                page_token = page["pages"]["cluster"]["next_page_token"]
        finally:
            process.terminate()
            process.wait(timeout=30)
    median = statistics.median(first)
    entry = record(
        "P7",
        value=round(median, 1),
        unit="ms, median first page of 20 runs through our route",
        goal=f"<= {GOAL_MS:.0f} ms",
        baseline=f"{RUNS} runs in the KFP API emulator, read with kfp.Client by a jupyter server",
        met=median <= GOAL_MS,
        rounds=ROUNDS,
        first_page_ms=[round(x, 1) for x in first],
        next_pages_median_ms=round(statistics.median(following), 1),
        pages_read=PAGES + 1,
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
