"""Resources routes under `mlops/api/resources`: requests, limits, use, quota, GPUs, volumes."""

from __future__ import annotations

import threading
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .kube_routes import KubeHandler

_reader_lock = threading.Lock()
_reader: Any = None


def _cgroup_reader() -> Any:
    """One reader per server: its CPU use is the rise since the previous request's sample."""
    global _reader
    from ..kube.cgroup import CgroupReader

    with _reader_lock:
        if _reader is None:
            _reader = CgroupReader()
        return _reader


class ResourcesHandler(KubeHandler):
    """`GET resources?namespace=`: pods' requests, limits and use, quota, GPUs and volumes."""

    example = "resources"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kube.resources import report

        namespace = self.namespace()

        def answer() -> dict[str, Any]:
            return report(self.state.watch_cache(), namespace).model_dump(mode="json")

        self.finish(await self.state.run(answer))


class MyResourcesHandler(KubeHandler):
    """`GET resources/me`: this notebook pod's requests and limits, and its cgroup's use
    (the server runs in the notebook's pod, so its cgroup is the pod's)."""

    example = "resources/me"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kube.resources import my_pod

        def answer() -> dict[str, Any]:
            # Its own use needs no cluster: a server without one still answers.
            alone = self.state.settings.cluster == "none"
            cache = None if alone else self.state.watch_cache()
            return my_pod(cache, _cgroup_reader()).model_dump(mode="json")

        self.finish(await self.state.run(answer))


class NextPodHandler(KubeHandler):
    """`GET resources/next-pod?size=cpu=2,memory=4Gi&namespace=`: what its quota would refuse."""

    example = "resources/next-pod"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kube.resources import NextPodHits, next_pod_hits, pod_size

        namespace = self.namespace()
        size = pod_size(self.get_query_argument("size", ""))

        def answer() -> dict[str, Any]:
            cache = self.state.watch_cache()
            hits = next_pod_hits(cache, size, namespace=namespace)
            where = namespace or cache.cluster.namespace
            return NextPodHits(namespace=where, size=size, refusals=hits).model_dump(mode="json")

        self.finish(await self.state.run(answer))


RESOURCES_ROUTES: list[tuple[str, Any]] = [
    ("resources", ResourcesHandler),
    ("resources/me", MyResourcesHandler),
    ("resources/next-pod", NextPodHandler),
]
