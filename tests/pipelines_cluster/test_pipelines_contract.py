"""Every answer of the pipelines routes and every `watch-runs` push, as a real jupyter_server
sends them for cluster runs (KFP emulator) and local runs (kfp.local), valid against the models
of `api/schemas.json`: a renamed, missing or unknown field fails."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, get_args

import jsonschema
import kfp
import pytest
from kfp import compiler

from jupyter_mlops.lineage import record_run
from jupyter_mlops.pipelines import LocalPipelines, Run
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.policy import SOURCES
from jupyter_mlops.server.models.pipelines import RunSource
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.tracking import Tracking

from .conftest import NAMESPACE, TOKEN, settings_of, training
from .test_pipelines_routes import get_json, post_json, refused

SCHEMA = json.loads((Path(__file__).parents[2] / "api" / "schemas.json").read_text())


def valid(body: Any, model: str) -> Any:
    """`body`, after checking it against the model `model` of api/schemas.json."""
    jsonschema.validate(body, {"$ref": f"#/$defs/{model}", "$defs": SCHEMA["$defs"]})
    return body


@pytest.fixture
def mlops_config(config: dict[str, Any]) -> dict[str, Any]:
    return config


def test_the_models_refuse_a_renamed_field() -> None:
    row = {
        "id": "r",
        "name": "n",
        "pipeline_name": "p",
        "experiment": "Default",
        "status": "RUNNING",
        "backend": "cluster",
        "created_at": "2026-01-05T09:30:00Z",
        "started_at": None,
        "finished_at": None,
        "tasks_done": 0,
        "tasks_total": 2,
        "url": None,
        "source": "cluster",
    }
    valid(row, "PipelineRunRow")
    renamed = {**{k: v for k, v in row.items() if k != "source"}, "backend_source": "cluster"}
    with pytest.raises(jsonschema.ValidationError):
        valid(renamed, "PipelineRunRow")
    with pytest.raises(jsonschema.ValidationError):
        valid({**row, "source": "remote"}, "PipelineRunRow")
    assert get_args(RunSource) == SOURCES


async def test_lists_of_both_sources_match_their_models(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run, tmp_path: Path
) -> None:
    kfp_api.seed_runs(3)
    kfp_api.add_experiment("tuning")
    page = valid(await get_json(jp_fetch, "runs"), "PipelineRunsPage")
    assert {r["source"] for r in page["runs"]} == {"local", "cluster"}
    assert set(page["pages"]) == {"local", "cluster"}
    one = valid(
        await get_json(jp_fetch, "runs", source="cluster", page_size="2"), "PipelineRunsPage"
    )
    assert one["pages"]["cluster"]["next_page_token"] and len(one["runs"]) == 2
    experiments = valid(await get_json(jp_fetch, "experiments"), "PipelineExperimentsPage")
    assert {(e["source"], e["name"]) for e in experiments["experiments"]} >= {
        ("local", "Default"),
        ("cluster", "tuning"),
    }

    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    client = kfp.Client(host=kfp_api.url, existing_token=TOKEN, namespace=NAMESPACE)
    uploaded = client.upload_pipeline(str(package), "trainer", namespace=NAMESPACE)
    pipelines = valid(await get_json(jp_fetch, "pipelines"), "UploadedPipelinesPage")
    assert [p["display_name"] for p in pipelines["pipelines"]] == ["trainer"]
    versions = valid(
        await get_json(jp_fetch, "pipelines", uploaded.pipeline_id, "versions"),
        "UploadedPipelineVersionsPage",
    )
    assert [v["pipeline_id"] for v in versions["versions"]] == [uploaded.pipeline_id]


async def test_a_failing_source_is_an_error_of_the_page(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    kfp_api.expire_token(TOKEN)
    page = valid(await get_json(jp_fetch, "runs"), "PipelineRunsPage")
    assert set(page["errors"]) == {"cluster"} and set(page["pages"]) == {"local"}
    experiments = valid(await get_json(jp_fetch, "experiments"), "PipelineExperimentsPage")
    assert set(experiments["errors"]) == {"cluster"}
    valid(experiments["errors"]["cluster"], "ErrorBody")


async def test_a_cluster_run_its_log_findings_and_actions_match_their_models(
    jp_fetch: Any,
    kfp_api: KfpEmulator,
    cluster_backend: ClusterPipelines,
    config: dict[str, Any],
    tmp_path: Path,
) -> None:
    done = cluster_backend.submit(training, {"rows": "7"}, experiment="tuning")
    kfp_api.wait_for_run_state(done.id)
    # The MLflow runs recorded for it, in the workspace's store the server reads too.
    record_run(cluster_backend.get_run(done.id), Tracking(settings_of(config, tmp_path)))
    shown = valid(await get_json(jp_fetch, "runs", done.id), "PipelineRunDetail")
    assert shown["source"] == "cluster" and [t["name"] for t in shown["tasks"]] == [
        "prepare",
        "train",
    ]
    assert [link["task"] for link in shown["mlflow"]] == [None, "prepare", "train"]
    log = valid(
        await get_json(jp_fetch, "runs", done.id, "tasks", "train", "log"), "PipelineTaskLog"
    )
    assert log["source"] == "cluster" and log["run"] == done.id

    kfp_api.fail_tasks_named("train")
    failed = cluster_backend.submit(training)
    assert kfp_api.wait_for_run_state(failed.id) == "FAILED"
    report = valid(
        await get_json(jp_fetch, "runs", failed.id, "tasks", "train", "findings"), "DoctorReport"
    )
    assert report["namespace"] == NAMESPACE

    kfp_api.set_task_seconds("prepare", 30)
    going = cluster_backend.submit(training)
    kfp_api.wait_for_task_state(going.id, "prepare", "RUNNING")
    # A server with MLflow on links its own MLflow run, which this notebook's store lacks.
    parent, url = "0" * 32, "http://mlflow.example/#/experiments/1/runs/" + "0" * 32
    kfp_api.set_mlflow_output(
        going.id, root_run_id=parent, experiment_id="1", experiment_name="Default", run_url=url
    )
    stopped = valid(await post_json(jp_fetch, "runs", going.id, "terminate"), "PipelineRunChanged")
    assert stopped["id"] == going.id and stopped["source"] == "cluster"
    assert stopped["mlflow"]["run_id"] == parent and stopped["links"]["mlflow"] == url
    assert kfp_api.wait_for_run_state(going.id) == "CANCELED"
    unread = valid(await get_json(jp_fetch, "runs", going.id), "PipelineRunDetail")
    assert set(unread["mlflow"]) == {"reason", "message"}
    kfp_api.set_task_seconds("prepare", 0)
    again = valid(await post_json(jp_fetch, "runs", going.id, "retry"), "PipelineRunChanged")
    assert again["id"] == going.id and again["links"]["dashboard"].endswith(going.id)


async def test_a_local_run_its_log_and_actions_match_their_models(
    jp_fetch: Any, kfp_api: KfpEmulator, workspace: Path
) -> None:
    local = LocalPipelines(workspace / ".mlops" / "pipelines")
    run = local.wait(local.submit(training, {"rows": 30}, run_name="here").id, timeout=120)
    shown = valid(await get_json(jp_fetch, "runs", run.id), "PipelineRunDetail")
    assert shown["source"] == shown["backend"] == "local" and shown["status"] == "SUCCEEDED"
    assert shown["links"] == {} and isinstance(shown["mlflow"], list)
    log = valid(
        await get_json(jp_fetch, "runs", run.id, "tasks", "train", "log"), "PipelineTaskLog"
    )
    assert log["source"] == "local"
    again = valid(await post_json(jp_fetch, "runs", run.id, "retry"), "PipelineRunChanged")
    assert again["retry_of"] == run.id and again["source"] == "local"
    local.wait(again["id"], timeout=120)


async def test_the_old_source_word_is_refused_in_the_new_ones(
    jp_fetch: Any, kfp_api: KfpEmulator, local_run: Run
) -> None:
    for parts in (("runs",), ("experiments",), ("runs", local_run.id)):
        code, body = await refused(jp_fetch, *parts, source="remote")
        assert code == 400 and "local" in body["message"] and "cluster" in body["message"]
        assert "'remote'" in body["message"]


async def test_every_runs_push_matches_its_model(
    jp_ws_fetch: Any, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines, local_run: Run
) -> None:
    kfp_api.seed_runs(2)
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message(json.dumps({"op": "watch-runs", "id": "runs"}))
    seen: dict[str, str] = {}
    pushes = 0
    new = cluster_backend.submit(training, run_name="pushed")
    deadline = time.monotonic() + 30
    while seen.get("cluster:pushed") != "SUCCEEDED":
        assert time.monotonic() < deadline, seen
        for message in json.loads(await asyncio.wait_for(ws.read_message(), 30)):
            valid(message, "RunsPush")
            pushes += 1
            seen.update({f"{r['source']}:{r['name']}": r["status"] for r in message["runs"]})
    assert "local:local try" in seen and pushes >= 2
    kfp_api.wait_for_run_state(new.id)
    kfp_api.stop()
    while True:
        [message] = json.loads(await asyncio.wait_for(ws.read_message(), 30))
        if valid(message, "RunsPush")["errors"]:
            break
    assert message["errors"]["cluster"]["reason"] == "Unavailable"
    ws.close()
