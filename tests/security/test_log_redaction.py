"""The Jupyter token never appears in a log line the server writes, whatever it logs."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.server.log_filter import MASK, TokenMask, mask

TOKEN = "0123456789abcdef-token"


class Kept(logging.Handler):
    """Every record the root logger sees, formatted as a log file would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def root_log() -> Iterator[Kept]:
    kept = Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    yield kept
    root.removeHandler(kept)


def test_query_values_and_headers_are_masked() -> None:
    shown = mask(
        f"GET /mlops/api/ws?token={TOKEN}&page_token=p2 (127.0.0.1) "
        f"uri='/lab?x=1&token={TOKEN}' Authorization: token {TOKEN} "
        f"{{'Authorization': 'Bearer {TOKEN}'}}"
    )
    assert TOKEN not in shown
    assert shown.count(f"token={MASK}") == 2 and "page_token=p2" in shown
    assert f"Authorization: token {MASK}" in shown and f"'Authorization': 'Bearer {MASK}'" in shown


def test_a_record_is_masked_in_its_arguments_and_its_exception() -> None:
    try:
        raise RuntimeError(f"while serving /mlops/api/ws?token={TOKEN}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "tornado.application",
        logging.ERROR,
        __file__,
        1,
        "Uncaught exception %s\n%r",
        (f"GET /ws?token={TOKEN} (127.0.0.1)", {"uri": f"/ws?token={TOKEN}"}),
        exc_info,
    )
    assert TokenMask().filter(record)
    shown = logging.Formatter().format(record)
    assert TOKEN not in shown
    assert f"GET /ws?token={MASK} (127.0.0.1)" in shown and "RuntimeError: while serving" in shown


async def test_no_log_line_of_a_real_server_shows_the_token(
    jp_serverapp: Any,
    jp_fetch: Any,
    jp_ws_fetch: Any,
    caplog: pytest.LogCaptureFixture,
    root_log: Kept,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = jp_serverapp.identity_provider.token
    in_url = {"token": token}
    # A message nested past Python's recursion limit: it crashed the socket, logging the
    # request with its URL; answered or not, nothing logged may show the token.
    ws = await jp_ws_fetch("mlops", "api", "ws", params=in_url)
    ws.write_message("[" * 100_000 + "]" * 100_000)
    await asyncio.wait_for(ws.read_message(), timeout=10)
    ws.close()
    # tornado logs an HTTP error that has a message with the full URL, unscrubbed.
    with pytest.raises(HTTPClientError):
        await jp_fetch("api", "contents", "no-such-notebook.ipynb", params=in_url)
    with pytest.raises(HTTPClientError):
        await jp_fetch("mlops", "api", "no-such-route", params=in_url)

    lines = [caplog.text, *root_log.lines]
    assert not [line for line in lines if token in line]
    assert any(f"token={MASK}" in line for line in root_log.lines)
    assert any(
        f"no-such-notebook.ipynb?token={MASK} (127.0.0.1): No such file" in line
        for line in root_log.lines
    ), root_log.lines
