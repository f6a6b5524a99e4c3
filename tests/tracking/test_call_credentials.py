"""Each MLflow call sends its own credentials, workspace, deadline and no retry, and none of it
goes through `os.environ`: a loopback recorder in front of nothing shows what arrived, and the
process environment each request was sent under."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.errors import Unavailable
from jupyter_mlops.tracking import Tracking
from jupyter_mlops.tracking.client import SERVER_INFO, WORKSPACE_HEADER
from tests.lineage.notebooks import process_environment
from tests.tracking.conftest import settings_for

SEARCH = "/api/2.0/mlflow/experiments/search"


@dataclass
class Seen:
    """One request as it arrived, and the environment of this process while it was open."""

    path: str
    authorization: str | None
    workspace: str | None
    environment: dict[str, str]


@dataclass
class Recorder:
    """A stand-in MLflow server: every search waits until `together` searches are open at
    once (so the calls are seen to overlap), then answers `status` after `delay` seconds."""

    together: int = 1
    status: int = 200
    delay: float = 0.0
    workspaces: bool = True
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.together, timeout=20)
        self.lock = threading.Lock()


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = self.path.split("?")[0]
            with recorder.lock:
                recorder.seen.append(
                    Seen(
                        path,
                        self.headers.get("Authorization"),
                        self.headers.get(WORKSPACE_HEADER),
                        process_environment(),
                    )
                )
            status, body = 200, b"{}"
            if path == SERVER_INFO:
                body = json.dumps({"workspaces_enabled": recorder.workspaces}).encode()
            if path == SEARCH:
                try:
                    recorder.barrier.wait()
                except threading.BrokenBarrierError:
                    status = 504  # the other call never came while this one was open
                time.sleep(recorder.delay)
                status = recorder.status if status == 200 else status
                if status != 200:
                    body = json.dumps({"error_code": "TEMPORARILY_UNAVAILABLE"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the caller may have given up waiting
                self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(recorder: Recorder) -> Recorder:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
        return recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_two_calls_at_once_each_send_their_own_credentials_and_workspace(
    serve: Any, tmp_path: Path
) -> None:
    recorder = serve(Recorder(together=2))
    before = process_environment()
    alpha = Tracking(
        settings_for(
            recorder.url, tmp_path, MLFLOW_TRACKING_TOKEN="alpha-token", MLFLOW_WORKSPACE="ws-a"
        )
    )
    beta = Tracking(
        settings_for(
            recorder.url,
            tmp_path,
            MLFLOW_TRACKING_USERNAME="beta",
            MLFLOW_TRACKING_PASSWORD="beta-secret",
            MLFLOW_WORKSPACE="ws-b",
        )
    )
    failures: list[BaseException] = []

    def search(tracking: Tracking) -> None:
        try:
            tracking.experiments()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=search, args=(t,)) for t in (alpha, beta)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    searches = {(s.authorization, s.workspace) for s in recorder.seen if s.path == SEARCH}
    basic = "Basic " + base64.b64encode(b"beta:beta-secret").decode()
    assert searches == {("Bearer alpha-token", "ws-a"), (basic, "ws-b")}
    # Not around the calls, not while they ran, not after: the environment never changed.
    assert all(s.environment == before for s in recorder.seen)
    assert process_environment() == before


def test_a_call_without_credentials_sends_none_even_if_the_process_has_some(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = serve(Recorder())
    # The process's own token is MLflow's default; the settings given name none.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "the-process-token")
    tracking = Tracking(settings_for(recorder.url, tmp_path))
    tracking.experiments()
    [search] = [s for s in recorder.seen if s.path == SEARCH]
    assert (search.authorization, search.workspace) == (None, None)


def test_a_failing_call_is_sent_once(serve: Any, tmp_path: Path) -> None:
    recorder = serve(Recorder(status=503))
    tracking = Tracking(settings_for(recorder.url, tmp_path, MLFLOW_TRACKING_TOKEN="t"))
    with pytest.raises(Unavailable):
        tracking.experiments()
    # MLflow by itself retries a 503 several times; the sidebar's calls fail at once.
    assert [s.path for s in recorder.seen if s.path == SEARCH] == [SEARCH]


def test_a_slow_answer_ends_the_call_at_its_deadline(serve: Any, tmp_path: Path) -> None:
    recorder = serve(Recorder(delay=6.0))
    tracking = Tracking(settings_for(recorder.url, tmp_path), timeout=0.5)
    began = time.monotonic()
    with pytest.raises(Unavailable, match=r"still computing after 0\.5 s"):
        tracking.experiments()
    # MLflow's own deadline is 120 s; the call's own 0.5 s applied, without any variable.
    assert time.monotonic() - began < 5.0
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ


def test_a_workspace_on_a_server_without_workspaces_is_refused_before_any_call(
    serve: Any, tmp_path: Path
) -> None:
    recorder = serve(Recorder(workspaces=False))
    tracking = Tracking(settings_for(recorder.url, tmp_path, MLFLOW_WORKSPACE="ws-a"))
    # The server would ignore the workspace and answer from its default one.
    with pytest.raises(Unavailable, match="has no workspaces"):
        tracking.experiments()
    assert [s.path for s in recorder.seen] == [SERVER_INFO]
