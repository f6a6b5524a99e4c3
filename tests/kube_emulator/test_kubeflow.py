"""Kubeflow installed on the emulator: a profile's default-editor works through stored RBAC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kube.kubeflow import DEFAULT_PROFILE, install

from .conftest import client_for, wait_for


def test_profile_editor_gets_kubeflow_edit_through_its_role_binding(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    tokens = install(emulator, with_notebook=True)
    editor = client_for(emulator, tmp_path, tokens[DEFAULT_PROFILE], "kf-editor")
    custom = client.CustomObjectsApi(editor)
    notebooks = custom.list_namespaced_custom_object(
        "kubeflow.org", "v1", DEFAULT_PROFILE, "notebooks"
    )
    assert [n["metadata"]["name"] for n in notebooks["items"]] == ["my-notebook"]
    custom.create_namespaced_custom_object(
        "serving.kserve.io",
        "v1beta1",
        DEFAULT_PROFILE,
        "inferenceservices",
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "model"},
        },
    )
    with pytest.raises(ApiException) as error:
        client.CoreV1Api(editor).list_namespaced_pod("kubeflow")
    assert json.loads(error.value.body)["message"] == (
        f'pods is forbidden: User "system:serviceaccount:{DEFAULT_PROFILE}:default-editor" '
        'cannot list resource "pods" in API group "" in the namespace "kubeflow"'
    )
    rules = client.AuthorizationV1Api(editor).create_self_subject_rules_review(
        {"spec": {"namespace": DEFAULT_PROFILE}}
    )
    assert "notebooks" in {r for rule in rules.status.resource_rules for r in rule.resources}


def test_notebook_pod_runs_and_custom_resources_are_discoverable(
    emulator: KubeEmulator, api: client.ApiClient
) -> None:
    install(emulator, with_notebook=True)
    core = client.CoreV1Api(api)
    running = wait_for(
        core.list_namespaced_pod,
        DEFAULT_PROFILE,
        label_selector="notebook-name=my-notebook",
        until=lambda e: e["object"].status.phase == "Running",
    )["object"]
    assert running.metadata.name == "my-notebook-0"
    assert running.spec.service_account_name == "default-editor"
    discovered = dynamic.DynamicClient(api).resources
    for api_version, kind in (
        ("kubeflow.org/v1", "Notebook"),
        ("kubeflow.org/v1alpha1", "PodDefault"),
        ("serving.kserve.io/v1beta1", "InferenceService"),
        ("kubeflow.org/v1beta1", "Experiment"),
        ("argoproj.io/v1alpha1", "Workflow"),
        ("sparkoperator.k8s.io/v1beta2", "SparkApplication"),
    ):
        assert discovered.get(api_version=api_version, kind=kind).kind == kind
    profiles = discovered.get(api_version="kubeflow.org/v1", kind="Profile")
    assert profiles.namespaced is False
