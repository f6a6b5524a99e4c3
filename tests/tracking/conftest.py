"""A seeded MLflow server (the session's real one) and our `Tracking` pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.tracking import Tracking

STEPS = 3000
SPIKE_STEP = 1234


@dataclass
class Seeded:
    """What the seed put on the server, with unique names so tests never collide."""

    url: str
    prefix: str
    experiment_id: str
    experiment_name: str
    other_experiment_ids: list[str]
    runs: dict[str, str] = field(default_factory=dict)  # run name → id
    model: str = ""


def settings_for(uri: str, tmp_path: Path, **env: str) -> Any:
    """Settings as a notebook with $MLFLOW_TRACKING_URI (and `env`) would resolve them."""
    return resolve(
        configure(workspace=str(tmp_path)), env={"MLFLOW_TRACKING_URI": uri, **env}, root=tmp_path
    )


def loss_curve(step: int) -> float:
    """A falling loss with one spike, so downsampling can be seen to keep the extreme."""
    return 100.0 if step == SPIKE_STEP else 1.0 / (1 + step)


def seed(url: str) -> Seeded:
    """Experiments, runs with params and metrics, a long history, artifacts, a model."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=url)
    prefix = f"t{uuid.uuid4().hex[:8]}"
    name = f"{prefix}-churn"
    experiment_id = client.create_experiment(name)
    others = [client.create_experiment(f"{prefix}-other-{i}") for i in range(3)]
    seeded = Seeded(url, prefix, experiment_id, name, others)
    for i, lr in enumerate(["0.1", "0.01", "0.001", "0.1", "0.01"]):
        run = client.create_run(
            experiment_id, run_name=f"run-{i}", start_time=1_700_000_000_000 + i
        )
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            params=[Param("lr", lr), Param("depth", str(i + 2))],
            metrics=[Metric("accuracy", 0.5 + i / 10, 0, 0), Metric("loss", 1.0 / (i + 1), 0, 0)],
        )
        client.set_terminated(run_id, "FINISHED" if i != 2 else "FAILED")
        seeded.runs[f"run-{i}"] = run_id
    long_run = client.create_run(experiment_id, run_name="<b>long</b>").info.run_id
    points = [Metric("curve", loss_curve(s), 1_700_000_000_000 + s, s) for s in range(STEPS)]
    for start in range(0, STEPS, 1000):
        client.log_batch(long_run, metrics=points[start : start + 1000])
    client.log_text(long_run, "hello artifacts\n", "notes/readme.txt")
    client.log_dict(long_run, {"rows": 3}, "data/summary.json")
    seeded.runs["long"] = long_run

    seeded.model = f"{prefix}-model"
    client.create_registered_model(seeded.model, description="churn classifier")
    for run_name in ("run-0", "run-1", "run-3"):
        client.create_model_version(
            seeded.model, f"runs:/{seeded.runs[run_name]}/model", run_id=seeded.runs[run_name]
        )
    client.set_registered_model_alias(seeded.model, "champion", "2")
    client.set_registered_model_alias(seeded.model, "challenger", "3")
    return seeded


@pytest.fixture(scope="session")
def seeded(mlflow_server: MlflowServer) -> Seeded:
    return seed(mlflow_server.url)


@pytest.fixture
def tracking(seeded: Seeded, tmp_path: Path) -> Iterator[Tracking]:
    yield Tracking(settings_for(seeded.url, tmp_path))
