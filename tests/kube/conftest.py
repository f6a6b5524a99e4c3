"""`Cluster` and the cluster routes on the real control plane (tests/plane.py): each test has
its own namespace, and the product reaches it through a kubeconfig, as a user's would."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.kube.cluster import Cluster
from tests.plane import Namespace


@pytest.fixture
def cluster(namespace: Namespace) -> Cluster:
    """The product's `Cluster`, as the admin, acting in the test's namespace."""
    return namespace.cluster()


@pytest.fixture
def mlops_config(namespace: Namespace) -> dict[str, Any]:
    """The server under test reaches the plane through the namespace's kubeconfig."""
    return {"kubeconfig": str(namespace.kubeconfig)}
