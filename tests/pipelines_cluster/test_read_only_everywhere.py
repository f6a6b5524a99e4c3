"""Read-only mode refuses every write on every surface, and nothing changes behind it.

The list below is every write the product can make: each is tried through the Python API, the
magics and the routes of a real server, against the Kubernetes and KFP emulators and a real
MLflow server, and each must be refused with the read-only error while the state stays as it was.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from tornado.httpclient import HTTPClientError

from jupyter_mlops.config import Settings
from jupyter_mlops.errors import ReadOnly
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.magics.k8s import K8sMagics
from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.pipelines import Run
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.pipelines.local import LocalPipelines
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.tracking import Tracking

from .conftest import NAMESPACE, settings_of, training

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "keep-me", "namespace": NAMESPACE},
    "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": NAMESPACE},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
        },
    },
}


@pytest.fixture
def world(
    kube: KubeEmulator,
    kfp_api: KfpEmulator,
    config: dict[str, Any],
    mlflow_server: Any,
    local_run: Run,
    tmp_path: Path,
) -> dict[str, Any]:
    """A namespace with a pod and a deployment, a failed KFP run, and the read-only config.

    Read-only is checked before anything else, so one ended run serves every write on runs.
    """
    kube.create(POD)
    kube.create(DEPLOYMENT)
    [failed] = kfp_api.seed_runs(1, states=("FAILED",))
    return {
        **config,
        "read_only": True,
        "mlflow_tracking_uri": mlflow_server.url,
        "failed_run": failed,
    }


def read_only_settings(world: dict[str, Any], tmp_path: Path) -> Settings:
    config = {k: v for k, v in world.items() if k != "failed_run"}
    return settings_of(config, tmp_path)


def state_of(kube: KubeEmulator, kfp_api: KfpEmulator, local_run: Run, workspace: Path) -> Any:
    """Everything a write could change, to compare before and after."""
    return (
        kube.get("v1", "Pod", "keep-me", NAMESPACE) is not None,
        (kube.get("apps/v1", "Deployment", "web", NAMESPACE) or {})["spec"]["replicas"],
        sorted((r.run_id, r.state) for r in kfp_api.service.runs.values()),
        sorted(e.display_name for e in kfp_api.service.experiments.values()),
        sorted(p.name for p in (workspace / ".mlops" / "pipelines").iterdir()),
    )


def python_writes(
    settings: Settings, failed_run: str, local_run: Run
) -> dict[str, Callable[[], Any]]:
    cluster = Cluster(settings)
    cluster_backend = ClusterPipelines(settings)
    local = LocalPipelines(settings.state_dir / "pipelines", read_only=settings.read_only)
    tracking = Tracking(settings)

    def write_to_mlflow() -> None:
        with tracking.writer() as client:
            client.create_experiment("should-not-exist")

    return {
        "Cluster.delete_pod": lambda: cluster.delete_pod("keep-me"),
        "Cluster.scale": lambda: cluster.scale("web", 3),
        "ClusterPipelines.submit": lambda: cluster_backend.submit(training, {"rows": 1}),
        "ClusterPipelines.terminate": lambda: cluster_backend.terminate(failed_run),
        "ClusterPipelines.retry": lambda: cluster_backend.retry(failed_run),
        "ClusterPipelines.create_experiment": lambda: cluster_backend.create_experiment("nope"),
        "LocalPipelines.submit": lambda: local.submit(training, {"rows": 1}),
        "LocalPipelines.retry": lambda: local.retry(local_run.id),
        "LocalPipelines.create_experiment": lambda: local.create_experiment("nope"),
        "Tracking.writer": write_to_mlflow,
    }


def test_every_write_of_the_python_api_is_refused(
    world: dict[str, Any],
    kube: KubeEmulator,
    kfp_api: KfpEmulator,
    local_run: Run,
    workspace: Path,
    tmp_path: Path,
    mlflow_server: Any,
) -> None:
    settings = read_only_settings(world, tmp_path)
    before = state_of(kube, kfp_api, local_run, workspace)
    for name, write in python_writes(settings, world["failed_run"], local_run).items():
        with pytest.raises(ReadOnly, match="read-only mode") as refused:
            write()
        assert "c.MLOpsConfig.read_only" in refused.value.message, name
    assert state_of(kube, kfp_api, local_run, workspace) == before
    names = [e.name for e in Tracking(settings).experiments("should-not").experiments]
    assert names == []


@pytest.fixture
def shell(world: dict[str, Any], workspace: Path) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    for name, value in world.items():
        if name != "failed_run":
            setattr(shell.config.MLOpsConfig, name, value)
    shell.register_magics(KfpMagics(shell=shell))
    shell.register_magics(K8sMagics(shell=shell))
    yield shell
    InteractiveShell.clear_instance()


def run_cell(shell: InteractiveShell, source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = shell.run_cell(source, store_history=False)
    result.raise_error()
    return out.getvalue()


def test_every_write_of_the_magics_is_refused(
    shell: InteractiveShell,
    world: dict[str, Any],
    kube: KubeEmulator,
    kfp_api: KfpEmulator,
    local_run: Run,
    workspace: Path,
) -> None:
    shell.user_ns["training"] = training
    before = state_of(kube, kfp_api, local_run, workspace)
    lines = [
        "%k8s delete pod keep-me",
        "%k8s scale deploy web --replicas 3",
        "%kfp run training --cluster",
        "%kfp run training --cluster --wait",
        "%kfp run training --local --wait",
        f"%kfp terminate {local_run.id}",
        f"%kfp retry {local_run.id}",
        f"%kfp terminate {world['failed_run']}",
        f"%kfp retry {world['failed_run']}",
        f"%kfp retry --cluster {world['failed_run']}",
    ]
    for line in lines:
        with pytest.raises(UsageError, match="read-only mode"):
            run_cell(shell, line)
    assert state_of(kube, kfp_api, local_run, workspace) == before


def test_a_finished_run_is_not_recorded_in_mlflow_in_read_only_mode(
    shell: InteractiveShell, world: dict[str, Any], local_run: Run, tmp_path: Path
) -> None:
    magics: KfpMagics = shell.magics_manager.registry["KfpMagics"]
    # The MLflow server is the session's: an experiment name of this test's own.
    run = local_run.model_copy(update={"experiment": f"read-only-{uuid.uuid4().hex[:8]}"})
    assert "read-only mode" in magics._record(run)
    tracking = Tracking(read_only_settings(world, tmp_path))
    assert tracking.experiments(run.experiment).experiments == []


@pytest.fixture
def mlops_config(world: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in world.items() if k != "failed_run"}


async def test_every_write_route_is_refused(
    jp_fetch: Any,
    world: dict[str, Any],
    kube: KubeEmulator,
    kfp_api: KfpEmulator,
    local_run: Run,
    workspace: Path,
) -> None:
    before = state_of(kube, kfp_api, local_run, workspace)
    writes = [
        ("DELETE", ("kube", "pods", "keep-me"), None),
        ("PATCH", ("kube", "deployments", "web", "scale"), json.dumps({"replicas": 3})),
        ("POST", ("pipelines", "runs", world["failed_run"], "terminate"), ""),
        ("POST", ("pipelines", "runs", world["failed_run"], "retry"), ""),
        ("POST", ("pipelines", "runs", local_run.id, "retry"), ""),
    ]
    for method, parts, body in writes:
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("mlops", "api", *parts, method=method, body=body)
        assert refused.value.code == 403, (method, parts)
        assert refused.value.response is not None
        assert "read-only" in json.loads(refused.value.response.body)["message"]
    assert state_of(kube, kfp_api, local_run, workspace) == before
