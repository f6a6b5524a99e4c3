"""The notebook's MLflow store and workspace reach every task explicitly, from the settings of
its connection (what `%config` set), never through `os.environ`: a compiled cluster task carries
them in its spec, and a local run's task logs to the store, in the workspace, the notebook uses.
Against a real MLflow server with workspaces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import NotFound
from jupyter_mlops.pipelines.models import RunStatus
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.tracking import Tracking
from tests.lineage.notebooks import Notebook, open_notebook, process_environment

TOKEN = "a-token-no-spec-may-hold"


@pytest.fixture(scope="module")
def workspace_server() -> Iterator[MlflowServer]:
    with MlflowServer(workspaces=True) as server:
        yield server


@pytest.fixture(scope="module")
def team(workspace_server: MlflowServer) -> str:
    name = f"team-{uuid.uuid4().hex[:8]}"
    workspace_server.create_workspace(name)
    return name


@pytest.fixture(scope="module")
def server_notebook(
    workspace_server: MlflowServer, team: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Notebook]:
    """A notebook of profile `team` whose MLflow server is set with `%config` alone: the
    process environment names another server, and a token."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
        patch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
        yield from open_notebook(
            tmp_path_factory.mktemp("server-notebook"),
            patch,
            f"namespace = {team!r}",
            f"mlflow_tracking_uri = {workspace_server.url!r}",
        )


def tracking_of(server: MlflowServer, workspace: str, work: Path) -> Tracking:
    config = configure(workspace=str(work), namespace=workspace)
    return Tracking(resolve(config, env={"MLFLOW_TRACKING_URI": server.url}, root=work))


def test_a_compiled_cluster_task_carries_the_configured_server_and_workspace(
    server_notebook: Notebook, workspace_server: MlflowServer, team: str
) -> None:
    before = process_environment()
    envs = server_notebook.compiled_env()
    assert envs == [{"MLFLOW_TRACKING_URI": workspace_server.url, "MLFLOW_WORKSPACE": team}]
    # Not by %%kfp_component or %%kfp_pipeline, not by %kfp compile or %kfp run.
    assert server_notebook.after_cells == server_notebook.environ
    assert process_environment() == before


def test_no_credential_is_put_in_a_pipeline_spec(server_notebook: Notebook) -> None:
    target = server_notebook.work / "with-token.yaml"
    server_notebook.cell(f"%kfp compile scored -o {str(target)!r}")
    text = target.read_text()
    assert TOKEN not in text and "MLFLOW_TRACKING_TOKEN" not in text


def test_a_local_runs_task_logs_to_the_configured_server_in_the_workspace(
    server_notebook: Notebook,
    workspace_server: MlflowServer,
    team: str,
    tmp_path: Path,
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    before = process_environment()
    run = server_notebook.run(tag)
    assert run.status == RunStatus.SUCCEEDED, run.error
    # Not by %%kfp_component or %%kfp_pipeline, not by %kfp compile or %kfp run.
    assert server_notebook.after_cells == server_notebook.environ
    assert process_environment() == before

    mine = tracking_of(workspace_server, team, tmp_path)
    experiment = mine.experiment(f"tasks-{tag}")
    [logged] = mine.runs(experiment.id).runs
    assert (logged.name, logged.metrics) == (tag, {"score": 0.75})
    other = f"other-{uuid.uuid4().hex[:8]}"
    workspace_server.create_workspace(other)
    with pytest.raises(NotFound):
        tracking_of(workspace_server, other, tmp_path).experiment(f"tasks-{tag}")


def test_a_component_called_in_the_notebook_logs_to_the_configured_server_in_the_workspace(
    server_notebook: Notebook, workspace_server: MlflowServer, team: str, tmp_path: Path
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    before = process_environment()
    # Run at once, in a process of this kernel's, as a call in a cell does.
    server_notebook.cell(f"score(tag={tag!r})")
    assert process_environment() == before

    mine = tracking_of(workspace_server, team, tmp_path)
    [logged] = mine.runs(mine.experiment(f"tasks-{tag}").id).runs
    assert (logged.name, logged.metrics) == (tag, {"score": 0.75})
