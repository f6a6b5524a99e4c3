"""A local pipeline run and its MLflow runs, linked both ways, through a real MLflow server."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.lineage import TAG_RUN, TAG_TASK, linked_runs, record_run
from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.pipelines.local import LocalPipelines
from jupyter_mlops.pipelines.models import Run
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.tracking import Tracking

CELLS = [
    "%%kfp_component add\ndef add(a: int, b: int) -> int:\n    return a + b\n",
    "%%kfp_component half --inputs x:int --outputs y:float\ny = x / 2\n",
    "%%kfp_pipeline halved --params a:int,b:int=2\nhalf(x=add(a=a, b=b).output)\n",
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="module")
def finished_run(
    workspace: Path, mlflow_server: MlflowServer
) -> Iterator[tuple[Run, str, InteractiveShell]]:
    """`%kfp run --wait` of a two-step pipeline in a notebook whose MLflow is the test server."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
        shell = InteractiveShell.instance()
        shell.register_magics(KfpMagics(shell=shell))
        try:
            for cell in CELLS:
                shell.run_cell(cell, store_history=False).raise_error()
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                result = shell.run_cell(
                    "%kfp run halved --local -p a=4 --wait", store_history=False
                )
            result.raise_error()
            yield result.result, printed.getvalue(), shell
        finally:
            InteractiveShell.clear_instance()


def tracking_for(url: str, workspace: Path) -> Tracking:
    return Tracking(resolve(configure(mlflow_tracking_uri=url, workspace=str(workspace))))


def test_a_finished_run_is_recorded_with_one_nested_run_per_task(
    finished_run: tuple[Run, str, InteractiveShell], mlflow_server: MlflowServer, workspace: Path
) -> None:
    run, printed, _ = finished_run
    assert run.status.value == "SUCCEEDED"
    assert f"in experiment kfp/{run.experiment}" in printed
    links = linked_runs(run, tracking_for(mlflow_server.url, workspace))
    assert [link.task for link in links] == [None, "add", "half"]
    assert all(link.status == "FINISHED" for link in links)
    assert links[0].mlflow_run_id in printed


def test_the_mlflow_runs_name_their_pipeline_run_and_carry_its_values(
    finished_run: tuple[Run, str, InteractiveShell], mlflow_server: MlflowServer, workspace: Path
) -> None:
    run, _, _ = finished_run
    tracking = tracking_for(mlflow_server.url, workspace)
    parent, _, half = linked_runs(run, tracking)
    assert tracking.run(parent.mlflow_run_id).tags[TAG_RUN] == run.id
    recorded_half = tracking.run(half.mlflow_run_id)
    assert recorded_half.tags[TAG_TASK] == "half"
    assert recorded_half.tags["mlflow.parentRunId"] == parent.mlflow_run_id
    assert recorded_half.params == {"x": "6"}
    assert recorded_half.metrics == {"Output": 3.0}  # KFP names a single output "Output"
    assert tracking.run(parent.mlflow_run_id).params == {"a": "4"}  # the arguments given


def test_recording_again_finds_the_same_runs(
    finished_run: tuple[Run, str, InteractiveShell], mlflow_server: MlflowServer, workspace: Path
) -> None:
    run, _, _ = finished_run
    tracking = tracking_for(mlflow_server.url, workspace)
    before = linked_runs(run, tracking)
    assert record_run(run, tracking) == before[0].mlflow_run_id
    assert len(linked_runs(run, tracking)) == len(before)


@pytest.fixture
def mlops_config(mlflow_server: MlflowServer, workspace: Path) -> dict[str, Any]:
    return {"mlflow_tracking_uri": mlflow_server.url, "workspace": str(workspace)}


async def test_the_run_route_links_to_the_mlflow_runs(
    finished_run: tuple[Run, str, InteractiveShell], jp_fetch: Any
) -> None:
    run, _, _ = finished_run
    response = await jp_fetch("mlops", "api", "pipelines", "runs", run.id)
    answer = json.loads(response.body)
    assert [link["task"] for link in answer["mlflow"]] == [None, "add", "half"]


def test_a_local_history_read_elsewhere_links_the_same_way(
    finished_run: tuple[Run, str, InteractiveShell], mlflow_server: MlflowServer, workspace: Path
) -> None:
    run, _, _ = finished_run
    again = LocalPipelines(workspace / ".mlops" / "pipelines").get_run(run.id)
    assert len(linked_runs(again, tracking_for(mlflow_server.url, workspace))) == 3
