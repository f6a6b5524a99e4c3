"""A backend that accepts connections and never answers stalls only itself, and says so."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.mlflow_server import free_port
from jupyter_mlops.testing.silent import FullListener, SilentListener

NAMESPACE = "team"
#: The read deadline of these tests, in seconds.
DEADLINE = 1.0
#: How many calls to the hung backend are in flight at once: more than any pool has workers.
HUNG = 10
# A list route of each backend, with the query that makes it reach the backend.
LIST_ROUTES = {
    "pipelines": [(("pipelines", "runs"), {"source": "cluster"}), (("pipelines", "pipelines"), {})],
    "tracking": [
        (("mlflow", "experiments"), {}),
        (("mlflow", "models"), {}),
        (("mlflow", "experiments", "0", "runs"), {}),
    ],
}
NO_ANSWER = {
    "pipelines": f"connected but sent no answer within {DEADLINE:g} s",
    "tracking": f"is still computing after {DEADLINE:g} s",
}


@pytest.fixture(params=["pipelines", "tracking"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend is pointed at the faulty address: Kubeflow Pipelines or MLflow."""
    name: str = request.param
    return name


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        emulator.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "trainer", "namespace": NAMESPACE},
                "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
            }
        )
        yield emulator


@pytest.fixture
def silent() -> Iterator[SilentListener]:
    with SilentListener() as listener:
        yield listener


@pytest.fixture
def target(silent: SilentListener) -> str:
    """The address the backend is configured with."""
    return silent.url


@pytest.fixture
def mlops_config(backend: str, target: str, kube: KubeEmulator, tmp_path: Path) -> dict[str, Any]:
    config: dict[str, Any] = {
        "kubeconfig": str(kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)),
        "namespace": NAMESPACE,
        "backend_timeout": DEADLINE,
    }
    if backend == "pipelines":
        config.update(kfp_endpoint=target, kfp_token="pipelines-token")
    else:
        config["mlflow_tracking_uri"] = target
    return config


async def ask(jp_fetch: Any, backend: str, **extra: str) -> tuple[int, dict[str, Any]]:
    """The status and body of the backend's first list route."""
    parts, params = LIST_ROUTES[backend][0]
    return await fetch(jp_fetch, parts, {**params, **extra})


async def fetch(
    jp_fetch: Any, parts: tuple[str, ...], params: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    try:
        response = await jp_fetch("mlops", "api", *parts, params=params)
    except HTTPClientError as error:
        assert error.response is not None
        return error.code, json.loads(error.response.body)
    return response.code, json.loads(response.body)


async def test_a_silent_backend_is_503_at_the_read_deadline_and_never_retried(
    jp_fetch: Any, backend: str, silent: SilentListener
) -> None:
    code, body = await ask(jp_fetch, backend)  # the first call also loads the client library
    assert (code, body["reason"]) == (503, "Unavailable")
    assert NO_ANSWER[backend] in body["message"] and silent.url in body["message"]
    assert "cannot reach" not in body["message"]
    assert silent.connections == 1

    started = time.monotonic()
    code, body = await ask(jp_fetch, backend)
    took = time.monotonic() - started
    assert code == 503 and NO_ANSWER[backend] in body["message"]
    assert silent.connections == 2
    # It waited for the deadline, once: a retry would take two deadlines or more.
    assert 0.9 <= took / DEADLINE < 2


async def test_the_cluster_answers_while_a_hung_backend_holds_many_calls(
    jp_fetch: Any, http_server_client: Any, backend: str, silent: SilentListener
) -> None:
    # The test's HTTP client queues requests beyond 10; the server must see them all at once.
    http_server_client.max_clients = HUNG + 2
    await jp_fetch("mlops", "api", "kube", "pods")  # the sidebar showed the pods already
    finished: list[float] = []

    async def hung_call() -> None:
        code, _ = await ask(jp_fetch, backend)
        finished.append(time.monotonic())
        assert code == 503

    calls = [asyncio.ensure_future(hung_call()) for _ in range(HUNG)]
    while silent.connections < 4:  # calls are stuck on the wire
        await asyncio.sleep(0.01)
    response = await jp_fetch("mlops", "api", "kube", "pods")
    answered = time.monotonic()
    await asyncio.gather(*calls)
    assert [row["name"] for row in json.loads(response.body)["rows"]] == ["trainer"]
    assert len(finished) == HUNG
    assert answered < min(finished), "the cluster route waited for the hung backend"


class TestRefused:
    """Nothing listens on the port: the connection itself fails, at once."""

    @pytest.fixture
    def target(self) -> str:
        return f"http://127.0.0.1:{free_port()}"

    async def test_it_says_it_cannot_reach_the_backend(self, jp_fetch: Any, backend: str) -> None:
        code, body = await ask(jp_fetch, backend)
        assert code == 503
        assert "cannot reach" in body["message"] and "Connection refused" in body["message"]
        assert NO_ANSWER[backend] not in body["message"]


class TestConnectDeadline:
    """The port's accept queue is full, as behind a firewall that drops packets."""

    @pytest.fixture
    def target(self) -> Iterator[str]:
        with FullListener() as listener:
            yield listener.url

    async def test_it_says_it_could_not_connect_in_time(self, jp_fetch: Any, backend: str) -> None:
        code, body = await ask(jp_fetch, backend)
        assert code == 503
        assert "cannot reach" in body["message"]
        assert "could not connect within 2 s" in body["message"]
        assert NO_ANSWER[backend] not in body["message"]


@pytest.mark.parametrize("token", ["caf\u00e9", "a" * 4097, "line\nbreak"])
async def test_a_page_token_no_server_gave_out_is_400_before_any_request(
    jp_fetch: Any, backend: str, silent: SilentListener, token: str
) -> None:
    for parts, params in LIST_ROUTES[backend]:
        code, body = await fetch(jp_fetch, parts, {**params, "page_token": token})
        assert code == 400, parts
        assert body["message"] == "the page token is not one this server gave out"
    assert silent.connections == 0
