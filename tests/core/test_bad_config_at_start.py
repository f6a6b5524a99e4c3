"""A bad configuration value is reported clearly when the server starts."""

from __future__ import annotations

from typing import Any

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def mlops_config() -> dict[str, Any]:
    return {"cluster": "sometimes"}


async def test_the_log_names_the_setting_and_the_routes_stay_away(
    capfd: pytest.CaptureFixture[str], jp_fetch: Any
) -> None:
    # capfd comes first so that it captures the server's log while the server starts.
    log = capfd.readouterr().err
    assert (
        "jupyter_mlops: bad configuration: c.MLOpsConfig: The 'cluster' trait of a MLOpsConfig "
        "instance expected any of ['auto', 'in-cluster', 'kubeconfig', 'none'], not the str "
        "'sometimes'." in log
    ), log
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "status")
    assert refused.value.code == 404
