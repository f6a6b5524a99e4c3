"""My notebook pod's own Kubeflow resource, on the real plane: a Notebook (Notebooks v1) or a
Workspace (Notebooks 2.0), found through the StatefulSet the real controller runs the pod
from, or by the controller's pod label when only that is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.kube.resources import MyPod, my_pod
from jupyter_mlops.kube.watch import WatchCache
from tests.kube.helpers import IMAGE
from tests.plane import ProfileNamespace, wait_for
from tests.resources.conftest import notebook_cluster, pod

Obj = dict[str, Any]


def owned_statefulset(owner: Obj, name: str, pod_labels: dict[str, str]) -> Obj:
    """A StatefulSet controlled by `owner`, as both notebook controllers make one."""
    meta = owner["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "ownerReferences": [
                {
                    "apiVersion": owner["apiVersion"],
                    "kind": owner["kind"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"statefulset": name}},
            "template": {
                "metadata": {"labels": {"statefulset": name, **pod_labels}},
                "spec": {"containers": [{"name": "main", "image": IMAGE}]},
            },
        },
    }


def mine_when_owned(profile: ProfileNamespace, pod_name: str, tmp_path: Path) -> MyPod:
    """`my_pod` as the notebook `pod_name` sees it, once its owner is found."""
    cache = WatchCache(notebook_cluster(profile, pod_name, tmp_path))
    try:
        return wait_for(
            f"the owner of {pod_name}",
            lambda: (m := my_pod(cache, interval=0.05)).owner and m,
            timeout=90,
        )
    finally:
        cache.close()
        cache.cluster.close()


def test_a_workspace_pod_shows_its_workspace_and_state(
    profile: ProfileNamespace, tmp_path: Path
) -> None:
    profile.apply(
        {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Workspace",
            "metadata": {"name": "my-ws"},
            "spec": {"kind": "jupyterlab", "podTemplate": {"volumes": {}, "options": {}}},
        }
    )
    profile.kubectl(
        "patch", "workspace", "my-ws", "--subresource=status", "--type=merge",
        "-p", '{"status": {"state": "Running", "stateMessage": "Workspace is running"}}',
    )  # fmt: skip
    workspace = profile.get("workspace", "my-ws")
    labels = {"notebooks.kubeflow.org/workspace-name": "my-ws"}
    profile.apply(owned_statefulset(workspace, "ws-my-ws-a1b2c", labels))

    mine = mine_when_owned(profile, "ws-my-ws-a1b2c-0", tmp_path)

    assert mine.owner is not None
    assert (mine.owner.kind, mine.owner.api_version, mine.owner.name) == (
        "Workspace",
        "kubeflow.org/v1beta1",
        "my-ws",
    )
    assert (mine.owner.state, mine.owner.message) == ("Running", "Workspace is running")
    assert mine.owner.workspace_kind == "jupyterlab" and mine.owner.note is None


def test_a_v1_notebook_pod_shows_its_notebook_stopped_or_waiting(
    profile: ProfileNamespace, tmp_path: Path
) -> None:
    notebook = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "trainer"},
        "spec": {"template": {"spec": {"containers": [{"name": "trainer", "image": IMAGE}]}}},
    }
    profile.apply(notebook)
    owner = profile.get("notebook", "trainer")
    profile.apply(owned_statefulset(owner, "trainer", {"notebook-name": "trainer"}))

    mine = mine_when_owned(profile, "trainer-0", tmp_path)
    assert mine.owner is not None
    assert (mine.owner.kind, mine.owner.api_version, mine.owner.name) == (
        "Notebook",
        "kubeflow.org/v1",
        "trainer",
    )
    assert mine.owner.state == "Waiting"  # no ready replica in its status yet
    assert mine.owner.workspace_kind is None

    profile.kubectl(
        "annotate", "notebook", "trainer", "kubeflow-resource-stopped=2026-12-01T00:00:00Z"
    )
    assert mine_when_owned(profile, "trainer-0", tmp_path).owner.state == "Stopped"  # type: ignore[union-attr]


def test_the_controllers_label_names_the_owner_when_no_statefulset_does(
    profile: ProfileNamespace, tmp_path: Path
) -> None:
    labelled = pod("lone-0")
    labelled["metadata"]["labels"] = {"notebooks.kubeflow.org/workspace-name": "gone-ws"}
    profile.apply(labelled, pod("plain-0"))

    mine = mine_when_owned(profile, "lone-0", tmp_path)
    assert mine.owner is not None
    assert (mine.owner.kind, mine.owner.name) == ("Workspace", "gone-ws")
    assert mine.owner.state is None
    assert "Workspace gone-ws could not be read" in (mine.owner.note or "")

    cache = WatchCache(notebook_cluster(profile, "plain-0", tmp_path))
    try:
        plain = wait_for("the plain pod", lambda: (m := my_pod(cache, interval=0.05)).pod and m)
    finally:
        cache.close()
        cache.cluster.close()
    assert plain.owner is None
