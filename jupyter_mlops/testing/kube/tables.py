"""Server-side `Table` rendering, which kubectl asks for when it prints objects."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

from .resources import ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, int]  # name, type, priority


def human_duration(seconds: float) -> str:
    """Ages as kubectl shows them: 45s, 3m20s, 5h, 12d."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age(timestamp: str | None) -> str:
    """The age of an RFC 3339 timestamp, or <unknown>."""
    if not timestamp:
        return "<unknown>"
    try:
        moment = calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return "<unknown>"
    return human_duration(time.time() - moment)


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _pod_status(pod: Obj) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    if _meta(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_row(pod: Obj) -> list[Any]:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    gates = spec.get("readinessGates") or []
    return [
        _meta(pod).get("name"),
        f"{ready}/{len(spec.get('containers') or [])}",
        _pod_status(pod),
        str(restarts),
        age(_meta(pod).get("creationTimestamp")),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{len(gates)}/{len(gates)}" if gates else "<none>",
    ]


def _containers(obj: Obj) -> list[Obj]:
    template = (obj.get("spec") or {}).get("template") or {}
    return list((template.get("spec") or {}).get("containers") or [])


def _selector_text(obj: Obj) -> str:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _deployment_row(obj: Obj) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    return [
        _meta(obj).get("name"),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        age(_meta(obj).get("creationTimestamp")),
        ",".join(str(c.get("name")) for c in _containers(obj)),
        ",".join(str(c.get("image")) for c in _containers(obj)),
        _selector_text(obj),
    ]


def _replicaset_row(obj: Obj) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    return [
        _meta(obj).get("name"),
        int(spec.get("replicas", 0)),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        age(_meta(obj).get("creationTimestamp")),
        ",".join(str(c.get("name")) for c in _containers(obj)),
        ",".join(str(c.get("image")) for c in _containers(obj)),
        _selector_text(obj),
    ]


def _port_text(port: Obj) -> str:
    node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
    return f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}"


def _service_row(obj: Obj) -> list[Any]:
    spec = obj.get("spec") or {}
    ports = ",".join(_port_text(p) for p in spec.get("ports") or [])
    return [
        _meta(obj).get("name"),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        ",".join(spec.get("externalIPs") or []) or "<none>",
        ports or "<none>",
        age(_meta(obj).get("creationTimestamp")),
        ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>",
    ]


def _event_row(obj: Obj) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or _meta(obj).get("creationTimestamp")
    return [
        age(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        str(obj.get("message", "")).strip(),
    ]


def _node_row(obj: Obj) -> list[Any]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    roles = sorted(
        k.split("/", 1)[1]
        for k in (_meta(obj).get("labels") or {})
        if k.startswith("node-role.kubernetes.io/")
    )
    return [
        _meta(obj).get("name"),
        "Ready" if ready and ready.get("status") == "True" else "NotReady",
        ",".join(roles) or "<none>",
        age(_meta(obj).get("creationTimestamp")),
        ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""),
    ]


def _pvc_row(obj: Obj) -> list[Any]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    return [
        _meta(obj).get("name"),
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", ""),
        ",".join(
            {
                "ReadWriteOnce": "RWO",
                "ReadOnlyMany": "ROX",
                "ReadWriteMany": "RWX",
                "ReadWriteOncePod": "RWOP",
            }.get(m, m)
            for m in status.get("accessModes") or []
        ),
        spec.get("storageClassName") or "<unset>",
        "<unset>",
        age(_meta(obj).get("creationTimestamp")),
    ]


def _statefulset_row(obj: Obj) -> list[Any]:
    status = obj.get("status") or {}
    return [
        _meta(obj).get("name"),
        f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 0)}",
        age(_meta(obj).get("creationTimestamp")),
        ",".join(str(c.get("name")) for c in _containers(obj)),
        ",".join(str(c.get("image")) for c in _containers(obj)),
    ]


def _job_row(obj: Obj) -> list[Any]:
    status = obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = "Running"
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif (obj.get("spec") or {}).get("suspend"):
        state = "Suspended"
    return [
        _meta(obj).get("name"),
        state,
        f"{status.get('succeeded', 0)}/{(obj.get('spec') or {}).get('completions', 1)}",
        age(status.get("startTime")) if status.get("startTime") else "",
        age(_meta(obj).get("creationTimestamp")),
    ]


def _count_data(obj: Obj) -> int:
    return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})


_PRINTERS: dict[tuple[str, str], tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    ("", "pods"): (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        _pod_row,
    ),
    ("apps", "deployments"): (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _deployment_row,
    ),
    ("apps", "replicasets"): (
        [
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _replicaset_row,
    ),
    ("apps", "statefulsets"): (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ],
        _statefulset_row,
    ),
    ("batch", "jobs"): (
        [
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            ("Age", "string", 0),
        ],
        _job_row,
    ),
    ("", "services"): (
        [
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ],
        _service_row,
    ),
    ("", "events"): (
        [
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ],
        _event_row,
    ),
    ("", "nodes"): (
        [
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
        ],
        _node_row,
    ),
    ("", "namespaces"): (
        [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
        lambda o: [
            _meta(o).get("name"),
            (o.get("status") or {}).get("phase", ""),
            age(_meta(o).get("creationTimestamp")),
        ],
    ),
    ("", "persistentvolumeclaims"): (
        [
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            ("Age", "string", 0),
        ],
        _pvc_row,
    ),
    ("", "configmaps"): (
        [("Name", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
        lambda o: [_meta(o).get("name"), _count_data(o), age(_meta(o).get("creationTimestamp"))],
    ),
    ("", "secrets"): (
        [
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        lambda o: [
            _meta(o).get("name"),
            o.get("type", ""),
            _count_data(o),
            age(_meta(o).get("creationTimestamp")),
        ],
    ),
}


def _json_path(obj: Obj, path: str) -> Any:
    node: Any = obj
    for step in path.strip().lstrip(".").split("."):
        if not step:
            continue
        if isinstance(node, dict):
            node = node.get(step)
        else:
            return None
    return node


def _columns_and_row(rt: ResourceType) -> tuple[list[Column], Callable[[Obj], list[Any]]]:
    printer = _PRINTERS.get(rt.key)
    if printer is not None:
        return printer
    if rt.printer_columns:
        columns: list[Column] = [("Name", "string", 0)]
        columns += [
            (name, "string" if kind == "date" else kind, 0) for name, kind, _ in rt.printer_columns
        ]
        specs = rt.printer_columns

        def row(obj: Obj) -> list[Any]:
            cells: list[Any] = [_meta(obj).get("name")]
            for _name, kind, path in specs:
                value = _json_path(obj, path)
                cells.append(age(value) if kind == "date" and isinstance(value, str) else value)
            return cells

        return columns, row
    return [("Name", "string", 0), ("Age", "string", 0)], lambda o: [
        _meta(o).get("name"),
        age(_meta(o).get("creationTimestamp")),
    ]


def column_definitions(rt: ResourceType) -> list[Obj]:
    """The `columnDefinitions` of a Table of this kind."""
    columns, _row = _columns_and_row(rt)
    return [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": f"{name} of the {rt.kind}",
            "priority": priority,
        }
        for name, kind, priority in columns
    ]


def table_row(rt: ResourceType, obj: Obj, include: str) -> Obj:
    """One row; `include` is the includeObject query value (None, Metadata, Object)."""
    _columns, row = _columns_and_row(rt)
    entry: Obj = {"cells": row(obj)}
    if include == "Object":
        entry["object"] = obj
    elif include != "None":
        entry["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {}),
        }
    return entry


def table(
    rt: ResourceType,
    objects: list[Obj],
    include: str,
    resource_version: str,
    continue_token: str = "",
    with_columns: bool = True,
) -> Obj:
    """A meta.k8s.io/v1 Table of objects."""
    metadata: Obj = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(rt) if with_columns else None,
        "rows": [table_row(rt, obj, include) for obj in objects],
    }
