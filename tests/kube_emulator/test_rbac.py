"""Authentication and RBAC: 401, 403 with the real wording, access and rules reviews."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator, Rule

from .conftest import EDITOR_USER, PROFILE, client_for, pod


def _body(error: pytest.ExceptionInfo[ApiException]) -> dict[str, object]:
    return dict(json.loads(error.value.body))


def test_unknown_token_is_401(emulator: KubeEmulator, tmp_path: Path) -> None:
    core = client.CoreV1Api(client_for(emulator, tmp_path, token="not-a-token"))
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod(PROFILE)
    assert error.value.status == 401
    assert _body(error) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_removed_token_stops_working(emulator: KubeEmulator, tmp_path: Path) -> None:
    emulator.add_token("short-lived", "someone", [Rule(["list"], ["pods"], namespaces=[PROFILE])])
    core = client.CoreV1Api(client_for(emulator, tmp_path, token="short-lived"))
    assert core.list_namespaced_pod(PROFILE).items == []
    emulator.remove_token("short-lived")
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod(PROFILE)
    assert error.value.status == 401


def test_editor_works_in_its_profile(editor_api: client.ApiClient) -> None:
    core = client.CoreV1Api(editor_api)
    core.create_namespaced_pod(PROFILE, pod("mine"))
    assert [p.metadata.name for p in core.list_namespaced_pod(PROFILE).items] == ["mine"]
    assert core.read_namespace(PROFILE).metadata.name == PROFILE


def test_editor_is_forbidden_elsewhere_with_the_real_message(editor_api: client.ApiClient) -> None:
    core = client.CoreV1Api(editor_api)
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("kube-system")
    body = _body(error)
    assert error.value.status == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        f'pods is forbidden: User "{EDITOR_USER}" cannot list resource "pods" in API group "" '
        'in the namespace "kube-system"'
    )
    assert body["details"] == {"kind": "pods"}


def test_editor_cannot_list_cluster_scoped_things(editor_api: client.ApiClient) -> None:
    core = client.CoreV1Api(editor_api)
    with pytest.raises(ApiException) as error:
        core.list_node()
    assert _body(error)["message"] == (
        f'nodes is forbidden: User "{EDITOR_USER}" cannot list resource "nodes" '
        'in API group "" at the cluster scope'
    )
    with pytest.raises(ApiException) as error:
        core.list_namespace()
    assert error.value.status == 403
    with pytest.raises(ApiException) as error:
        client.StorageV1Api(editor_api).list_storage_class()
    assert _body(error)["message"] == (
        f'storageclasses.storage.k8s.io is forbidden: User "{EDITOR_USER}" cannot list resource '
        '"storageclasses" in API group "storage.k8s.io" at the cluster scope'
    )
    with pytest.raises(ApiException) as error:
        core.list_pod_for_all_namespaces()
    assert "at the cluster scope" in str(_body(error)["message"])


def test_forbidden_names_the_object_and_subresource(emulator: KubeEmulator, tmp_path: Path) -> None:
    emulator.add_token(
        "pods-only", "viewer", [Rule(["get", "list"], ["pods"], namespaces=[PROFILE])]
    )
    emulator.controllers = False
    emulator.create({**pod("p"), "status": {"phase": "Running"}})
    core = client.CoreV1Api(client_for(emulator, tmp_path, token="pods-only"))
    assert core.read_namespaced_pod("p", PROFILE).metadata.name == "p"
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log("p", PROFILE)
    body = _body(error)
    assert body["message"] == (
        'pods "p" is forbidden: User "viewer" cannot get resource "pods/log" in API group "" '
        f'in the namespace "{PROFILE}"'
    )
    assert body["details"] == {"name": "p", "kind": "pods"}
    with pytest.raises(ApiException) as error:
        client.AppsV1Api(core.api_client).read_namespaced_deployment("d", PROFILE)
    assert _body(error)["message"] == (
        'deployments.apps "d" is forbidden: User "viewer" cannot get resource "deployments" '
        f'in API group "apps" in the namespace "{PROFILE}"'
    )


def test_self_subject_access_review(editor_api: client.ApiClient) -> None:
    reviews = client.AuthorizationV1Api(editor_api)

    def allowed(
        verb: str, resource: str, namespace: str = PROFILE, group: str = "", sub: str = ""
    ) -> bool:
        review = reviews.create_self_subject_access_review(
            {
                "spec": {
                    "resourceAttributes": {
                        "verb": verb,
                        "resource": resource,
                        "namespace": namespace,
                        "group": group,
                        "subresource": sub,
                    }
                }
            }
        )
        return bool(review.status.allowed)

    assert allowed("list", "pods")
    assert allowed("get", "pods", sub="log")
    assert allowed("create", "deployments", group="apps")
    assert allowed("create", "notebooks", group="kubeflow.org")
    assert not allowed("list", "pods", namespace="kube-system")
    assert not allowed("list", "nodes", namespace="")
    assert not allowed("create", "roles", group="rbac.authorization.k8s.io")


def test_self_subject_rules_review_lists_profile_rules(editor_api: client.ApiClient) -> None:
    reviews = client.AuthorizationV1Api(editor_api)
    inside = reviews.create_self_subject_rules_review({"spec": {"namespace": PROFILE}})
    resources = {r for rule in inside.status.resource_rules for r in rule.resources}
    assert {"pods", "pods/log", "deployments", "notebooks"} <= resources
    assert inside.status.incomplete is False
    outside = reviews.create_self_subject_rules_review({"spec": {"namespace": "kube-system"}})
    outside_resources = {r for rule in outside.status.resource_rules for r in rule.resources}
    assert "pods" not in outside_resources
    assert "selfsubjectaccessreviews" in outside_resources


def test_stored_role_bindings_grant_rights(
    emulator: KubeEmulator, tmp_path: Path, api: client.ApiClient
) -> None:
    emulator.add_token("bob-token", "bob", [])
    bob = client.CoreV1Api(client_for(emulator, tmp_path, token="bob-token", name="bob"))
    with pytest.raises(ApiException) as error:
        bob.list_namespaced_config_map(PROFILE)
    assert error.value.status == 403
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(
        PROFILE,
        {
            "metadata": {"name": "cm-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        PROFILE,
        {
            "metadata": {"name": "bob-reads"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "cm-reader",
            },
            "subjects": [{"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"}],
        },
    )
    assert bob.list_namespaced_config_map(PROFILE).items == []
    with pytest.raises(ApiException) as error:
        bob.list_namespaced_config_map("default")
    assert error.value.status == 403


def test_service_account_subjects_and_cluster_roles(
    emulator: KubeEmulator, tmp_path: Path, api: client.ApiClient
) -> None:
    emulator.add_token("sa-token", "system:serviceaccount:team-a:runner", [])
    runner = client.CoreV1Api(client_for(emulator, tmp_path, token="sa-token", name="runner"))
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_cluster_role(
        {
            "metadata": {"name": "node-reader"},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}],
        }
    )
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": "runner-nodes"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "node-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "team-a"}],
        }
    )
    assert [n.metadata.name for n in runner.list_node().items] == ["emulated-node"]


def test_anonymous_identity_for_credential_less_clients(emulator: KubeEmulator) -> None:
    configuration = client.Configuration()
    configuration.host = emulator.url
    core = client.CoreV1Api(client.ApiClient(configuration))
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod(PROFILE)
    assert error.value.status == 401
    emulator.anonymous = "team-a-editor-token"
    assert core.list_namespaced_pod(PROFILE).items == []
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("default")
    assert error.value.status == 403
