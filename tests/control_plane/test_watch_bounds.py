"""On the real API server: a watch starts only for a namespace that exists and that this
identity may list, as the SelfSubjectAccessReview and the namespace lookup answer them."""

from __future__ import annotations

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import Forbidden, NotFound
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.kinds import find_kind
from jupyter_mlops.kube.watch import WatchCache

from .conftest import Namespace

PODS = find_kind("pods")


def test_watches_only_namespaces_that_exist_and_may_be_listed(namespace: Namespace) -> None:
    admin = namespace.cluster()
    cache = WatchCache(admin)
    try:
        # An admin may list anywhere: a made-up namespace is refused because it does not exist.
        with pytest.raises(NotFound, match="namespace 'ghost-ns' does not exist"):
            cache.informer(PODS, "ghost-ns")
        assert cache.informer(PODS, "default").wait_synced(10) is not None
        assert len(cache.informers()) == 1
    finally:
        cache.close()

    namespace.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "viewer"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "viewer-view"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "viewer"}],
        },
    )
    token = namespace.kubectl("create", "token", "viewer", "--duration=10m").stdout.strip()
    kubeconfig = namespace.plane.write_kubeconfig(
        namespace.tmp_path / "viewer.kubeconfig", namespace="default", token=token
    )
    viewer = Cluster(
        resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=namespace.tmp_path)
    )
    cache = WatchCache(viewer)
    try:
        # Rights in its own namespace only: that one is watched; another is refused before any
        # list or watch, though it exists; a made-up one is refused the same way.
        assert cache.informer(PODS, namespace.name).wait_synced(10) == []
        for other in ("kube-system", "ghost-ns"):
            with pytest.raises(Forbidden, match=f"not allowed to list pods in namespace '{other}'"):
                cache.informer(PODS, other)
        assert [i.namespace for i in cache.informers()] == [namespace.name]
    finally:
        cache.close()
        viewer.close()
