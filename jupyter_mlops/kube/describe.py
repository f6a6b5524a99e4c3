"""`describe`: an object with its conditions, containers, events and a plain-words diagnosis.

The diagnosis answers the questions people otherwise piece together from `kubectl describe`:
why a pod stays Pending (no node has the CPU it asks for; its claim is unbound because the
cluster has no default StorageClass), why it restarts, why an image does not pull.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Forbidden
from .cluster import Cluster, Obj, event_time
from .kinds import Kind
from .rows import row

_INSUFFICIENT = re.compile(r"Insufficient ([a-z0-9][-a-z0-9./]*[a-z0-9])")


def describe(cluster: Cluster, kind: str | Kind, name: str, namespace: str | None = None) -> Obj:
    """Everything a user needs to understand one object's state, as plain data."""
    k = kind if isinstance(kind, Kind) else cluster.kind(kind)
    obj = cluster.get(k, name, namespace)
    meta = obj.get("metadata") or {}
    try:
        events = cluster.events(meta.get("namespace") or namespace, involving=obj)
    except Forbidden:
        events = []  # events are context, not the answer: show the object without them
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    answer: Obj = {
        "kind": obj.get("kind", k.kind),
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "row": row(k.plural, obj),
        "labels": meta.get("labels") or {},
        "annotations": {
            key: value
            for key, value in (meta.get("annotations") or {}).items()
            if key != "kubectl.kubernetes.io/last-applied-configuration"
        },
        "created": meta.get("creationTimestamp"),
        "owners": [f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or []],
        "conditions": [
            {
                "type": c.get("type"),
                "status": c.get("status"),
                "reason": c.get("reason"),
                "message": c.get("message"),
                "last_transition": c.get("lastTransitionTime"),
            }
            for c in (status or {}).get("conditions") or []
            if isinstance(c, dict)
        ],
        "containers": _containers(obj) if k.plural == "pods" else [],
        "events": [row("events", e) for e in events],
        "diagnosis": [],
    }
    if k.plural == "pods":
        answer["diagnosis"] = diagnose_pod(cluster, obj, events)
    elif k.plural == "persistentvolumeclaims":
        answer["diagnosis"] = diagnose_claim(cluster, obj, events)
    return answer


def _containers(pod: Obj) -> list[Obj]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    states = {
        c.get("name"): c
        for c in (status.get("containerStatuses") or [])
        + (status.get("initContainerStatuses") or [])
    }
    out = []
    for init, containers in ((True, spec.get("initContainers") or []), (False, spec["containers"])):
        for c in containers:
            state_of = states.get(c.get("name"), {})
            state = state_of.get("state") or {}
            word = next(iter(state), "waiting")
            detail = state.get(word) or {}
            last = (state_of.get("lastState") or {}).get("terminated")
            out.append(
                {
                    "name": c.get("name"),
                    "init": init,
                    "image": c.get("image"),
                    "image_id": state_of.get("imageID"),
                    "state": word,
                    "reason": detail.get("reason"),
                    "message": detail.get("message"),
                    "started": detail.get("startedAt"),
                    "ready": bool(state_of.get("ready")),
                    "restarts": int(state_of.get("restartCount") or 0),
                    "last_termination": (
                        {
                            "reason": last.get("reason"),
                            "exit_code": last.get("exitCode"),
                            "finished": last.get("finishedAt"),
                            "message": last.get("message"),
                        }
                        if last
                        else None
                    ),
                    "requests": (c.get("resources") or {}).get("requests") or {},
                    "limits": (c.get("resources") or {}).get("limits") or {},
                }
            )
    return out


def diagnose_pod(cluster: Cluster, pod: Obj, events: list[Obj]) -> list[str]:
    """Why the pod is not running, in sentences a user can act on."""
    found: list[str] = []
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    latest = sorted(events, key=event_time)
    scheduling = [e for e in latest if e.get("reason") == "FailedScheduling"]
    if status.get("phase") == "Pending" and scheduling:
        message = str(scheduling[-1].get("message", ""))
        resources = sorted(set(_INSUFFICIENT.findall(message)))
        if resources:
            asked = _requests(spec)
            wants = ", ".join(f"{r} {asked.get(r, '?')}" for r in resources)
            found.append(
                f"No node has enough {' and '.join(resources)} free for this pod (it requests "
                f"{wants}). Ask for less in the notebook or job spec, or free capacity: "
                f"the scheduler said: {message}"
            )
        if "unbound immediate PersistentVolumeClaims" in message:
            found.append(
                "A volume claim of this pod is not bound, so it cannot be scheduled. "
                "See the claim's own diagnosis below."
            )
        if not found:
            found.append(f"The scheduler cannot place this pod: {message}")
    for volume in spec.get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and status.get("phase") == "Pending":
            try:
                pvc = cluster.get("persistentvolumeclaims", claim, pod["metadata"].get("namespace"))
            except Exception:
                continue
            if (pvc.get("status") or {}).get("phase") != "Bound":
                found.extend(diagnose_claim(cluster, pvc, []))
    for c in status.get("containerStatuses") or []:
        waiting = (c.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        last = (c.get("lastState") or {}).get("terminated") or {}
        if reason in ("ImagePullBackOff", "ErrImagePull"):
            found.append(
                f"Container {c.get('name')} cannot pull its image {c.get('image')!r}: check the "
                f"name and tag, and the registry credentials. {waiting.get('message', '')}".strip()
            )
        elif reason == "CrashLoopBackOff":
            why = last.get("reason") or "an error"
            code = last.get("exitCode")
            hint = " It ran out of memory: raise its memory limit." if why == "OOMKilled" else ""
            found.append(
                f"Container {c.get('name')} keeps crashing ({why}, exit code {code}, "
                f"{c.get('restartCount', 0)} restarts). Read its previous log.{hint}"
            )
    return found


def diagnose_claim(cluster: Cluster, pvc: Obj, events: list[Obj]) -> list[str]:
    """Why a PersistentVolumeClaim stays Pending."""
    if (pvc.get("status") or {}).get("phase") == "Bound":
        return []
    name = (pvc.get("metadata") or {}).get("name")
    storage_class = (pvc.get("spec") or {}).get("storageClassName")
    if storage_class:
        return [
            f"Claim {name} waits for a volume of StorageClass {storage_class!r}: check that the "
            "class exists and that its provisioner runs."
        ]
    # Had the cluster a default StorageClass when the claim was made, the API server would
    # have written its name into the claim; an empty one means there was none.
    found = (
        f"Claim {name} names no StorageClass and none was filled in when it was created, so "
        "the cluster had no default StorageClass: no volume will ever be provisioned for it. "
        "Ask an administrator to mark a StorageClass as default (kubectl patch storageclass "
        'NAME -p \'{"metadata": {"annotations": {"storageclass.kubernetes.io/'
        'is-default-class": "true"}}}\') and create the claim again, or set '
        "storageClassName on the claim."
    )
    try:
        classes = cluster.list_all("storageclasses").items
    except Forbidden:
        return [found]  # a namespace editor may not list classes; the inference stands
    defaults = [c["metadata"]["name"] for c in classes if row("storageclasses", c)["default"]]
    names = ", ".join(c["metadata"]["name"] for c in classes) or "none"
    now = f"default now: {defaults[0]}" if defaults else "still no default"
    return [f"{found} (StorageClasses: {names}; {now}.)"]


def _requests(spec: Obj) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for c in spec.get("containers") or []:
        for key, value in ((c.get("resources") or {}).get("requests") or {}).items():
            total.setdefault(key, value)
    return total
