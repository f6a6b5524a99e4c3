"""`describe`: an object with its conditions, containers, events and a plain-words diagnosis.

The diagnosis answers the questions people otherwise piece together from `kubectl describe`:
why a pod stays Pending (no node has the CPU it asks for; its claim is unbound because the
cluster has no default StorageClass), why it restarts, why an image does not pull. It is the
doctor's (`jupyter_mlops.kube.doctor`): `diagnosis` holds the findings' summaries, `findings`
the findings themselves, so every surface says the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Forbidden, MLOpsError
from .cluster import Cluster, Obj
from .kinds import Kind
from .rows import row

if TYPE_CHECKING:
    from .watch import WatchCache

#: Kinds the doctor has rules for; any other gets an empty diagnosis.
DIAGNOSED = {
    "pods",
    "persistentvolumeclaims",
    "deployments",
    "replicasets",
    "statefulsets",
    "jobs",
    "notebooks",
    "inferenceservices",
    "trials",
    "experiments",
}


def describe(
    cluster: Cluster,
    kind: str | Kind,
    name: str,
    namespace: str | None = None,
    *,
    cache: WatchCache | None = None,
) -> Obj:
    """Everything a user needs to understand one object's state, as plain data.

    With `cache`, the diagnosis reads the informers the views already run and asks the API
    (one object, its events by field selector) for the rest: it starts no watch.
    """
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
        "findings": [],
    }
    if k.plural in DIAGNOSED:
        findings = _findings(cluster, cache, k, obj, events, meta.get("namespace") or namespace)
        answer["diagnosis"] = [f["summary"] for f in findings]
        answer["findings"] = findings
    return answer


def _findings(
    cluster: Cluster,
    cache: WatchCache | None,
    kind: Kind,
    obj: Obj,
    events: list[Obj],
    namespace: str | None,
) -> list[Obj]:
    from .doctor import ClusterSource, RunningFirst, examine_object

    name = str((obj.get("metadata") or {}).get("name"))
    known = {_key(obj): events}
    # One object shown: what the views already watch, else targeted requests (no new watch).
    where = RunningFirst(cache, known) if cache is not None else ClusterSource(cluster, known)
    try:
        report = examine_object(where, kind, name, namespace)
    except MLOpsError:
        return []  # the object's details still help; the diagnosis is what could not be read
    return [f.model_dump(mode="json") for f in report.findings]


def _key(obj: Obj) -> tuple[str, str]:
    return (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name")))


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
