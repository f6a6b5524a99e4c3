"""Cluster routes under `mlops/api/kube/`: tables from the shared watch cache, describe, logs."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput
from ..kube.names import check_name, check_namespace
from .base import MLOpsHandler

# Any segment reaches a handler, which names what is wrong with it in the JSON envelope.
KIND = r"(?P<kind>[^/]+)"
NAME = r"(?P<name>[^/]+)"
MAX_PAGE = 1000
LOG_TAIL = 5000


class KubeHandler(MLOpsHandler):
    """Shared parsing of the cluster routes' arguments."""

    def namespace(self) -> str | None:
        value = self.get_query_argument("namespace", None)
        return check_namespace(value) if value else None

    def object_name(self, name: str) -> str:
        return check_name(name)


class KindsHandler(KubeHandler):
    """`GET kube`: the namespace, and every kind this cluster serves (custom ones included)."""

    example = "kube"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        def kinds() -> str:
            from .models.kube import KubeKind, KubeKinds

            cluster = self.state.cluster()
            listed = [
                KubeKind(
                    plural=k.plural,
                    kind=k.kind,
                    group=k.group,
                    version=k.version,
                    namespaced=k.namespaced,
                    custom=k.custom,
                )
                for k in cluster.kinds()
            ]
            return KubeKinds(namespace=cluster.namespace, kinds=listed).model_dump_json()

        self.finish(await self.state.run(kinds))


class ListHandler(KubeHandler):
    """`GET kube/KIND?namespace=&filter=&offset=&limit=`: one page of rows, from the cache.

    The page is read from the informer's row index (`row_snapshot`): each row encoded once per
    object version, ages written in for the page's rows only, in a worker thread: the event
    loop only writes the bytes. No ETag: hashing every page costs more than the page, and a
    live table is never answered 304.
    """

    example = "kube/pods"

    def compute_etag(self) -> str | None:
        return None

    @web.authenticated
    @authorized
    async def get(self, kind: str) -> None:
        namespace = self.namespace()
        offset = self.integer("offset", 0, 0, 10**9)
        limit = self.integer("limit", 100, 1, MAX_PAGE)
        text = (self.get_query_argument("filter", "") or "").lower()

        def page() -> bytes:
            from ..kube.rows import columns, row
            from ..kube.watch import SYNC_WAIT

            cache = self.state.watch_cache()
            k = cache.cluster.kind(kind)
            informer = cache.informer(k, namespace or cache.cluster.namespace)
            informer.wait_synced(timeout=SYNC_WAIT)
            snapshot = self.state.row_snapshot(informer, lambda o: row(k.plural, o))
            if text:
                chosen = snapshot.matching(text)
                total = len(chosen)
                rows = [snapshot.encoded[i] for i in chosen[offset : offset + limit]]
            else:
                total = len(snapshot.encoded)
                rows = snapshot.encoded[offset : offset + limit]
            head = json.dumps(
                {
                    "kind": k.plural,
                    "namespace": informer.namespace,
                    "columns": list(columns(k.plural)),
                    "total": total,
                    "offset": offset,
                    "limit": limit,
                    "resource_version": informer.resource_version,
                    "error": informer.error.message if informer.error else None,
                }
            )
            return f'{head[:-1]}, "rows": [{",".join(rows)}]}}'.encode()

        self.finish(await self.state.run(page))


class ObjectHandler(KubeHandler):
    """`GET kube/KIND/NAME` (the object, secrets without values); `DELETE kube/pods/NAME`."""

    example = "kube/pods/x"

    @web.authenticated
    @authorized
    async def get(self, kind: str, name: str) -> None:
        namespace, name = self.namespace(), self.object_name(name)
        from ..kube.cluster import shown

        obj = await self.state.run(lambda: self.state.cluster().get(kind, name, namespace))
        self.finish(shown(obj))

    @web.authenticated
    @authorized
    async def delete(self, kind: str, name: str) -> None:
        namespace, name = self.namespace(), self.object_name(name)

        def delete() -> str:
            from .models.kube import KubeDeleted

            self.state.cluster().delete(kind, name, namespace)
            return KubeDeleted(deleted=name).model_dump_json()

        self.finish(await self.state.run(delete))


class DescribeHandler(KubeHandler):
    """`GET kube/KIND/NAME/describe`: conditions, containers, events and a diagnosis."""

    example = "kube/pods/x/describe"

    @web.authenticated
    @authorized
    async def get(self, kind: str, name: str) -> None:
        from ..kube.describe import describe

        namespace, name = self.namespace(), self.object_name(name)

        def described() -> dict[str, Any]:
            # The diagnosis reads the informers the tables and the doctor share, not the API.
            state = self.state
            return describe(state.cluster(), kind, name, namespace, cache=state.watch_cache())

        answer = await self.state.run(described)
        self.finish(answer)


class YamlHandler(KubeHandler):
    """`GET kube/KIND/NAME/yaml`: `{"yaml": text}` of the object, managed fields left out."""

    example = "kube/pods/x/yaml"

    @web.authenticated
    @authorized
    async def get(self, kind: str, name: str) -> None:
        namespace, name = self.namespace(), self.object_name(name)

        def text() -> str:
            import yaml

            from ..kube.cluster import shown
            from .models.kube import KubeYaml

            obj = shown(self.state.cluster().get(kind, name, namespace))
            return KubeYaml(yaml=yaml.safe_dump(obj, sort_keys=False)).model_dump_json()

        self.finish(await self.state.run(text))


class LogHandler(KubeHandler):
    """`GET kube/pods/NAME/log?container=&tail=&since=&previous=`: a snapshot of the log."""

    example = "kube/pods/x/log"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        namespace, name = self.namespace(), self.object_name(name)
        tail = self.integer("tail", LOG_TAIL, 0, 100_000)
        container = self.get_query_argument("container", None) or None
        since = self.get_query_argument("since", None) or None
        previous = self.get_query_argument("previous", "0") in ("1", "true")

        def log() -> str:
            from .models.kube import KubeLog

            lines = self.state.cluster().logs(
                name, container, namespace=namespace, tail=tail, since=since, previous=previous
            )
            return KubeLog(pod=name, container=container, lines=list(lines)).model_dump_json()

        self.finish(await self.state.run(log))


class ScaleHandler(KubeHandler):
    """`PATCH kube/deployments/NAME/scale` with `{"replicas": N}`."""

    example = "kube/deployments/x/scale"

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        name = self.object_name(name)
        namespace = self.namespace()
        body = self.json_body()
        if not isinstance(body, dict) or "replicas" not in body:
            raise BadInput('the body must be JSON like {"replicas": 3}')
        replicas = body["replicas"]

        def scale() -> str:
            from .models.kube import KubeScaled

            # The cluster checks `replicas` (KubeScaleRequest), after refusing writes if read-only.
            answer = self.state.cluster().scale(name, replicas, namespace)
            now = (answer.get("spec") or {}).get("replicas")
            return KubeScaled(name=name, replicas=now).model_dump_json()

        self.finish(await self.state.run(scale))


KUBE_ROUTES: list[tuple[str, Any]] = [
    ("kube", KindsHandler),
    (f"kube/pods/{NAME}/log", LogHandler),
    (f"kube/deployments/{NAME}/scale", ScaleHandler),
    (f"kube/{KIND}/{NAME}/describe", DescribeHandler),
    (f"kube/{KIND}/{NAME}/yaml", YamlHandler),
    (f"kube/{KIND}/{NAME}", ObjectHandler),
    (f"kube/{KIND}", ListHandler),
]
