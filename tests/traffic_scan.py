"""A pytest plugin that scans everything the product's server sends for known secret values.

In-process servers are recorded at tornado's level, outside our code: each response buffer
as it is flushed and each WebSocket frame as it is written, for requests under `/mlops/api/`.
Browser tests feed Playwright's responses and frames in through `watch_browser`. Chunks are
scanned as they arrive, so only counts and findings are kept. Any finding fails the session,
naming the test, the request or op, and which secret (never its value).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import weakref
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from tornado import escape, web, websocket

from jupyter_mlops.testing.secrets import SECRET_VALUES

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, WebSocket

__all__ = ["Finding", "Scanner", "forms", "register_secret", "watch_browser", "watch_contexts"]

SCANNED_PATH = "/mlops/api/"
# Values learned at run time shorter than this ("admin", "secret") are words, not secrets.
MIN_LEARNED = 7
# Frames larger than this are not parsed for their op id, only scanned.
PARSE_LIMIT = 65_536
OP_FIELDS = ("op", "kind", "pod", "namespace")
BETWEEN_TESTS = "(outside any test)"


def forms(value: str) -> list[tuple[str, bytes]]:
    """The byte strings that betray `value`: itself, and its base64 (standard and urlsafe) at
    each of the three alignments it can have inside a longer encoded text.

    The characters that also encode a neighbouring byte are left out, so padding, a missing
    padding and a trailing newline (`kubectl create secret --from-file`) change nothing.
    """
    raw = value.encode()
    found = [("plain", raw)]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        found.append(("base64", core))
        urlsafe = core.translate(bytes.maketrans(b"+/", b"-_"))
        if urlsafe != core:
            found.append(("base64url", urlsafe))
    return found


def hint(value: str) -> str:
    """Enough of a value to tell which one it was, not enough to use it."""
    return f"{value[:3]}… ({len(value)} chars)"


@dataclass(frozen=True)
class Finding:
    """A secret seen in what the server sent."""

    test: str
    where: str
    secret: str
    form: str

    def describe(self) -> str:
        return f"{self.test}: {self.where} carried {self.secret} ({self.form})"


@dataclass(frozen=True)
class _Needle:
    data: bytes
    secret: str
    form: str


class Scanner:
    """Known secrets, and what was found of them in the traffic scanned so far."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._needles: tuple[_Needle, ...] = ()
        self._known: set[str] = set()
        self._seen: set[Finding] = set()
        self._tails: weakref.WeakKeyDictionary[object, bytes] = weakref.WeakKeyDictionary()
        self._ops: weakref.WeakKeyDictionary[object, dict[str, str]] = weakref.WeakKeyDictionary()
        self.findings: list[Finding] = []
        self.test = BETWEEN_TESTS
        self.bytes = 0
        self.responses = 0
        self.frames = 0
        self.unreadable = 0

    @property
    def secrets(self) -> int:
        return len(self._known)

    def register(self, value: str | None, label: str, min_length: int = 1) -> None:
        """Look for `value` (and its base64) in all traffic from now on."""
        if not value or len(value) < min_length:
            return
        with self._lock:
            if value in self._known:
                return
            self._known.add(value)
            secret = f"{label} [{hint(value)}]"
            self._needles += tuple(_Needle(data, secret, form) for form, data in forms(value))

    def scan(self, data: bytes, where: str, stream: object | None = None) -> list[Finding]:
        """Findings in `data`; with `stream`, also those that straddle its previous chunk."""
        needles = self._needles
        self.bytes += len(data)
        if stream is not None:
            tail = self._tails.get(stream, b"")
            longest = max((len(n.data) for n in needles), default=1)
            self._tails[stream] = (tail + data)[-(longest - 1) :] if longest > 1 else b""
            data = tail + data
        new = []
        for needle in needles:
            if needle.data in data:
                finding = Finding(self.test, where, needle.secret, needle.form)
                if finding not in self._seen:
                    self._seen.add(finding)
                    self.findings.append(finding)
                    new.append(finding)
        return new

    def response(self, data: bytes, where: str, stream: object | None = None) -> None:
        """A whole response body, or (with `stream`) one chunk of it."""
        if not data:
            return
        if stream is None or stream not in self._tails:
            self.responses += 1
        self.scan(data, where, stream)

    def frame(self, data: bytes, path: str, connection: object) -> None:
        """One WebSocket frame the server sent on `connection`."""
        self.frames += 1
        self.scan(data, f"ws {path} {self._op_of(data, connection)}")

    def client_message(self, data: str | bytes, connection: object) -> None:
        """Remember which op a client message asked for, to name the frames that answer it."""
        if len(data) > PARSE_LIMIT:
            return
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            return
        if isinstance(message, dict) and isinstance(message.get("id"), str):
            ops = self._ops.setdefault(connection, {})
            fields = (f"{f}={message[f]}" for f in OP_FIELDS if isinstance(message.get(f), str))
            ops[message["id"]] = " ".join(fields)

    def _op_of(self, data: bytes, connection: object) -> str:
        ops = self._ops.get(connection, {})
        ids: list[str] = []
        if len(data) <= PARSE_LIMIT:
            try:
                sent = json.loads(data)
            except (ValueError, RecursionError):
                sent = None
            for message in sent if isinstance(sent, list) else [sent]:
                if isinstance(message, dict) and isinstance(message.get("id"), str):
                    ids.append(message["id"])
        named = sorted({ops.get(i, f"id={i}") for i in ids} or set(ops.values()))
        return "; ".join(named) or "(no op)"

    def summary(self) -> str:
        return (
            f"secrets scan: {self.bytes:,} bytes in {self.responses:,} responses and "
            f"{self.frames:,} WebSocket frames, against {self.secrets} secrets: "
            + (f"{len(self.findings)} FOUND" if self.findings else "none found")
            + (
                f" ({self.unreadable} browser responses had no body to read)"
                if self.unreadable
                else ""
            )
        )


_active: Scanner | None = None
_restore: list[Callable[[], None]] = []


def active() -> Scanner | None:
    """The session's scanner, while the plugin runs."""
    return _active


def register_secret(value: str | None, label: str = "a secret a fixture registered") -> None:
    """Have the session's scan look for `value`; does nothing without the plugin."""
    if _active is not None:
        _active.register(value, label)


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    _restore.append(lambda: setattr(owner, name, original))


def _scanned(handler: web.RequestHandler) -> Scanner | None:
    return _active if SCANNED_PATH in handler.request.path else None


def _instrument_tornado() -> None:
    def flush(original: Any) -> Any:
        def recording_flush(self: web.RequestHandler, include_footers: bool = False) -> Any:
            scanner = _scanned(self)
            if scanner is not None:
                # The query is left out of the name: it may carry the Jupyter token.
                where = f"{self.request.method} {self.request.path}"
                scanner.response(b"".join(self._write_buffer), where, stream=self)
            return original(self, include_footers)

        return recording_flush

    def write_message(original: Any) -> Any:
        def recording_write_message(
            self: websocket.WebSocketHandler,
            message: bytes | str | dict[str, Any],
            binary: bool = False,
        ) -> Any:
            scanner = _scanned(self)
            if scanner is not None:
                data = escape.json_encode(message) if isinstance(message, dict) else message
                scanner.frame(escape.utf8(data), self.request.path, self)
            return original(self, message, binary)

        return recording_write_message

    def run_callback(original: Any) -> Any:
        def noting_run_callback(
            self: websocket.WebSocketProtocol, callback: Any, *args: Any, **kwargs: Any
        ) -> Any:
            handler = self.handler
            if (
                isinstance(handler, websocket.WebSocketHandler)
                and getattr(callback, "__name__", "") == "on_message"
                and args
            ):
                scanner = _scanned(handler)
                if scanner is not None:
                    scanner.client_message(args[0], handler)
            return original(self, callback, *args, **kwargs)

        return noting_run_callback

    _patch(web.RequestHandler, "flush", flush)
    _patch(websocket.WebSocketHandler, "write_message", write_message)
    _patch(websocket.WebSocketProtocol, "_run_callback", run_callback)


def _secret_values(data: Any, encoded: bool) -> Iterable[tuple[str, str]]:
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        if encoded:
            try:
                value = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
        yield str(key), value


def _learn_from_doubles() -> None:
    """Every Secret stored in a Kubernetes emulator and every token an emulator accepts."""
    from jupyter_mlops.testing.kfp import KfpEmulator
    from jupyter_mlops.testing.kube import KubeEmulator
    from jupyter_mlops.testing.kube.store import Store

    def commit(original: Any) -> Any:
        def learning_commit(self: Store, rt: Any, type_: str, obj: Any, old: Any) -> Any:
            if _active is not None and rt.key == ("", "secrets") and isinstance(obj, dict):
                meta = obj.get("metadata") or {}
                name = f"Secret {meta.get('namespace')}/{meta.get('name')}"
                pairs = [
                    *_secret_values(obj.get("data"), encoded=True),
                    *_secret_values(obj.get("stringData"), encoded=False),
                ]
                for key, value in pairs:
                    for variant in {value, value.rstrip("\n")}:
                        _active.register(variant, f"{name} key {key}", MIN_LEARNED)
            return original(self, rt, type_, obj, old)

        return learning_commit

    def token(original: Any, label: str) -> Any:
        def learning_add_token(self: Any, value: str, *args: Any, **kwargs: Any) -> Any:
            if _active is not None:
                _active.register(value, label, MIN_LEARNED)
            return original(self, value, *args, **kwargs)

        return learning_add_token

    _patch(Store, "_commit", commit)
    _patch(KubeEmulator, "add_token", lambda f: token(f, "a Kubernetes token"))
    _patch(KfpEmulator, "add_token", lambda f: token(f, "KFP token"))
    _patch(KfpEmulator, "add_session_cookie", lambda f: token(f, "KFP session cookie"))


def watch_browser(context: BrowserContext) -> None:
    """Scan each `/mlops/api/` response body and WebSocket frame the browser receives."""
    from playwright.sync_api import Error

    def on_response(response: Any) -> None:
        scanner = _active
        path = urlsplit(response.url).path
        if scanner is None or SCANNED_PATH not in path:
            return
        try:
            body = response.body()
        except Error:
            # Redirects and responses of a page already closed have no body to read.
            scanner.unreadable += 1
            return
        scanner.response(body, f"browser {response.request.method} {path}")

    def on_websocket(ws: WebSocket) -> None:
        path = urlsplit(ws.url).path
        if SCANNED_PATH not in path:
            return

        def sent(payload: str | bytes) -> None:
            if _active is not None:
                _active.client_message(payload, ws)

        def received(payload: str | bytes) -> None:
            if _active is not None:
                _active.frame(escape.utf8(payload), f"browser {path}", ws)

        ws.on("framesent", sent)
        ws.on("framereceived", received)

    def on_page(page: Page) -> None:
        page.on("websocket", on_websocket)

    context.on("response", on_response)
    context.on("page", on_page)
    for page in context.pages:
        on_page(page)


def watch_contexts(browser: Browser) -> None:
    """Watch every context `browser` opens from now on, as `watch_browser` does."""
    new_context = browser.new_context

    def watched_new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = new_context(*args, **kwargs)
        watch_browser(context)
        return context

    browser.new_context = watched_new_context  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    global _active
    _active = Scanner()
    for label, value in SECRET_VALUES.items():
        _active.register(value, label)
    _instrument_tornado()
    _learn_from_doubles()


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


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """Learn the tokens an in-process server was started with."""
    result = yield
    if _active is not None and fixturedef.argname == "jp_serverapp":
        _active.register(result.identity_provider.token, "Jupyter token", MIN_LEARNED)
        config = request.getfixturevalue("jp_server_config").get("MLOpsConfig") or {}
        _active.register(config.get("kfp_token"), "KFP token", MIN_LEARNED)
        for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD"):
            _active.register(os.environ.get(name), name, MIN_LEARNED)
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _active is not None and _active.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    scanner = _active
    if scanner is None:
        return
    if scanner.findings:
        terminalreporter.section("secrets scan", sep="=", red=True, bold=True)
        for finding in scanner.findings:
            terminalreporter.line(finding.describe(), red=True)
    terminalreporter.write_line(scanner.summary())
