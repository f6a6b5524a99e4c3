"""Every MLflow route's answer, from a real jupyter_server and the real MLflow server, is exactly
its model in api/schemas.json, and says what MLflow's own client says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_mlops.server.models.tracking import (
    MlflowArtifactList,
    MlflowExperimentPage,
    MlflowMetricHistory,
    MlflowModelVersionPage,
    MlflowRegisteredModel,
    MlflowRegisteredModelPage,
    MlflowRun,
    MlflowRunPage,
)
from tests.kube.wire import conforms

from .conftest import STEPS, Seeded


@pytest.fixture
def mlops_config(seeded: Seeded) -> dict[str, Any]:
    return {"mlflow_tracking_uri": seeded.url}


@pytest.fixture
def client(seeded: Seeded) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=seeded.url)


async def answer(jp_fetch: Any, *path: str, **params: Any) -> bytes:
    response = await jp_fetch("mlops", "api", "mlflow", *path, params=params)
    assert response.headers["Content-Type"].startswith("application/json")
    body: bytes = response.body
    return body


async def test_experiments_page(jp_fetch: Any, seeded: Seeded, client: Any) -> None:
    page = conforms(await answer(jp_fetch, "experiments", name=seeded.prefix), MlflowExperimentPage)
    truth = client.get_experiment(seeded.experiment_id)
    [ours] = [e for e in page.experiments if e.id == seeded.experiment_id]
    assert (ours.name, ours.artifact_location) == (truth.name, truth.artifact_location)
    assert len(page.experiments) == 4 and page.next_page_token is None


async def test_runs_page_and_one_run(jp_fetch: Any, seeded: Seeded, client: Any) -> None:
    raw = await answer(jp_fetch, "experiments", seeded.experiment_id, "runs")
    page = conforms(raw, MlflowRunPage)
    assert page.experiment_id == seeded.experiment_id
    assert {r.id for r in page.runs} == set(seeded.runs.values())
    run_id = seeded.runs["run-2"]
    run = conforms(await answer(jp_fetch, "runs", run_id), MlflowRun)
    truth = client.get_run(run_id)
    assert (run.status, run.artifact_uri) == (truth.info.status, truth.info.artifact_uri)
    assert run.params == truth.data.params and run.metrics == truth.data.metrics


async def test_metric_history(jp_fetch: Any, seeded: Seeded) -> None:
    raw = await answer(jp_fetch, "runs", seeded.runs["long"], "history", key="curve", points=40)
    history = conforms(raw, MlflowMetricHistory)
    assert (history.total, history.downsampled) == (STEPS, True)
    assert 0 < len(history.points) <= 40


async def test_artifacts(jp_fetch: Any, seeded: Seeded, client: Any) -> None:
    run_id = seeded.runs["long"]
    root = conforms(await answer(jp_fetch, "runs", run_id, "artifacts"), MlflowArtifactList)
    truth = client.list_artifacts(run_id)
    assert (root.run_id, root.path) == (run_id, "")
    assert sorted((a.path, a.is_dir) for a in root.artifacts) == sorted(
        (a.path, a.is_dir) for a in truth
    )
    notes = conforms(
        await answer(jp_fetch, "runs", run_id, "artifacts", path="notes"), MlflowArtifactList
    )
    [readme] = notes.artifacts
    [real] = client.list_artifacts(run_id, "notes")
    assert (notes.path, readme.path, readme.size) == ("notes", real.path, real.file_size)


async def test_models_model_and_versions(jp_fetch: Any, seeded: Seeded, client: Any) -> None:
    page = conforms(await answer(jp_fetch, "models", name=seeded.prefix), MlflowRegisteredModelPage)
    assert [m.name for m in page.models] == [seeded.model]
    model = conforms(await answer(jp_fetch, "models", seeded.model), MlflowRegisteredModel)
    truth = client.get_registered_model(seeded.model)
    assert model.aliases == truth.aliases and model.description == truth.description
    raw = await answer(jp_fetch, "models", seeded.model, "versions")
    versions = conforms(raw, MlflowModelVersionPage)
    assert versions.name == seeded.model
    assert [v.run_id for v in versions.versions] == [
        seeded.runs[name] for name in ("run-3", "run-1", "run-0")
    ]


async def test_a_field_of_the_wrong_type_does_not_conform(jp_fetch: Any, seeded: Seeded) -> None:
    body = json.loads(await answer(jp_fetch, "runs", seeded.runs["run-1"]))
    with pytest.raises(Exception, match="status"):
        conforms(json.dumps({**body, "status": 3}), MlflowRun)
    body.pop("artifact_uri")
    with pytest.raises(Exception, match="artifact_uri"):
        conforms(json.dumps(body), MlflowRun)
