"""The real control plane's cost: cold and warm build of its binaries, and its start time.

The cold build time is the one `testbed/build.sh` wrote into the cache (build.json) when it
last built (build.json says whether Go's build cache was empty then); the warm time is
measured here by running the script again (a no-op when the binaries are there). The start
time is the median of three starts of `ControlPlane` (etcd, kube-apiserver,
-controller-manager, -scheduler, kwok and three fake nodes Ready). Writes the entries
control_plane_build and control_plane_start of benchmarks/results.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import record

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from jupyter_mlops.testing.control_plane import ControlPlane, cache_dir  # noqa: E402

START_GOAL = 15.0
COLD_GOAL_MIN = 60.0


def main() -> None:
    t0 = time.monotonic()
    subprocess.run(["bash", str(ROOT / "testbed" / "build.sh")], check=True)
    warm = time.monotonic() - t0
    built = json.loads((cache_dir().parent / "build.json").read_text())
    cold = float(built["seconds"])
    if not built.get("cold"):
        print(
            "note: the last build relinked from a warm Go build cache; for the cold figure run "
            "`make clean-control-plane`, empty `go env GOCACHE`, then `make control-plane`"
        )
    entry = record(
        "control_plane_build",
        value=round(cold / 60, 1),
        unit="minutes (cold build of etcd, kube-*, kubectl, kwok)",
        goal=f"cold < {COLD_GOAL_MIN:g} min for the whole of make test; warm a no-op",
        baseline="none: the first real control plane",
        met=cold / 60 < COLD_GOAL_MIN,
        warm_seconds=round(warm, 2),
        cold_seconds=cold,
        last_build_was_cold=bool(built.get("cold")),
        cold_build=built,
    )
    print(json.dumps(entry, indent=2))

    starts = []
    for _ in range(3):
        with ControlPlane() as plane:
            assert plane.start_seconds is not None
            starts.append(plane.start_seconds)
    median = statistics.median(starts)
    entry = record(
        "control_plane_start",
        value=round(median, 2),
        unit="s (median of 3) until three nodes are Ready and default/default exists",
        goal=f"< {START_GOAL:g} s",
        baseline="the Python emulator starts in well under 1 s, but is not Kubernetes",
        met=median < START_GOAL,
        runs=[round(s, 2) for s in starts],
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
