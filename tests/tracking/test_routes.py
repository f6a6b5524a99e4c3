"""The MLflow routes through a real jupyter_server, against the real MLflow server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.mlflow_server import free_port

from .conftest import SPIKE_STEP, STEPS, Seeded


@pytest.fixture
def mlops_config(seeded: Seeded) -> dict[str, Any]:
    return {"mlflow_tracking_uri": seeded.url}


async def get(jp_fetch: Any, *path: str, **params: Any) -> Any:
    response = await jp_fetch("mlops", "api", "mlflow", *path, params=params)
    return json.loads(response.body)


async def refused(jp_fetch: Any, *path: str, **params: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", "mlflow", *path, params=params)
    assert error.value.response is not None
    return error.value.code, json.loads(error.value.response.body)


async def test_experiments_by_name(jp_fetch: Any, seeded: Seeded) -> None:
    page = await get(jp_fetch, "experiments", name=seeded.prefix, max_results=3)
    assert len(page["experiments"]) == 3 and page["next_page_token"]
    rest = await get(
        jp_fetch, "experiments", name=seeded.prefix, page_token=page["next_page_token"]
    )
    assert len(rest["experiments"]) == 1 and rest["next_page_token"] is None


async def test_runs_filtered_ordered_with_chosen_columns(jp_fetch: Any, seeded: Seeded) -> None:
    page = await get(
        jp_fetch,
        "experiments",
        seeded.experiment_id,
        "runs",
        filter="metrics.accuracy > 0.55",
        order_by="metrics.accuracy DESC",
        params="lr",
        metrics="accuracy",
    )
    assert [r["name"] for r in page["runs"]] == ["run-4", "run-3", "run-2", "run-1"]
    assert all(set(r["params"]) == {"lr"} for r in page["runs"])
    assert all(set(r["metrics"]) == {"accuracy"} for r in page["runs"])


async def test_a_bad_filter_is_400_with_mlflows_message(jp_fetch: Any, seeded: Seeded) -> None:
    code, body = await refused(
        jp_fetch, "experiments", seeded.experiment_id, "runs", filter="metrics.loss >>> 1"
    )
    assert code == 400 and "Invalid comparator '>>>'" in body["message"]


async def test_a_page_larger_than_1000_is_refused(jp_fetch: Any, seeded: Seeded) -> None:
    code, body = await refused(
        jp_fetch, "experiments", seeded.experiment_id, "runs", max_results="1001"
    )
    assert code == 400 and "max_results" in body["message"]


async def test_runs_of_a_missing_experiment_are_404(jp_fetch: Any) -> None:
    code, body = await refused(jp_fetch, "experiments", "99999", "runs")
    assert code == 404 and "99999" in body["message"]


async def test_one_run(jp_fetch: Any, seeded: Seeded) -> None:
    run = await get(jp_fetch, "runs", seeded.runs["run-1"])
    assert run["params"] == {"lr": "0.01", "depth": "3"} and run["status"] == "FINISHED"


async def test_a_missing_run_is_404_naming_it(jp_fetch: Any) -> None:
    missing = "fedcba9876543210fedcba9876543210"
    code, body = await refused(jp_fetch, "runs", missing)
    assert code == 404 and missing in body["message"]


async def test_metric_history_downsampled_with_the_original_count(
    jp_fetch: Any, seeded: Seeded
) -> None:
    history = await get(jp_fetch, "runs", seeded.runs["long"], "history", key="curve", points=50)
    assert history["total"] == STEPS and history["downsampled"] is True
    steps = [p["step"] for p in history["points"]]
    assert len(steps) <= 50 and steps[0] == 0 and steps[-1] == STEPS - 1 and SPIKE_STEP in steps


async def test_metric_history_needs_a_key_and_sane_points(jp_fetch: Any, seeded: Seeded) -> None:
    code, _ = await refused(jp_fetch, "runs", seeded.runs["long"], "history")
    assert code == 400
    code, body = await refused(
        jp_fetch, "runs", seeded.runs["long"], "history", key="curve", points="2"
    )
    assert code == 400 and "points" in body["message"]


async def test_artifacts_listed_and_downloaded(jp_fetch: Any, seeded: Seeded) -> None:
    listed = await get(jp_fetch, "runs", seeded.runs["long"], "artifacts", path="data")
    [entry] = listed["artifacts"]
    assert (entry["path"], entry["is_dir"]) == ("data/summary.json", False)
    response = await jp_fetch(
        "mlops",
        "api",
        "mlflow",
        "runs",
        seeded.runs["long"],
        "artifacts",
        "download",
        params={"path": "data/summary.json"},
    )
    assert json.loads(response.body) == {"rows": 3}
    assert len(response.body) == entry["size"]
    assert response.headers["Content-Type"] == "application/json"
    assert 'filename="summary.json"' in response.headers["Content-Disposition"]


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "data/../../x"])
async def test_artifact_path_traversal_is_400(jp_fetch: Any, seeded: Seeded, path: str) -> None:
    for route in (("artifacts",), ("artifacts", "download")):
        code, body = await refused(jp_fetch, "runs", seeded.runs["long"], *route, path=path)
        assert code == 400, route
        assert "Traceback" not in body["message"]


async def test_models_versions_and_aliases(jp_fetch: Any, seeded: Seeded) -> None:
    page = await get(jp_fetch, "models", name=seeded.prefix)
    assert [(m["name"], m["aliases"]) for m in page["models"]] == [
        (seeded.model, {"champion": "2", "challenger": "3"})
    ]
    model = await get(jp_fetch, "models", seeded.model)
    assert model["description"] == "churn classifier"
    versions = await get(jp_fetch, "models", seeded.model, "versions")
    assert [(v["version"], v["aliases"]) for v in versions["versions"]] == [
        ("3", ["challenger"]),
        ("2", ["champion"]),
        ("1", []),
    ]


async def test_a_missing_model_is_404(jp_fetch: Any) -> None:
    code, body = await refused(jp_fetch, "models", "ghost", "versions")
    assert code == 404 and "ghost" in body["message"]


class TestUnreachable:
    """MLflow configured but not answering: every route says so with 503 and the reason."""

    @pytest.fixture
    def mlops_config(self) -> dict[str, Any]:
        return {"mlflow_tracking_uri": f"http://127.0.0.1:{free_port()}"}

    async def test_503_with_the_reason(self, jp_fetch: Any) -> None:
        for path in (("experiments",), ("models",), ("runs", "abc")):
            code, body = await refused(jp_fetch, *path)
            assert code == 503, path
            assert "Connection refused" in body["message"] and "127.0.0.1" in body["message"]
