"""The reusable fixtures other suites import give a profile namespace and an editor identity."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kube.fixtures import PROFILE, kube_editor_kubeconfig, kube_emulator

__all__ = ["kube_editor_kubeconfig", "kube_emulator"]


def test_editor_kubeconfig_reaches_the_profile_only(
    kube_emulator: KubeEmulator, kube_editor_kubeconfig: Path
) -> None:
    api = config.new_client_from_config(config_file=str(kube_editor_kubeconfig))
    core = client.CoreV1Api(api)
    assert core.list_namespaced_pod(PROFILE).items == []
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "nodes"}}}
    )
    assert review.status.allowed is False
    api.close()
