"""Which Kubeflow resource a notebook pod runs for: a Notebook (Notebooks v1) or a Workspace
(Notebooks 2.0), found the way their controllers make it.

Both controllers run the pod from a StatefulSet they own (`ownerReferences`, controller
true), so the owner chain pod → StatefulSet → owner says which one it is and in which API
version. Each also labels its pods with the resource's name, which still tells the kind when
the StatefulSet cannot be read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..errors import Forbidden, MLOpsError, NotFound
from .cluster import Cluster, Obj
from .kinds import Kind

OwnerKind = Literal["Notebook", "Workspace"]
#: The plural of each owner kind; both live in kubeflow.org.
PLURALS: dict[OwnerKind, str] = {"Notebook": "notebooks", "Workspace": "workspaces"}
#: The label each controller puts on its pods, naming the resource.
POD_LABELS: dict[str, OwnerKind] = {
    "notebook-name": "Notebook",
    "notebooks.kubeflow.org/workspace-name": "Workspace",
}
#: The version each kind is served in when only a label names it.
DEFAULT_VERSIONS: dict[OwnerKind, str] = {
    "Notebook": "kubeflow.org/v1",
    "Workspace": "kubeflow.org/v1beta1",
}
#: Notebooks v1 stops a notebook by this annotation (the controller scales it to zero).
STOPPED_ANNOTATION = "kubeflow-resource-stopped"


class NotebookOwner(BaseModel):
    """The Notebook or Workspace my notebook pod belongs to, and its state."""

    kind: OwnerKind
    api_version: str = Field(description="e.g. kubeflow.org/v1 (Notebook), kubeflow.org/v1beta1.")
    name: str
    state: str | None = Field(
        default=None,
        description="A Workspace's status.state (Running, Paused, Pending, Error, …); for a "
        "Notebook: Running, Waiting, Stopped or Terminating, from its status and annotations.",
    )
    message: str | None = Field(default=None, description="A Workspace's status.stateMessage.")
    workspace_kind: str | None = Field(default=None, description="A Workspace's spec.kind.")
    note: str | None = Field(default=None, description="Why part of it could not be read.")


def notebook_owner(cluster: Cluster, pod: Obj) -> NotebookOwner | None:
    """The Notebook or Workspace that runs `pod`, or None when neither controller made it."""
    namespace = str(pod["metadata"].get("namespace") or cluster.namespace)
    owner, note = _by_owner_chain(cluster, pod, namespace)
    if owner is None:
        owner = _by_label(pod)
    if owner is None:
        return None
    owner.note = note
    _read_state(cluster, owner, namespace)
    return owner


def _controller(obj: Obj) -> Obj | None:
    refs = obj["metadata"].get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def _by_owner_chain(
    cluster: Cluster, pod: Obj, namespace: str
) -> tuple[NotebookOwner | None, str | None]:
    ref = _controller(pod)
    if ref is None or ref.get("kind") != "StatefulSet":
        return None, None
    try:
        statefulset = cluster.get("statefulsets", str(ref["name"]), namespace)
    except (Forbidden, NotFound) as exc:
        return None, f"its StatefulSet {ref['name']} could not be read ({exc.message})"
    top = _controller(statefulset)
    if top is None or top.get("kind") not in PLURALS:
        return None, None
    kind: OwnerKind = top["kind"]
    return NotebookOwner(kind=kind, api_version=str(top["apiVersion"]), name=str(top["name"])), None


def _by_label(pod: Obj) -> NotebookOwner | None:
    labels = pod["metadata"].get("labels") or {}
    for label, kind in POD_LABELS.items():
        if labels.get(label):
            return NotebookOwner(kind=kind, api_version=DEFAULT_VERSIONS[kind], name=labels[label])
    return None


def _read_state(cluster: Cluster, owner: NotebookOwner, namespace: str) -> None:
    group, _, version = owner.api_version.rpartition("/")
    kind = Kind(PLURALS[owner.kind], owner.kind, group, version)
    try:
        obj = cluster.get(kind, owner.name, namespace)
    except MLOpsError as exc:
        owner.note = f"{owner.kind} {owner.name} could not be read: {exc.message}"
        return
    status = obj.get("status") or {}
    if owner.kind == "Workspace":
        owner.state = status.get("state")
        owner.message = status.get("stateMessage") or None
        owner.workspace_kind = (obj.get("spec") or {}).get("kind")
    else:
        owner.state = _notebook_state(obj)


def _notebook_state(obj: Obj) -> str:
    meta = obj["metadata"]
    if meta.get("deletionTimestamp"):
        return "Terminating"
    if STOPPED_ANNOTATION in (meta.get("annotations") or {}):
        return "Stopped"
    ready = (obj.get("status") or {}).get("readyReplicas") or 0
    return "Running" if ready >= 1 else "Waiting"
