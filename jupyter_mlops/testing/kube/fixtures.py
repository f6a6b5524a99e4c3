"""Pytest fixtures over the Kubernetes API emulator, for any test suite to import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .emulator import KubeEmulator
from .kubeflow import DEFAULT_PROFILE, install


@pytest.fixture
def kube_emulator() -> Iterator[KubeEmulator]:
    """A running emulator with Kubeflow installed: profile `kubeflow-user-example-com`, its
    default-editor token (`kube_editor_token`) and a running notebook pod `my-notebook-0`."""
    with KubeEmulator(pod_start_delay=0.02, bookmark_interval=0.5) as emulator:
        install(emulator, (DEFAULT_PROFILE,), with_notebook=True)
        yield emulator


@pytest.fixture
def kube_editor_token(kube_emulator: KubeEmulator) -> str:
    """The token of the profile's default-editor service account (kubeflow-edit, own namespace)."""
    return f"{DEFAULT_PROFILE}-editor-token"


@pytest.fixture
def kube_editor_kubeconfig(
    kube_emulator: KubeEmulator, kube_editor_token: str, tmp_path: Path
) -> Path:
    """A kubeconfig for the profile's default-editor, namespace set to the profile."""
    return kube_emulator.write_kubeconfig(
        tmp_path / "kubeconfig-editor", token=kube_editor_token, namespace=DEFAULT_PROFILE
    )


__all__ = ["DEFAULT_PROFILE", "kube_editor_kubeconfig", "kube_editor_token", "kube_emulator"]
