"""A bad configuration value is reported clearly when the server starts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def mlops_config() -> dict[str, Any]:
    return {"cluster": "sometimes"}


async def test_the_log_and_every_route_name_the_setting(
    capfd: pytest.CaptureFixture[str], jp_fetch: Any
) -> None:
    # capfd comes first so that it captures the server's log while the server starts.
    log = capfd.readouterr().err
    assert (
        "jupyter_mlops: bad configuration: c.MLOpsConfig: The 'cluster' trait of a MLOpsConfig "
        "instance expected any of ['auto', 'in-cluster', 'kubeconfig', 'none'], not the str "
        "'sometimes'." in log
    ), log
    for path in (("status",), ("kube", "pods")):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("mlops", "api", *path)
        assert refused.value.code == 503
        assert refused.value.response is not None
        body = json.loads(refused.value.response.body)
        assert body["reason"] == "Bad configuration"
        assert "'cluster' trait" in body["message"]
    with pytest.raises(HTTPClientError) as anonymous:
        await jp_fetch("mlops", "api", "status", headers={"Authorization": ""})
    assert anonymous.value.code == 403, "the reason is for signed-in users only"
