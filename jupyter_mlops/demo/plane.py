"""The demo's story on a real Kubernetes control plane, seeded the way a real cluster gets it.

The emulator (`jupyter_mlops.demo.cluster`) takes the fixtures' objects with their statuses as
written. Here the same objects (`jupyter_mlops.testing.kubeflow.render_manifests`) go to the
real kube-apiserver without their statuses, and the real components make the states:

- Kubeflow's CRDs, aggregated ClusterRoles and the profile (`install_kubeflow`,
  `create_profile`), instead of the fixtures' copies of them;
- the StatefulSet, Deployment and Job controllers make the pods (the fixtures' pods that a
  controller owns are left out, and so are the Deployments' ReplicaSets);
- the scheduler places them, or says why not; the PV controller binds the claims;
- kwok plays the kubelet: a pod template gets the lifecycle (`control_plane.lifecycle`) that
  leads to the state the fixtures' pod is in (a crash loop, an image that does not pull, a
  finished pipeline task);
- the events are the components' own (the fixtures' copies are left out);
- the logs are the fixtures' texts (`kubeflow.logs.pod_logs`) for each real pod, written once
  the pod has reached its state, in the container runtime's format (`ControlPlane.append_log`).

No controller runs here for Notebooks, KFP's Argo Workflows, InferenceServices, Katib or Spark:
their statuses are written as their controllers would write them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..testing.control_plane import (
    CRASH_LOOP,
    IMAGE_PULL_ERROR,
    LIFECYCLE_LABEL,
    SUCCEED,
    ControlPlane,
    lifecycle,
)
from ..testing.kubeflow import KINDS, pod_logs, render_manifests
from ..testing.kubeflow.loader import DEFAULT_USER
from ..testing.kubeflow_plane import Profile, create_profile, install_kubeflow
from .cluster import NAMESPACE

__all__ = ["CRASH_BACK_OFF", "TRAINING_NOTEBOOK_CPU", "SeedError", "SeededPlane", "seed_plane"]

Obj = dict[str, Any]

#: The fixtures' one node; on the plane its objects go to a CPU node.
_FIXTURE_NODE = "kubeflow-node-1"
_NODE = "cpu-1"
#: The training notebook's CPU request: the fixtures' 500m fills their 2-CPU node, but fits
#: the plane's 4-CPU nodes, so it asks for more than any CPU node has (the GPU node is tainted).
TRAINING_NOTEBOOK_CPU = "6"
#: The kubelet's cap, as in the fixtures' back-off message: the crashed Job pod waits in
#: CrashLoopBackOff instead of restarting every few seconds (with restartPolicy OnFailure each
#: restart counts toward the Job's backoffLimit, and the Job would soon fail its pod).
CRASH_BACK_OFF = "5m"
#: Kinds the plane's own setup makes (install_kubeflow, create_profile, the nodes).
_MADE_BY_SETUP = {"CustomResourceDefinition", "ClusterRole", "Node", "Namespace", "Profile"}
#: Owners whose controllers run on the plane: they make their pods and ReplicaSets themselves.
_CONTROLLED = {"ReplicaSet", "StatefulSet", "Job", "Deployment"}
#: Kinds whose controller does not run here: the status is written as that controller would.
_STATUS_BY_HAND = {
    "Notebook",
    "InferenceService",
    "Experiment",
    "Trial",
    "Suggestion",
    "SparkApplication",
}
_UID = "@uid:{}/{}@"
_SETTLE_TIMEOUT = 180.0


class SeedError(RuntimeError):
    """The plane refused part of the story, or the story did not settle in time."""


@dataclass
class SeededPlane:
    """The demo story on a plane: its profile, and what to remove afterwards."""

    plane: ControlPlane
    profile: Profile
    cluster_paths: list[str] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.profile.namespace

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig acting as the profile's default-editor, with a real token."""
        return self.profile.write_kubeconfig(path)

    def close(self) -> None:
        """Delete the profile and the cluster-wide objects made for the story (no waiting)."""
        self.profile.delete()
        for path in reversed(self.cluster_paths):
            with contextlib.suppress(urllib.error.HTTPError):
                self.plane.api("DELETE", path)


def seed_plane(plane: ControlPlane, namespace: str = NAMESPACE) -> SeededPlane:
    """Put the demo's story in a new profile `namespace` of `plane`, and wait until its pods
    are in the states the story tells, with their logs written."""
    install_kubeflow(plane)
    _refuse_a_default_class(plane)
    profile = create_profile(plane, namespace, owner=DEFAULT_USER)
    seeded = SeededPlane(plane, profile)
    try:
        documents, unscheduled = _story(namespace)
        uids: dict[str, str] = {}
        for document in documents:
            _create(seeded, _resolve(document, uids), uids)
        expected = sum(1 for d in documents if d["kind"] == "Pod") + _controlled_pods(documents)
        pods = _settled(plane, namespace, expected, unscheduled)
        for pod in pods:
            _write_logs(plane, pod)
        _reissue_on_notebooks(plane, namespace, unscheduled)
    except BaseException:
        seeded.close()
        raise
    return seeded


# -- the story's documents -----------------------------------------------------------------


def _story(namespace: str) -> tuple[list[Obj], set[str]]:
    """The fixtures' objects for the plane, in load order: statuses kept only where no
    component here writes them; owners' uids as placeholders `_resolve` fills in. And the
    owners of the pods the story leaves unscheduled."""
    rendered = render_manifests(
        namespace=namespace,
        default_storage_class=False,
        now=datetime.now(timezone.utc),
        uid_of=lambda kind, name: _UID.format(kind, name),
    )
    rendered = json.loads(json.dumps(rendered).replace(_FIXTURE_NODE, _NODE))
    pods = [d for d in rendered if d["kind"] == "Pod"]
    story = []
    for document in rendered:
        kind, meta = document["kind"], document["metadata"]
        owners = {ref["kind"] for ref in meta.get("ownerReferences") or []}
        if kind in _MADE_BY_SETUP or kind == "Event":
            continue
        if kind in ("ServiceAccount", "RoleBinding") and _profile_owned(meta):
            continue
        if kind in ("Pod", "ReplicaSet") and owners & _CONTROLLED:
            continue
        story.append(_for_plane(document, pods))
    unscheduled = {_owner_name(p) for p in pods if _unscheduled(p)}
    return _volumes_first(story), unscheduled


def _volumes_first(story: list[Obj]) -> list[Obj]:
    """PersistentVolumes before the claims: a claim pre-bound by volumeName to a volume that is
    already there is bound at once; otherwise only at the PV controller's next resync, and
    its pod meanwhile fails to schedule ("unbound immediate PersistentVolumeClaims")."""
    volumes = [d for d in story if d["kind"] == "PersistentVolume"]
    for volume in volumes:
        # Pre-bound to the claim by name, as an administrator pre-binds one: the PV controller
        # fills in the claim's uid.
        volume["spec"].get("claimRef", {}).pop("uid", None)
    return volumes + [d for d in story if d["kind"] != "PersistentVolume"]


def _unscheduled(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "PodScheduled" and c["status"] == "False" for c in conditions)


def _owner_name(pod: Obj) -> str:
    """The pod's controller's name (a ReplicaSet's without its hash: its Deployment's)."""
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            name = str(ref["name"])
            return name.rsplit("-", 1)[0] if ref["kind"] == "ReplicaSet" else name
    return str(pod["metadata"]["name"])


def _profile_owned(meta: Obj) -> bool:
    return any(ref["kind"] == "Profile" for ref in meta.get("ownerReferences") or [])


def _for_plane(document: Obj, pods: list[Obj]) -> Obj:
    obj = copy.deepcopy(document)
    kind = obj["kind"]
    # Argo keeps a Workflow's status in the object (no status subresource): it goes in the body.
    if kind != "Workflow":
        status = obj.pop("status", None)
        if kind in _STATUS_BY_HAND and status is not None:
            obj["_status"] = status
    obj["metadata"].pop("creationTimestamp", None)
    if kind == "Pod":
        spec = obj["spec"]
        spec.pop("nodeName", None)  # the scheduler places it
        _add_lifecycle(obj["metadata"], _lifecycle_of(document))
    if kind == "PersistentVolumeClaim":
        # Pre-bound by volumeName; the PV controller completes the binding (its marks, set
        # before the volume exists, would make the claim Lost).
        annotations = obj["metadata"].get("annotations") or {}
        for key in ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller"):
            annotations.pop(key, None)
    if kind == "Service":
        for key in ("clusterIP", "clusterIPs"):
            obj["spec"].pop(key, None)
    if kind in ("StatefulSet", "Deployment", "Job"):
        template = obj["spec"]["template"]
        template.setdefault("metadata", {})
        mine = [p for p in pods if _made_by(p, obj)]
        if mine:
            _add_lifecycle(template["metadata"], _lifecycle_of(mine[0]))
    if obj["metadata"]["name"] == "training-notebook" and kind in ("Notebook", "StatefulSet"):
        _ask_for_more_cpu(obj["spec"]["template"]["spec"])
    return obj


def _made_by(pod: Obj, owner: Obj) -> bool:
    """Whether the fixtures' pod belongs to `owner` (directly, or through a ReplicaSet)."""
    selector = (owner["spec"].get("selector") or {}).get("matchLabels") or {}
    labels = pod["metadata"].get("labels") or {}
    if owner["kind"] == "Job":
        selector = {"job-name": owner["metadata"]["name"]}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _lifecycle_of(pod: Obj) -> Obj | None:
    """The kwok lifecycle that brings a pod to the state the fixtures' pod is in."""
    status = pod.get("status") or {}
    waiting = {
        ((cs.get("state") or {}).get("waiting") or {}).get("reason")
        for cs in status.get("containerStatuses") or []
    }
    if "CrashLoopBackOff" in waiting:
        return lifecycle(CRASH_LOOP, back_off=CRASH_BACK_OFF)
    if waiting & {"ErrImagePull", "ImagePullBackOff"}:
        return lifecycle(IMAGE_PULL_ERROR)
    if status.get("phase") == "Succeeded":
        return lifecycle(SUCCEED)
    return None  # Running (kwok's default), or Pending for the scheduler's own reasons


def _add_lifecycle(meta: Obj, chosen: Obj | None) -> None:
    if chosen is None:
        return
    meta.setdefault("labels", {}).update(chosen["labels"])
    if chosen["annotations"]:
        meta.setdefault("annotations", {}).update(chosen["annotations"])


def _ask_for_more_cpu(pod_spec: Obj) -> None:
    for container in pod_spec["containers"]:
        resources = container.setdefault("resources", {})
        for key in ("requests", "limits"):
            resources.setdefault(key, {})["cpu"] = TRAINING_NOTEBOOK_CPU


def _controlled_pods(documents: list[Obj]) -> int:
    """How many pods the controllers will make for the story's workloads."""
    count = 0
    for document in documents:
        if document["kind"] in ("StatefulSet", "Deployment"):
            count += int(document["spec"].get("replicas", 1))
        if document["kind"] == "Job":
            count += int(document["spec"].get("parallelism", 1))
    return count


def _resolve(document: Obj, uids: dict[str, str]) -> Obj:
    """The document with the real uids of the objects it names (owners, claims)."""
    text = json.dumps(document)
    for token, uid in uids.items():
        text = text.replace(token, uid)
    if "@uid:" in text:
        start = text.index("@uid:")
        raise SeedError(
            f"{document['kind']}/{document['metadata']['name']} names an object "
            f"the story did not create: {text[start : text.index('@', start + 1) + 1]}"
        )
    resolved: Obj = json.loads(text)
    return resolved


# -- creating --------------------------------------------------------------------------------


def _create(seeded: SeededPlane, document: Obj, uids: dict[str, str]) -> None:
    plane, namespace = seeded.plane, seeded.namespace
    status = document.pop("_status", None)
    kind_name, name = document["kind"], document["metadata"]["name"]
    kind = KINDS[kind_name]
    if kind.namespaced:
        document["metadata"]["namespace"] = namespace
    collection = kind.collection_path(namespace if kind.namespaced else None)
    if not kind.namespaced:
        _replace(plane, f"{collection}/{name}")
    stored = _call(plane, "POST", collection, document)
    if not kind.namespaced:
        seeded.cluster_paths.append(f"{collection}/{name}")
    uids[_UID.format(kind_name, name)] = str(stored["metadata"]["uid"])
    if kind_name == "PersistentVolumeClaim" and document["spec"].get("volumeName"):
        path = f"{collection}/{name}"
        _wait(
            f"the PV controller to bind claim {name}",
            60.0,
            lambda: (plane.api("GET", path).get("status") or {}).get("phase") == "Bound",
        )
    if status is not None:
        # No controller of this kind runs here: its status, as that controller writes it.
        _call(
            plane,
            "PATCH",
            f"{collection}/{name}/status",
            {"status": _resolve(status, uids)},
            content_type="application/merge-patch+json",
        )


def _replace(plane: ControlPlane, path: str) -> None:
    """Make room for a cluster-wide object of the story left by an earlier seed."""
    with contextlib.suppress(urllib.error.HTTPError):
        plane.api("DELETE", path)
    _wait(f"{path} to go", 60.0, lambda: not plane.exists(path))


def _refuse_a_default_class(plane: ControlPlane) -> None:
    """The story needs a cluster without a default StorageClass."""
    key = "storageclass.kubernetes.io/is-default-class"
    for item in plane.api("GET", "/apis/storage.k8s.io/v1/storageclasses").get("items") or []:
        if (item["metadata"].get("annotations") or {}).get(key) == "true":
            raise SeedError(
                f"StorageClass {item['metadata']['name']} is the plane's default: the demo's "
                "claim without a class would be given it"
            )


def _call(
    plane: ControlPlane,
    method: str,
    path: str,
    body: Obj,
    content_type: str = "application/json",
) -> Obj:
    try:
        return plane.api(method, path, body, content_type=content_type)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("message", detail)
        raise SeedError(f"{method} {path}: HTTP {exc.code}: {detail}") from None


def _wait(what: str, timeout: float, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise SeedError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)


# -- states and logs ---------------------------------------------------------------------------


def _settled(
    plane: ControlPlane, namespace: str, expected: int, unscheduled: set[str]
) -> list[Obj]:
    """The story's pods, once there are `expected` and each is in its lifecycle's state
    (unscheduled if its controller is in `unscheduled`)."""

    def check() -> list[Obj] | None:
        pods = plane.api("GET", f"/api/v1/namespaces/{namespace}/pods").get("items") or []
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if len(live) == expected and all(_in_state(p, unscheduled) for p in live):
            return live
        return None

    found: list[Obj] = _wait(f"the {expected} pods of the story to settle", _SETTLE_TIMEOUT, check)
    return found


def _in_state(pod: Obj, unscheduled: set[str]) -> bool:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    chosen = (pod["metadata"].get("labels") or {}).get(LIFECYCLE_LABEL)
    if chosen == CRASH_LOOP:
        return any((cs.get("lastState") or {}).get("terminated") for cs in statuses)
    if chosen == IMAGE_PULL_ERROR:
        return any(((cs.get("state") or {}).get("waiting") or {}).get("reason") for cs in statuses)
    if chosen == SUCCEED:
        return status.get("phase") == "Succeeded"
    if _owner_name(pod) in unscheduled:
        conditions = status.get("conditions") or []
        return any(
            c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable" for c in conditions
        )
    running = [(cs.get("state") or {}).get("running") for cs in statuses]
    return status.get("phase") == "Running" and bool(running) and all(running)


def _write_logs(plane: ControlPlane, pod: Obj) -> None:
    """The fixtures' log texts for the real pod (timed by its real status), through the log
    files kwok serves."""
    meta = pod["metadata"]
    for log in pod_logs(pod):
        lines = [text for _, text in log.lines]
        if lines:
            plane.append_log(
                meta["namespace"], meta["name"], log.container, *lines, previous=log.previous
            )


def _reissue_on_notebooks(plane: ControlPlane, namespace: str, unscheduled: set[str]) -> None:
    """What Kubeflow's notebook controller does with its pods' warnings: the scheduler's
    FailedScheduling of an unscheduled notebook's pod, reissued on the Notebook."""
    base = f"/api/v1/namespaces/{namespace}/events"
    notebooks = plane.api("GET", f"/apis/kubeflow.org/v1/namespaces/{namespace}/notebooks")
    for notebook in notebooks.get("items") or []:
        name = notebook["metadata"]["name"]
        if name not in unscheduled:
            continue

        def scheduler_event(pod: str = f"{name}-0") -> Obj | None:
            events = plane.api("GET", f"{base}?fieldSelector=involvedObject.name%3D{pod}")
            found = [e for e in events.get("items") or [] if e.get("reason") == "FailedScheduling"]
            return found[-1] if found else None

        event: Obj = _wait(f"the scheduler's event about {name}-0", 60.0, scheduler_event)
        pod = event["involvedObject"]["name"]
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        reissued = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{name}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "kubeflow.org/v1",
                "kind": "Notebook",
                "name": name,
                "namespace": namespace,
                "uid": notebook["metadata"]["uid"],
            },
            "type": event.get("type") or "Warning",
            "reason": event["reason"],
            "message": f"Reissued from pod/{pod}: {event.get('message', '')}",
            "source": {"component": "notebook-controller"},
            "reportingComponent": "notebook-controller",
            "count": 1,
            # The controller's recorder stamps its own time, when it sees the pod's event.
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
        }
        _call(plane, "POST", base, reissued)
