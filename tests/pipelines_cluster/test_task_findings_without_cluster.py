"""The findings route of a notebook that reaches Kubeflow Pipelines but no cluster: it says how
to configure one, and never answers a server error."""

import json
from pathlib import Path
from typing import Any

import kfp
import pytest
from kfp import compiler
from tornado.httpclient import HTTPClientError

from jupyter_mlops.testing.kfp import KfpEmulator

from .conftest import NAMESPACE, TOKEN, training


@pytest.fixture
def pipelines_only() -> Any:
    """Kubeflow Pipelines alone, its tasks run without pods."""
    with KfpEmulator(token=TOKEN, step_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def mlops_config(pipelines_only: KfpEmulator, workspace: Path) -> dict[str, Any]:
    return {
        "kfp_endpoint": pipelines_only.url,
        "kfp_token": TOKEN,
        "namespace": NAMESPACE,
        "workspace": str(workspace),
    }


async def test_without_a_cluster_the_findings_route_says_how_to_configure_one(
    jp_fetch: Any, pipelines_only: KfpEmulator, tmp_path: Path
) -> None:
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    client = kfp.Client(host=pipelines_only.url, existing_token=TOKEN, namespace=NAMESPACE)
    run_id = client.create_run_from_pipeline_package(str(package), run_name="bad").run_id
    pipelines_only.fail_task(run_id, "prepare")
    assert pipelines_only.wait_for_run_state(run_id, timeout=60) == "FAILED"

    with pytest.raises(HTTPClientError) as error:
        await jp_fetch(
            "mlops",
            "api",
            "pipelines",
            "runs",
            run_id,
            "tasks",
            "prepare",
            "findings",
            params={"source": "cluster"},
        )
    assert error.value.code == 503 and error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}
    assert "No cluster is configured" in body["message"]
    assert "c.MLOpsConfig.kubeconfig" in body["message"]
