"""`%k8s delete pod` and `%k8s scale deploy`, and the read-only setting that refuses both."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from .conftest import NAMESPACE, Notebook, running_pod


def deployment(name: str, replicas: int) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }


def test_delete_pod_removes_it_and_says_so(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("stuck-0"))

    said = notebook.printed("delete pod stuck-0")

    assert said == f'pod "stuck-0" deleted from namespace {NAMESPACE}\n'
    assert notebook.kube.get("v1", "Pod", "stuck-0", NAMESPACE) is None


def test_read_only_refuses_delete_and_keeps_the_pod(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("stuck-0"))
    notebook.config("read_only = True")

    with pytest.raises(UsageError, match=r"read-only mode: deleting pods is turned off"):
        notebook.k8s("delete pod stuck-0")

    assert notebook.kube.get("v1", "Pod", "stuck-0", NAMESPACE) is not None
    assert notebook.kube.request_count(method="DELETE") == 0


def test_only_pods_can_be_deleted(notebook: Notebook) -> None:
    notebook.kube.create(deployment("web", 1))

    with pytest.raises(UsageError, match=r"only pods can be deleted here"):
        notebook.k8s("delete deploy web")

    assert notebook.kube.get("apps/v1", "Deployment", "web", NAMESPACE) is not None


def test_scale_sets_the_deployments_replicas(notebook: Notebook) -> None:
    notebook.kube.create(deployment("web", 1))

    said = notebook.printed("scale deploy web --replicas 3")

    assert said == 'deployment "web" scaled to 3 replicas\n'
    stored = notebook.kube.get("apps/v1", "Deployment", "web", NAMESPACE)
    assert stored is not None and stored["spec"]["replicas"] == 3


def test_read_only_refuses_scale(notebook: Notebook) -> None:
    notebook.kube.create(deployment("web", 1))
    notebook.config("read_only = True")

    with pytest.raises(UsageError, match=r"read-only mode: scaling deployments is turned off"):
        notebook.k8s("scale deploy web --replicas 0")

    stored = notebook.kube.get("apps/v1", "Deployment", "web", NAMESPACE)
    assert stored is not None and stored["spec"]["replicas"] == 1


def test_scale_without_replicas_asks_for_them(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"--replicas N"):
        notebook.k8s("scale deploy web")


def test_scale_to_a_negative_count_is_refused(notebook: Notebook) -> None:
    notebook.kube.create(deployment("web", 1))

    with pytest.raises(UsageError, match=r"replicas must be between 0 and 1000"):
        notebook.k8s("scale deploy web --replicas -1")
