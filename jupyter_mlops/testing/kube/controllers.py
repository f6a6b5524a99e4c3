"""The cluster's moving parts: deployments, replica sets, stateful sets, scheduling, pod start."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import re
import uuid
from typing import Any

from .kinds import random_suffix
from .resources import Registry, ResourceType
from .selectors import selector_from_object
from .status import ApiError
from .store import ADDED, DELETED, Event, Store, now_rfc3339

Obj = dict[str, Any]
log = logging.getLogger(__name__)

_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIXES = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
}


def quantity(text: object) -> float:
    """A resource quantity ("500m", "2", "1Gi") as a number; 0 when unreadable."""
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in _SUFFIXES:
        return 0.0
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def pod_requests(spec: Obj) -> dict[str, float]:
    """What a pod asks the scheduler for (requests, or limits when requests are absent)."""
    total: dict[str, float] = {"cpu": 0.0, "memory": 0.0}
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        for name in total:
            total[name] += quantity(wanted.get(name, 0))
    return total


def template_hash(template: Obj) -> str:
    """A stable pod-template-hash label value."""
    digest = hashlib.sha256(repr(sorted(_flatten(template))).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for k, v in value.items():
            out += _flatten(v, f"{prefix}.{k}")
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out += _flatten(v, f"{prefix}[{i}]")
        return out
    return [(prefix, repr(value))]


# Annotations that make an emulated pod's containers exit on their own after it starts.
RUN_SECONDS = "emulator.jupyter-mlops/run-seconds"
EXIT_CODE = "emulator.jupyter-mlops/exit-code"


def finish_pod(
    store: Store,
    registry: Registry,
    namespace: str,
    name: str,
    exit_code: int = 0,
    uid: str = "",
) -> Obj | None:
    """Terminate every container of a pod with `exit_code`: Succeeded on 0, else Failed."""
    pod_type = registry.lookup("", "v1", "pods")
    assert pod_type is not None
    now = now_rfc3339()
    reason = "Completed" if exit_code == 0 else "Error"

    def change(obj: Obj) -> None:
        status: Obj = obj.setdefault("status", {})
        status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
        statuses = {cs.get("name"): cs for cs in status.get("containerStatuses") or []}
        for container in (obj.get("spec") or {}).get("containers") or []:
            current = statuses.get(container["name"]) or {
                "name": container["name"],
                "image": container.get("image", ""),
                "imageID": "",
                "restartCount": 0,
            }
            started = ((current.get("state") or {}).get("running") or {}).get("startedAt", now)
            current.update(
                ready=False,
                started=False,
                state={
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": reason,
                        "startedAt": started,
                        "finishedAt": now,
                        "containerID": current.get("containerID", ""),
                    }
                },
            )
            statuses[container["name"]] = current
        status["containerStatuses"] = list(statuses.values())
        for type_ in ("Ready", "ContainersReady"):
            _set_condition(status, type_, "False", "PodCompleted")

    stored = store.mutate(pod_type, namespace, name, change, uid)
    return stored.obj if stored is not None else None


def restart_container(
    store: Store, registry: Registry, namespace: str, name: str, container: str, exit_code: int = 1
) -> Obj | None:
    """A container exits and the kubelet starts it again: restartCount grows, lastState is kept."""
    pod_type = registry.lookup("", "v1", "pods")
    assert pod_type is not None
    now = now_rfc3339()

    def change(obj: Obj) -> None:
        status: Obj = obj.setdefault("status", {})
        for cs in status.get("containerStatuses") or []:
            if cs.get("name") != container:
                continue
            started = ((cs.get("state") or {}).get("running") or {}).get("startedAt", now)
            cs["lastState"] = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": "Completed" if exit_code == 0 else "Error",
                    "startedAt": started,
                    "finishedAt": now,
                }
            }
            cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
            cs["state"] = {"running": {"startedAt": now}}

    stored = store.mutate(pod_type, namespace, name, change)
    return stored.obj if stored is not None else None


def _image_id(container: Obj) -> str:
    return f"docker.io/library/{container.get('image', '')}@sha256:{uuid.uuid4().hex}"


def _owned_by(obj: Obj, uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def _owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _active(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


def _ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _set_condition(
    status: Obj, type_: str, value: str, reason: str = "", message: str = ""
) -> None:
    conditions: list[Obj] = status.setdefault("conditions", [])
    now = now_rfc3339()
    for condition in conditions:
        if condition.get("type") == type_:
            if condition.get("status") != value:
                condition["lastTransitionTime"] = now
            condition["status"] = value
            condition.pop("reason", None)
            condition.pop("message", None)
            break
    else:
        condition = {
            "type": type_,
            "status": value,
            "lastProbeTime": None,
            "lastTransitionTime": now,
        }
        conditions.append(condition)
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message


class Controllers:
    """Reconcilers run on the emulator's event loop, fed by store events."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        pod_start_delay: float = 0.05,
        pod_termination_delay: float = 0.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.pod_start_delay = pod_start_delay
        self.pod_termination_delay = pod_termination_delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: dict[tuple[str, str, str], None] = {}
        self._scheduled = False
        self._unschedulable: set[tuple[str, str]] = set()
        self._ip = 0
        self.events = EventRecorder(store, registry)
        # Indexes kept from store events so scheduling and replica counts stay O(1) per pod.
        self._charged: dict[str, tuple[str, dict[str, float]]] = {}
        self._node_usage: dict[str, dict[str, float]] = {}
        self._owned: dict[str, set[tuple[str, str]]] = {}

    def _type(self, group: str, plural: str) -> ResourceType:
        rt = self.registry.lookup(group, "v1", plural)
        assert rt is not None, plural
        return rt

    # Wiring.

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start reconciling on `loop`, beginning with a full resync."""
        self._loop = loop
        with self.store.lock:
            self._charged.clear()
            self._node_usage.clear()
            self._owned.clear()
            for obj in self.store.objects(("", "pods")):
                self._index_pod(obj, deleted=False)
            self.store.add_listener(self._on_event)
            if self.pod_termination_delay > 0:
                self.store.pod_termination = self._terminate_later
        for kind, key in (
            ("namespace", ("", "namespaces")),
            ("pvc", ("", "persistentvolumeclaims")),
            ("deployment", ("apps", "deployments")),
            ("replicaset", ("apps", "replicasets")),
            ("statefulset", ("apps", "statefulsets")),
            ("job", ("batch", "jobs")),
            ("pod", ("", "pods")),
        ):
            for obj in self.store.objects(key):
                self._enqueue(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    def detach(self) -> None:
        """Stop reconciling."""
        self.store.remove_listener(self._on_event)
        self.store.pod_termination = None
        self._loop = None

    def _terminate_later(self, namespace: str, name: str, uid: str) -> None:
        # Called under the store lock from any thread: the removal runs on the loop.
        loop = self._loop
        pods = self._type("", "pods")
        if loop is None:
            return
        loop.call_soon_threadsafe(
            loop.call_later,
            self.pod_termination_delay,
            self.store.remove_terminated,
            pods,
            namespace,
            name,
            uid,
        )

    def _enqueue(self, kind: str, namespace: str, name: str) -> None:
        self._queue[(kind, namespace, name)] = None
        loop = self._loop
        if loop is not None and not self._scheduled:
            self._scheduled = True
            loop.call_soon_threadsafe(self._drain)

    def _on_event(self, event: Event) -> None:
        # Called under the store lock from any thread: only note what to look at.
        obj = event.new.obj
        meta = obj["metadata"]
        namespace = str(meta.get("namespace", ""))
        name = str(meta["name"])
        group, plural = event.key
        if (group, plural) == ("", "pods"):
            self._index_pod(obj, deleted=event.type == DELETED)
        for ref in meta.get("ownerReferences") or []:
            owner_kind = {
                "ReplicaSet": "replicaset",
                "Deployment": "deployment",
                "StatefulSet": "statefulset",
                "Job": "job",
            }.get(str(ref.get("kind")))
            if owner_kind:
                self._enqueue(owner_kind, namespace, str(ref.get("name")))
        if (group, plural) == ("apps", "deployments"):
            self._enqueue("deployment", namespace, name)
        elif (group, plural) == ("apps", "replicasets"):
            self._enqueue("replicaset", namespace, name)
        elif (group, plural) == ("apps", "statefulsets"):
            self._enqueue("statefulset", namespace, name)
        elif (group, plural) == ("batch", "jobs"):
            self._enqueue("job", namespace, name)
        elif (group, plural) == ("", "pods"):
            if event.type == ADDED:
                self._enqueue("pod", namespace, name)
            elif event.type == DELETED or not _active(obj):
                self._retry_unschedulable()
        elif (group, plural) == ("", "persistentvolumeclaims"):
            if event.type != DELETED:
                self._enqueue("pvc", namespace, name)
            self._retry_unschedulable()
        elif (group, plural) == ("", "nodes"):
            self._retry_unschedulable()
        elif (group, plural) == ("", "namespaces") and event.type == ADDED:
            self._enqueue("namespace", "", name)

    def _index_pod(self, pod: Obj, deleted: bool) -> None:
        meta = pod["metadata"]
        uid = str(meta.get("uid", ""))
        key = (str(meta.get("namespace", "")), str(meta["name"]))
        for ref in meta.get("ownerReferences") or []:
            owned = self._owned.setdefault(str(ref.get("uid")), set())
            if deleted:
                owned.discard(key)
            else:
                owned.add(key)
        node = (pod.get("spec") or {}).get("nodeName")
        charged = self._charged.get(uid)
        if deleted or not _active(pod) or not node:
            if charged is not None:
                del self._charged[uid]
                usage = self._node_usage[charged[0]]
                for name, value in charged[1].items():
                    usage[name] -= value
        elif charged is None:
            wanted = {**pod_requests(pod.get("spec") or {}), "pods": 1.0}
            self._charged[uid] = (str(node), wanted)
            usage = self._node_usage.setdefault(str(node), {"cpu": 0.0, "memory": 0.0, "pods": 0.0})
            for name, value in wanted.items():
                usage[name] += value

    def _create_pod(
        self,
        owner: Obj,
        template: Obj,
        labels: dict[str, str] | None = None,
        name: str = "",
        **spec_defaults: Any,
    ) -> None:
        # A pod from an owner's template, named or generated from the owner's name.
        metadata = copy.deepcopy(template.get("metadata") or {})
        metadata.pop("name", None)
        metadata.setdefault("labels", {}).update(labels or {})
        namespace = owner["metadata"]["namespace"]
        metadata.update(namespace=namespace, ownerReferences=[_owner_ref(owner)])
        if name:
            metadata["name"] = name
        else:
            metadata["generateName"] = f"{owner['metadata']['name']}-"
        pod_spec = copy.deepcopy(template.get("spec") or {})
        for key, value in spec_defaults.items():
            pod_spec.setdefault(key, value)
        self.store.create(
            self._type("", "pods"), namespace, {"metadata": metadata, "spec": pod_spec}
        )

    def _owned_pods(self, owner_uid: str) -> list[Obj]:
        pods = []
        for namespace, name in list(self._owned.get(owner_uid, ())):
            found = self.store.find(("", "pods"), namespace, name)
            if found is not None and _owned_by(found, owner_uid):
                pods.append(found)
        return pods

    def _retry_unschedulable(self) -> None:
        for namespace, name in list(self._unschedulable):
            self._enqueue("pod", namespace, name)

    def _drain(self) -> None:
        self._scheduled = False
        # A bounded batch per loop turn keeps HTTP requests served during large bursts.
        for _ in range(1000):
            if not self._queue:
                return
            (kind, namespace, name), _ = self._queue.popitem()
            try:
                getattr(self, f"_reconcile_{kind}")(namespace, name)
            except ApiError:
                # A conflicting write by a client: the next event brings us back.
                continue
            except Exception:
                log.exception("emulated %s controller failed on %s/%s", kind, namespace, name)
        loop = self._loop
        if self._queue and loop is not None and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._drain)

    # Namespaces get their default service account, as the service account controller does.

    def _reconcile_namespace(self, _namespace: str, name: str) -> None:
        if self.store.find(("", "namespaces"), "", name) is None:
            return
        if self.store.find(("", "serviceaccounts"), name, "default") is None:
            try:
                self.store.create(
                    self._type("", "serviceaccounts"),
                    name,
                    {"metadata": {"name": "default", "namespace": name}},
                )
            except ApiError:
                return

    # Deployments own one ReplicaSet per pod template.

    def _reconcile_deployment(self, namespace: str, name: str) -> None:
        deployment = self.store.find(("apps", "deployments"), namespace, name)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return
        uid = deployment["metadata"]["uid"]
        spec = deployment.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = template_hash(template)
        rs_name = f"{name}-{pod_hash}"
        rs_type = self._type("apps", "replicasets")
        owned = [
            rs
            for rs in self.store.objects(("apps", "replicasets"), namespace)
            if _owned_by(rs, uid)
        ]
        current = next((rs for rs in owned if rs["metadata"]["name"] == rs_name), None)
        revision = str(
            1
            + max(
                (
                    int(
                        (rs["metadata"].get("annotations") or {}).get(
                            "deployment.kubernetes.io/revision", "0"
                        )
                    )
                    for rs in owned
                ),
                default=0,
            )
        )
        if current is None:
            labels = {
                **(template.get("metadata") or {}).get("labels", {}),
                "pod-template-hash": pod_hash,
            }
            template.setdefault("metadata", {})["labels"] = labels
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            self.store.create(
                rs_type,
                namespace,
                {
                    "metadata": {
                        "name": rs_name,
                        "namespace": namespace,
                        "labels": labels,
                        "annotations": {
                            "deployment.kubernetes.io/desired-replicas": str(replicas),
                            "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                            "deployment.kubernetes.io/revision": revision,
                        },
                        "ownerReferences": [_owner_ref(deployment)],
                    },
                    "spec": {"replicas": replicas, "selector": selector, "template": template},
                },
            )
            return
        if int((current.get("spec") or {}).get("replicas", 0)) != replicas:
            self.store.mutate(
                rs_type, namespace, rs_name, lambda o: o["spec"].__setitem__("replicas", replicas)
            )
        for rs in owned:
            if rs is not current and int((rs.get("spec") or {}).get("replicas", 0)) != 0:
                self.store.mutate(
                    rs_type,
                    namespace,
                    rs["metadata"]["name"],
                    lambda o: o["spec"].__setitem__("replicas", 0),
                )
        statuses = [rs.get("status") or {} for rs in owned]
        total = sum(int(s.get("replicas", 0)) for s in statuses)
        ready = sum(int(s.get("readyReplicas", 0)) for s in statuses)
        updated = int((current.get("status") or {}).get("replicas", 0))
        generation = deployment["metadata"].get("generation", 1)

        def change(obj: Obj) -> None:
            status: Obj = obj.setdefault("status", {})
            status["observedGeneration"] = generation
            status["replicas"] = total
            status["updatedReplicas"] = updated
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
            if replicas - ready > 0:
                status["unavailableReplicas"] = replicas - ready
            else:
                status.pop("unavailableReplicas", None)
            for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
                if not status[key]:
                    del status[key]
            available = ready >= replicas
            _set_condition(
                status,
                "Available",
                "True" if available else "False",
                "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            )
            done = available and updated == replicas and total == replicas
            _set_condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" has successfully progressed.'
                if done
                else f'ReplicaSet "{rs_name}" is progressing.',
            )
            for condition in status["conditions"]:
                condition.pop("lastProbeTime", None)
                condition.setdefault("lastUpdateTime", condition.get("lastTransitionTime"))

        self.store.mutate(self._type("apps", "deployments"), namespace, name, change, uid)

    # ReplicaSets keep `replicas` pods alive.

    def _reconcile_replicaset(self, namespace: str, name: str) -> None:
        rs = self.store.find(("apps", "replicasets"), namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        uid = rs["metadata"]["uid"]
        spec = rs.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        selector = selector_from_object(spec.get("selector"))
        pods = [
            p
            for p in self._owned_pods(uid)
            if _active(p) and selector.matches(p["metadata"].get("labels"))
        ]
        pod_type = self._type("", "pods")
        template = spec.get("template") or {}
        for _ in range(replicas - len(pods)):
            self._create_pod(rs, template)
        if len(pods) > replicas:
            # Pending and not-ready pods go first, then the youngest, as the real controller does.
            doomed = sorted(
                pods,
                key=lambda p: (_ready(p), p["metadata"].get("creationTimestamp", "")),
            )
            for pod in doomed[: len(pods) - replicas]:
                try:
                    self.store.delete(pod_type, namespace, pod["metadata"]["name"])
                except ApiError:
                    continue
        live = [p for p in self._owned_pods(uid) if _active(p)]
        ready = sum(1 for p in live if _ready(p))
        generation = rs["metadata"].get("generation", 1)

        def change(obj: Obj) -> None:
            status: Obj = {"replicas": len(live), "observedGeneration": generation}
            if live:
                status["fullyLabeledReplicas"] = len(live)
            if ready:
                status["readyReplicas"] = ready
                status["availableReplicas"] = ready
            obj["status"] = status

        self.store.mutate(self._type("apps", "replicasets"), namespace, name, change, uid)

    # StatefulSets keep pods name-0 .. name-(n-1).

    def _reconcile_statefulset(self, namespace: str, name: str) -> None:
        sts = self.store.find(("apps", "statefulsets"), namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        uid = sts["metadata"]["uid"]
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        pod_type = self._type("", "pods")
        owned = {p["metadata"]["name"]: p for p in self._owned_pods(uid)}
        for index in range(replicas):
            pod_name = f"{name}-{index}"
            if pod_name in owned:
                continue
            labels = {
                "statefulset.kubernetes.io/pod-name": pod_name,
                "controller-revision-hash": revision,
                "apps.kubernetes.io/pod-index": str(index),
            }
            extra = {"subdomain": spec["serviceName"]} if spec.get("serviceName") else {}
            self._create_pod(sts, template, labels, pod_name, hostname=pod_name, **extra)
        for pod_name in owned:
            index_text = pod_name.rsplit("-", 1)[-1]
            if index_text.isdigit() and int(index_text) >= replicas:
                try:
                    self.store.delete(pod_type, namespace, pod_name)
                except ApiError:
                    continue
        live = [p for p in self._owned_pods(uid) if _active(p)]
        ready = sum(1 for p in live if _ready(p))
        generation = sts["metadata"].get("generation", 1)

        def change(obj: Obj) -> None:
            status: Obj = {
                "replicas": len(live),
                "currentReplicas": len(live),
                "updatedReplicas": len(live),
                "currentRevision": revision,
                "updateRevision": revision,
                "observedGeneration": generation,
                "collisionCount": 0,
            }
            if ready:
                status["readyReplicas"] = ready
                status["availableReplicas"] = ready
            obj["status"] = status

        self.store.mutate(self._type("apps", "statefulsets"), namespace, name, change, uid)

    # Claims bind to a volume their storage class provisions.

    def _default_class(self) -> Obj | None:
        for sc in self.store.objects(("storage.k8s.io", "storageclasses")):
            annotations = sc["metadata"].get("annotations") or {}
            if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None

    def _reconcile_pvc(self, namespace: str, name: str, consumer: bool = False) -> None:
        pvc = self.store.find(("", "persistentvolumeclaims"), namespace, name)
        if pvc is None or (pvc.get("status") or {}).get("phase") == "Bound":
            return
        spec = pvc.get("spec") or {}
        class_name = spec.get("storageClassName")
        if class_name is None:
            default = self._default_class()
            if default is None:
                return
            class_name = default["metadata"]["name"]
        if class_name == "":
            return
        sc = self.store.find(("storage.k8s.io", "storageclasses"), "", str(class_name))
        if sc is None:
            self.record_event(
                pvc,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
                "Warning",
                "persistentvolume-controller",
            )
            return
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not consumer:
            self.record_event(
                pvc,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                "Normal",
                "persistentvolume-controller",
            )
            return
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        access = spec.get("accessModes") or ["ReadWriteOnce"]
        volume_name = f"pvc-{pvc['metadata']['uid']}"
        if self.store.find(("", "persistentvolumes"), "", volume_name) is None:
            self.store.create(
                self._type("", "persistentvolumes"),
                "",
                {
                    "metadata": {
                        "name": volume_name,
                        "annotations": {
                            "pv.kubernetes.io/provisioned-by": str(sc.get("provisioner", ""))
                        },
                    },
                    "spec": {
                        "capacity": {"storage": storage},
                        "accessModes": access,
                        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                        "storageClassName": class_name,
                        "volumeMode": spec.get("volumeMode", "Filesystem"),
                        "hostPath": {"path": f"/var/lib/emulated-volumes/{volume_name}"},
                        "claimRef": {
                            "kind": "PersistentVolumeClaim",
                            "namespace": namespace,
                            "name": name,
                            "uid": pvc["metadata"]["uid"],
                            "apiVersion": "v1",
                        },
                    },
                    "status": {"phase": "Bound"},
                },
                keep_status=True,
            )

        def change(obj: Obj) -> None:
            obj["spec"]["storageClassName"] = class_name
            obj["spec"]["volumeName"] = volume_name
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations["pv.kubernetes.io/bind-completed"] = "yes"
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
            obj["status"] = {
                "phase": "Bound",
                "accessModes": access,
                "capacity": {"storage": storage},
            }

        self.store.mutate(self._type("", "persistentvolumeclaims"), namespace, name, change)

    # The scheduler and the kubelet.

    def _nodes(self) -> list[Obj]:
        return [
            n
            for n in self.store.objects(("", "nodes"))
            if not (n.get("spec") or {}).get("unschedulable")
        ]

    def _claim_problem(self, pod: Obj) -> tuple[str, list[tuple[str, str]]]:
        namespace = pod["metadata"]["namespace"]
        waiting: list[tuple[str, str]] = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.store.find(("", "persistentvolumeclaims"), namespace, str(claim))
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found', []
            if (pvc.get("status") or {}).get("phase") != "Bound":
                class_name = (pvc.get("spec") or {}).get("storageClassName")
                sc = (
                    self.store.find(("storage.k8s.io", "storageclasses"), "", str(class_name))
                    if class_name
                    else self._default_class()
                )
                if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                    waiting.append((namespace, str(claim)))
                    continue
                return "pod has unbound immediate PersistentVolumeClaims", []
        return "", waiting

    def _fit(self, pod: Obj, nodes: list[Obj]) -> tuple[Obj | None, str]:
        wanted = pod_requests(pod.get("spec") or {})
        short: dict[str, int] = {}
        for node in nodes:
            status = node.get("status") or {}
            allocatable = status.get("allocatable") or status.get("capacity") or {}
            totals = self._node_usage.get(
                node["metadata"]["name"], {"cpu": 0.0, "memory": 0.0, "pods": 0.0}
            )
            missing = [
                key
                for key in ("cpu", "memory")
                if wanted[key]
                and totals[key] + wanted[key] > quantity(allocatable.get(key, 0)) + 1e-9
            ]
            if totals["pods"] + 1 > quantity(allocatable.get("pods", 110)):
                missing.append("pods")
            if not missing:
                return node, ""
            for key in missing:
                short[key] = short.get(key, 0) + 1
        reasons = ", ".join(
            f"{count} Too many pods" if key == "pods" else f"{count} Insufficient {key}"
            for key, count in sorted(short.items())
        )
        return None, reasons

    def _reconcile_pod(self, namespace: str, name: str) -> None:
        pod = self.store.find(("", "pods"), namespace, name)
        key = (namespace, name)
        if pod is None or not _active(pod):
            self._unschedulable.discard(key)
            return
        spec = pod.get("spec") or {}
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if spec.get("nodeName") or phase != "Pending":
            self._unschedulable.discard(key)
            return
        if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        nodes = self._nodes()
        claim_problem, waiting_claims = self._claim_problem(pod)
        node: Obj | None = None
        if claim_problem:
            message = (
                f"0/{len(nodes)} nodes are available: {claim_problem}. preemption: 0/{len(nodes)} "
                f"nodes are available: {len(nodes)} Preemption is not helpful for scheduling."
            )
        elif not nodes:
            message = "no nodes available to schedule pods"
        else:
            node, reasons = self._fit(pod, nodes)
            message = (
                f"0/{len(nodes)} nodes are available: {reasons}. preemption: 0/{len(nodes)} nodes "
                f"are available: {len(nodes)} No preemption victims found for incoming pod."
            )
        uid = pod["metadata"]["uid"]
        pod_type = self._type("", "pods")
        if node is None:
            self._unschedulable.add(key)

            def unschedulable(obj: Obj) -> None:
                _set_condition(
                    obj.setdefault("status", {}), "PodScheduled", "False", "Unschedulable", message
                )

            self.store.mutate(pod_type, namespace, name, unschedulable, uid)
            self.record_event(pod, "FailedScheduling", message, "Warning", "default-scheduler")
            return
        self._unschedulable.discard(key)
        for claim_ns, claim in waiting_claims:
            self._reconcile_pvc(claim_ns, claim, consumer=True)
        node_name = node["metadata"]["name"]

        def bind(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node_name
            _set_condition(obj.setdefault("status", {}), "PodScheduled", "True")

        self.store.mutate(pod_type, namespace, name, bind, uid, bump_generation=False)
        self.record_event(
            pod,
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {node_name}",
            "Normal",
            "default-scheduler",
        )
        if self._loop is not None:
            self._loop.call_later(self.pod_start_delay, self._start_pod, namespace, name, uid, node)

    def _start_pod(self, namespace: str, name: str, uid: str, node: Obj) -> None:
        pod = self.store.find(("", "pods"), namespace, name)
        if pod is None or pod["metadata"].get("uid") != uid or not _active(pod):
            return
        if (pod.get("status") or {}).get("phase", "Pending") != "Pending":
            return
        self._ip += 1
        pod_ip = f"10.244.{(self._ip >> 8) & 255}.{self._ip & 255}"
        host_ip = next(
            (
                a.get("address")
                for a in (node.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "10.0.0.10",
        )
        now = now_rfc3339()
        spec = pod.get("spec") or {}

        def run(obj: Obj) -> None:
            status: Obj = obj.setdefault("status", {})
            status.update(phase="Running", hostIP=host_ip, podIP=pod_ip, startTime=now)
            status["hostIPs"] = [{"ip": host_ip}]
            status["podIPs"] = [{"ip": pod_ip}]
            for type_ in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            ):
                _set_condition(status, type_, "True")
            if spec.get("initContainers"):
                status["initContainerStatuses"] = [
                    {
                        "name": c["name"],
                        "image": c.get("image", ""),
                        "imageID": _image_id(c),
                        "containerID": f"containerd://{uuid.uuid4().hex}{uuid.uuid4().hex}",
                        "ready": True,
                        "started": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": 0,
                                "reason": "Completed",
                                "startedAt": now,
                                "finishedAt": now,
                            }
                        },
                        "lastState": {},
                    }
                    for c in spec["initContainers"]
                ]
            status["containerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": _image_id(c),
                    "containerID": f"containerd://{uuid.uuid4().hex}{uuid.uuid4().hex}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                    "lastState": {},
                }
                for c in spec.get("containers") or []
            ]

        if self.store.mutate(self._type("", "pods"), namespace, name, run, uid) is None:
            return
        for container in spec.get("containers") or []:
            self.record_event(
                pod,
                "Pulled",
                f'Container image "{container.get("image", "")}" already present on machine',
                "Normal",
                "kubelet",
                field_path=f"spec.containers{{{container['name']}}}",
            )
            self.record_event(
                pod,
                "Created",
                f"Created container {container['name']}",
                "Normal",
                "kubelet",
                field_path=f"spec.containers{{{container['name']}}}",
            )
            self.record_event(
                pod,
                "Started",
                f"Started container {container['name']}",
                "Normal",
                "kubelet",
                field_path=f"spec.containers{{{container['name']}}}",
            )
        annotations = pod["metadata"].get("annotations") or {}
        run_seconds = annotations.get(RUN_SECONDS)
        if run_seconds is not None and self._loop is not None:
            exit_code = int(annotations.get(EXIT_CODE, "0"))
            self._loop.call_later(
                float(run_seconds),
                lambda: finish_pod(self.store, self.registry, namespace, name, exit_code, uid),
            )

    # Jobs run pods to completion, replacing failed ones up to the backoff limit.

    def _reconcile_job(self, namespace: str, name: str) -> None:
        job = self.store.find(("batch", "jobs"), namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        uid = job["metadata"]["uid"]
        spec = job.get("spec") or {}
        status = job.get("status") or {}
        if any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in status.get("conditions") or []
        ):
            return
        pods = self._owned_pods(uid)
        phases = [(p.get("status") or {}).get("phase") for p in pods]
        succeeded = phases.count("Succeeded")
        failed = phases.count("Failed")
        active = [p for p in pods if _active(p)]
        completions = int(spec.get("completions", 1))
        parallelism = int(spec.get("parallelism", 1))
        backoff_limit = int(spec.get("backoffLimit", 6))
        now = now_rfc3339()
        finished: tuple[str, str, str] | None = None
        if succeeded >= completions:
            finished = (
                "Complete",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
        elif failed > backoff_limit:
            finished = (
                "Failed",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
        elif not spec.get("suspend"):
            template = spec.get("template") or {}
            wanted = min(parallelism, completions - succeeded) - len(active)
            for _ in range(max(0, wanted)):
                labels = {
                    "batch.kubernetes.io/controller-uid": uid,
                    "batch.kubernetes.io/job-name": name,
                    "controller-uid": uid,
                    "job-name": name,
                }
                self._create_pod(job, template, labels)
            active = [p for p in self._owned_pods(uid) if _active(p)]

        def change(obj: Obj) -> None:
            new_status: Obj = obj.setdefault("status", {})
            new_status.setdefault("startTime", now)
            new_status["active"] = len(active)
            new_status["ready"] = sum(1 for p in active if _ready(p))
            new_status["terminating"] = 0
            new_status["uncountedTerminatedPods"] = {}
            for key, value in (("succeeded", succeeded), ("failed", failed)):
                if value:
                    new_status[key] = value
            if not new_status["active"]:
                del new_status["active"]
            if finished is not None:
                type_, reason, message = finished
                criteria = "SuccessCriteriaMet" if type_ == "Complete" else "FailureTarget"
                conditions = new_status.setdefault("conditions", [])
                for condition_type in (criteria, type_):
                    conditions.append(
                        {
                            "type": condition_type,
                            "status": "True",
                            "reason": reason,
                            "message": message,
                            "lastProbeTime": now,
                            "lastTransitionTime": now,
                        }
                    )
                if type_ == "Complete":
                    new_status["completionTime"] = now

        self.store.mutate(self._type("batch", "jobs"), namespace, name, change, uid)
        if finished is not None and finished[0] == "Complete":
            self.record_event(job, "Completed", "Job completed", "Normal", "job-controller")
        elif finished is not None:
            self.record_event(job, finished[1], finished[2], "Warning", "job-controller")

    def record_event(
        self,
        about: Obj,
        reason: str,
        message: str,
        type_: str,
        component: str,
        field_path: str = "",
    ) -> None:
        """Record (or count up) a v1 Event about an object."""
        self.events.record(about, reason, message, type_, component, field_path)


class EventRecorder:
    """Writes v1 Events, counting up repeats of the same one, as the event recorder does."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        self._seen: dict[tuple[str, str, str, str], str] = {}

    def record(
        self,
        about: Obj,
        reason: str,
        message: str,
        type_: str,
        component: str,
        field_path: str = "",
    ) -> None:
        """Record (or count up) a v1 Event about an object."""
        meta = about["metadata"]
        namespace = str(meta.get("namespace") or "default")
        uid = str(meta.get("uid", ""))
        event_type = self.registry.lookup("", "v1", "events")
        assert event_type is not None
        now = now_rfc3339()
        key = (namespace, uid, reason, message)
        existing = self._seen.get(key)
        if existing is not None:

            def bump(obj: Obj) -> None:
                obj["count"] = int(obj.get("count", 1)) + 1
                obj["lastTimestamp"] = now

            if self.store.mutate(event_type, namespace, existing, bump) is not None:
                return
        involved_object: Obj = {
            "kind": about.get("kind"),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name"),
            "uid": uid,
            "apiVersion": about.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved_object["fieldPath"] = field_path
        source: Obj = {"component": component}
        if component == "kubelet":
            source["host"] = "emulated-node"
        name = f"{meta.get('name')}.{uuid.uuid4().hex[:16]}"
        try:
            self.store.create(
                event_type,
                namespace,
                {
                    "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": involved_object,
                    "reason": reason,
                    "message": message,
                    "source": source,
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                    "type": type_,
                    "eventTime": None,
                    "reportingComponent": component,
                    "reportingInstance": "",
                },
            )
        except ApiError:
            return
        self._seen[key] = name


__all__ = ["Controllers", "EventRecorder", "pod_requests", "quantity", "random_suffix"]
