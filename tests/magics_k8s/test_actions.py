"""`%k8s delete pod` and `%k8s scale deploy`, and the read-only setting that refuses both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.error import UsageError

from tests.kube.helpers import Requests, counted, deployment, exists, gone, identity, rule

from .conftest import Notebook, running_pod


def replicas(notebook: Notebook, name: str) -> int:
    found: int = notebook.ns.get("deployment", name)["spec"]["replicas"]
    return found


@pytest.fixture
def writes(notebook: Notebook) -> Iterator[Requests]:
    """The notebook acting as a ServiceAccount allowed to write in the namespace, with its
    deletes and patches counted by the API server."""
    notebook.use_kubeconfig(identity(notebook.ns, "writer", "edit"))
    with counted(
        notebook.ns,
        "writer",
        lambda: notebook.k8s("get pods"),
        writes=rule(verbs=("delete", "patch", "update", "create")),
    ) as counting:
        yield counting


def test_delete_pod_removes_it_and_says_so(notebook: Notebook) -> None:
    running_pod(notebook.ns, "stuck-0")

    said = notebook.printed("delete pod stuck-0")

    assert said == f'pod "stuck-0" deleted from namespace {notebook.ns.name}\n'
    # Deleted gracefully: kwok, as its kubelet, ends it and the pod goes.
    gone(notebook.ns, "pod", "stuck-0")


def test_read_only_refuses_delete_and_keeps_the_pod(notebook: Notebook, writes: Requests) -> None:
    running_pod(notebook.ns, "stuck-0")
    notebook.config("read_only = True")

    with pytest.raises(UsageError, match=r"read-only mode: deleting pods is turned off"):
        notebook.k8s("delete pod stuck-0")

    assert exists(notebook.ns, "pod", "stuck-0")
    assert writes.since()["writes"] == 0


def test_only_pods_can_be_deleted(notebook: Notebook) -> None:
    notebook.ns.apply(deployment("web", 1))

    with pytest.raises(UsageError, match=r"only pods can be deleted here"):
        notebook.k8s("delete deploy web")

    assert exists(notebook.ns, "deployment", "web")


def test_scale_sets_the_deployments_replicas(notebook: Notebook) -> None:
    notebook.ns.apply(deployment("web", 1))

    said = notebook.printed("scale deploy web --replicas 3")

    assert said == 'deployment "web" scaled to 3 replicas\n'
    assert replicas(notebook, "web") == 3
    # The real controllers act on it: three pods run.
    notebook.ns.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    assert notebook.ns.get("deployment", "web")["status"]["readyReplicas"] == 3


def test_read_only_refuses_scale(notebook: Notebook, writes: Requests) -> None:
    notebook.ns.apply(deployment("web", 1))
    notebook.config("read_only = True")

    with pytest.raises(UsageError, match=r"read-only mode: scaling deployments is turned off"):
        notebook.k8s("scale deploy web --replicas 0")

    assert replicas(notebook, "web") == 1
    assert writes.since()["writes"] == 0


def test_scale_without_replicas_asks_for_them(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"--replicas N"):
        notebook.k8s("scale deploy web")


def test_scale_to_a_negative_count_is_refused(notebook: Notebook) -> None:
    notebook.ns.apply(deployment("web", 1))

    with pytest.raises(UsageError, match=r"replicas must be between 0 and 1000"):
        notebook.k8s("scale deploy web --replicas -1")
