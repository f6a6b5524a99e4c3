"""Doctor routes under `mlops/api/kube/doctor`: what is wrong in the namespace, from the cache."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .kube_routes import KIND, NAME, KubeHandler


class DoctorHandler(KubeHandler):
    """`GET kube/doctor?namespace=`: every unhealthy object's findings, and what was unreadable."""

    example = "kube/doctor"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kube.doctor import examine

        namespace = self.namespace()

        def report() -> dict[str, Any]:
            return examine(self.state.watch_cache(), namespace).model_dump(mode="json")

        self.finish(await self.state.run(report))


class DoctorObjectHandler(KubeHandler):
    """`GET kube/doctor/KIND/NAME?namespace=`: one object's findings (a workload's pods too)."""

    example = "kube/doctor/pods/x"

    @web.authenticated
    @authorized
    async def get(self, kind: str, name: str) -> None:
        from ..kube.doctor import examine_object

        namespace, name = self.namespace(), self.object_name(name)

        def report() -> dict[str, Any]:
            cache = self.state.watch_cache()
            return examine_object(cache, kind, name, namespace).model_dump(mode="json")

        self.finish(await self.state.run(report))


DOCTOR_ROUTES: list[tuple[str, Any]] = [
    ("kube/doctor", DoctorHandler),
    (f"kube/doctor/{KIND}/{NAME}", DoctorObjectHandler),
]
