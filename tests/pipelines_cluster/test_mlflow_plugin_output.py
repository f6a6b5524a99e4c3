"""A Pipelines server with MLflow on names the run's MLflow run in `plugins_output.mlflow`: the
product links through it and records nothing itself. Without it, our own linkage is used.

The KFP emulator is taught the output (as the server's integration writes it); the MLflow runs
it names are made on a real MLflow server, as that integration makes them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.lineage import TAG_PARENT, TAG_RUN, linked_runs, record_run
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.pipelines.models import MlflowLink
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.tracking import Tracking

from .conftest import settings_of, training


@pytest.fixture
def tracked(config: dict[str, Any], mlflow_server: MlflowServer, tmp_path: Path) -> Settings:
    return settings_of({**config, "mlflow_tracking_uri": mlflow_server.url}, tmp_path)


def server_integration_runs(url: str, kfp_run_id: str, tasks: list[str]) -> tuple[str, str, str]:
    """What the server's MLflow integration makes: an experiment, a parent run, nested runs."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    name = f"server-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    parent = client.create_run(
        experiment_id, run_name="pipeline", tags={"kfp.pipeline_run_id": kfp_run_id}
    ).info.run_id
    for task in tasks:
        client.create_run(experiment_id, run_name=task, tags={TAG_PARENT: parent})
    return name, experiment_id, parent


def ours(url: str, kfp_run_id: str) -> list[Any]:
    """Every MLflow run our own linkage tagged with this pipeline run, in any experiment."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiments = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    return list(client.search_runs(experiments, filter_string=f"tags.`{TAG_RUN}` = '{kfp_run_id}'"))


def test_a_run_the_server_linked_to_mlflow_is_linked_through_it_never_twice(
    tracked: Settings, kfp_api: KfpEmulator, mlflow_server: MlflowServer
) -> None:
    cluster_backend = ClusterPipelines(tracked)
    experiment = f"plugin-{uuid.uuid4().hex[:6]}"
    run = cluster_backend.submit(training, {"rows": "30"}, experiment=experiment)
    assert kfp_api.wait_for_run_state(run.id) == "SUCCEEDED"
    name, experiment_id, parent = server_integration_runs(
        mlflow_server.url, run.id, ["prepare", "train"]
    )
    url = f"{mlflow_server.url}/#/experiments/{experiment_id}/runs/{parent}"
    kfp_api.set_mlflow_output(
        run.id,
        root_run_id=parent,
        experiment_id=experiment_id,
        experiment_name=name,
        run_url=url,
        endpoint=mlflow_server.url,
    )

    done = cluster_backend.get_run(run.id)
    assert done.mlflow == MlflowLink(
        run_id=parent,
        experiment_id=experiment_id,
        experiment_name=name,
        url=url,
        state="PLUGIN_SUCCEEDED",
    )

    tracking = Tracking(tracked)
    assert record_run(done, tracking) == parent
    assert record_run(done, tracking) == parent
    links = linked_runs(done, tracking)
    assert [(link.task, link.experiment_id) for link in links] == [
        (None, experiment_id),
        ("prepare", experiment_id),
        ("train", experiment_id),
    ]
    assert links[0].mlflow_run_id == parent
    # Never both: our own linkage wrote nothing for this run.
    assert ours(mlflow_server.url, run.id) == []
    assert tracking.client().get_experiment_by_name(f"kfp/{experiment}") is None


@pytest.mark.parametrize("server_output", ["none", "failed without a run"])
def test_without_the_servers_link_our_own_linkage_records_the_run(
    tracked: Settings, kfp_api: KfpEmulator, mlflow_server: MlflowServer, server_output: str
) -> None:
    cluster_backend = ClusterPipelines(tracked)
    experiment = f"own-{uuid.uuid4().hex[:6]}"
    run = cluster_backend.submit(training, {"rows": "30"}, experiment=experiment)
    assert kfp_api.wait_for_run_state(run.id) == "SUCCEEDED"
    if server_output != "none":
        # MLflow was down when the server created the run: a failed state, no run id.
        kfp_api.set_mlflow_output(
            run.id,
            root_run_id="",
            experiment_id="",
            experiment_name="Default",
            state="PLUGIN_FAILED",
            state_message="failed to create the MLflow parent run",
        )

    done = cluster_backend.get_run(run.id)
    assert done.mlflow is None
    tracking = Tracking(tracked)
    parent = record_run(done, tracking)
    links = linked_runs(done, tracking)
    assert [link.task for link in links] == [None, "prepare", "train"]
    assert links[0].mlflow_run_id == parent
    recorded = ours(mlflow_server.url, run.id)
    own = tracking.client().get_experiment_by_name(f"kfp/{experiment}")
    assert own is not None and len(recorded) == 3
    assert {r.info.experiment_id for r in recorded} == {own.experiment_id}
