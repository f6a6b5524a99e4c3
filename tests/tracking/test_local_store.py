"""With no MLflow server configured, the workspace's own store is read the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import BadInput, NotFound
from jupyter_mlops.tracking import Tracking

# MLflow's sqlite store uses a loader strategy its SQLAlchemy version deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="module")
def local(workspace: Path) -> Iterator[tuple[Tracking, str]]:
    """The local store with one experiment and a run, written with MLflow's own client."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    settings = resolve(configure(workspace=str(workspace)), env={}, root=workspace)
    tracking = Tracking(settings)
    # Our client makes the store's folder, so it goes first.
    assert tracking.experiments().experiments[0].name == "Default"
    writer = MlflowClient(tracking_uri=settings.tracking_uri)
    experiment = writer.create_experiment(
        "local-exp", artifact_location=(workspace / "artifacts").as_uri()
    )
    run_id = writer.create_run(experiment, run_name="here").info.run_id
    writer.log_batch(run_id, metrics=[Metric("loss", 1 / (s + 1), 0, s) for s in range(200)])
    writer.log_text(run_id, "local text", "out/note.txt")
    yield tracking, run_id


def test_the_store_lives_in_the_workspace(local: tuple[Tracking, str], workspace: Path) -> None:
    tracking, _ = local
    assert tracking.local and tracking.uri == f"sqlite:///{workspace / '.mlops' / 'mlflow.db'}"
    assert (workspace / ".mlops" / "mlflow.db").is_file()
    assert "local MLflow store" in tracking.where


def test_runs_and_histories_are_read_from_it(local: tuple[Tracking, str]) -> None:
    tracking, run_id = local
    experiment = tracking.experiment("local-exp")
    page = tracking.runs(experiment.id, filter="metrics.loss < 0.1")
    assert [r.id for r in page.runs] == [run_id]
    history = tracking.metric_history(run_id, "loss", points=20)
    assert history.total == 200 and len(history.points) <= 20
    assert history.points[0].step == 0 and history.points[-1].step == 199


def test_artifacts_are_copied_out_of_the_store(local: tuple[Tracking, str], tmp_path: Path) -> None:
    tracking, run_id = local
    assert [a.path for a in tracking.artifacts(run_id, "out")] == ["out/note.txt"]
    copy = tracking.download_artifact(run_id, "out/note.txt", tmp_path)
    assert copy.read_text() == "local text" and copy.parent == tmp_path
    with pytest.raises(BadInput):
        tracking.artifacts(run_id, "../..")


def test_missing_things_are_named(local: tuple[Tracking, str]) -> None:
    tracking, _ = local
    with pytest.raises(NotFound, match="local MLflow store"):
        tracking.run("0" * 32)
    with pytest.raises(NotFound, match="no registered model named 'm'"):
        tracking.model("m")
