"""The reusable fixtures other suites import give a Kubeflow-like cluster and an editor identity."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kube.fixtures import (
    DEFAULT_PROFILE,
    kube_editor_kubeconfig,
    kube_editor_token,
    kube_emulator,
)

__all__ = ["kube_editor_kubeconfig", "kube_editor_token", "kube_emulator"]


def test_editor_kubeconfig_reaches_the_profile(
    kube_emulator: KubeEmulator, kube_editor_kubeconfig: Path
) -> None:
    api = config.new_client_from_config(config_file=str(kube_editor_kubeconfig))
    core = client.CoreV1Api(api)
    accounts = {
        sa.metadata.name for sa in core.list_namespaced_service_account(DEFAULT_PROFILE).items
    }
    assert {"default-editor", "default-viewer"} <= accounts
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "nodes"}}}
    )
    assert review.status.allowed is False
    api.close()
