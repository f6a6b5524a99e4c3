"""A read-only server: the serving routes show what is served and refuse to serve more; the
refusal comes from the Serving API, as it does for the magics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import (
    DESTINATION,
    Namespace,
    Registered,
    cluster_settings,
    s3_account,
    serving_for,
)


@pytest.fixture
def mlops_config(
    kserve: ControlPlane, namespace: Namespace, registered: Registered, tmp_path: Path
) -> dict[str, Any]:
    return {
        "workspace": str(tmp_path / "server"),
        "cluster": "kubeconfig",
        "kubeconfig": str(namespace.kubeconfig),
        "mlflow_tracking_uri": registered.url,
        "mlflow_artifacts_destination": DESTINATION,
        "read_only": True,
    }


async def test_read_only_lists_but_refuses_to_serve(
    jp_fetch: Any, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    with serving_for(cluster_settings(registered, namespace)) as writer:
        served = writer.serve(registered.name, "champion", service_account="models", wait=False)
    assert served is not None

    response = await jp_fetch("mlops", "api", "serving", "services")
    assert [s["name"] for s in json.loads(response.body)["services"]] == [served.name]

    for body in (
        {"model": registered.name, "alias": "champion", "name": "second"},
        {"model": registered.name, "alias": "champion", "mode": "local", "name": "second"},
    ):
        with pytest.raises(HTTPClientError) as error:
            await jp_fetch("mlops", "api", "serving", "serve", method="POST", body=json.dumps(body))
        assert error.value.code == 403 and error.value.response is not None
        answer = json.loads(error.value.response.body)
        assert answer["reason"] == "Read-only" and "read-only mode" in answer["message"]
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.split() == [
        f"inferenceservice.serving.kserve.io/{served.name}"
    ]
