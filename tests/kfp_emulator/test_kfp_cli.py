"""The emulator as a process: ``python -m jupyter_mlops.testing.kfp``."""

import os
import signal
import subprocess
import sys

import kfp

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE


def test_the_module_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_mlops.testing.kfp",
            "--port",
            "0",
            "--token",
            "cli-token",
            "--seed-runs",
            "3",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith("KFP API emulator serving at http://127.0.0.1:")
        url = first_line.rsplit(" ", 1)[1].strip()

        client = kfp.Client(host=url, existing_token="cli-token", namespace=DEFAULT_NAMESPACE)

        assert client.list_runs().total_size == 3
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
