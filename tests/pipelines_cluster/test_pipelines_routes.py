"""The pipelines routes and the run pushes, through a real jupyter_server and both emulators."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import kfp
import pytest
from kfp import compiler
from tornado.httpclient import HTTPClientError

from jupyter_mlops.pipelines import Run
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.testing.kfp import KfpEmulator

from .conftest import NAMESPACE, TOKEN, training


@pytest.fixture
def mlops_config(config: dict[str, Any]) -> dict[str, Any]:
    return config


async def get_json(jp_fetch: Any, *parts: str, **params: str) -> Any:
    response = await jp_fetch("mlops", "api", "pipelines", *parts, params=params)
    return json.loads(response.body)


async def post_json(jp_fetch: Any, *parts: str) -> Any:
    response = await jp_fetch("mlops", "api", "pipelines", *parts, method="POST", body="{}")
    return json.loads(response.body)


async def refused(jp_fetch: Any, *parts: str, method: str = "GET", **params: str) -> Any:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch(
            "mlops",
            "api",
            "pipelines",
            *parts,
            method=method,
            params=params,
            body=None if method == "GET" else "{}",
        )
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body


async def test_local_and_cluster_runs_are_listed_side_by_side(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    kfp_api.seed_runs(5)
    page = await get_json(jp_fetch, "runs")
    by_source = {(r["source"], r["name"]) for r in page["runs"]}
    assert ("local", "local try") in by_source
    assert {("cluster", f"seeded-run-0000{i}") for i in range(5)} <= by_source
    assert page["pages"]["cluster"]["total_size"] == 5 and page["errors"] == {}
    cluster_row = next(r for r in page["runs"] if r["source"] == "cluster")
    assert cluster_row["url"] == f"/_/pipeline/?ns={NAMESPACE}#/runs/details/{cluster_row['id']}"


async def test_cluster_runs_are_paged_with_the_api_tokens(
    jp_fetch: Any, kfp_api: KfpEmulator
) -> None:
    kfp_api.seed_runs(5)
    first = await get_json(jp_fetch, "runs", source="cluster", page_size="2", sort="name asc")
    assert [r["name"] for r in first["runs"]] == ["seeded-run-00000", "seeded-run-00001"]
    token = first["pages"]["cluster"]["next_page_token"]
    second = await get_json(
        jp_fetch, "runs", source="cluster", page_size="2", sort="name asc", page_token=token
    )
    assert [r["name"] for r in second["runs"]] == ["seeded-run-00002", "seeded-run-00003"]
    failed = await get_json(jp_fetch, "runs", source="cluster", status="failed")
    assert [r["status"] for r in failed["runs"]] == ["FAILED"]


async def test_bad_list_arguments_are_400(jp_fetch: Any) -> None:
    assert (await refused(jp_fetch, "runs", sort="colour"))[0] == 400
    assert (await refused(jp_fetch, "runs", status="happy"))[0] == 400
    assert (await refused(jp_fetch, "runs", page_token="x"))[0] == 400
    code, body = await refused(jp_fetch, "runs", source="cluster", page_token="garbage")
    assert code == 400 and "list runs" in body["message"]


async def test_a_run_with_its_tasks_links_and_a_task_log(
    jp_fetch: Any, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines
) -> None:
    run = cluster_backend.submit(training, {"rows": "7"}, experiment="tuning")
    kfp_api.wait_for_run_state(run.id)
    shown = await get_json(jp_fetch, "runs", run.id)
    assert shown["source"] == "cluster" and shown["status"] == "SUCCEEDED"
    assert shown["parameters"] == {"rows": 7} and shown["experiment"] == "tuning"
    assert [t["name"] for t in shown["tasks"]] == ["prepare", "train"]
    assert shown["links"]["dashboard"].endswith(f"#/runs/details/{run.id}")
    log = await get_json(jp_fetch, "runs", run.id, "tasks", "train", "log")
    assert log["task"] == "train" and "train" in log["text"]
    code, body = await refused(jp_fetch, "runs", "00000000-0000-0000-0000-000000000000")
    assert code == 404 and "00000000-0000-0000-0000-000000000000" in body["message"]


async def test_the_local_run_is_read_from_its_history(jp_fetch: Any, local_run: Run) -> None:
    shown = await get_json(jp_fetch, "runs", local_run.id)
    assert shown["source"] == "local" and shown["name"] == "local try"


async def test_terminate_and_retry_through_the_routes(
    jp_fetch: Any, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines
) -> None:
    kfp_api.set_task_seconds("prepare", 30)
    run = cluster_backend.submit(training)
    kfp_api.wait_for_task_state(run.id, "prepare", "RUNNING")
    await post_json(jp_fetch, "runs", run.id, "terminate")
    assert kfp_api.wait_for_run_state(run.id) == "CANCELED"
    assert (await refused(jp_fetch, "runs", run.id, "terminate", method="POST"))[0] == 409
    kfp_api.set_task_seconds("prepare", 0)
    await post_json(jp_fetch, "runs", run.id, "retry")
    assert kfp_api.wait_for_run_state(run.id, "SUCCEEDED") == "SUCCEEDED"


async def test_pipelines_and_their_versions(
    jp_fetch: Any, kfp_api: KfpEmulator, tmp_path: Path
) -> None:
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    client = kfp.Client(host=kfp_api.url, existing_token=TOKEN, namespace=NAMESPACE)
    uploaded = client.upload_pipeline(str(package), "trainer", namespace=NAMESPACE)
    page = await get_json(jp_fetch, "pipelines")
    assert [p["display_name"] for p in page["pipelines"]] == ["trainer"]
    versions = await get_json(jp_fetch, "pipelines", uploaded.pipeline_id, "versions")
    assert versions["total_size"] == 1 and versions["versions"][0]["pipeline_id"]


async def test_experiments_of_both_sources(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    kfp_api.add_experiment("tuning")
    answer = await get_json(jp_fetch, "experiments")
    assert {(e["source"], e["name"]) for e in answer["experiments"]} >= {
        ("local", "Default"),
        ("cluster", "Default"),
        ("cluster", "tuning"),
    }


async def test_an_expired_token_is_403_in_words_and_local_runs_still_list(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    kfp_api.expire_token(TOKEN)
    code, body = await refused(jp_fetch, "runs", source="cluster")
    assert code == 403 and "may have expired" in body["message"]
    page = await get_json(jp_fetch, "runs")
    assert [r["source"] for r in page["runs"]] == ["local"]
    assert page["errors"]["cluster"]["reason"] == "Forbidden"


async def test_an_unreachable_endpoint_is_503_at_once(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    kfp_api.stop()
    started = time.monotonic()
    code, body = await refused(jp_fetch, "runs", source="cluster")
    assert code == 503 and "cannot reach" in body["message"]
    assert time.monotonic() - started < 2.5
    page = await get_json(jp_fetch, "runs")
    assert [r["name"] for r in page["runs"]] == ["local try"]
    assert page["errors"]["cluster"]["reason"] == "Unavailable"


async def test_the_websocket_pushes_run_changes_from_one_poller(
    jp_ws_fetch: Any, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines, local_run: Run
) -> None:
    kfp_api.seed_runs(2)
    first = await jp_ws_fetch("mlops", "api", "ws")
    second = await jp_ws_fetch("mlops", "api", "ws")
    seen: dict[str, dict[str, str]] = {"a": {}, "b": {}}

    async def until(ws: Any, sid: str, predicate: Any) -> None:
        deadline = time.monotonic() + 15
        while not predicate(seen[sid]):
            assert time.monotonic() < deadline, seen[sid]
            for message in json.loads(await asyncio.wait_for(ws.read_message(), 15)):
                assert message["id"] == sid and message["type"] == "runs", message
                seen[sid].update(
                    {f"{r['source']}:{r['name']}": r["status"] for r in message["runs"]}
                )

    first.write_message(json.dumps({"op": "watch-runs", "id": "a"}))
    second.write_message(json.dumps({"op": "watch-runs", "id": "b"}))
    await until(first, "a", lambda s: {"local:local try", "cluster:seeded-run-00001"} <= set(s))
    await until(second, "b", lambda s: "cluster:seeded-run-00000" in s)
    new = cluster_backend.submit(training, run_name="pushed")
    kfp_api.wait_for_run_state(new.id)
    await until(first, "a", lambda s: s.get("cluster:pushed") == "SUCCEEDED")
    first.close()
    second.close()
