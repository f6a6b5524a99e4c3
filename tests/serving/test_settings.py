"""The serving settings: where the tracking server keeps artifacts, and the storage account."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import BadConfig
from jupyter_mlops.serving.registry import storage_uri


def test_the_artifact_store_comes_from_the_servers_own_variable(tmp_path: Path) -> None:
    env = {"MLFLOW_ARTIFACTS_DESTINATION": "s3://from-env/artifacts"}
    assert resolve(configure(), env=env, root=tmp_path).artifacts_destination == (
        "s3://from-env/artifacts"
    )
    explicit = configure(mlflow_artifacts_destination="gs://configured")
    assert resolve(explicit, env=env, root=tmp_path).artifacts_destination == "gs://configured"
    assert resolve(configure(), env={}, root=tmp_path).artifacts_destination is None


@pytest.mark.parametrize("value", ["/srv/artifacts", "mlflow-artifacts:/", "bucket"])
def test_an_artifact_store_must_be_a_store_uri(value: str) -> None:
    with pytest.raises(BadConfig, match=r"c\.MLOpsConfig\.mlflow_artifacts_destination"):
        configure(mlflow_artifacts_destination=value)


def test_the_service_account_must_be_a_name(tmp_path: Path) -> None:
    with pytest.raises(BadConfig, match=r"c\.MLOpsConfig\.serving_service_account"):
        configure(serving_service_account="Not A Name")
    settings = resolve(configure(serving_service_account="models"), env={}, root=tmp_path)
    assert settings.serving_service_account == "models"


@pytest.mark.parametrize(
    ("download", "store", "expected"),
    [
        (
            "mlflow-artifacts:/1/models/m-1/artifacts",
            "s3://b/a",
            "s3://b/a/1/models/m-1/artifacts/",
        ),
        ("mlflow-artifacts://host:5000/1/x", "s3://b/a/", "s3://b/a/1/x/"),
        ("http://mlflow/api/2.0/mlflow-artifacts/artifacts/1/x", "gs://g", "gs://g/1/x/"),
        ("s3://already/there", None, "s3://already/there/"),
        ("s3://already/there/", None, "s3://already/there/"),
        ("mlflow-artifacts:/1/x", None, None),
    ],
)
def test_download_addresses_become_storage_uris(
    download: str, store: str | None, expected: str | None
) -> None:
    assert storage_uri(download, store) == expected
