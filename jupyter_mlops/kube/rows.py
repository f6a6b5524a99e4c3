"""One table row per object, with the columns `kubectl get` shows, for tables and the sidebar.

A row is a flat dict of short values; `status` is the word a user scans for and `health` says
how to colour it (ok, progress, warning, error, done).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

Obj = dict[str, Any]
Row = dict[str, Any]

COLUMNS: dict[str, tuple[str, ...]] = {
    "pods": ("name", "ready", "status", "restarts", "age", "node"),
    "deployments": ("name", "ready", "up_to_date", "available", "age"),
    "replicasets": ("name", "desired", "current", "ready", "age"),
    "statefulsets": ("name", "ready", "age"),
    "jobs": ("name", "status", "completions", "duration", "age"),
    "cronjobs": ("name", "schedule", "suspend", "active", "last_schedule", "age"),
    "services": ("name", "type", "cluster_ip", "external_ip", "ports", "age"),
    "persistentvolumeclaims": ("name", "status", "volume", "capacity", "storage_class", "age"),
    "persistentvolumes": ("name", "capacity", "status", "claim", "storage_class", "age"),
    "events": ("last_seen", "type", "reason", "object", "message"),
    "configmaps": ("name", "keys", "age"),
    "secrets": ("name", "type", "keys", "age"),
    "serviceaccounts": ("name", "age"),
    "storageclasses": ("name", "provisioner", "default", "binding_mode", "age"),
    "nodes": ("name", "status", "roles", "cpu", "memory", "version", "age"),
    "namespaces": ("name", "status", "age"),
}
GENERIC_COLUMNS = ("name", "status", "age")


def columns(plural: str) -> tuple[str, ...]:
    return COLUMNS.get(plural, GENERIC_COLUMNS)


def row(plural: str, obj: Obj, now: dt.datetime | None = None) -> Row:
    """The table row of one object of kind `plural`."""
    meta = obj.get("metadata") or {}
    base: Row = {
        "uid": meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}",
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace"),
        "age": age(meta.get("creationTimestamp"), now),
        "created": meta.get("creationTimestamp"),
        "resource_version": meta.get("resourceVersion"),
        "deleting": bool(meta.get("deletionTimestamp")),
    }
    base.update(_SUMMARIES.get(plural, _generic)(obj))
    return base


def age(timestamp: str | None, now: dt.datetime | None = None) -> str:
    """`5s`, `3m`, `2h`, `4d` since an RFC 3339 time, as kubectl prints it."""
    then = parse_time(timestamp)
    return "" if then is None else age_since(then, now)


def parse_time(timestamp: str | None) -> dt.datetime | None:
    """An RFC 3339 time, or None when there is none or it does not parse."""
    if not timestamp:
        return None
    try:
        return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def age_since(then: dt.datetime, now: dt.datetime | None = None) -> str:
    """`age` of a time already parsed (a row index parses each object's once)."""
    seconds = int(((now or dt.datetime.now(dt.timezone.utc)) - then).total_seconds())
    if seconds < 0:
        return "0s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def pod_status(obj: Obj) -> tuple[str, int, int, int]:
    """(STATUS, ready, total, restarts) of a pod, worked out as `kubectl get pod` does."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = status.get("phase") or "Pending"
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    # Sidecars (init containers that restart always) count among the pod's containers.
    sidecars = {name for name, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    initializing = False
    for index, c in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(c.get("restartCount") or 0)
        sidecar = c.get("name") in sidecars
        if sidecar:
            sidecar_restarts += int(c.get("restartCount") or 0)
            ready += 1 if c.get("ready") else 0
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and c.get("started"):
            continue
        if terminated is not None:
            reason = "Init:" + _ended(terminated)
        elif waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or _condition(status, "Initialized"):
        restarts = sidecar_restarts
        running = False
        for c in reversed(status.get("containerStatuses") or []):
            restarts += int(c.get("restartCount") or 0)
            state = c.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = str(terminated.get("reason") or "") or _ended(terminated)
            elif c.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition(status, "Ready") else "NotReady"
    deleting = (obj.get("metadata") or {}).get("deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, restarts


def _ended(terminated: Obj) -> str:
    """kubectl's word for a container that ended without a reason: its signal or exit code."""
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{int(terminated.get('exitCode') or 0)}"


def _condition(status: Obj, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or []
    )


_PROGRESS = {"Pending", "ContainerCreating", "PodInitializing", "Terminating", "SchedulingGated"}


def _pod_health(word: str, ready: int, total: int, obj: Obj) -> str:
    if word == "Running":
        whole = ready == total or _condition(obj.get("status") or {}, "Ready")
        return "ok" if whole else "progress"
    if word in ("Completed", "Succeeded"):
        return "done"
    if word == "Pending":
        status = obj.get("status") or {}
        unschedulable = any(
            c.get("type") == "PodScheduled" and c.get("status") == "False"
            for c in status.get("conditions") or []
        )
        return "error" if unschedulable else "progress"
    if word in _PROGRESS or (word.startswith("Init:") and word[5:6].isdigit()):
        return "progress"
    if word == "NotReady":
        return "warning"
    return "error"


def _pod(obj: Obj) -> Row:
    spec = obj.get("spec") or {}
    word, ready, total, restarts = pod_status(obj)
    return {
        "ready": f"{ready}/{total}",
        "status": word,
        "health": _pod_health(word, ready, total, obj),
        "restarts": restarts,
        "node": spec.get("nodeName") or "",
        "containers": [c.get("name") for c in spec.get("containers") or []],
    }


def _replicated(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1) or 0)
    ready = int(status.get("readyReplicas") or 0)
    health = "ok" if ready == want else ("progress" if ready < want else "warning")
    return {
        "ready": f"{ready}/{want}",
        "replicas": want,
        "up_to_date": int(status.get("updatedReplicas") or 0),
        "available": int(status.get("availableReplicas") or 0),
        "desired": want,
        "current": int(status.get("replicas") or 0),
        "status": "Ready" if ready == want else "Progressing",
        "health": health,
    }


def _job(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Failed") == "True":
        word, health = "Failed", "error"
    elif conditions.get("Complete") == "True":
        word, health = "Complete", "done"
    else:
        word, health = "Running", "progress"
    start, end = status.get("startTime"), status.get("completionTime")
    duration = ""
    if start and end:
        duration = age(start, dt.datetime.fromisoformat(end.replace("Z", "+00:00")))
    return {
        "status": word,
        "health": health,
        "completions": f"{status.get('succeeded') or 0}/{spec.get('completions', 1)}",
        "duration": duration,
    }


def _cronjob(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "schedule": spec.get("schedule", ""),
        "suspend": bool(spec.get("suspend")),
        "active": len(status.get("active") or []),
        "last_schedule": age(status.get("lastScheduleTime")),
        "status": "Suspended" if spec.get("suspend") else "Active",
        "health": "ok",
    }


def _service(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    if not external:
        external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    ports = ",".join(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/"
        f"{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )
    return {
        "type": spec.get("type", "ClusterIP"),
        "cluster_ip": spec.get("clusterIP", ""),
        "external_ip": external,
        "ports": ports,
        "status": spec.get("type", "ClusterIP"),
        "health": "ok",
    }


def _pvc(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = status.get("phase") or "Pending"
    return {
        "status": phase,
        "health": {"Bound": "ok", "Pending": "warning", "Lost": "error"}.get(phase, "warning"),
        "volume": spec.get("volumeName", ""),
        "capacity": (status.get("capacity") or {}).get("storage", ""),
        "storage_class": spec.get("storageClassName") or "",
        "access_modes": spec.get("accessModes") or [],
    }


def _pv(obj: Obj) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef") or {}
    phase = status.get("phase") or "Available"
    return {
        "capacity": (spec.get("capacity") or {}).get("storage", ""),
        "status": phase,
        "health": {"Bound": "ok", "Available": "ok", "Failed": "error"}.get(phase, "warning"),
        "claim": f"{claim.get('namespace')}/{claim.get('name')}" if claim else "",
        "storage_class": spec.get("storageClassName") or "",
    }


def _event(obj: Obj) -> Row:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    type_ = obj.get("type", "Normal")
    when = (
        obj.get("lastTimestamp")
        or obj.get("eventTime")
        or (obj.get("metadata") or {}).get("creationTimestamp")
    )
    return {
        "last_seen": age(when),
        "time": when,
        "type": type_,
        "reason": obj.get("reason", ""),
        "object": f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        "involved_kind": involved.get("kind"),
        "involved_name": involved.get("name"),
        "message": obj.get("message") or obj.get("note") or "",
        "count": obj.get("count") or (obj.get("series") or {}).get("count") or 1,
        "status": type_,
        "health": "warning" if type_ == "Warning" else "ok",
    }


def _configmap(obj: Obj) -> Row:
    keys = sorted([*(obj.get("data") or {}), *(obj.get("binaryData") or {})])
    return {"keys": keys, "status": f"{len(keys)} keys", "health": "ok"}


def _secret(obj: Obj) -> Row:
    # Names of keys only: a secret's values never leave the server.
    keys = sorted([*(obj.get("data") or {}), *(obj.get("stringData") or {})])
    return {"type": obj.get("type", "Opaque"), "keys": keys, "status": "", "health": "ok"}


def _storageclass(obj: Obj) -> Row:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    default = (
        annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
        or annotations.get("storageclass.beta.kubernetes.io/is-default-class") == "true"
    )
    return {
        "provisioner": obj.get("provisioner", ""),
        "default": default,
        "binding_mode": obj.get("volumeBindingMode", "Immediate"),
        "status": "default" if default else "",
        "health": "ok",
    }


def _node(obj: Obj) -> Row:
    status = obj.get("status") or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    roles = sorted(
        k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")
    ) or ["<none>"]
    allocatable = status.get("allocatable") or {}
    return {
        "status": "Ready" if ready else "NotReady",
        "health": "ok" if ready else "error",
        "roles": ",".join(roles),
        "cpu": allocatable.get("cpu", ""),
        "memory": allocatable.get("memory", ""),
        "version": (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
    }


def _namespace(obj: Obj) -> Row:
    phase = (obj.get("status") or {}).get("phase", "Active")
    return {"status": phase, "health": "ok" if phase == "Active" else "progress"}


def _generic(obj: Obj) -> Row:
    """Custom resources: the Ready condition or a state field, whichever the kind has."""
    status = obj.get("status") or {}
    if not isinstance(status, dict):
        return {"status": "", "health": "ok"}
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") in ("Ready", "Succeeded", "Running"):
            ok = cond.get("status") == "True"
            word = cond["type"] if ok else (cond.get("reason") or f"Not{cond['type']}")
            return {"status": word, "health": "ok" if ok else "warning"}
    for key in ("phase", "state", "applicationState"):
        value = status.get(key)
        if isinstance(value, dict):
            value = value.get("state")
        if isinstance(value, str) and value:
            lowered = value.lower()
            bad = any(w in lowered for w in ("fail", "error"))
            return {"status": value, "health": "error" if bad else "ok"}
    return {"status": "", "health": "ok"}


_SUMMARIES: dict[str, Callable[[Obj], Row]] = {
    "pods": _pod,
    "deployments": _replicated,
    "replicasets": _replicated,
    "statefulsets": _replicated,
    "jobs": _job,
    "cronjobs": _cronjob,
    "services": _service,
    "persistentvolumeclaims": _pvc,
    "persistentvolumes": _pv,
    "events": _event,
    "configmaps": _configmap,
    "secrets": _secret,
    "storageclasses": _storageclass,
    "nodes": _node,
    "namespaces": _namespace,
}


#: Kinds whose rows have times relative to now besides `age` (`duration`, `last_schedule`,
#: `last_seen`): their rows are made again when read; other kinds' rows only get their `age`.
OTHER_TIMES = frozenset({"jobs", "cronjobs", "events"})
#: Seconds a whole-table array is shared while nothing changes: its ages are that old at most
#: (the browser works ages out from `created` itself; a page's ages are always exact).
ARRAY_TTL = 5.0
# Stands for the age in an encoded row, which is split around it once.
_AGE = json.dumps("\x00age\x00")


@dataclass
class RowCounters:
    """What the row indexes did (tests and benchmarks read these): views read, rows made
    and encoded (once per object version), whole-table arrays joined."""

    snapshots: int = 0
    rows: int = 0
    arrays: int = 0


class _Entry:
    """One object's row, encoded once as the JSON around its age."""

    __slots__ = ("created", "head", "key", "obj", "search", "tail", "version")

    def __init__(self, key: tuple[str, str, str], version: str, obj: Obj, made: Row) -> None:
        self.key, self.version, self.obj = key, version, obj
        self.created = parse_time(made.get("created"))
        self.search = f"{made['name']} {made.get('status', '')}".lower()
        head, found, tail = json.dumps({**made, "age": "\x00age\x00"}).partition(_AGE)
        # A row without an age (none today) is kept whole.
        self.head: str = head if found else json.dumps(made)
        self.tail: str | None = tail if found else None


class RowIndex:
    """An informer's rows in name order, kept current from its events (one per informer).

    The informer calls `reset` and `apply` under its own lock, so the rows always match its
    objects. A change makes and encodes only its own row and moves it into place by bisection,
    never sorting the whole table. Readers take a `RowView`: the order at that moment, shared
    (copied only when a change comes while a view holds it); ages are written as a row is read.
    """

    def __init__(self, plural: str, make_row: Callable[[Obj], Row], counters: RowCounters) -> None:
        self.plural, self.make_row, self.counters = plural, make_row, counters
        self._entries: dict[str, _Entry] = {}
        self._keys: list[tuple[str, str, str]] = []
        self._order: list[_Entry] = []
        self._shared = False
        self._lock = threading.Lock()
        #: Moves on with every change of a row: an array joined at one count stays right.
        self.changes = 0
        self._array: tuple[int, float, str] | None = None
        self._array_lock = threading.Lock()

    def _entry(self, uid: str, obj: Obj) -> _Entry:
        made = self.make_row(obj)
        self.counters.rows += 1
        key = (str(made.get("name") or ""), str(made.get("namespace") or ""), uid)
        return _Entry(key, version_of(obj), obj, made)

    def reset(self, objects: dict[str, Obj]) -> None:
        """All rows from a list (the first, or a relist that changed much): sorted once."""
        known = self._entries
        entries: dict[str, _Entry] = {}
        for uid, obj in objects.items():
            old = known.get(uid)
            same = old is not None and bool(old.version) and old.version == version_of(obj)
            entries[uid] = old if same and old is not None else self._entry(uid, obj)
        order = sorted(entries.values(), key=lambda e: e.key)
        with self._lock:
            self._entries, self._order = entries, order
            self._keys = [e.key for e in order]
            self._shared = False
            self.changes += 1

    def apply(self, type_: str, uid: str, obj: Obj) -> None:
        """One event's change: the row made again, or removed, in its place."""
        entry = None if type_ == "DELETED" else self._entry(uid, obj)
        with self._lock:
            if self._shared:
                self._order, self._shared = list(self._order), False
            old = self._entries.pop(uid, None)
            if old is not None:
                at = bisect.bisect_left(self._keys, old.key)
                if entry is not None and entry.key == old.key:
                    self._order[at] = entry
                    self._entries[uid] = entry
                    self.changes += 1
                    return
                del self._keys[at], self._order[at]
            if entry is not None:
                at = bisect.bisect_left(self._keys, entry.key)
                self._keys.insert(at, entry.key)
                self._order.insert(at, entry)
                self._entries[uid] = entry
            self.changes += 1

    def view(self) -> RowView:
        with self._lock:
            self._shared = True
            self.counters.snapshots += 1
            return RowView(self, self._order, self.changes)

    def current(self, uid: str, version: str) -> str | None:
        """The encoded row of this version of an object, if it is the one in the index."""
        with self._lock:
            entry = self._entries.get(uid)
        if entry is None or not version or entry.version != version:
            return None
        return self.encode(entry, dt.datetime.now(dt.timezone.utc))

    def encode(self, entry: _Entry, now: dt.datetime) -> str:
        if self.plural in OTHER_TIMES:
            return json.dumps(self.make_row(entry.obj))
        if entry.tail is None:
            return entry.head
        written = "" if entry.created is None else age_since(entry.created, now)
        return entry.head + '"' + written + '"' + entry.tail

    def array(self, view: RowView) -> str:
        """Every row of `view` as one JSON array, joined once per change and then shared."""
        with self._array_lock:
            cached = self._array
            if (
                cached is not None
                and cached[0] == view.changes
                and time.monotonic() - cached[1] < ARRAY_TTL
            ):
                return cached[2]
            text = "[" + ",".join(view.encoded) + "]"
            self.counters.arrays += 1
            self._array = (view.changes, time.monotonic(), text)
            return text


class RowView:
    """The rows of an index at one moment, in name order; `encoded` writes ages as read."""

    def __init__(self, index: RowIndex, order: list[_Entry], changes: int) -> None:
        self.index, self.changes = index, changes
        self._order = order
        self.encoded = EncodedRows(index, order)

    def matching(self, text: str) -> list[int]:
        """Positions of the rows whose name or status contains `text` (lower case)."""
        return [i for i, entry in enumerate(self._order) if text in entry.search]

    def array(self) -> str:
        return self.index.array(self)


class EncodedRows(Sequence[str]):
    """The encoded rows of a view; only the rows taken are given their age (now)."""

    def __init__(self, index: RowIndex, order: list[_Entry]) -> None:
        self._index, self._order = index, order
        self._now = dt.datetime.now(dt.timezone.utc)

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, at: int) -> str: ...

    @overload
    def __getitem__(self, at: slice) -> list[str]: ...

    def __getitem__(self, at: int | slice) -> str | list[str]:
        if isinstance(at, slice):
            return [self._index.encode(e, self._now) for e in self._order[at]]
        return self._index.encode(self._order[at], self._now)


def version_of(obj: Obj) -> str:
    """An object's resourceVersion, or "" when it has none."""
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
