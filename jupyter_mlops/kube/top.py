"""The rows of `%k8s top [pods|me|quota|gpus|volumes]`: kubectl top's columns (NAME,
CPU(cores), MEMORY(bytes)) beside requests and limits, and the quota, GPU and volume views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .quantity import amount, cores, mebibytes
from .resources import (
    Amounts,
    PodResources,
    gpus,
    my_pod,
    namespace_pods,
    next_pod_hits,
    pod_size,
    quota_lines,
    volumes,
)
from .watch import WatchCache

Row = dict[str, Any]
SPENT = ("cpu_requests", "cpu_limits", "memory_requests", "memory_limits")
USE = ("cpu(cores)", "memory(bytes)")


@dataclass
class TopView:
    """A table's columns and rows, what to say above it, and what to say when it is empty."""

    columns: list[str]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    empty: str = "No resources found."


def _cpu(values: Amounts | None) -> str:
    return cores(values["cpu"]) if values and "cpu" in values else "-"


def _memory(values: Amounts | None) -> str:
    return mebibytes(values["memory"]) if values and "memory" in values else "-"


def _spent(pod: PodResources | None) -> Row:
    if pod is None:
        return dict.fromkeys(SPENT, "-")
    return {
        "cpu_requests": _cpu(pod.requests),
        "cpu_limits": _cpu(pod.limits),
        "memory_requests": _memory(pod.requests),
        "memory_limits": _memory(pod.limits),
    }


def _pods(cache: WatchCache, namespace: str | None) -> TopView:
    pods, metrics = namespace_pods(cache, namespace)
    rows = [
        {
            "name": p.name,
            "cpu(cores)": _cpu(p.usage),
            "memory(bytes)": _memory(p.usage),
            **_spent(p),
        }
        for p in pods
    ]
    notes = [] if metrics.served or not metrics.note else [metrics.note]
    where = namespace or cache.cluster.namespace
    return TopView(["name", *USE, *SPENT], rows, notes, f"No pods found in namespace {where}.")


def _me(cache: WatchCache | None) -> TopView:
    mine = my_pod(cache)
    use = mine.usage
    row: Row = {
        "name": mine.name or "(this kernel)",
        "cpu(cores)": cores(use.cpu_cores) if use.cpu_cores is not None else "-",
        "memory(bytes)": mebibytes(use.memory_bytes) if use.memory_bytes is not None else "-",
        **_spent(mine.pod),
        "cgroup": f"v{use.cgroup_version}" if use.cgroup_version else "-",
    }
    notes = [mine.note] if mine.note else []
    if use.memory_limit_bytes is not None:
        notes.append(f"the cgroup's memory limit is {mebibytes(use.memory_limit_bytes)}")
    return TopView(["name", *USE, *SPENT, "cgroup"], [row], notes)


def _quota(cache: WatchCache, namespace: str | None, size: str | None) -> TopView:
    rows: list[Row] = [
        {
            "quota": q.quota,
            "resource": q.resource,
            "used": amount(q.resource, q.used),
            "hard": amount(q.resource, q.hard),
            "free": amount(q.resource, q.free),
        }
        for q in quota_lines(cache, namespace)
    ]
    notes = []
    if size is not None:
        hits = next_pod_hits(cache, pod_size(size), namespace=namespace)
        notes = [f"a pod of {size} would be refused: {h}" for h in hits] or [
            f"a pod of {size} fits the quota"
        ]
    where = namespace or cache.cluster.namespace
    columns = ["quota", "resource", "used", "hard", "free"]
    return TopView(columns, rows, notes, f"No ResourceQuota in namespace {where}.")


def _gpus(cache: WatchCache, namespace: str | None) -> TopView:
    found = gpus(cache, namespace)
    notes = [f"{u.pod} requests {u.count:g} {u.resource}" for u in found.requested]
    if not found.nodes_readable:
        notes.append(found.note or "nodes are not readable")
    rows: list[Row] = [
        {
            "node": n.node,
            "product": n.product or "-",
            "resource": n.resource,
            "allocatable": f"{n.allocatable:g}",
            "requested": f"{n.requested:g}",
            "free": f"{n.free:g}",
        }
        for n in found.nodes
    ]
    columns = ["node", "product", "resource", "allocatable", "requested", "free"]
    empty = "No node offers GPUs or other extended resources." if found.nodes_readable else ""
    return TopView(columns, rows, notes, empty or "Free GPUs per node are unknown.")


def _volumes(cache: WatchCache, namespace: str | None) -> TopView:
    found = volumes(cache, namespace)
    rows: list[Row] = [
        {
            "name": v.claim,
            "status": v.phase,
            "capacity": amount("storage", v.size) if v.size is not None else "-",
            "access_modes": ",".join(v.access_modes),
            "storageclass": v.storage_class or "-",
            "used_by": ",".join(f"{p.name}@{p.node}" if p.node else p.name for p in v.pods)
            or "<none>",
        }
        for v in found
    ]
    notes = [f"warning: {v.warning}" for v in found if v.warning]
    where = namespace or cache.cluster.namespace
    columns = ["name", "status", "capacity", "access_modes", "storageclass", "used_by"]
    return TopView(columns, rows, notes, f"No PersistentVolumeClaims in namespace {where}.")


def top(
    view: str, cache: WatchCache | None, namespace: str | None = None, size: str | None = None
) -> TopView:
    """One view of `%k8s top`; only `me` works without a cluster (`cache` None)."""
    if view == "me":
        return _me(cache)
    assert cache is not None, "every view but `me` reads the cluster"
    if view == "quota":
        return _quota(cache, namespace, size)
    views = {"pods": _pods, "gpus": _gpus, "volumes": _volumes}
    return views[view](cache, namespace)


__all__ = ["TopView", "top"]
