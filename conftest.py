"""Test-suite wide fixtures: a real jupyter_server with the extension, a clean environment."""

from __future__ import annotations

import gc
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.testing.mlflow_server import mlflow_server_fixture

# The scan of everything our server sends for secrets runs over the whole suite; the real
# control plane (tests/plane.py) starts once per session, for whichever tests ask for it.
pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "tests.traffic_scan",
    "tests.response_contract",
    "tests.plane",
]

# A token long enough that finding it in a response or a log line cannot be chance.
JUPYTER_TOKEN = f"jupyter-token-{secrets.token_hex(12)}"

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
        "IdentityProvider": {"token": JUPYTER_TOKEN},
        "MLOpsConfig": mlops_config,
    }


def pytest_unconfigure(config: pytest.Config) -> None:
    """Every IPython shell a test made runs a full `gc.collect()` at interpreter exit; over a
    heap the size of the whole suite's that took minutes after the last test. Freezing the
    heap first keeps those collections from walking it again."""
    gc.freeze()
