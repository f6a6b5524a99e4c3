"""The plane leaves no process behind, and says what to run when it is not built."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlops.testing.control_plane import ControlPlane, NotBuilt, remove_orphans

CHILD = """
import json, sys, time
from jupyter_mlops.testing.control_plane import ControlPlane
plane = ControlPlane().start()
print(json.dumps({"pids": plane.pids(), "dir": str(plane.dir)}), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; /proc says which it is.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_not_built_says_to_run_make(tmp_path: Path) -> None:
    with pytest.raises(NotBuilt, match="run `make control-plane`"):
        ControlPlane(bin_dir=tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_process_survives_its_parent(sig: signal.Signals) -> None:
    """A test run that is interrupted (SIGTERM) or killed outright (SIGKILL) takes its
    etcd, apiserver, controllers and kwok with it."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else ""
        started = json.loads(line)
        pids: list[int] = started["pids"]
        assert len(pids) == 5 and all(alive(p) for p in pids)
        child.send_signal(sig)
        child.wait(30)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in pids if alive(p)] == []
        if sig == signal.SIGKILL:
            # A killed parent cannot clean up: the next plane removes its directory.
            assert Path(started["dir"]).exists()
            remove_orphans()
        assert not Path(started["dir"]).exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
