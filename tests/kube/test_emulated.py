"""The cluster tests that stay on the Python emulator, each because the real control plane
(tests/plane.py) cannot produce what it is about; see each test's docstring."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster, LogLines
from jupyter_mlops.testing.kube import KubeEmulator

NAMESPACE = "team"


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        yield emulator


@pytest.fixture
def emulated(kube: KubeEmulator, tmp_path: Path) -> Iterator[Cluster]:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    cluster = Cluster(resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path))
    yield cluster
    cluster.close()


def test_following_a_silent_pod_answers_at_once(kube: KubeEmulator, emulated: Cluster) -> None:
    """On the real plane this fails: a kubelet (kwok runs the kubelet's own log reader) sends
    the answer's headers only with the container's first line, so `logs(follow=True)` waits
    for that line before it returns (reported; the log-reading code is not this test's)."""
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "quiet", "namespace": NAMESPACE},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
        }
    )
    deadline = time.monotonic() + 10
    while emulated.get("pod", "quiet")["status"].get("phase") != "Running":
        assert time.monotonic() < deadline, "the pod never ran"
        time.sleep(0.02)
    opened: list[LogLines] = []
    opener = threading.Thread(target=lambda: opened.append(emulated.logs("quiet", follow=True)))
    opener.start()
    opener.join(timeout=5)
    assert opened, "following a pod that has written nothing yet must not block"
    kube.append_log(NAMESPACE, "quiet", "main", ["hello"])
    assert next(opened[0]) == "hello"
    opened[0].close()
