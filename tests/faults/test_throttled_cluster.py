"""A 429 from the Kubernetes API (flow control, a new kind's storage initializing) was not
served: the Cluster sends the request again after the wait it asks for, as client-go does. Any
other failure is not retried. The API server here is the project's emulator, whose
`fail_next` answers as the kube-apiserver's Status does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import Unavailable
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kube import KubeEmulator

NAMESPACE = "team"


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Cluster]]:
    with KubeEmulator(controllers=False) as kube:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": NAMESPACE},
                "data": {"a": "1"},
            }
        )
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
        settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path)
        cluster = Cluster(settings)
        yield kube, cluster
        cluster.close()


def test_a_throttled_request_is_sent_again_and_answered(
    emulated: tuple[KubeEmulator, Cluster],
) -> None:
    kube, cluster = emulated
    cluster.kind("configmaps")  # discovery first, so that the failures meet the read itself
    kube.reset_requests()
    kube.fail_next(2, code=429)
    got = cluster.get("configmaps", "settings", NAMESPACE)
    assert got["data"] == {"a": "1"}
    assert kube.request_count() == 3  # two refused, one served


def test_another_failure_is_not_sent_again(emulated: tuple[KubeEmulator, Cluster]) -> None:
    kube, cluster = emulated
    cluster.kind("configmaps")
    kube.reset_requests()
    kube.fail_next(1, code=503)
    with pytest.raises(Unavailable, match="HTTP 503"):
        cluster.get("configmaps", "settings", NAMESPACE)
    assert kube.request_count() == 1
