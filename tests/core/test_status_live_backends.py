"""The status route against live backends: a Kubeflow profile on the real control plane (its
default-editor's real token), the Pipelines API emulator, real MLflow."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.mlflow_server import MlflowServer
from tests.plane import ProfileNamespace


@pytest.fixture
def kfp(profile: ProfileNamespace) -> Iterator[KfpEmulator]:
    with KfpEmulator(port=0, token="pipelines-token", namespaces=(profile.name,)) as emulator:
        yield emulator


@pytest.fixture
def mlops_config(
    profile: ProfileNamespace, kfp: KfpEmulator, mlflow_server: MlflowServer, tmp_path: Path
) -> dict[str, Any]:
    token = tmp_path / "token"
    token.write_text("pipelines-token")
    return {
        "kubeconfig": str(profile.kubeconfig),
        "kfp_endpoint": kfp.url,
        "kfp_token_path": str(token),
        "mlflow_tracking_uri": mlflow_server.url,
    }


async def status(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("mlops", "api", "status", params={"fresh": "1"})
    body: dict[str, Any] = json.loads(response.body)
    return body


async def test_everything_answers(jp_fetch: Any, profile: ProfileNamespace) -> None:
    body = await status(jp_fetch)
    assert body["identity"] == {"namespace": profile.name, "source": "kubeconfig", "in_pod": False}
    for section in ("cluster", "pipelines", "tracking"):
        assert body[section]["reachable"] is True, body[section]
        assert body[section]["reason"] is None


async def test_an_expired_pipelines_token_is_explained(
    jp_fetch: Any, kfp: KfpEmulator, profile: ProfileNamespace
) -> None:
    kfp.expire_token("pipelines-token")
    # A bound ServiceAccount token dies with its ServiceAccount: the API server answers 401.
    profile.admin.kubectl("delete", "serviceaccount", "default-editor")
    # The API server keeps a token's successful authentication for 10 s (its token cache): the
    # server's first status check, made at its start, used it just before the deletion.
    deadline = time.monotonic() + 30
    body = await status(jp_fetch)
    while body["cluster"]["reachable"] and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        body = await status(jp_fetch)
    pipelines = body["pipelines"]
    assert pipelines["reachable"] is False
    assert pipelines["reason"].startswith("HTTP 401")
    assert "may have expired" in pipelines["reason"]
    assert body["cluster"]["reachable"] is False
    assert "401" in body["cluster"]["reason"]
    assert body["tracking"]["reachable"] is True
