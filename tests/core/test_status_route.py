"""`GET /mlops/api/status` through a real jupyter_server with the extension loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

import jupyter_mlops


async def get_status(jp_fetch: Any, **params: str) -> dict[str, Any]:
    response = await jp_fetch("mlops", "api", "status", params=params)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = json.loads(response.body)
    return body


async def test_with_nothing_configured_the_status_says_how_to_connect(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    body = await get_status(jp_fetch)

    assert body["version"] == jupyter_mlops.__version__
    assert body["read_only"] is False
    assert body["identity"] == {"namespace": None, "source": "none", "in_pod": False}
    cluster = body["cluster"]
    assert (cluster["mode"], cluster["reachable"]) == ("none", False)
    assert "KUBECONFIG" in cluster["hint"]
    assert body["pipelines"]["mode"] == "local"
    assert body["pipelines"]["reachable"] is True
    assert body["pipelines"]["endpoint"] == str(jp_root_dir / ".mlops" / "pipelines")
    assert body["tracking"]["mode"] == "local"
    assert body["tracking"]["endpoint"].startswith(f"sqlite:///{jp_root_dir}")


async def test_the_status_route_requires_jupyter_authentication(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "status", headers={"Authorization": ""})
    assert refused.value.code == 403


async def test_fresh_asks_again_and_repeated_calls_are_served_from_the_cache(
    jp_fetch: Any,
) -> None:
    first = await get_status(jp_fetch)
    cached = await get_status(jp_fetch)
    fresh = await get_status(jp_fetch, fresh="1")
    assert cached["cluster"]["checked_at"] == first["cluster"]["checked_at"]
    assert fresh["cluster"]["mode"] == first["cluster"]["mode"]


def test_the_python_api_answers_what_the_route_answers(tmp_path: Path) -> None:
    from jupyter_mlops.config import configure

    report = jupyter_mlops.status(configure(workspace=str(tmp_path)))
    assert report.cluster.mode == "none"
    assert report.pipelines.endpoint == str(tmp_path / ".mlops" / "pipelines")
    assert "No cluster is configured" in str(report)
    shown = report._repr_html_()
    assert "<table>" in shown and "not reachable" in shown
    # No emoji: they render as empty boxes where no emoji font is installed.
    assert all(ord(char) < 0x2600 for char in shown), [c for c in shown if ord(c) >= 0x2600]
