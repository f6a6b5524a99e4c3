"""P9: a 25,000-point metric history reaches the browser downsampled.

A dedicated MLflow server gets one run with a 25,000-step metric (noise, a trend and a few
spikes), logged over REST with `log_batch`. Through a real `jupyter server` subprocess with
the extension, the route `mlflow/runs/ID/history?key=…` answers the full history
(`points=100000`) and the downsampled one (`points=500`, the default). Figures: the size
ratio of the two JSON answers (downsampled bytes / full bytes), the median time of each, and
whether the first and last points and every spike survived.

A finished run's history is kept by the server: the first view of a fresh server is timed
against MLflow's own `MlflowClient.get_metric_history` in the same run (goal <= 1.1x), and
every view after it (goal <= 50 ms). Run: python benchmarks/bench_p9_history.py
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_p8_runs import JupyterServer, timed  # noqa: E402

from jupyter_mlops.testing.mlflow_server import MlflowServer  # noqa: E402

POINTS = 25_000
SHOWN = 500
SPIKES = (1_111, 9_999, 20_202)
BATCH = 1000  # MLflow's log_batch takes at most 1000 metrics at once


def log_history(url: str, points: int) -> str:
    """A run whose metric `loss` has `points` steps; its id."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=url)
    experiment_id = client.create_experiment("p9-long-history")
    run_id: str = client.create_run(experiment_id, run_name="long").info.run_id
    rng = random.Random(9)
    values = [
        2.0 * math.exp(-step / 6000) + rng.gauss(0, 0.02) + (5.0 if step in SPIKES else 0.0)
        for step in range(points)
    ]
    metrics = [Metric("loss", v, 1_700_000_000_000 + s, s) for s, v in enumerate(values)]
    for start in range(0, points, BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + BATCH])
    client.set_terminated(run_id)
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=POINTS)
    parser.add_argument("--shown", type=int, default=SHOWN)
    parser.add_argument("--reps", type=int, default=11)
    options = parser.parse_args()

    import json

    from _results import record

    with MlflowServer() as mlflow_server:
        began = time.perf_counter()
        run_id = log_history(mlflow_server.url, options.points)
        print(f"{options.points} points logged in {time.perf_counter() - began:.1f} s")
        first_ms: list[float] = []
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=mlflow_server.url)
        for _ in range(3):
            # A fresh server each time: its first view reads MLflow, as a new session does.
            with JupyterServer(mlflow_server.url) as fresh:
                timed(lambda: fresh.get(f"mlflow/runs/{run_id}"))  # imports the client
                ms, _ = timed(
                    lambda: fresh.fetch(
                        f"mlflow/runs/{run_id}/history", key="loss", points=options.shown
                    )
                )
                first_ms.append(ms)
        first_direct_ms = [
            timed(lambda: client.get_metric_history(run_id, "loss"))[0] for _ in range(3)
        ]
        with JupyterServer(mlflow_server.url) as jupyter:
            route = f"mlflow/runs/{run_id}/history"
            # The first MLflow call of the server imports the client: not part of a chart.
            timed(lambda: jupyter.get(f"mlflow/runs/{run_id}"))
            full_ms: list[float] = []
            shown_ms: list[float] = []
            full = shown = b""
            for _ in range(options.reps):
                ms, full = timed(lambda: jupyter.fetch(route, key="loss", points=100_000))
                full_ms.append(ms)
                ms, shown = timed(lambda: jupyter.fetch(route, key="loss", points=options.shown))
                shown_ms.append(ms)
        direct_ms = [
            timed(lambda: client.get_metric_history(run_id, "loss"))[0] for _ in range(options.reps)
        ]

    whole, small = json.loads(full), json.loads(shown)
    assert whole["total"] == small["total"] == options.points
    assert len(whole["points"]) == options.points and not whole["downsampled"]
    steps = [p["step"] for p in small["points"]]
    kept = {0, options.points - 1, *(s for s in SPIKES if s < options.points)} <= set(steps)
    ratio = len(shown) / len(full)
    time_ms = statistics.median(shown_ms)
    first_view = statistics.median(first_ms) / statistics.median(first_direct_ms)
    entry = record(
        "P9",
        value=round(ratio, 4),
        unit="ratio (bytes downsampled / bytes full)",
        goal=f"{options.points}-point history sent as <= {options.shown} points, "
        "first/last and spikes kept",
        baseline="the same route answering the full history (points=100000)",
        met=len(steps) <= options.shown and kept and first_view <= 1.1 and time_ms <= 50,
        first_view_ms=round(statistics.median(first_ms), 1),
        first_view_vs_client=round(first_view, 2),
        first_view_goal="<= 1.1x MlflowClient.get_metric_history",
        repeat_view_ms=round(time_ms, 1),
        repeat_view_goal="<= 50 ms (a finished run's history kept by the server)",
        measured_through="a real `jupyter server` subprocess with the extension, over HTTP",
        points_logged=options.points,
        points_sent=len(steps),
        bytes_full=len(full),
        bytes_downsampled=len(shown),
        downsampled_ms=round(time_ms, 1),
        full_ms=round(statistics.median(full_ms), 1),
        direct_client_ms=round(statistics.median(direct_ms), 1),
        note="downsampled_ms and full_ms are repeat views of the finished run (kept by the "
        "server); first_view_ms is a fresh server's first view; direct_client_ms is "
        "MlflowClient.get_metric_history alone",
        extremes_kept=kept,
        repetitions=options.reps,
    )
    print(
        f"{options.points} points -> {len(steps)} sent: {len(shown):,} bytes vs "
        f"{len(full):,} bytes, ratio {ratio:.4f}; first/last/spikes kept: {kept}"
    )
    print(
        f"downsampled answer {entry['downsampled_ms']} ms, full answer {entry['full_ms']} ms; "
        f"MlflowClient.get_metric_history alone {entry['direct_client_ms']} ms"
    )


if __name__ == "__main__":
    main()
