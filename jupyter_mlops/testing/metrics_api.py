"""A `metrics.k8s.io/v1beta1` double served by the real kube-apiserver, in metrics-server's place.

metrics-server cannot run on the test plane (it needs the aggregation layer's front-proxy
client certificate, which the plane's API server is not given), so the group is served by two
CustomResourceDefinitions (`pods` → PodMetrics, namespaced; `nodes` → NodeMetrics) with the
`api-approved.kubernetes.io` annotation a `*.k8s.io` group requires. Objects are shaped exactly
as metrics-server's (`timestamp`, `window`, `containers[].usage` / `usage`) and written by the
test; reads go through the real server's discovery, authentication, RBAC and paths. Unlike the
real API it can also be watched and written, which the product never does.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .control_plane import ControlPlane

Obj = dict[str, Any]
GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
READER_ROLE = "system:aggregated-metrics-reader"
_USAGE: Obj = {
    "type": "object",
    "additionalProperties": {"x-kubernetes-int-or-string": True},
}


def _crd(plural: str, kind: str, scope: str, fields: Obj) -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1164"
            },
        },
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "timestamp": {"type": "string", "format": "date-time"},
                                "window": {"type": "string"},
                                **fields,
                            },
                        }
                    },
                }
            ],
        },
    }


CRDS: tuple[Obj, ...] = (
    _crd(
        "pods",
        "PodMetrics",
        "Namespaced",
        {
            "containers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "usage": _USAGE},
                },
            }
        },
    ),
    _crd("nodes", "NodeMetrics", "Cluster", {"usage": _USAGE}),
)

#: The ClusterRole metrics-server's manifest installs, aggregated into view, edit and admin.
READER: Obj = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {
        "name": READER_ROLE,
        "labels": {
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-view": "true",
        },
    },
    "rules": [{"apiGroups": [GROUP], "resources": ["pods", "nodes"], "verbs": ["get", "list"]}],
}


def _exists(plane: ControlPlane, path: str) -> bool:
    try:
        plane.api("GET", path)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def _wait(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def serve_metrics(plane: ControlPlane) -> None:
    """Serve metrics.k8s.io/v1beta1 (idempotent); returns once discovery lists both kinds."""
    for crd in CRDS:
        if not _exists(
            plane,
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}",
        ):
            plane.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    if not _exists(plane, f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{READER_ROLE}"):
        plane.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", READER)

    def listed() -> bool:
        try:
            return _exists(plane, f"/apis/{GROUP}/{VERSION}/pods") and _exists(
                plane, f"/apis/{GROUP}/{VERSION}/nodes"
            )
        except urllib.error.HTTPError:
            return False  # 503 while the new kind's storage starts

    _wait("metrics.k8s.io to be served", listed)


def stop_metrics(plane: ControlPlane) -> None:
    """Stop serving metrics.k8s.io (as a cluster without metrics-server); waits until gone."""
    for crd in CRDS:
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
        if _exists(plane, path):
            plane.api("DELETE", path)
    _wait("metrics.k8s.io to be gone", lambda: not _exists(plane, f"/apis/{GROUP}/{VERSION}"))


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_pod_metrics(
    plane: ControlPlane, namespace: str, pod: str, usage: dict[str, dict[str, str]]
) -> Obj:
    """Write a pod's PodMetrics as metrics-server would: `usage` is {container: {cpu, memory}}."""
    body: Obj = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PodMetrics",
        "metadata": {"name": pod, "namespace": namespace},
        "timestamp": _now(),
        "window": "10.0s",
        "containers": [{"name": name, "usage": use} for name, use in usage.items()],
    }
    return plane.api("POST", f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/pods", body)


__all__ = ["CRDS", "serve_metrics", "stop_metrics", "write_pod_metrics"]
