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


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"namespace": "Not_A_Label"}, "c.MLOpsConfig.namespace = 'Not_A_Label'"),
        ({"kfp_endpoint": "ml-pipeline:8888"}, "c.MLOpsConfig.kfp_endpoint"),
        ({"max_replicas": -1}, "c.MLOpsConfig.max_replicas = -1"),
        ({"backend_timeout": 0.0}, "c.MLOpsConfig.backend_timeout = 0.0"),
        ({"cluster": "kubeconfig", "kubeconfig": "/nowhere/config"}, "c.MLOpsConfig.kubeconfig"),
    ],
)
def test_every_refused_value_names_its_setting(values: dict[str, Any], setting: str) -> None:
    from jupyter_mlops.config import configure, resolve
    from jupyter_mlops.errors import BadConfig

    with pytest.raises(BadConfig) as refused:
        resolve(configure(**values), env={})
    assert setting in refused.value.message, refused.value.message
