"""Pipelines and versions through kfp.Client: upload, list, versions, delete; recurring runs."""

import io
import json
import tarfile
import zipfile
from pathlib import Path

import kfp
import kfp_server_api
import pytest
import requests

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator


def test_upload_then_list_and_get_the_pipeline(client: kfp.Client, pipeline_package: Path) -> None:
    uploaded = client.upload_pipeline(str(pipeline_package), "training", description="nightly")

    listed = client.list_pipelines()
    fetched = client.get_pipeline(uploaded.pipeline_id)
    versions = client.list_pipeline_versions(uploaded.pipeline_id)

    assert [p.pipeline_id for p in listed.pipelines] == [uploaded.pipeline_id]
    assert fetched.display_name == "training" and fetched.description == "nightly"
    assert fetched.namespace is None  # shared pipelines have no namespace
    assert versions.total_size == 1
    version = client.get_pipeline_version(
        uploaded.pipeline_id, versions.pipeline_versions[0].pipeline_version_id
    )
    assert version.pipeline_spec["pipelineInfo"]["name"] == "three-step-training"


def test_upload_a_version_and_refuse_a_duplicate_name(
    client: kfp.Client, pipeline_package: Path
) -> None:
    pipeline = client.upload_pipeline(str(pipeline_package), "training")

    version = client.upload_pipeline_version(
        str(pipeline_package), "v2", pipeline_name="training", description="second"
    )
    with pytest.raises(kfp_server_api.ApiException) as duplicate:
        client.upload_pipeline_version(
            str(pipeline_package), "v2", pipeline_id=pipeline.pipeline_id
        )
    with pytest.raises(kfp_server_api.ApiException) as same_pipeline:
        client.upload_pipeline(str(pipeline_package), "training")

    assert version.pipeline_id == pipeline.pipeline_id and version.display_name == "v2"
    assert client.list_pipeline_versions(pipeline.pipeline_id).total_size == 2
    assert duplicate.value.status == 409 == same_pipeline.value.status


def test_a_namespaced_pipeline_is_listed_in_its_namespace_only(
    client: kfp.Client, pipeline_package: Path
) -> None:
    private = client.upload_pipeline(
        str(pipeline_package), "private-training", namespace=DEFAULT_NAMESPACE
    )

    shared = client.list_pipelines()
    mine = client.list_pipelines(namespace=DEFAULT_NAMESPACE)

    assert shared.pipelines is None
    assert [p.pipeline_id for p in mine.pipelines] == [private.pipeline_id]
    assert mine.pipelines[0].namespace == DEFAULT_NAMESPACE


def test_a_pipeline_with_versions_is_deleted_only_with_cascade(
    client: kfp.Client, pipeline_package: Path
) -> None:
    pipeline = client.upload_pipeline(str(pipeline_package), "training")

    with pytest.raises(kfp_server_api.ApiException) as refused:
        client.delete_pipeline(pipeline.pipeline_id)
    client._pipelines_api.pipeline_service_delete_pipeline(pipeline.pipeline_id, cascade=True)

    assert refused.value.status == 400
    assert json.loads(refused.value.body)["code"] == 9
    assert client.list_pipelines().pipelines is None


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "json"])
def test_archived_and_json_packages_upload(
    client: kfp.Client, pipeline_package: Path, tmp_path: Path, kind: str
) -> None:
    text = pipeline_package.read_bytes()
    path = tmp_path / f"package.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("pipeline.yaml", text)
    elif kind == "tar.gz":
        with tarfile.open(path, "w:gz") as archive:
            member = tarfile.TarInfo("pipeline.yaml")
            member.size = len(text)
            archive.addfile(member, io.BytesIO(text))
    else:
        version = client.upload_pipeline(str(pipeline_package), "source")
        spec = client.get_pipeline_version(
            version.pipeline_id,
            client.list_pipeline_versions(version.pipeline_id)
            .pipeline_versions[0]
            .pipeline_version_id,
        ).pipeline_spec
        path.write_text(json.dumps(spec))

    uploaded = client._upload_api.upload_pipeline(str(path), name=f"from-{kind}")

    assert uploaded.name == f"from-{kind}"


def test_an_upload_that_is_not_a_pipeline_is_a_400(
    kfp_emulator: KfpEmulator, token: str, tmp_path: Path
) -> None:
    response = requests.post(
        f"{kfp_emulator.url}/apis/v2beta1/pipelines/upload",
        files={"uploadfile": ("notes.yaml", b"just: a note\n")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["code"] == 3


def test_recurring_runs_list_empty_with_the_right_shape(client: kfp.Client) -> None:
    listed = client.list_recurring_runs(namespace=DEFAULT_NAMESPACE)

    assert isinstance(listed, kfp_server_api.V2beta1ListRecurringRunsResponse)
    assert listed.recurring_runs is None and listed.total_size is None
