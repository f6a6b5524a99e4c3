"""A Kubernetes API emulator, a KFP API emulator running tasks as pods there, and settings."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from jupyter_mlops.config import Settings, configure, resolve
from jupyter_mlops.pipelines import Run
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator
from jupyter_mlops.testing.kube import KubeEmulator
from tests.local_runs import recorded_run

TOKEN = "pipelines-token"
NAMESPACE = DEFAULT_NAMESPACE


@dsl.component(base_image="python:3.11")
def prepare(rows: int) -> int:
    return rows


@dsl.component(base_image="python:3.11")
def train(rows: int) -> float:
    return rows / 10


@dsl.pipeline(name="train-model")
def training(rows: int = 100) -> None:
    prepared = prepare(rows=rows)
    train(rows=prepared.output)


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0) as emulator:
        emulator.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        yield emulator


@pytest.fixture
def kfp_api(kube: KubeEmulator) -> Iterator[KfpEmulator]:
    """KFP whose tasks run as pods in `kube`, accepting the bearer token TOKEN."""
    with KfpEmulator(
        kube_url=kube.url, kube_token=kube.admin_token, token=TOKEN, step_seconds=0.05
    ) as emulator:
        yield emulator


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def kubeconfig(kube: KubeEmulator, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)


@pytest.fixture
def config(kfp_api: KfpEmulator, kubeconfig: Path, workspace: Path) -> dict[str, Any]:
    """`c.MLOpsConfig` of a notebook that reaches both emulators."""
    return {
        "kfp_endpoint": kfp_api.url,
        "kfp_token": TOKEN,
        "namespace": NAMESPACE,
        "kubeconfig": str(kubeconfig),
        "workspace": str(workspace),
    }


def settings_of(config: dict[str, Any], root: Path) -> Settings:
    return resolve(configure(**config), env={}, root=root)


@pytest.fixture
def settings(config: dict[str, Any], tmp_path: Path) -> Settings:
    return settings_of(config, tmp_path)


@pytest.fixture
def cluster_backend(settings: Settings) -> Iterator[ClusterPipelines]:
    """The cluster backend, reading task logs through a cluster connection to `kube`."""
    from jupyter_mlops.kube.cluster import Cluster

    cluster = Cluster(settings)
    yield ClusterPipelines(settings, cluster=lambda: cluster)
    cluster.close()


@pytest.fixture
def local_run(workspace: Path) -> Run:
    """A run made on this machine earlier, in the workspace's history."""
    return recorded_run(workspace, "ab" * 16)
