"""The status route against live backends: the emulated cluster and Pipelines API, real MLflow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.testing.kfp import KfpEmulator
from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules
from jupyter_mlops.testing.mlflow_server import MlflowServer

NAMESPACE = "kubeflow-user-example-com"


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0, controllers=False) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        emulator.add_token(
            "editor",
            f"system:serviceaccount:{NAMESPACE}:default-editor",
            kubeflow_edit_rules(NAMESPACE),
        )
        yield emulator


@pytest.fixture
def kfp() -> Iterator[KfpEmulator]:
    with KfpEmulator(port=0, token="pipelines-token", namespaces=(NAMESPACE,)) as emulator:
        yield emulator


@pytest.fixture
def mlops_config(
    kube: KubeEmulator, kfp: KfpEmulator, mlflow_server: MlflowServer, tmp_path: Path
) -> dict[str, Any]:
    token = tmp_path / "token"
    token.write_text("pipelines-token")
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", token="editor", namespace=NAMESPACE)
    return {
        "kubeconfig": str(kubeconfig),
        "kfp_endpoint": kfp.url,
        "kfp_token_path": str(token),
        "mlflow_tracking_uri": mlflow_server.url,
    }


async def status(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("mlops", "api", "status", params={"fresh": "1"})
    body: dict[str, Any] = json.loads(response.body)
    return body


async def test_everything_answers(jp_fetch: Any) -> None:
    body = await status(jp_fetch)
    assert body["identity"] == {"namespace": NAMESPACE, "source": "kubeconfig", "in_pod": False}
    for section in ("cluster", "pipelines", "tracking"):
        assert body[section]["reachable"] is True, body[section]
        assert body[section]["reason"] is None


async def test_an_expired_pipelines_token_is_explained(
    jp_fetch: Any, kfp: KfpEmulator, kube: KubeEmulator
) -> None:
    kfp.expire_token("pipelines-token")
    kube.remove_token("editor")
    body = await status(jp_fetch)
    pipelines = body["pipelines"]
    assert pipelines["reachable"] is False
    assert pipelines["reason"].startswith("HTTP 401")
    assert "may have expired" in pipelines["reason"]
    assert body["cluster"]["reachable"] is False
    assert "401" in body["cluster"]["reason"]
    assert body["tracking"]["reachable"] is True
