"""Before a submit: whether each component's pod, as its compiled spec sizes it, could be
admitted in the namespace (quota, LimitRange) and held by some node.

The sizes come from the KFP IR: each executor's `container.resources` (the
`resourceCpuRequest`-style quantities, and the accelerator's type and count, which KFP sets
as the device's limit and so, for a device, its request).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..kube.quantity import parse_quantity
from ..kube.resources import Amounts, after_limit_range, next_pod_hits, no_node_holds
from ..kube.watch import WatchCache

#: The IR's quantity fields: (field, requests or limits, resource).
QUANTITIES = (
    ("resourceCpuRequest", "requests", "cpu"),
    ("resourceMemoryRequest", "requests", "memory"),
    ("resourceCpuLimit", "limits", "cpu"),
    ("resourceMemoryLimit", "limits", "memory"),
)


class ComponentSize(BaseModel):
    """A task's container as the compiled pipeline sizes it."""

    task: str
    requests: Amounts = Field(default_factory=dict)
    limits: Amounts = Field(default_factory=dict)


class ComponentFit(ComponentSize):
    """What would refuse the task's pod: the namespace's admission (`refusals`) and the
    nodes (`no_node`: what no node could hold; None when nodes cannot be read)."""

    refusals: list[str] = Field(default_factory=list)
    no_node: list[str] | None = None


def _as_dict(spec: Any) -> dict[str, Any]:
    """The PipelineSpec as the compiled YAML's dict (camelCase keys)."""
    if isinstance(spec, dict):
        return spec
    from google.protobuf import json_format  # type: ignore[import-untyped]

    found: dict[str, Any] = json_format.MessageToDict(spec)
    return found


def _size(task: str, resources: dict[str, Any]) -> ComponentSize:
    size = ComponentSize(task=task)
    for field, which, resource in QUANTITIES:
        value = resources.get(field)
        if value not in (None, ""):
            getattr(size, which)[resource] = parse_quantity(value)
    accelerator = resources.get("accelerator") or {}
    kind = accelerator.get("resourceType") or accelerator.get("type")
    count = accelerator.get("resourceCount") or accelerator.get("count")
    if kind and count not in (None, "", "0"):
        # A device is never overcommitted: its request is its limit.
        size.limits[kind] = size.requests[kind] = parse_quantity(count)
    return size


def _tasks(
    dag: dict[str, Any], components: dict[str, Any], prefix: str = ""
) -> list[tuple[str, str]]:
    """(task path, executor label) of every container task, nested DAGs walked."""
    found: list[tuple[str, str]] = []
    for name, task in sorted((dag.get("tasks") or {}).items()):
        component = components.get((task.get("componentRef") or {}).get("name", ""), {})
        path = f"{prefix}{name}"
        if component.get("dag"):
            found.extend(_tasks(component["dag"], components, f"{path}/"))
        elif component.get("executorLabel"):
            found.append((path, component["executorLabel"]))
    return found


def component_sizes(spec: Any) -> list[ComponentSize]:
    """Each container task of a compiled pipeline (a PipelineSpec or its YAML's dict) with
    the requests and limits its executor sets."""
    ir = _as_dict(spec)
    executors = (ir.get("deploymentSpec") or {}).get("executors") or {}
    tasks = _tasks((ir.get("root") or {}).get("dag") or {}, ir.get("components") or {})
    sizes = []
    for task, label in tasks:
        container = (executors.get(label) or {}).get("container") or {}
        sizes.append(_size(task, container.get("resources") or {}))
    return sizes


def pipeline_fit(cache: WatchCache, spec: Any, namespace: str | None = None) -> list[ComponentFit]:
    """Every container task's fit in `namespace` (the cache's by default)."""
    fits = []
    for size in component_sizes(spec):
        # A node holds the pod as admitted: LimitRange defaults and limits as requests.
        admitted, _ = after_limit_range(cache, size.requests, size.limits, namespace=namespace)
        fits.append(
            ComponentFit(
                **size.model_dump(),
                refusals=next_pod_hits(cache, size.requests, size.limits, namespace=namespace),
                no_node=no_node_holds(cache, admitted),
            )
        )
    return fits


def fit_warnings(fits: list[ComponentFit]) -> list[str]:
    """What to tell before a submit: one line per problem; nodes unreadable only said once,
    and only for a task that asks for anything."""
    lines = []
    cannot_tell = []
    for fit in fits:
        for refusal in fit.refusals:
            lines.append(f"{fit.task}: its pod would be refused: {refusal}")
        if fit.no_node is None:
            if fit.requests or fit.limits:
                cannot_tell.append(fit.task)
            continue
        for what in fit.no_node:
            lines.append(f"{fit.task}: no node could ever hold it: {what}")
    if cannot_tell:
        lines.append(
            "cannot tell whether a node could hold "
            f"{', '.join(cannot_tell)}: nodes are not readable with this identity"
        )
    return lines


__all__ = ["ComponentFit", "ComponentSize", "component_sizes", "fit_warnings", "pipeline_fit"]
