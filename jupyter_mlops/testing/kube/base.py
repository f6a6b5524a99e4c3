"""Request plumbing shared by the emulator's handlers: parsed paths, JSON and Status answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tornado.web

from .resources import ResourceType
from .selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from .status import ApiError, bad_request
from .store import dumps

if TYPE_CHECKING:
    from .emulator import KubeEmulator

Obj = dict[str, Any]


@dataclass
class RequestInfo:
    """What an API path and method ask for."""

    group: str
    version: str
    rt: ResourceType
    namespace: str
    name: str
    subresource: str
    watch: bool
    verb: str


def truthy(value: str | None) -> bool:
    """A query flag as the server reads it ("true", "1")."""
    return value is not None and value.lower() in ("true", "1", "yes")


class Base(tornado.web.RequestHandler):
    """Shared plumbing: the emulator, JSON answers, Status errors."""

    def initialize(self, emulator: KubeEmulator) -> None:
        self.emu = emulator

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-cache, private")
        self.set_header("Audit-Id", "emulated")

    def check_xsrf_cookie(self) -> None:
        return None

    def send_json(self, body: Any, code: int = 200) -> None:
        self.set_status(code)
        self.finish(body if isinstance(body, bytes) else dumps(body))

    def send_page_not_found(self) -> None:
        """The plain-text 404 the real server gives for paths outside the resource API."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_status(404)
        self.finish("404 page not found\n")

    def send_error_status(self, error: ApiError) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        self.set_status(error.code)
        self.finish(dumps(error.status()))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Anything uncaught still answers as a Status, never as a traceback page.
        reason = {404: "NotFound", 405: "MethodNotAllowed", 400: "BadRequest"}.get(
            status_code, "InternalError"
        )
        message = (
            self._reason if status_code != 500 else "Internal error occurred: the emulator failed"
        )
        self.finish(dumps(ApiError(status_code, reason, message).status()))

    def _api_version_override(self, info: RequestInfo) -> str | None:
        if info.rt.custom and info.version != info.rt.versions[0]:
            return info.rt.api_version(info.version)
        return None

    def _wants_table(self) -> bool:
        return "as=Table" in (self.request.headers.get("Accept") or "")

    def _selectors(self, info: RequestInfo) -> tuple[LabelSelector, FieldSelector]:
        labels = parse_label_selector(self.get_query_argument("labelSelector", None))
        fields = parse_field_selector(info.rt.key, self.get_query_argument("fieldSelector", None))
        return labels, fields

    def _int_arg(self, name: str) -> int | None:
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return None
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f'invalid value for {name}: "{value}"') from None
