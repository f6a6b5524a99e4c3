"""A notebook without an MLflow server: its workspace's own store reaches local tasks, through
each task's environment in the run's spec, and no cluster task (a local path means nothing in a
pod). `os.environ` is left as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.pipelines.models import RunStatus
from jupyter_mlops.tracking import Tracking
from tests.lineage.notebooks import Notebook, open_notebook, process_environment


@pytest.fixture
def local_store_notebook(tmp_path: Path) -> Iterator[Notebook]:
    """A notebook with no MLflow server anywhere: its store is the workspace's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("MLFLOW_WORKSPACE", raising=False)
        yield from open_notebook(tmp_path, patch)


def test_a_local_store_reaches_local_tasks_but_not_cluster_ones(
    local_store_notebook: Notebook,
) -> None:
    before = process_environment()
    # A path on this machine means nothing in a cluster's pod.
    assert local_store_notebook.compiled_env() == [{}]
    tag = f"t{uuid.uuid4().hex[:8]}"
    run = local_store_notebook.run(tag)
    assert run.status == RunStatus.SUCCEEDED, run.error
    # Not by %%kfp_component or %%kfp_pipeline, not by %kfp compile or %kfp run.
    assert local_store_notebook.after_cells == local_store_notebook.environ
    assert process_environment() == before

    work = local_store_notebook.work
    store = Tracking(resolve(configure(workspace=str(work)), env={}, root=work))
    assert store.local
    experiment = store.experiment(f"tasks-{tag}")
    [logged] = store.runs(experiment.id).runs
    assert (logged.name, logged.metrics) == (tag, {"score": 0.75})
