"""The secrets scan itself: it finds a planted secret, plain or encoded, and fails the session."""

from __future__ import annotations

import base64
import textwrap

import pytest

from jupyter_mlops.testing.secrets import SECRET_VALUES
from tests.traffic_scan import Scanner

pytest_plugins = ["pytester"]

PLANTED = "planted-value-0c9b4e7a"


class Connection:
    """Stands for a handler or a socket: what the scanner keys a stream by."""


def encodings(value: str) -> dict[str, bytes]:
    raw = value.encode()
    return {
        "plain": raw,
        "json": b'{"data": {"password": "' + raw + b'"}}',
        "base64": base64.b64encode(raw),
        "base64 without padding": base64.b64encode(raw).rstrip(b"="),
        "urlsafe base64": base64.urlsafe_b64encode(raw),
        "urlsafe base64 without padding": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "base64 with a trailing newline": base64.b64encode(raw + b"\n"),
        "urlsafe base64 with a trailing newline": base64.urlsafe_b64encode(raw + b"\n"),
        **{
            f"base64 inside a longer text, {n} bytes in": base64.b64encode(b"x" * n + raw + b"!?")
            for n in (1, 2, 3, 4)
        },
    }


@pytest.mark.parametrize("value", [*SECRET_VALUES.values(), PLANTED])
def test_every_encoding_of_a_secret_is_found(value: str) -> None:
    scanner = Scanner()
    scanner.register(value, "the secret")
    for name, body in encodings(value).items():
        assert scanner.scan(b"<<" + body + b">>", f"GET /{name}"), name


def test_a_body_without_secrets_is_clean() -> None:
    scanner = Scanner()
    for label, value in SECRET_VALUES.items():
        scanner.register(value, label)
    body = b'{"data": {"password": "23 bytes", "api-key": ""}}'
    scanner.response(body, "GET /secrets")
    assert scanner.findings == []
    assert (scanner.responses, scanner.bytes) == (1, len(body))


def test_a_secret_split_between_two_chunks_is_found() -> None:
    scanner = Scanner()
    scanner.register(PLANTED, "the secret")
    stream = Connection()
    scanner.response(b"..." + PLANTED.encode()[:9], "GET /log", stream)
    scanner.response(PLANTED.encode()[9:] + b"...", "GET /log", stream)
    assert [f.form for f in scanner.findings] == ["plain"]
    assert scanner.responses == 1


def test_a_finding_names_the_secret_without_showing_it() -> None:
    scanner = Scanner()
    scanner.register(PLANTED, "the secret")
    scanner.test = "tests/test_x.py::test_y"
    (finding,) = scanner.scan(base64.b64encode(PLANTED.encode()), "GET /mlops/api/x")
    shown = finding.describe()
    assert shown.startswith("tests/test_x.py::test_y: GET /mlops/api/x carried the secret")
    assert "(base64)" in shown and PLANTED not in shown


def test_frames_are_named_by_the_op_that_asked_for_them() -> None:
    scanner = Scanner()
    scanner.register(PLANTED, "the secret")
    socket = Connection()
    scanner.client_message('{"op": "subscribe", "id": "1", "kind": "secrets"}', socket)
    scanner.client_message("[" * 100_000 + "]" * 100_000, socket)
    scanner.frame(
        b'{"id": "1", "type": "snapshot", "rows": ["' + PLANTED.encode() + b'"]}',
        "/mlops/api/ws",
        socket,
    )
    (finding,) = scanner.findings
    assert finding.where == "ws /mlops/api/ws op=subscribe kind=secrets"


LEAKY_SERVER = textwrap.dedent(
    f"""
    import asyncio
    import base64
    import json

    from tornado import httpclient, web, websocket
    from tornado.httpserver import HTTPServer
    from tornado.testing import bind_unused_port

    from tests import traffic_scan

    PLANTED = {PLANTED!r}


    class Leaky(web.RequestHandler):
        def get(self, form):
            value = PLANTED.encode()
            self.write({{"plain": value, "base64": base64.b64encode(value + b"\\n"),
                        "clean": b"nothing to see"}}[form])


    class LeakySocket(websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message({{"id": json.loads(message)["id"], "value": PLANTED}})


    async def visit(path, message=None):
        sock, port = bind_unused_port()
        app = web.Application(
            [(r"/base/mlops/api/ws", LeakySocket), (r"/base/mlops/api/leak/(.*)", Leaky)]
        )
        server = HTTPServer(app)
        server.add_sockets([sock])
        try:
            if message is None:
                await httpclient.AsyncHTTPClient().fetch(f"http://127.0.0.1:{{port}}{{path}}")
            else:
                ws = await websocket.websocket_connect(f"ws://127.0.0.1:{{port}}{{path}}")
                ws.write_message(message)
                await ws.read_message()
                ws.close()
        finally:
            server.stop()


    def setup_function():
        traffic_scan.register_secret(PLANTED, "the planted value")


    def test_plain_body():
        asyncio.run(visit("/base/mlops/api/leak/plain"))


    def test_base64_body():
        asyncio.run(visit("/base/mlops/api/leak/base64"))


    def test_clean_body():
        asyncio.run(visit("/base/mlops/api/leak/clean"))


    def test_frame():
        asyncio.run(visit("/base/mlops/api/ws", '{{"op": "subscribe", "id": "7", "kind": "x"}}'))
    """
)


def test_a_session_whose_server_sent_a_secret_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaks=LEAKY_SERVER)
    result = pytester.runpytest_subprocess("-p", "tests.traffic_scan", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*= secrets scan =*",
            "test_leaks.py::test_plain_body: GET /base/mlops/api/leak/plain carried the planted "
            "value [pla… (22 chars)] (plain)",
            "test_leaks.py::test_base64_body: GET /base/mlops/api/leak/base64 carried the planted "
            "value * (base64)",
            "test_leaks.py::test_frame: ws /base/mlops/api/ws op=subscribe kind=x carried the "
            "planted value * (plain)",
            "secrets scan: * bytes in 3 responses and 1 WebSocket frames, against * secrets: "
            "3 FOUND",
        ]
    )
    assert "test_clean_body:" not in out
    assert PLANTED not in out


def test_a_clean_session_passes_and_says_what_it_scanned(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_clean=LEAKY_SERVER.replace("PLANTED = ", "PLANTED = 'unused-' + ")
        .replace("def test_plain_body", "def _plain_body")
        .replace("def test_base64_body", "def _base64_body")
        .replace("def test_frame", "def _frame")
    )
    result = pytester.runpytest_subprocess("-p", "tests.traffic_scan", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["secrets scan: * bytes in 1 responses and 0 WebSocket frames*none found"]
    )
