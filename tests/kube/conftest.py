"""A Kubernetes API emulator on loopback and our `Cluster` pointed at it through a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kube import KubeEmulator

NAMESPACE = "team"


def pod(name: str, labels: dict[str, str] | None = None, containers: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels or {}},
        "spec": {
            "containers": [
                {"name": f"c{i}" if containers > 1 else "main", "image": "busybox:1.36"}
                for i in range(containers)
            ]
        },
    }


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        yield emulator


def cluster_for(kube: KubeEmulator, tmp_path: Path, token: str | None = None) -> Cluster:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", token=token, namespace=NAMESPACE)
    settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path)
    return Cluster(settings)


@pytest.fixture
def cluster(kube: KubeEmulator, tmp_path: Path) -> Iterator[Cluster]:
    cluster = cluster_for(kube, tmp_path)
    yield cluster
    cluster.close()
