"""Handlers outside the resource API: version, health, OpenAPI, unknown paths, `/_emulator`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .base import Base, truthy
from .rbac import Rule
from .status import ApiError, bad_request, no_such_resource, not_found

Obj = dict[str, Any]


class VersionHandler(Base):
    """GET /version: open to everyone, as on a real cluster."""

    def get(self) -> None:
        self.emu.record_request("get", "GET", self.request.path)
        self.send_json(self.emu.version_info())


class HealthHandler(Base):
    """GET /healthz, /livez, /readyz."""

    def get(self, _path: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("ok")


class OpenApiHandler(Base):
    """OpenAPI: v3 answers a schema-less index (kubectl checks it for server-side field
    validation); v2 is disabled and answers 404, as a server started without it."""

    def get(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        doc: Obj | None = None
        if parts[:2] == ["openapi", "v3"]:
            rest = parts[2:]
            if not rest:
                doc = self.emu.registry.openapi_index()
            elif rest[0] == "api" and len(rest) == 2:
                doc = self.emu.registry.openapi_document("", rest[1])
            elif rest[0] == "apis" and len(rest) == 3:
                doc = self.emu.registry.openapi_document(rest[1], rest[2])
        if doc is None:
            self.send_page_not_found()
            return
        self.send_json(doc)


class NotFoundHandler(Base):
    """Paths outside the API."""

    def prepare(self) -> None:
        self.send_page_not_found()


class ControlHandler(Base):
    """`/_emulator/...`: fault injection, logs and state for tests driving a separate process."""

    def _json(self) -> Obj:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError as exc:
            raise bad_request(f"invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad_request("expected a JSON object")
        return body

    def _run(self, action: Callable[[], Any]) -> None:
        try:
            self.send_json(action())
        except ApiError as error:
            self.send_error_status(error)

    def get(self, path: str) -> None:
        emu = self.emu
        if path == "requests":
            self._run(
                lambda: {
                    "count": emu.request_count(
                        verb=self.get_query_argument("verb", None),
                        path_prefix=self.get_query_argument("path_prefix", None),
                        method=self.get_query_argument("method", None),
                    )
                }
            )
        elif path == "state":
            self._run(
                lambda: {"resourceVersion": emu.store.rv, "watches": len(emu.store.watchers())}
            )
        else:
            self.send_error_status(no_such_resource())

    def post(self, path: str) -> None:
        emu = self.emu
        parts = path.split("/")
        if parts[0] == "logs" and len(parts) == 4:
            _, namespace, pod, container = parts
            previous = truthy(self.get_query_argument("previous", None))
            self._run(
                lambda: {
                    "appended": emu.append_log(
                        namespace, pod, container, self.request.body, previous=previous
                    )
                }
            )
        elif parts[0] == "pods" and len(parts) == 4 and parts[3] == "finish":
            _, namespace, pod, _ = parts
            code = int(self.get_query_argument("exitCode", "0") or 0)
            self._run(lambda: emu.finish_pod(namespace, pod, code) or _missing_pod(pod))
        elif (
            parts[0] == "pods"
            and len(parts) == 6
            and parts[3] == "containers"
            and parts[5] == "restart"
        ):
            _, namespace, pod, _, container, _ = parts
            code = int(self.get_query_argument("exitCode", "1") or 1)
            self._run(
                lambda: emu.restart_container(namespace, pod, container, code) or _missing_pod(pod)
            )
        elif path == "watches/drop":
            self._run(
                lambda: {
                    "dropped": emu.drop_watches(
                        abort=truthy(self.get_query_argument("abort", None))
                    )
                }
            )
        elif path == "fail-next":
            body = self._json()

            def fail() -> Obj:
                emu.fail_next(int(body.get("count", 1)), int(body.get("code", 500)))
                return {"count": int(body.get("count", 1)), "code": int(body.get("code", 500))}

            self._run(fail)
        elif path == "latency":
            body = self._json()

            def set_latency() -> Obj:
                emu.latency = float(body.get("seconds", 0.0))
                return {"seconds": emu.latency}

            self._run(set_latency)
        elif path == "requests/reset":

            def reset() -> Obj:
                emu.reset_requests()
                return {"count": 0}

            self._run(reset)
        elif path == "tokens":
            body = self._json()

            def add() -> Obj:
                rules = [
                    Rule(
                        tuple(r.get("verbs") or ()),
                        tuple(r.get("resources") or ()),
                        tuple(r.get("apiGroups") or ("",)),
                        tuple(r["namespaces"]) if r.get("namespaces") is not None else None,
                        tuple(r.get("resourceNames") or ()),
                    )
                    for r in body.get("rules") or []
                ]
                emu.add_token(
                    str(body["token"]),
                    str(body["user"]),
                    rules,
                    groups=tuple(body.get("groups") or ()),
                    namespaces=body.get("namespaces"),
                )
                return {"token": body["token"]}

            self._run(add)
        elif path == "objects":
            body = self._json()
            self._run(lambda: emu.apply(body))
        elif path == "save":
            self._run(lambda: {"saved": str(emu.save_state())})
        else:
            self.send_error_status(no_such_resource())


def _missing_pod(name: str) -> Obj:
    raise not_found("pods", "", name)
