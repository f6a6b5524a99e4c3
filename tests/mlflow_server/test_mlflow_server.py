"""The MLflow server fixture runs a real tracking server that clients and REST agree on."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import mlflow
import pytest
import requests

from jupyter_mlops.testing.mlflow_server import MlflowServer


def test_server_answers_health_on_loopback(mlflow_server: MlflowServer) -> None:
    assert mlflow_server.url.startswith("http://127.0.0.1:")
    response = requests.get(f"{mlflow_server.url}/health", timeout=10)
    assert response.status_code == 200
    assert mlflow_server.start_seconds is not None
    assert mlflow_server.start_seconds < mlflow_server.start_timeout


def test_logged_run_reads_back_over_rest(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    experiment_id = client.create_experiment(f"iris-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id, run_name="random-forest")
    run_id = run.info.run_id
    client.log_param(run_id, "n_estimators", "100")
    client.log_param(run_id, "max_depth", "5")
    start_ms = int(time.time() * 1000)
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        client.log_metric(run_id, "loss", loss, timestamp=start_ms + step, step=step)
    client.set_tag(run_id, "team", "vision")
    report = tmp_path / "report.txt"
    report.write_text("accuracy 0.97\n")
    client.log_artifact(run_id, str(report))
    client.set_terminated(run_id)

    got = requests.get(
        f"{mlflow_server.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10
    )
    assert got.status_code == 200
    body = got.json()["run"]
    assert body["info"]["run_name"] == "random-forest"
    assert body["info"]["status"] == "FINISHED"
    assert body["info"]["experiment_id"] == experiment_id
    params = {p["key"]: p["value"] for p in body["data"]["params"]}
    assert params == {"n_estimators": "100", "max_depth": "5"}
    tags = {t["key"]: t["value"] for t in body["data"]["tags"]}
    assert tags["team"] == "vision"
    latest = {m["key"]: m for m in body["data"]["metrics"]}
    assert latest["loss"]["value"] == 0.25
    assert latest["loss"]["step"] == 2

    history = requests.get(
        f"{mlflow_server.url}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss"},
        timeout=10,
    )
    assert history.status_code == 200
    points = sorted(history.json()["metrics"], key=lambda m: m["step"])
    assert [(m["step"], m["value"]) for m in points] == [(0, 0.9), (1, 0.5), (2, 0.25)]


def test_artifacts_go_through_the_server(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    experiment_id = client.create_experiment(f"artifacts-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(experiment_id).info.run_id
    model_card = tmp_path / "model_card.md"
    model_card.write_text("# churn model\n")
    client.log_artifact(run_id, str(model_card), artifact_path="docs")

    listed = requests.get(
        f"{mlflow_server.url}/api/2.0/mlflow/artifacts/list",
        params={"run_id": run_id, "path": "docs"},
        timeout=10,
    )
    assert listed.status_code == 200
    assert [f["path"] for f in listed.json()["files"]] == ["docs/model_card.md"]
    # The server, not the client, wrote the file: it lives under the server's destination.
    stored = list(mlflow_server.artifacts_dir.rglob("model_card.md"))
    assert len(stored) == 1
    assert stored[0].read_text() == "# churn model\n"


def test_stopping_frees_the_port_and_the_temp_dir() -> None:
    server = MlflowServer()
    with server:
        port = server.port
        workdir = server.workdir
        assert requests.get(f"{server.url}/health", timeout=10).status_code == 200
    assert not server.running
    assert not workdir.exists()
    # No process of the server's group is left, not even a zombie worker.
    assert server.pid is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As any server would: connections the test made may linger in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
