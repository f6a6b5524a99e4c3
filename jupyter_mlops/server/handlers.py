"""Routes under `<base_url>/mlops/api/`: parse, call the API, answer JSON."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadConfig, NotFound
from .base import MLOpsHandler
from .doctor_routes import DOCTOR_ROUTES
from .kube_routes import KUBE_ROUTES
from .pipelines_routes import PIPELINES_ROUTES
from .resources_routes import RESOURCES_ROUTES
from .serving_routes import SERVING_ROUTES
from .socket import LiveSocket
from .tracking_routes import TRACKING_ROUTES
from .tuning_routes import TUNING_ROUTES


class StatusHandler(MLOpsHandler):
    """`GET status[?fresh=1]`: what is configured and what answers."""

    example = "status"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        fresh = self.get_query_argument("fresh", "0") in ("1", "true")
        report = await self.state.status.get(fresh=fresh)
        self.finish(report.model_dump_json())


class RefusedHandler(MLOpsHandler):
    """Every route while the configuration is refused: 503 naming the bad setting."""

    @web.authenticated
    async def get(self, path: str) -> None:
        error: BadConfig = self.settings["mlops_refused"]
        raise error

    post = patch = delete = get


class UnknownRouteHandler(MLOpsHandler):
    """Any other path under `mlops/api/`: a JSON 404, not Jupyter's HTML page."""

    @web.authenticated
    async def get(self, path: str) -> None:
        raise NotFound(f"there is no route mlops/api/{path}; see api/openapi.yaml for the routes")

    post = put = patch = delete = get


ROUTES: list[tuple[str, Any]] = [
    ("status", StatusHandler),
    ("ws", LiveSocket),
    *DOCTOR_ROUTES,
    *KUBE_ROUTES,
    *PIPELINES_ROUTES,
    *RESOURCES_ROUTES,
    *SERVING_ROUTES,
    *TRACKING_ROUTES,
    *TUNING_ROUTES,
]
#: Served after every route: the rest of `mlops/api/` answers a JSON 404.
FALLBACK: tuple[str, Any] = ("(?P<path>.*)", UnknownRouteHandler)
