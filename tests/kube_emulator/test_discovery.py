"""Discovery documents, the dynamic client, and CRDs defined at run time."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE


def _get(emu: KubeEmulator, path: str, token: str = "admin") -> requests.Response:
    return requests.get(emu.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_version_is_open_to_everyone(emulator: KubeEmulator) -> None:
    answer = requests.get(emulator.url + "/version", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["major"] == "1"
    assert answer.json()["gitVersion"].startswith("v1.")


def test_core_resource_list_has_subresources_and_short_names(emulator: KubeEmulator) -> None:
    resources = {r["name"]: r for r in _get(emulator, "/api/v1").json()["resources"]}
    assert resources["pods"]["kind"] == "Pod"
    assert resources["pods"]["namespaced"] is True
    assert "po" in resources["pods"]["shortNames"]
    assert set(resources["pods"]["verbs"]) >= {"get", "list", "watch", "create", "delete", "patch"}
    assert resources["pods/log"]["verbs"] == ["get"]
    assert "pods/status" in resources
    assert resources["nodes"]["namespaced"] is False
    assert resources["namespaces"]["namespaced"] is False


def test_group_discovery_and_scale_subresource(emulator: KubeEmulator) -> None:
    groups = {g["name"]: g for g in _get(emulator, "/apis").json()["groups"]}
    for group in (
        "apps",
        "batch",
        "storage.k8s.io",
        "rbac.authorization.k8s.io",
        "authorization.k8s.io",
        "apiextensions.k8s.io",
    ):
        assert group in groups
    assert groups["apps"]["preferredVersion"]["groupVersion"] == "apps/v1"
    apps = {r["name"]: r for r in _get(emulator, "/apis/apps/v1").json()["resources"]}
    scale = apps["deployments/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert _get(emulator, "/apis/apps").json()["kind"] == "APIGroup"
    assert _get(emulator, "/apis/nothing.example.com/v1").status_code == 404


def test_discovery_needs_credentials(emulator: KubeEmulator) -> None:
    answer = requests.get(emulator.url + "/api", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["reason"] == "Unauthorized"


def _crd(
    scope: str = "Namespaced", plural: str = "notebooks", kind: str = "Notebook"
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kubeflow.org"},
        "spec": {
            "group": "kubeflow.org",
            "scope": scope,
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "shortNames": [plural[:3]],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def test_crd_created_at_run_time_is_discovered_and_served(api: client.ApiClient) -> None:
    dyn = dynamic.DynamicClient(api)
    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="kubeflow.org/v1", kind="Notebook")
    client.ApiextensionsV1Api(api).create_custom_resource_definition(_crd())
    notebooks = dyn.resources.get(api_version="kubeflow.org/v1", kind="Notebook")
    assert notebooks.namespaced is True
    assert notebooks.name == "notebooks"
    created = notebooks.create(
        body={
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "lab"},
            "spec": {"x": 1},
        },
        namespace=PROFILE,
    )
    assert created.metadata.uid
    listed = notebooks.get(namespace=PROFILE)
    assert [item.metadata.name for item in listed.items] == ["lab"]
    assert listed.kind == "NotebookList"


def test_cluster_scoped_crd_and_custom_objects_api(api: client.ApiClient) -> None:
    client.ApiextensionsV1Api(api).create_custom_resource_definition(
        _crd("Cluster", "profiles", "Profile")
    )
    custom = client.CustomObjectsApi(api)
    body = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "metadata": {"name": "alice"},
        "spec": {"owner": "a"},
    }
    custom.create_cluster_custom_object("kubeflow.org", "v1", "profiles", body)
    fetched = custom.get_cluster_custom_object("kubeflow.org", "v1", "profiles", "alice")
    assert fetched["spec"] == {"owner": "a"}
    assert "namespace" not in fetched["metadata"]
    patched = custom.patch_cluster_custom_object(
        "kubeflow.org", "v1", "profiles", "alice", {"spec": {"owner": "b"}}
    )
    assert patched["spec"]["owner"] == "b"
    assert patched["metadata"]["generation"] == 2
    custom.delete_cluster_custom_object("kubeflow.org", "v1", "profiles", "alice")
    with pytest.raises(ApiException) as error:
        custom.get_cluster_custom_object("kubeflow.org", "v1", "profiles", "alice")
    assert error.value.status == 404


def test_custom_object_status_goes_through_the_status_subresource(api: client.ApiClient) -> None:
    client.ApiextensionsV1Api(api).create_custom_resource_definition(_crd())
    custom = client.CustomObjectsApi(api)
    body = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "lab"},
        "spec": {},
    }
    custom.create_namespaced_custom_object("kubeflow.org", "v1", PROFILE, "notebooks", body)
    ignored = custom.patch_namespaced_custom_object(
        "kubeflow.org", "v1", PROFILE, "notebooks", "lab", {"status": {"ready": True}}
    )
    assert "status" not in ignored
    written = custom.patch_namespaced_custom_object_status(
        "kubeflow.org", "v1", PROFILE, "notebooks", "lab", {"status": {"ready": True}}
    )
    assert written["status"] == {"ready": True}


def test_deleting_a_crd_stops_serving_it_and_removes_its_objects(
    api: client.ApiClient, emulator: KubeEmulator
) -> None:
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(_crd())
    custom = client.CustomObjectsApi(api)
    body = {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": {"name": "lab"}}
    custom.create_namespaced_custom_object("kubeflow.org", "v1", PROFILE, "notebooks", body)
    extensions.delete_custom_resource_definition("notebooks.kubeflow.org")
    answer = _get(emulator, f"/apis/kubeflow.org/v1/namespaces/{PROFILE}/notebooks")
    assert answer.status_code == 404
    assert answer.json()["message"] == "the server could not find the requested resource"
    assert _get(emulator, "/apis/kubeflow.org/v1").status_code == 404


def test_crd_name_must_match_its_names(api: client.ApiClient) -> None:
    bad = _crd()
    bad["metadata"]["name"] = "wrong.kubeflow.org"
    with pytest.raises(ApiException) as error:
        client.ApiextensionsV1Api(api).create_custom_resource_definition(bad)
    assert error.value.status == 422
    message = json.loads(error.value.body)["message"]
    assert message.startswith(
        'CustomResourceDefinition.apiextensions.k8s.io "wrong.kubeflow.org" is invalid'
    )
    assert 'must be spec.names.plural+"."+spec.group' in message


def test_crd_status_reports_established(api: client.ApiClient) -> None:
    created = client.ApiextensionsV1Api(api).create_custom_resource_definition(_crd())
    conditions = {c.type: c.status for c in created.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}


def test_openapi_v3_declares_server_side_field_validation(emulator: KubeEmulator) -> None:
    assert _get(emulator, "/openapi/v2").status_code == 404
    index = _get(emulator, "/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1"} <= set(index)
    document = _get(emulator, index["apis/apps/v1"]["serverRelativeURL"]).json()
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= patch["parameters"][0].items()


def test_custom_objects_are_served_at_every_version(api: client.ApiClient) -> None:
    crd = _crd()
    crd["spec"]["versions"].append(
        {**crd["spec"]["versions"][0], "name": "v1beta1", "storage": False}
    )
    client.ApiextensionsV1Api(api).create_custom_resource_definition(crd)
    custom = client.CustomObjectsApi(api)
    body = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Notebook", "metadata": {"name": "lab"}}
    created = custom.create_namespaced_custom_object(
        "kubeflow.org", "v1beta1", PROFILE, "notebooks", body
    )
    assert created["apiVersion"] == "kubeflow.org/v1beta1"
    as_v1 = custom.get_namespaced_custom_object("kubeflow.org", "v1", PROFILE, "notebooks", "lab")
    assert as_v1["apiVersion"] == "kubeflow.org/v1"
    listed = custom.list_namespaced_custom_object("kubeflow.org", "v1beta1", PROFILE, "notebooks")
    assert listed["apiVersion"] == "kubeflow.org/v1beta1"
    assert [item["apiVersion"] for item in listed["items"]] == ["kubeflow.org/v1beta1"]
