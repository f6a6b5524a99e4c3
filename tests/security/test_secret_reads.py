"""A Secret read through every surface shows its keys and never its values.

The HTTP and WebSocket answers are also scanned by the session's traffic scan; the magics and
the Python API are checked here, since their output never crosses the wire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.testing.secrets import KFP_TOKEN, MLFLOW_TOKEN, SECRET_DATA
from tests.plane import Namespace

from .conftest import FROM_FILE, LAST_APPLIED, Notebook, leaks, secret

KEYS = sorted(SECRET_DATA)


@pytest.fixture
def kfp_api() -> Iterator[KfpEmulator]:
    with KfpEmulator(token=KFP_TOKEN, step_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def mlops_config(
    team: Namespace,
    kfp_api: KfpEmulator,
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """A notebook reaching the cluster, Pipelines with a bearer token, MLflow with one too."""
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", MLFLOW_TOKEN)
    return {
        "kubeconfig": str(team.kubeconfig),
        "namespace": team.name,
        "kfp_endpoint": kfp_api.url,
        "kfp_token": KFP_TOKEN,
        "mlflow_tracking_uri": mlflow_server.url,
    }


async def get_text(jp_fetch: Any, *parts: str) -> str:
    response = await jp_fetch("mlops", "api", *parts)
    body: bytes = response.body
    return body.decode()


async def test_the_secrets_table_shows_keys_only(jp_fetch: Any) -> None:
    page = json.loads(await get_text(jp_fetch, "kube", "secrets"))
    rows = {row["name"]: row for row in page["rows"]}
    assert rows["db"]["keys"] == KEYS and rows["db-file"]["keys"] == list(FROM_FILE)
    assert leaks(json.dumps(page)) == []


@pytest.mark.parametrize("view", ["", "yaml", "describe"])
async def test_one_secret_shows_keys_only(jp_fetch: Any, view: str) -> None:
    for name, keys in (("db", KEYS), ("db-file", list(FROM_FILE))):
        shown = await get_text(jp_fetch, "kube", "secrets", name, *filter(None, [view]))
        assert all(key in shown for key in keys), shown
        if view:
            assert LAST_APPLIED not in shown
        else:
            # The object as JSON, as people are shown it: no managedFields, and no
            # last-applied annotation with the values in it.
            assert "managedFields" not in json.loads(shown)["metadata"]
            annotations = json.loads(shown)["metadata"].get("annotations") or {}
            assert LAST_APPLIED not in annotations
        assert leaks(shown) == []


async def test_the_live_table_of_secrets_shows_keys_only(jp_ws_fetch: Any, team: Namespace) -> None:
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message(json.dumps({"op": "subscribe", "id": "1", "kind": "secrets"}))
    frames = []
    changed = False
    while not changed:
        frame = await asyncio.wait_for(ws.read_message(), timeout=10)
        assert frame is not None
        frames.append(frame)
        messages = json.loads(frame)
        for message in messages if isinstance(messages, list) else [messages]:
            if message.get("type") == "snapshot":
                # A change travels the watch, not the first list.
                team.apply(secret("db", SECRET_DATA, labels={"app": "db", "rotated": "yes"}))
            changed = changed or message.get("type") == "MODIFIED"
    ws.close()
    shown = "\n".join(str(f) for f in frames)
    assert all(key in shown for key in KEYS)
    assert leaks(shown) == []


def test_the_magics_show_keys_only(notebook: Notebook) -> None:
    for line in (
        "get secrets",
        "get secret db -o yaml",
        "get secret db -o json",
    ):
        shown = notebook.shown(line)
        assert "password" in shown, line
        assert LAST_APPLIED not in shown, line
        assert leaks(shown) == [], line
    for name in ("db", "db-file"):
        shown = notebook.shown(f"describe secret {name}")
        assert LAST_APPLIED not in shown and leaks(shown) == [], name


def test_the_python_api_returns_keys_only(kubeconfig: Path, tmp_path: Path) -> None:
    cluster = Cluster(resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=tmp_path))
    try:
        one = cluster.get("secrets", "db")
        every = cluster.list("secrets").items
    finally:
        cluster.close()
    assert sorted(one["data"]) == KEYS
    assert sorted(i["metadata"]["name"] for i in every) == ["db", "db-file"]
    assert leaks(json.dumps(one)) == [] and leaks(json.dumps(every)) == []


async def test_the_status_and_listings_never_carry_the_tokens(jp_fetch: Any) -> None:
    for parts in (
        ("status",),
        ("pipelines", "runs"),
        ("pipelines", "experiments"),
        ("mlflow", "experiments"),
    ):
        shown = await get_text(jp_fetch, *parts)
        assert leaks(shown) == [], parts
