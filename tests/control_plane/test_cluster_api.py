"""`Cluster` reading, discovery and the watch cache against the real kube-apiserver."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import Forbidden, Invalid, NotFound
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import K8S_VERSION, ControlPlane

from .conftest import Namespace, wait_for
from .manifests import container, pod

Obj = dict[str, Any]


def test_the_plane_is_the_real_release(control_plane: ControlPlane) -> None:
    version = control_plane.api("GET", "/version")
    assert version["gitVersion"] == K8S_VERSION
    assert (version["major"], version["minor"]) == ("1", K8S_VERSION.split(".")[1])
    client = json.loads(control_plane.kubectl("version", "--client", "-o", "json").stdout)
    assert client["clientVersion"]["gitVersion"] == K8S_VERSION
    # etcd, kube-apiserver, -controller-manager, -scheduler and kwok are all running.
    assert len(control_plane.pids()) == 5


def test_nodes_are_shaped_as_a_small_gpu_cluster(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    nodes = {n["metadata"]["name"]: n for n in cluster.list("nodes").items}
    assert set(nodes) == {"cpu-1", "cpu-2", "gpu-1"}
    gpu = nodes["gpu-1"]
    assert gpu["status"]["allocatable"]["nvidia.com/gpu"] == "2"
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in gpu["spec"][
        "taints"
    ]
    for n in nodes.values():
        ready = [c for c in n["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
    assert nodes["cpu-1"]["status"]["allocatable"]["cpu"] == "4"


def test_list_get_and_not_found(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    namespace.apply(pod("one"), pod("two"))
    names = {p["metadata"]["name"] for p in cluster.list("pods").items}
    assert names == {"one", "two"}
    page = cluster.list("po", limit=1)
    assert len(page.items) == 1 and page.continue_token
    assert len(cluster.list_all("pods").items) == 2
    got = cluster.get("pods", "one")
    assert got["metadata"]["namespace"] == namespace.name
    assert got["spec"]["serviceAccountName"] == "default"  # the ServiceAccount admission plugin
    # The real TokenRequest-based projected token volume was injected.
    assert any(v["name"].startswith("kube-api-access-") for v in got["spec"]["volumes"])
    with pytest.raises(NotFound):
        cluster.get("pods", "nope")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"k": "v"},
    }
    namespace.apply(secret)
    assert cluster.get("secrets", "s")["data"] == {"k": "1 bytes"}  # redacted, never the value


def test_watch_cache_follows_the_real_watch(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    cache = WatchCache(cluster)
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def listener(type_: str, obj: Obj | None) -> None:
        with lock:
            seen.append((type_, (obj or {}).get("metadata", {}).get("name", "")))

    try:
        kind = cluster.kind("pods")
        assert cache.objects(kind, namespace.name) == []
        sub = cache.subscribe(kind, namespace.name, listener)
        namespace.apply(pod("watched"))
        wait_for(
            "the pod to be Running in the cache",
            lambda: [
                p
                for p in cache.objects(kind, namespace.name)
                if p["metadata"]["name"] == "watched" and p["status"].get("phase") == "Running"
            ],
        )
        namespace.kubectl("delete", "pod", "watched", "--wait=true")
        wait_for("the cache to drop the pod", lambda: cache.objects(kind, namespace.name) == [])
        with lock:
            types = [t for t, name in seen if name == "watched"]
        assert types[0] == "ADDED" and "MODIFIED" in types and types[-1] == "DELETED"
        sub.close()
    finally:
        cache.close()


CRD: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "notebooks.kubeflow.org"},
    "spec": {
        "group": "kubeflow.org",
        "scope": "Namespaced",
        "names": {"plural": "notebooks", "singular": "notebook", "kind": "Notebook"},
        "versions": [
            {
                "name": name,
                "served": True,
                "storage": name == "v1",
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
                "subresources": {"status": {}},
            }
            for name in ("v1", "v1beta1", "v1alpha1")
        ],
    },
}


def test_kinds_and_custom_kinds_from_real_discovery(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    builtin = {k.plural for k in cluster.kinds()}
    assert {"pods", "deployments", "persistentvolumeclaims", "storageclasses"} <= builtin
    # Every built-in kind the product knows is served, at the version the product uses.
    served: set[tuple[str, str]] = set()
    for path in ("/api/v1",):
        served |= {("v1", r["name"]) for r in cluster.request("GET", path)["resources"]}
    for group in cluster.request("GET", "/apis")["groups"]:
        gv = group["preferredVersion"]["groupVersion"]
        served |= {(gv, r["name"]) for r in cluster.request("GET", f"/apis/{gv}")["resources"]}
    for kind in cluster.kinds():
        if not kind.custom:
            assert (kind.api_version, kind.plural) in served, kind

    path = namespace.tmp_path / "crd.json"
    path.write_text(json.dumps(CRD))
    namespace.plane.kubectl("apply", "-f", str(path))
    try:
        namespace.plane.kubectl(
            "wait", "--for=condition=Established", "crd/notebooks.kubeflow.org", "--timeout=20s"
        )
        custom = wait_for(
            "discovery to serve notebooks",
            lambda: [k for k in cluster.custom_kinds(refresh=True) if k.plural == "notebooks"],
        )
        assert custom[0].group == "kubeflow.org" and custom[0].version == "v1"
        assert custom[0].namespaced and custom[0].kind == "Notebook"
        notebook = {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "nb"},
            "spec": {"template": {"spec": {"containers": [container()]}}},
        }
        namespace.apply(notebook)
        assert [n["metadata"]["name"] for n in cluster.list("notebooks").items] == ["nb"]
        assert cluster.get("notebooks", "nb")["apiVersion"] == "kubeflow.org/v1"
    finally:
        namespace.plane.kubectl(
            "delete", "crd", "notebooks.kubeflow.org", "--wait=false", check=False
        )


def test_a_real_serviceaccount_token_meets_rbac(namespace: Namespace) -> None:
    """A ServiceAccount's TokenRequest token, bound to the aggregated `view` ClusterRole: the
    product can read, may not delete, and says which rule is missing."""
    namespace.apply(
        pod("p"),
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
    assert token.count(".") == 2  # a signed JWT from the TokenRequest API
    kubeconfig = namespace.plane.write_kubeconfig(
        namespace.tmp_path / "viewer.kubeconfig", namespace=namespace.name, token=token
    )
    settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=namespace.tmp_path)
    cluster = Cluster(settings)
    try:
        assert [p["metadata"]["name"] for p in cluster.list("pods").items] == ["p"]
        assert cluster.can_i("list", "pods") and cluster.can_i("get", "pods/log")
        assert not cluster.can_i("delete", "pods")
        assert not cluster.can_i("list", "secrets")  # `view` leaves Secrets out
        with pytest.raises(Forbidden) as refused:
            cluster.delete_pod("p")
        assert (refused.value.verb, refused.value.resource) == ("delete", "pods")
        assert f"system:serviceaccount:{namespace.name}:viewer" in refused.value.message
        with pytest.raises(Forbidden):
            cluster.list("pods", namespace="default")
    finally:
        cluster.close()


def test_an_apply_naming_an_unknown_field_is_invalid_not_unavailable(
    namespace: Namespace,
) -> None:
    """The real API server answers a server-side apply of a field its schema lacks with 500;
    that is the manifest's fault, not the cluster being down."""
    cluster = namespace.cluster()
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "typo"},
        "data": {"a": "1"},
        "dta": {"b": "2"},
    }
    path = f"/api/v1/namespaces/{namespace.name}/configmaps/typo"
    with pytest.raises(Invalid, match="field not declared in schema"):
        cluster.request(
            "PATCH",
            path,
            query={"fieldManager": "jupyter-mlops"},
            body=manifest,
            content_type="application/apply-patch+yaml",
        )
