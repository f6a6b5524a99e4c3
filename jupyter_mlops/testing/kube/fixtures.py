"""Pytest fixtures over the Kubernetes API emulator, for any test suite to import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .emulator import KubeEmulator
from .rbac import kubeflow_edit_rules

PROFILE = "kubeflow-user-example-com"
EDITOR_TOKEN = f"{PROFILE}-editor-token"
EDITOR_USER = f"system:serviceaccount:{PROFILE}:default-editor"


@pytest.fixture
def kube_emulator() -> Iterator[KubeEmulator]:
    """A running emulator with the profile namespace `kubeflow-user-example-com` and the
    token `EDITOR_TOKEN` of its default-editor (kubeflow-edit rights there only)."""
    with KubeEmulator(pod_start_delay=0.02, bookmark_interval=0.5) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROFILE}})
        emulator.add_token(EDITOR_TOKEN, EDITOR_USER, kubeflow_edit_rules(PROFILE))
        yield emulator


@pytest.fixture
def kube_editor_kubeconfig(kube_emulator: KubeEmulator, tmp_path: Path) -> Path:
    """A kubeconfig for the profile's default-editor, namespace set to the profile."""
    return kube_emulator.write_kubeconfig(
        tmp_path / "kubeconfig-editor", token=EDITOR_TOKEN, namespace=PROFILE
    )


__all__ = ["EDITOR_TOKEN", "EDITOR_USER", "PROFILE", "kube_editor_kubeconfig", "kube_emulator"]
