"""Test-suite wide fixtures: a real jupyter_server with the extension, a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.testing.mlflow_server import mlflow_server_fixture

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# One real MLflow tracking server for the whole session: it takes seconds to start.
mlflow_server = mlflow_server_fixture(scope="session")

# Variables that point the extension at a cluster, a Pipelines API or an MLflow server.
DISCOVERY_VARIABLES = (
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "KUBECONFIG",
    "KF_PIPELINES_ENDPOINT",
    "KF_PIPELINES_SA_TOKEN_PATH",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "NB_PREFIX",
)


@pytest.fixture(autouse=True)
def _no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with nothing configured, whatever the machine's environment says."""
    for name in DISCOVERY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def mlops_config() -> dict[str, Any]:
    """`c.MLOpsConfig` values for the server under test; tests override this fixture."""
    return {}


@pytest.fixture
def jp_server_config(mlops_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}},
        "MLOpsConfig": mlops_config,
    }
