"""One Kubernetes API emulator per module, seeded once with every Kubeflow scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kubeflow import DEFAULT_NAMESPACE, LoadedObjects, load_kubeflow


@pytest.fixture(scope="module")
def kube() -> Iterator[KubeEmulator]:
    # No emulated controllers, so what is read back is exactly what was loaded; no node of
    # the emulator's own, so the fixtures' one node is the cluster's only node.
    with KubeEmulator(port=0, controllers=False, nodes=0) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api_client(
    kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[client.ApiClient]:
    kubeconfig = Path(tmp_path_factory.mktemp("kubeconfig")) / "config"
    kube.write_kubeconfig(kubeconfig, token=kube.admin_token, namespace=DEFAULT_NAMESPACE)
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        yield api


@pytest.fixture(scope="module")
def loaded(api_client: client.ApiClient) -> LoadedObjects:
    return load_kubeflow(api_client)
