"""Create, read, replace, patch and delete through the official client, with the real errors."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, deployment, pod


def _status(error: pytest.ExceptionInfo[ApiException]) -> dict[str, object]:
    body = json.loads(error.value.body)
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["code"] == error.value.status
    return dict(body)


def test_create_sets_identity_and_versions(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    )
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert created.metadata.namespace == PROFILE
    assert int(created.metadata.resource_version) > 0
    fetched = core.read_namespaced_config_map("settings", PROFILE)
    assert fetched.data == {"a": "1"}
    assert fetched.metadata.resource_version == created.metadata.resource_version


def test_resource_version_grows_on_every_write(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "a"}})
    second = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "b"}})
    third = core.patch_namespaced_config_map("a", PROFILE, {"data": {"x": "y"}})
    versions = [int(o.metadata.resource_version) for o in (first, second, third)]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    listed = core.list_namespaced_config_map(PROFILE)
    assert int(listed.metadata.resource_version) >= versions[-1]


def test_generate_name(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod(
        PROFILE, {"metadata": {"generateName": "worker-"}, "spec": pod("x")["spec"]}
    )
    assert created.metadata.name.startswith("worker-")
    assert len(created.metadata.name) == len("worker-") + 5


def test_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(PROFILE, pod("twice"))
    with pytest.raises(ApiException) as error:
        core.create_namespaced_pod(PROFILE, pod("twice"))
    body = _status(error)
    assert error.value.status == 409
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'pods "twice" already exists'
    assert body["details"] == {"name": "twice", "kind": "pods"}


def test_not_found_message_names_group(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod("ghost", PROFILE)
    assert _status(error)["message"] == 'pods "ghost" not found'
    with pytest.raises(ApiException) as error:
        apps.read_namespaced_deployment("ghost", PROFILE)
    body = _status(error)
    assert body["message"] == 'deployments.apps "ghost" not found'
    assert body["details"] == {"name": "ghost", "group": "apps", "kind": "deployments"}


def test_namespace_must_exist(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.create_namespaced_pod("nowhere", pod("p", namespace="nowhere"))
    assert error.value.status == 404
    assert _status(error)["message"] == 'namespaces "nowhere" not found'


def test_invalid_names_and_missing_fields(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    with pytest.raises(ApiException) as error:
        core.create_namespaced_pod(PROFILE, pod("Bad_Name"))
    body = _status(error)
    assert error.value.status == 422
    assert body["reason"] == "Invalid"
    assert str(body["message"]).startswith(
        'Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain"
    )
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(PROFILE, {"metadata": {}})
    assert _status(error)["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    with pytest.raises(ApiException) as error:
        apps.create_namespaced_deployment(PROFILE, deployment("neg", replicas=-1))
    assert _status(error)["message"] == (
        'Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    with pytest.raises(ApiException) as error:
        core.create_namespace({"metadata": {"name": "has.dots"}})
    assert "RFC 1123 label" in str(_status(error)["message"])


def test_replace_with_stale_resource_version_conflicts(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "cfg"}, "data": {"v": "1"}}
    )
    created.data = {"v": "2"}
    replaced = core.replace_namespaced_config_map("cfg", PROFILE, created)
    assert replaced.data == {"v": "2"}
    created.data = {"v": "3"}
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("cfg", PROFILE, created)
    body = _status(error)
    assert error.value.status == 409
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_generation_bumps_on_spec_changes_only(
    apps: client.AppsV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    created = apps.create_namespaced_deployment(PROFILE, deployment("web"))
    assert created.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment(
        "web", PROFILE, {"metadata": {"labels": {"team": "a"}}}
    )
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", PROFILE, {"spec": {"replicas": 5}})
    assert scaled.metadata.generation == 2


def test_main_endpoint_ignores_status_and_status_endpoint_ignores_spec(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    core.create_namespaced_pod(PROFILE, pod("p"))
    ignored = core.patch_namespaced_pod("p", PROFILE, {"status": {"phase": "Running"}})
    assert ignored.status.phase == "Pending"
    written = core.patch_namespaced_pod_status(
        "p", PROFILE, {"status": {"phase": "Succeeded"}, "metadata": {"labels": {"sneaky": "yes"}}}
    )
    assert written.status.phase == "Succeeded"
    assert "sneaky" not in (written.metadata.labels or {})


def test_merge_patch_and_json_patch(core: client.CoreV1Api, api: client.ApiClient) -> None:
    core.create_namespaced_pod(PROFILE, pod("p", labels={"a": "1", "b": "2"}))
    merged = core.patch_namespaced_pod(
        "p", PROFILE, {"metadata": {"labels": {"a": None, "c": "3"}}}
    )
    assert merged.metadata.labels == {"b": "2", "c": "3"}
    # JSON patch (the client's choice for a list body).
    json_patched = core.patch_namespaced_pod(
        "p",
        PROFILE,
        [
            {"op": "replace", "path": "/metadata/labels/b", "value": "20"},
            {"op": "add", "path": "/metadata/annotations", "value": {"n": "x"}},
        ],
    )
    assert json_patched.metadata.labels["b"] == "20"
    assert json_patched.metadata.annotations == {"n": "x"}
    # An explicit merge patch replaces lists whole.
    replaced = api.call_api(
        f"/api/v1/namespaces/{PROFILE}/pods/p",
        "PATCH",
        header_params={
            "Content-Type": "application/merge-patch+json",
            "Accept": "application/json",
        },
        body={"metadata": {"finalizers": ["x/y"]}},
        auth_settings=["BearerToken"],
        response_type="object",
        _return_http_data_only=True,
    )
    assert replaced["metadata"]["finalizers"] == ["x/y"]


def test_strategic_merge_merges_named_lists(apps: client.AppsV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    manifest = deployment("web", env=[{"name": "A", "value": "1"}], ports=[{"containerPort": 80}])
    manifest["spec"]["template"]["spec"]["containers"].append(
        {"name": "side", "image": "busybox:1"}
    )
    apps.create_namespaced_deployment(PROFILE, manifest)
    # A dict body is sent as a strategic merge patch by the official client.
    patched = apps.patch_namespaced_deployment(
        "web",
        PROFILE,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "nginx:1.27",
                                "env": [{"name": "B", "value": "2"}],
                                "ports": [{"containerPort": 8080}],
                            }
                        ]
                    }
                }
            }
        },
    )
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert containers["web"].image == "nginx:1.27"
    assert [e.name for e in containers["web"].env] == ["A", "B"]
    assert [p.container_port for p in containers["web"].ports] == [80, 8080]
    assert containers["side"].image == "busybox:1"
    removed = apps.patch_namespaced_deployment(
        "web",
        PROFILE,
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
    )
    assert [c.name for c in removed.spec.template.spec.containers] == ["web"]


def test_pod_env_cannot_change_after_creation(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(PROFILE, pod("p"))
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_pod(
            "p",
            PROFILE,
            {"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}},
        )
    assert error.value.status == 422
    assert "pod updates may not change fields" in json.loads(error.value.body)["message"]


def test_json_patch_test_failure_is_rejected(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "c"}, "data": {"k": "v"}})
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map(
            "c", PROFILE, [{"op": "test", "path": "/data/k", "value": "other"}]
        )
    assert error.value.status == 422


def test_finalizers_hold_deletion_until_removed(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}
    )
    core.delete_namespaced_config_map("held", PROFILE)
    still = core.read_namespaced_config_map("held", PROFILE)
    assert still.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", PROFILE, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("held", PROFILE)
    assert error.value.status == 404


def test_scale_subresource(apps: client.AppsV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", PROFILE)
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    scaled = apps.patch_namespaced_deployment_scale("web", PROFILE, {"spec": {"replicas": 4}})
    assert scaled.spec.replicas == 4
    assert apps.read_namespaced_deployment("web", PROFILE).spec.replicas == 4
    with pytest.raises(ApiException) as error:
        apps.patch_namespaced_deployment_scale("web", PROFILE, {"spec": {"replicas": -2}})
    assert error.value.status == 422
    assert "must be greater than or equal to 0" in error.value.body


def test_delete_collects_dependents_by_owner(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    emulator.controllers = False
    owner = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "child", "ownerReferences": [ref]}}
    )
    core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "orphan", "ownerReferences": [ref]}}
    )
    core.delete_namespaced_config_map("owner", PROFILE)
    names = [c.metadata.name for c in core.list_namespaced_config_map(PROFILE).items]
    assert "child" not in names
    assert "orphan" not in names


def test_orphan_propagation_keeps_dependents(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map(PROFILE, {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_config_map(
        PROFILE, {"metadata": {"name": "child", "ownerReferences": [ref]}}
    )
    core.delete_namespaced_config_map("owner", PROFILE, propagation_policy="Orphan")
    child = core.read_namespaced_config_map("child", PROFILE)
    assert child.metadata.owner_references is None


def test_deleting_a_namespace_removes_its_content(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "scratch"}})
    core.create_namespaced_config_map("scratch", {"metadata": {"name": "c"}})
    core.delete_namespace("scratch")
    with pytest.raises(ApiException) as error:
        core.read_namespace("scratch")
    assert error.value.status == 404
    assert (
        core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=scratch").items
        == []
    )


def test_secret_string_data_is_encoded(core: client.CoreV1Api) -> None:
    secret = core.create_namespaced_secret(
        PROFILE, {"metadata": {"name": "s"}, "stringData": {"token": "abc"}}
    )
    assert secret.data == {"token": "YWJj"}
    assert secret.type == "Opaque"


def test_pod_defaults_and_immutable_spec(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    created = core.create_namespaced_pod(PROFILE, pod("p"))
    assert created.spec.restart_policy == "Always"
    assert created.spec.service_account_name == "default"
    assert created.status.phase == "Pending"
    assert created.status.qos_class == "BestEffort"
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_pod("p", PROFILE, {"spec": {"restartPolicy": "Never"}})
    assert error.value.status == 422
    assert "pod updates may not change fields" in error.value.body
    retagged = core.patch_namespaced_pod(
        "p", PROFILE, {"spec": {"containers": [{"name": "main", "image": "python:3.12"}]}}
    )
    assert retagged.spec.containers[0].image == "python:3.12"


def test_helpers_share_the_write_path(emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    before = int(core.list_namespaced_pod(PROFILE).metadata.resource_version)
    emulator.controllers = False
    created = emulator.create({**pod("seeded"), "status": {"phase": "Running"}})
    assert int(created["metadata"]["resourceVersion"]) > before
    assert core.read_namespaced_pod("seeded", PROFILE).status.phase == "Running"
    applied = emulator.apply({**pod("seeded", labels={"v": "2"}), "status": {"phase": "Succeeded"}})
    assert int(applied["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert applied["metadata"]["uid"] == created["metadata"]["uid"]
    assert core.read_namespaced_pod("seeded", PROFILE).status.phase == "Succeeded"


def test_reapplying_a_manifest_keeps_what_the_server_filled(
    emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "seeded"}}
    emulator.apply(namespace)
    before = core.read_namespace("seeded")
    emulator.apply(namespace)
    after = core.read_namespace("seeded")
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.status.phase == "Active"
    assert after.metadata.labels == {"kubernetes.io/metadata.name": "seeded"}
    emulator.controllers = False
    emulator.apply(pod("placed", nodeName="emulated-node"))
    emulator.apply(pod("placed", labels={"v": "2"}))
    placed = core.read_namespaced_pod("placed", PROFILE)
    assert placed.spec.node_name == "emulated-node"
    assert placed.metadata.labels == {"v": "2"}
