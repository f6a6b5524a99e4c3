"""A pytest plugin that checks every answer of an in-process server against api/openapi.yaml.

Recorded at tornado's level, outside our code, as `traffic_scan` does: the buffers each
response flushes, checked when it finishes, and each WebSocket frame as it is written, for
requests under `/mlops/api/`. A response's operation is found by the route that served it
(`handlers.ROUTES`, in tornado's order), its response by status (or `default`), and a JSON
body is validated against that response's schema, `$ref`s into `api/schemas.json` followed
(compiled once per schema by jsonschema_rs, fast enough for every row of every page;
jsonschema, with a `referencing` registry, words the first error). Every WebSocket message
is validated against the model its `type` picks from the union the `ws` operation names in
`x-messages.server` (`LiveServerMessage`). A mismatch, a status the spec does not document
for the operation, or a JSON body where the spec has no schema is a finding; any finding
fails the session, naming the test, the operation, the status and the first error.
"""

from __future__ import annotations

import json
import re
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from tornado import escape, web, websocket

__all__ = ["Contract", "Mismatch", "active"]

API = Path(__file__).resolve().parents[1] / "api"
PREFIX = "/mlops/api/"
SPEC_URI = (API / "openapi.yaml").as_uri()
SCHEMAS_URI = (API / "schemas.json").as_uri()
# Bodies above this are checked for their status only (none in the suite comes near it).
MAX_BODY = 16 * 1024 * 1024
# What an unknown path (or a refused configuration's every path) answers.
UNKNOWN_ROUTE = "(unknown route)"
ERROR_BODY = "#/components/schemas/ErrorBody"
UNKNOWN_STATUSES = frozenset({401, 403, 404, 503})
BETWEEN_TESTS = "(outside any test)"
ERROR_TEXT = 300


@dataclass(frozen=True)
class Mismatch:
    """An answer that is not what api/openapi.yaml says."""

    test: str
    operation: str
    status: str
    error: str

    def describe(self) -> str:
        return f"{self.test}: {self.operation} {self.status}: {self.error}"


def openapi_path(pattern: str) -> str:
    """`kube/(?P<kind>…)/(?P<name>…)` → `/mlops/api/kube/{kind}/{name}`."""
    return PREFIX + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def _pointer(*parts: str) -> str:
    """A JSON pointer to `parts`, quoted for a URI fragment (`{kind}` is not a URI's)."""
    return "".join("/" + quote(p.replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


def _first_error(errors: Iterator[ValidationError]) -> str | None:
    error = best_match(errors)
    if error is None:
        return None
    return f"{error.json_path}: {error.message}"[:ERROR_TEXT]


class _Schema:
    """One schema's validators: the compiled fast one answers whether a value is valid (a
    1,000-row page in milliseconds); jsonschema's, built on the first failure, says why."""

    def __init__(self, contract: Contract, uri: str) -> None:
        self.contract, self.uri = contract, uri
        self.fast = jsonschema_rs.validator_for({"$ref": uri}, registry=contract.fast_registry)
        self._explaining: Draft202012Validator | None = None

    def error(self, value: Any) -> str | None:
        """None if `value` is valid, else its first error."""
        if self.fast.is_valid(value):
            return None
        if self._explaining is None:
            self._explaining = Draft202012Validator(
                {"$ref": self.uri}, registry=self.contract.registry
            )
        found = _first_error(self._explaining.iter_errors(value))
        if found is not None:
            return found
        # The two disagree: the fast validator's own words, rather than nothing.
        fast = next(iter(self.fast.iter_errors(value)))
        path = "$" + "".join(f"[{p!r}]" for p in fast.instance_path)
        return f"{path}: {fast.message}"[:ERROR_TEXT]


class Contract:
    """The spec, the validators compiled so far, and what was checked and found."""

    def __init__(self, spec: dict[str, Any], schemas: dict[str, Any], routes: list[str]) -> None:
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resources(
            [
                (SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)),
                (SCHEMAS_URI, Resource.from_contents(schemas, default_specification=DRAFT202012)),
            ]
        )
        self.fast_registry = jsonschema_rs.Registry(
            [(SPEC_URI, spec), (SCHEMAS_URI, schemas)], draft=jsonschema_rs.Draft202012
        )
        # The WebSocket's operation names the union of what the server sends.
        ws = spec["paths"].get(PREFIX + "ws", {}).get("get", {})
        server = ws.get("x-messages", {}).get("server", {}).get("$ref", "")
        self.server_message = server.rpartition("/")[2]
        union = schemas.get("$defs", {}).get(self.server_message, {})
        #: A server message's `type` → the `#/$defs/...` of its model.
        self.messages: dict[str, str] = union.get("discriminator", {}).get("mapping", {})
        self.routes = [(re.compile(p), openapi_path(p)) for p in routes]
        self._validators: dict[str, _Schema] = {}
        self._seen: dict[tuple[str, str, str], Mismatch] = {}
        self.findings: list[Mismatch] = []
        self.test = BETWEEN_TESTS
        self.responses = 0
        self.status_only = 0
        self.oversized = 0
        self.operations: set[str] = set()
        self.unknown_routes = 0
        self.frames = 0
        self.frame_messages = 0
        self.message_types: set[str] = set()

    @property
    def documented(self) -> int:
        return sum(len(item) for item in self.spec["paths"].values())

    def validator(self, uri: str) -> _Schema:
        """One compiled validator per schema, shared by every operation that refers to it."""
        found = self._validators.get(uri)
        if found is None:
            found = _Schema(self, uri)
            self._validators[uri] = found
        return found

    def find(self, operation: str, status: str, error: str) -> None:
        key = (self.test, operation, status)
        if key not in self._seen:
            mismatch = Mismatch(self.test, operation, status, error)
            self._seen[key] = mismatch
            self.findings.append(mismatch)

    def route(self, path: str) -> str | None:
        """The openapi path of the route that serves `path` (the part after the prefix)."""
        for pattern, template in self.routes:
            if pattern.fullmatch(path):
                return template
        return None

    def response(self, method: str, path: str, status: int, body: bytes | None) -> None:
        """A finished response; `body` None when it was too large to keep."""
        self.responses += 1
        template = self.route(path.partition(PREFIX)[2])
        if template is None:
            self._unknown_route(method, status, body)
            return
        label = f"{method} {template}"
        self.operations.add(label)
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        if operation is None:
            self.find(label, str(status), "the spec has no such operation")
            return
        responses = operation["responses"]
        response = responses.get(str(status), responses.get("default"))
        if response is None:
            self.find(label, str(status), f"undocumented status (documented: {sorted(responses)})")
            return
        where = self._response_pointer(template, method.lower(), str(status), response)
        self._body(label, str(status), where, body)

    def _unknown_route(self, method: str, status: int, body: bytes | None) -> None:
        label = f"{method} {UNKNOWN_ROUTE}"
        self.unknown_routes += 1
        if status not in UNKNOWN_STATUSES:
            self.find(label, str(status), f"an unknown path answers {sorted(UNKNOWN_STATUSES)}")
            return
        self._json(label, str(status), SPEC_URI + ERROR_BODY, body)

    def _response_pointer(
        self, template: str, method: str, status: str, response: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Where the response's content is in the spec (a component's, if it refers to one)."""
        ref = response.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/responses/"):
            name = ref.rsplit("/", 1)[1]
            return _pointer("components", "responses", name), self.spec["components"]["responses"][
                name
            ]
        return _pointer("paths", template, method, "responses", status), response

    def _body(
        self, label: str, status: str, where: tuple[str, dict[str, Any]], body: bytes | None
    ) -> None:
        pointer, response = where
        content = response.get("content") or {}
        json_content = content.get("application/json")
        if json_content is None:
            if content or body is None or not _is_json(body):
                # Binary or streamed answers (`*/*`) and bodiless ones are checked for status.
                self.status_only += 1
                return
            self.find(label, status, "a JSON body, but the spec gives this answer no schema")
            return
        if "schema" not in json_content:
            self.find(label, status, "application/json without a schema in the spec")
            return
        uri = SPEC_URI + "#" + pointer + _pointer("content", "application/json", "schema")
        self._json(label, status, uri, body)

    def _json(self, label: str, status: str, uri: str, body: bytes | None) -> None:
        if body is None:
            self.oversized += 1
            return
        try:
            value = json.loads(body)
        except ValueError:
            self.find(label, status, f"the body is not JSON: {body[:80]!r}")
            return
        error = self.validator(uri).error(value)
        if error is not None:
            self.find(label, status, error)

    def frame(self, data: str | bytes) -> None:
        """One WebSocket frame: a JSON array of server messages."""
        self.frames += 1
        try:
            batch = json.loads(data)
        except ValueError:
            self.find("WS frame", "-", f"not JSON: {data[:80]!r}")
            return
        if not isinstance(batch, list):
            self.find("WS frame", "-", "a frame is a JSON array of messages")
            return
        for message in batch:
            self._message(message)

    def _message(self, message: Any) -> None:
        self.frame_messages += 1
        kind = message.get("type") if isinstance(message, dict) else None
        ref = self.messages.get(kind) if isinstance(kind, str) else None
        label = f"WS {kind}"
        if ref is None:
            self.find(
                label,
                "-",
                f"no model of {self.server_message or 'x-messages.server'} has this type",
            )
            return
        self.message_types.add(str(kind))
        error = self.validator(SCHEMAS_URI + ref).error(message)
        if error is not None:
            self.find(label, "-", error)

    def summary(self) -> str:
        found = f"{len(self.findings)} MISMATCHES" if self.findings else "no mismatch"
        return (
            f"response contract: {self.responses:,} responses over {len(self.operations)} "
            f"operations (of {self.documented} in api/openapi.yaml; {self.unknown_routes} to "
            f"unknown paths; {self.status_only:,} "
            f"checked for status only, {self.oversized} too large to parse) and "
            f"{self.frame_messages:,} WebSocket messages in {self.frames:,} frames over "
            f"{len(self.message_types)} message types: {found}"
        )


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return bool(body.strip())


class _Body:
    """What one response flushed so far, until it is too large to keep."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunks: list[bytes]) -> None:
        if self.size <= MAX_BODY:
            self.chunks.extend(chunks)
            self.size += sum(map(len, chunks))

    def value(self) -> bytes | None:
        return b"".join(self.chunks) if self.size <= MAX_BODY else None


_active: Contract | None = None
_restore: list[Callable[[], None]] = []
_bodies: weakref.WeakKeyDictionary[web.RequestHandler, _Body] = weakref.WeakKeyDictionary()


def active() -> Contract | None:
    """The session's contract check, while the plugin runs."""
    return _active


def _load() -> Contract:
    from jupyter_mlops.server.handlers import ROUTES

    spec = yaml.safe_load((API / "openapi.yaml").read_text())
    return Contract(spec, _schemas(), [pattern for pattern, _ in ROUTES])


def _schemas(attempts: int = 50) -> dict[str, Any]:
    """schemas.json, read again while it is being regenerated (`>` empties it first)."""
    for _ in range(attempts - 1):
        try:
            loaded: dict[str, Any] = json.loads((API / "schemas.json").read_text())
            return loaded
        except ValueError:
            time.sleep(0.1)
    return dict(json.loads((API / "schemas.json").read_text()))


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    wrapper = make(original)
    setattr(owner, name, wrapper)

    def restore() -> None:
        # Another plugin may have wrapped ours since: leave its wrapper in place then.
        if getattr(owner, name) is wrapper:
            setattr(owner, name, original)

    _restore.append(restore)


def _checked(handler: web.RequestHandler) -> bool:
    return _active is not None and PREFIX in handler.request.path


def _instrument_tornado() -> None:
    def flush(original: Any) -> Any:
        def recording_flush(self: web.RequestHandler, include_footers: bool = False) -> Any:
            if _checked(self):
                _bodies.setdefault(self, _Body()).add(self._write_buffer)
            return original(self, include_footers)

        return recording_flush

    def finish(original: Any) -> Any:
        def checking_finish(self: web.RequestHandler, chunk: Any = None) -> Any:
            result = original(self, chunk)
            if _active is not None and _checked(self):
                body = _bodies.pop(self, _Body()).value()
                _active.response(
                    self.request.method or "GET", self.request.path, self.get_status(), body
                )
            return result

        return checking_finish

    def write_message(original: Any) -> Any:
        def checking_write_message(
            self: websocket.WebSocketHandler,
            message: bytes | str | dict[str, Any],
            binary: bool = False,
        ) -> Any:
            if _active is not None and _checked(self):
                data = escape.json_encode(message) if isinstance(message, dict) else message
                _active.frame(data)
            return original(self, message, binary)

        return checking_write_message

    _patch(web.RequestHandler, "flush", flush)
    _patch(web.RequestHandler, "finish", finish)
    _patch(websocket.WebSocketHandler, "write_message", write_message)


def pytest_configure(config: pytest.Config) -> None:
    global _active
    _active = _load()
    _instrument_tornado()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _active
    while _restore:
        _restore.pop()()
    _active = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    if _active is not None:
        _active.test = item.nodeid
    try:
        return (yield)
    finally:
        if _active is not None:
            _active.test = BETWEEN_TESTS


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _active is not None and _active.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    contract = _active
    if contract is None:
        return
    if contract.findings:
        terminalreporter.section("response contract", sep="=", red=True, bold=True)
        for mismatch in contract.findings:
            terminalreporter.line(mismatch.describe(), red=True)
    terminalreporter.write_line(contract.summary())
