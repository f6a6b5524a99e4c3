"""Pods' requests, limits and live use on the real plane, held to kubectl's own answers: the
node's "Non-terminated Pods" accounting (the scheduler's rule) and `kubectl top pod`, which
reads metrics.k8s.io (served by the double of jupyter_mlops/testing/metrics_api.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.quantity import parse_quantity
from jupyter_mlops.kube.resources import NO_METRICS, namespace_pods
from jupyter_mlops.kube.top import top
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.metrics_api import write_pod_metrics
from tests.plane import Namespace, ProfileNamespace, wait_for

from .conftest import on_node, pod, sized

Obj = dict[str, Any]


@pytest.fixture
def runtime_class(control_plane: ControlPlane) -> Iterator[str]:
    """A RuntimeClass whose pod overhead the RuntimeClass admission adds to each pod."""
    name = f"overhead-{secrets.token_hex(3)}"
    control_plane.api(
        "POST",
        "/apis/node.k8s.io/v1/runtimeclasses",
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name},
            "handler": "runc",
            "overhead": {"podFixed": {"cpu": "50m", "memory": "16Mi"}},
        },
    )
    yield name
    control_plane.api("DELETE", f"/apis/node.k8s.io/v1/runtimeclasses/{name}")


def node_accounting(ns: Namespace, node: str, name: str) -> dict[str, str]:
    """The pod's row in `kubectl describe node`: what the node counts as its requests."""
    text = ns.plane.kubectl("describe", "node", node).stdout
    for line in text.splitlines():
        words = line.split()
        if words[:2] == [ns.name, name]:
            return {
                "cpu_requests": words[2],
                "cpu_limits": words[4],
                "memory_requests": words[6],
                "memory_limits": words[8],
            }
    raise AssertionError(f"pod {name} is not in the accounting of node {node}:\n{text}")


def kubectl_top(ns: Namespace, name: str) -> dict[str, str]:
    lines = ns.kubectl("top", "pod", name).stdout.splitlines()
    header, row = lines[0].split(), lines[1].split()
    return dict(zip(header, row, strict=True))


def by_name(cache: WatchCache, name: str) -> Any:
    return next(p for p in namespace_pods(cache)[0] if p.name == name)


def test_requests_count_init_containers_sidecars_and_overhead_as_the_node_does(
    namespace: Namespace, admin_cache: WatchCache, runtime_class: str
) -> None:
    spec = pod(
        "init-heavy",
        sized("250m", "64Mi", limit_cpu="500m", limit_memory="64Mi"),
        sized("250m"),
        runtimeClassName=runtime_class,
        initContainers=[
            {
                "name": "proxy",
                "image": "busybox",
                "restartPolicy": "Always",
                **sized("100m", "128Mi"),
            },
            {
                "name": "fetch",
                "image": "busybox",
                **sized("2", "32Mi", limit_cpu="2", limit_memory="32Mi"),
            },
        ],
    )
    namespace.apply(spec)
    node = on_node(namespace, "init-heavy")
    counted = node_accounting(namespace, node, "init-heavy")
    shown = wait_for("the pod in the cache", lambda: by_name(admin_cache, "init-heavy"))
    assert shown.requests["cpu"] == pytest.approx(parse_quantity(counted["cpu_requests"]))
    assert shown.requests["memory"] == parse_quantity(counted["memory_requests"])
    assert shown.limits["cpu"] == pytest.approx(parse_quantity(counted["cpu_limits"]))
    assert shown.limits["memory"] == parse_quantity(counted["memory_limits"])
    # The init container is the largest: more than the running containers ask.
    assert shown.requests["cpu"] > sum(c.requests.get("cpu", 0) for c in shown.containers[2:])


def test_live_use_is_what_kubectl_top_shows(
    namespace: Namespace, admin_cache: WatchCache, metrics_served: ControlPlane
) -> None:
    namespace.apply(pod("trainer", sized("500m", "256Mi"), sized("100m")))
    write_pod_metrics(
        metrics_served,
        namespace.name,
        "trainer",
        {"c0": {"cpu": "412m", "memory": "200Mi"}, "c1": {"cpu": "21500000n", "memory": "12Mi"}},
    )
    wanted = wait_for("kubectl top to see the pod", lambda: kubectl_top(namespace, "trainer"))
    view = wait_for(
        "the pod in the cache",
        lambda: [r for r in top("pods", admin_cache).rows if r["name"] == "trainer"],
    )
    row = view[0]
    assert row["cpu(cores)"] == wanted["CPU(cores)"]
    assert row["memory(bytes)"] == wanted["MEMORY(bytes)"]
    assert (row["cpu_requests"], row["memory_requests"]) == ("600m", "256Mi")


def test_without_a_metrics_api_use_is_unknown_and_metrics_server_is_named(
    namespace: Namespace, admin_cache: WatchCache, metrics_not_served: ControlPlane
) -> None:
    namespace.apply(pod("idle", sized("100m")))
    refused = namespace.kubectl("top", "pod", "idle", check=False)
    assert refused.returncode != 0 and "Metrics API not available" in refused.stderr
    pods, metrics = wait_for("the pod", lambda: _listed(admin_cache))
    assert not metrics.served and metrics.note == NO_METRICS
    assert "metrics-server" in NO_METRICS
    assert pods[0].usage is None and pods[0].requests == {"cpu": 0.1}
    view = top("pods", admin_cache)
    assert view.notes == [NO_METRICS] and view.rows[0]["cpu(cores)"] == "-"


def test_the_editor_sees_requests_and_is_told_which_role_would_show_use(
    profile: ProfileNamespace, editor_cache: WatchCache, metrics_served: ControlPlane
) -> None:
    # Kubeflow's editor role does not aggregate the metrics reader (which joins the
    # built-in view/edit/admin roles): kubectl top is refused too.
    profile.apply(pod("mine", sized("200m", "128Mi")))
    write_pod_metrics(metrics_served, profile.name, "mine", {"c0": {"cpu": "5m", "memory": "9Mi"}})
    refused = profile.kubectl("top", "pod", "mine", check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()
    pods, metrics = wait_for("the pod", lambda: _listed(editor_cache))
    assert pods[0].requests == {"cpu": 0.2, "memory": 128 * 2**20}
    assert not metrics.served and "pods.metrics.k8s.io" in (metrics.note or "")
    assert pods[0].usage is None


def _listed(cache: WatchCache) -> Any:
    pods, metrics = namespace_pods(cache)
    return (pods, metrics) if pods else None
