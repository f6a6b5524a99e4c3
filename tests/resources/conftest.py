"""The resources views on the real plane: a watch cache per test (as the admin, or as a
profile's editor), pods kwok runs, and metrics.k8s.io served by the double or not at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.server.resources_routes import RESOURCES_ROUTES
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kubeflow_plane import EDITOR
from jupyter_mlops.testing.metrics_api import serve_metrics, stop_metrics
from tests.kube.helpers import IMAGE
from tests.plane import Namespace, ProfileNamespace, wait_for

Obj = dict[str, Any]


def pod(name: str, *containers: Obj, **spec: Any) -> Obj:
    """A pod of `containers` (each a dict with at least `resources`), named c0, c1, …"""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": f"c{i}", "image": IMAGE, **c} for i, c in enumerate(containers or ({},))
            ],
            **spec,
        },
    }


def sized(
    cpu: str | None = None,
    memory: str | None = None,
    *,
    limit_cpu: str | None = None,
    limit_memory: str | None = None,
    **extended: str,
) -> Obj:
    """A container's `resources`: requests of cpu and memory, limits, and extended resources
    (`gpu="1"` asks for nvidia.com/gpu, as request and limit, as the API requires)."""
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    limits = {k: v for k, v in (("cpu", limit_cpu), ("memory", limit_memory)) if v is not None}
    for key, value in extended.items():
        resource = "nvidia.com/gpu" if key == "gpu" else key
        requests[resource] = limits[resource] = value
    resources: Obj = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"resources": resources}


def on_node(ns: Namespace, name: str) -> str:
    """The node the scheduler put a pod on."""
    return wait_for(
        f"pod {name} to be scheduled",
        lambda: ns.get("pod", name)["spec"].get("nodeName"),
        timeout=60,
    )


@pytest.fixture
def admin_cache(namespace: Namespace) -> Iterator[WatchCache]:
    cache = WatchCache(namespace.cluster())
    yield cache
    cache.close()


@pytest.fixture
def editor_cache(profile: ProfileNamespace) -> Iterator[WatchCache]:
    cache = WatchCache(profile.cluster())
    yield cache
    cache.close()


def notebook_cluster(profile: ProfileNamespace, pod_name: str, tmp_path: Path) -> Cluster:
    """The product's Cluster as in the editor's notebook pod `pod_name`: its ServiceAccount
    directory and the kubelet's variables, $HOSTNAME included."""
    root = tmp_path / "pod"
    profile.profile.write_serviceaccount_dir(root, EDITOR, token=profile.token)
    env = {**profile.profile.in_cluster_env(), "HOSTNAME": pod_name}
    return Cluster(resolve(configure(), env=env, root=root))


@pytest.fixture
def metrics_served(control_plane: ControlPlane) -> ControlPlane:
    """metrics.k8s.io served (by the double), whatever an earlier test left."""
    serve_metrics(control_plane)
    return control_plane


@pytest.fixture
def metrics_not_served(control_plane: ControlPlane) -> ControlPlane:
    """A cluster without metrics-server, whatever an earlier test left."""
    stop_metrics(control_plane)
    return control_plane


def add_routes(serverapp: Any) -> None:
    """The resources routes in front of the extension's JSON 404 fallback, where
    `setup_handlers` will put them once they are in ROUTES."""
    from jupyter_mlops.server.handlers import ROUTES

    if any(path == "resources" for path, _ in ROUTES):
        return  # merged: the extension serves them itself
    base = url_path_join(serverapp.base_url, "mlops/api")
    app = serverapp.web_app
    app.add_handlers(
        ".*$", [(url_path_join(base, path), handler) for path, handler in RESOURCES_ROUTES]
    )
    # Tornado puts a new host rule just before the last one, after the extension's
    # fallback; move it first so these routes are matched before `(?P<path>.*)`.
    rules = app.default_router.rules
    rules.insert(0, rules.pop(len(rules) - 2))


async def get_json(jp_fetch: Any, *parts: str, **params: str) -> Any:
    response = await jp_fetch("mlops", "api", *parts, params=params)
    return json.loads(response.body)


async def refused(jp_fetch: Any, *parts: str, **params: str) -> tuple[int, Any]:
    """The status and JSON envelope of a refused request."""
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", *parts, params=params)
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body
