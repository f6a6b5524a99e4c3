"""The status route when every configured backend is down: reasons in words, no tracebacks."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

CONTEXT = {"cluster": "gone", "user": "me", "namespace": "ns"}


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def mlops_config(tmp_path: Path) -> dict[str, Any]:
    port = closed_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "gone",
                "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
                "contexts": [{"name": "gone", "context": CONTEXT}],
            }
        )
    )
    return {
        "kubeconfig": str(kubeconfig),
        "kfp_endpoint": f"http://127.0.0.1:{port}",
        "mlflow_tracking_uri": f"http://127.0.0.1:{port}",
        "read_only": True,
    }


async def test_unreachable_backends_are_reported_in_words(jp_fetch: Any) -> None:
    response = await jp_fetch("mlops", "api", "status")
    body = json.loads(response.body)

    assert body["read_only"] is True
    assert body["identity"]["namespace"] == "ns"
    expected = {"cluster": "kubeconfig", "pipelines": "cluster", "tracking": "server"}
    for section, mode in expected.items():
        backend = body[section]
        assert (backend["mode"], backend["reachable"]) == (mode, False), section
        assert "cannot connect" in backend["reason"], section
        assert "Traceback" not in backend["reason"]
