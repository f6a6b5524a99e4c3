"""Fixtures: a fresh emulator per test, official clients pointed at it through a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules

PROFILE = "team-a"
EDITOR_TOKEN = "team-a-editor-token"
EDITOR_USER = f"system:serviceaccount:{PROFILE}:default-editor"


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    """A running emulator with a Kubeflow profile namespace and its editor's token."""
    with KubeEmulator(bookmark_interval=0.2, pod_start_delay=0.02) as emu:
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROFILE}})
        emu.add_token(EDITOR_TOKEN, EDITOR_USER, kubeflow_edit_rules(PROFILE))
        yield emu


def client_for(
    emu: KubeEmulator, tmp_path: Path, token: str | None = None, name: str = "kubeconfig"
) -> client.ApiClient:
    """An official ApiClient configured from a kubeconfig the emulator wrote."""
    path = emu.write_kubeconfig(tmp_path / name, token=token, namespace=PROFILE)
    return config.new_client_from_config(config_file=str(path))


@pytest.fixture
def api(emulator: KubeEmulator, tmp_path: Path) -> Iterator[client.ApiClient]:
    """An admin ApiClient."""
    api_client = client_for(emulator, tmp_path)
    yield api_client
    api_client.close()


@pytest.fixture
def editor_api(emulator: KubeEmulator, tmp_path: Path) -> Iterator[client.ApiClient]:
    """An ApiClient with the profile editor's token (kubeflow-edit in team-a only)."""
    api_client = client_for(emulator, tmp_path, EDITOR_TOKEN, "editor-kubeconfig")
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    """CoreV1Api as admin."""
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    """AppsV1Api as admin."""
    return client.AppsV1Api(api)


def pod(
    name: str, namespace: str = PROFILE, labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    """A minimal pod manifest."""
    containers = spec.pop("containers", [{"name": "main", "image": "python:3.11"}])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": containers, **spec},
    }


def deployment(
    name: str, replicas: int = 2, namespace: str = PROFILE, **container: Any
) -> dict[str, Any]:
    """A minimal deployment manifest."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx:1.25", **container}]},
            },
        },
    }


def wait_for(
    list_fn: Any, *args: Any, until: Any, timeout: int = 10, **kwargs: Any
) -> dict[str, Any]:
    """Watch (with the official watch.Watch) until an event satisfies `until`; return it."""
    from kubernetes import watch

    watcher = watch.Watch()
    for event in watcher.stream(list_fn, *args, timeout_seconds=timeout, **kwargs):
        if until(event):
            watcher.stop()
            return dict(event)
    raise AssertionError(f"no event satisfied the condition within {timeout}s")
