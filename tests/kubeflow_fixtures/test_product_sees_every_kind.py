"""The product finds every kind the seeded Kubeflow cluster serves, under every name kubectl takes.

Katib's Experiments are served only in `kubeflow.org/v1beta1` while Notebooks are `v1`, the
group's preferred version; SparkApplications live in a group ending in `.k8s.io`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kubeflow import DEFAULT_NAMESPACE, LoadedObjects


@pytest.fixture
def cluster(kube: KubeEmulator, loaded: LoadedObjects, tmp_path: Path) -> Cluster:
    kubeconfig = kube.write_kubeconfig(
        tmp_path / "config", token=kube.admin_token, namespace=DEFAULT_NAMESPACE
    )
    return Cluster(resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path))


def test_kinds_in_older_versions_and_k8s_io_groups_are_discovered(cluster: Cluster) -> None:
    kinds = {(k.group, k.version, k.plural): k for k in cluster.kinds()}
    assert ("kubeflow.org", "v1", "notebooks") in kinds
    assert ("kubeflow.org", "v1beta1", "experiments") in kinds
    assert ("sparkoperator.k8s.io", "v1beta2", "sparkapplications") in kinds
    assert kinds[("sparkoperator.k8s.io", "v1beta2", "sparkapplications")].custom
    # One entry per kind and group, as `kubectl api-resources` lists them.
    pairs = [(k.group, k.plural) for k in cluster.kinds()]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize(
    "word",
    [
        "experiments",
        "experiment",
        "Experiment",
        "experiments.kubeflow.org",
        "experiment.kubeflow.org",
        "experiments.v1beta1.kubeflow.org",
    ],
)
def test_every_name_kubectl_takes_finds_katib_experiments(cluster: Cluster, word: str) -> None:
    kind = cluster.kind(word)
    assert (kind.group, kind.version, kind.plural) == ("kubeflow.org", "v1beta1", "experiments")
    names = [o["metadata"]["name"] for o in cluster.list(kind).items]
    assert names, "the seeded namespace holds a Katib experiment"


def test_spark_applications_are_listed_by_short_name(cluster: Cluster) -> None:
    kind = cluster.kind("sparkapp")
    assert kind.plural == "sparkapplications"
    assert cluster.list(kind).items
