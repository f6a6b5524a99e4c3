"""The base handler: Jupyter auth, JSON answers, and the one place errors become statuses."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from tornado import web

from ..errors import BadInput, MLOpsError
from .limits import parse_json
from .state import ServerState


class JsonErrors:
    """Errors as the JSON envelope, for the routes and for the WebSocket's HTTP answers."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer `{"reason", "message"}`; tracebacks stay in the server log."""
        handler: JupyterHandler = self  # type: ignore[assignment]
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MLOpsError):
            handler.set_status(exc.status)
            body = exc.to_json()
        elif isinstance(exc, web.HTTPError):
            body = {
                "reason": exc.reason or handler._reason,
                "message": exc.log_message % exc.args if exc.log_message else handler._reason,
            }
        else:
            body = {
                "reason": "Internal error",
                "message": "The server failed to answer; the details are in its log.",
            }
        handler.set_header("Content-Type", "application/json")
        handler.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Expected errors are answers, not server faults: log them in one line.
        handler: JupyterHandler = self  # type: ignore[assignment]
        if isinstance(value, MLOpsError):
            request = handler.request
            handler.log.info("%s %s: %s", request.method, request.path, value.message)
        else:
            super().log_exception(typ, value, tb)  # type: ignore[misc]


class MLOpsHandler(JsonErrors, APIHandler):
    """Every route derives from this; a route raises typed errors and never formats them."""

    auth_resource = "mlops"

    @property
    def state(self) -> ServerState:
        state: ServerState = self.settings["mlops"]
        return state

    def get_query_argument(
        self, name: str, default: Any = web._ARG_DEFAULT, strip: bool = False
    ) -> Any:
        """A query value exactly as sent: checks see its control characters and spaces,
        which tornado would otherwise turn into a different, valid-looking name."""
        return super().get_query_argument(name, default, strip)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number query argument within [low, high]; `BadInput` naming it otherwise."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadInput(f"{name} must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise BadInput(f"{name} must be between {low} and {high}")
        return value

    def json_body(self) -> Any:
        """The request's JSON body, bounded in size and depth; `BadInput` otherwise."""
        return parse_json(self.request.body or b"{}")
