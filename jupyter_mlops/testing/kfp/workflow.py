"""The Argo Workflow nodes of a run, and the task details a KFP 2.x server makes of them.

A KFP 2.x server on Argo fills ``run_details.task_details`` from the workflow's
``status.nodes`` (the persistence agent reports them; see the API server's
``toModelTasks``/``toApiPipelineTaskDetail``): one entry per node, the workflow's own node,
drivers, DAGs and executor pods alike. Of each node the entry keeps only ``display_name``,
the phase (as a v2 state), the start and end times and the ids of the node's Argo children
(as ``child_tasks[].pod_name``); ``task_id`` is a UUID of the server's task table,
``create_time`` is the workflow's creation, and ``state_history`` holds each state the agent
saw. ``pod_name``, ``parent_task_id``, ``execution_id``, ``error``, ``inputs`` and
``outputs`` are never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .wire import message, timestamp

__all__ = ["FULFILLED", "Node", "fnv32a", "node_id", "pod_name"]

# Argo's final node phases; a node in one of them is "fulfilled".
FULFILLED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
# The server maps Argo phases to v2 states upper-casing them; "Omitted" has no v2 state.
V2_STATE = {
    "Pending": "PENDING",
    "Running": "RUNNING",
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "Error": "FAILED",
    "Skipped": "SKIPPED",
    "Omitted": "",
}
# An end time not reached is Go's zero time, which the server sends as year 1.
NOT_ENDED = "0001-01-01T00:00:00Z"


def fnv32a(text: str) -> int:
    """The 32-bit FNV-1a hash Argo names nodes and pods with."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def node_id(workflow: str, name: str) -> str:
    """Argo's id of the node named ``name`` (the workflow's own node is the workflow name)."""
    return workflow if name == workflow else f"{workflow}-{fnv32a(name)}"


def pod_name(workflow: str, name: str, template: str) -> str:
    """The pod of a node, as Argo names it (``POD_NAMES=v2``, its default)."""
    return f"{workflow}-{template}-{fnv32a(name)}"


@dataclass
class Node:
    """One node of a run's workflow: a DAG, a pod, a task group, or a skipped task."""

    name: str
    display_name: str
    kind: str
    template: str
    task_id: str
    phase: str = ""
    started_at: int = 0
    finished_at: int = 0
    children: list[str] = field(default_factory=list)
    history: list[tuple[int, str]] = field(default_factory=list)

    @property
    def fulfilled(self) -> bool:
        """Whether the node reached a final phase."""
        return self.phase in FULFILLED

    def start(self, kind: str, phase: str, at: int) -> None:
        """(Re)create the node in ``phase``; a retried node keeps its task id and history."""
        self.kind = kind
        self.started_at = at
        self.finished_at = 0
        self.move_to(phase, at)

    def move_to(self, phase: str, at: int) -> None:
        """Enter ``phase`` at ``at``; the history grows when the v2 state changes."""
        self.phase = phase
        if phase in FULFILLED:
            self.finished_at = at
        state = V2_STATE.get(phase, "")
        if not self.history or self.history[-1][1] != state:
            self.history.append((at, state))

    def add_child(self, name: str) -> None:
        """Record ``name`` as an Argo child of this node (once)."""
        if name not in self.children:
            self.children.append(name)

    def to_api(self, run_id: str, workflow: str, created_at: int) -> dict[str, Any]:
        """The ``V2beta1PipelineTaskDetail`` JSON a KFP 2.x server makes of this node."""
        return message(
            run_id=run_id,
            task_id=self.task_id,
            display_name=self.display_name,
            create_time=timestamp(created_at),
            start_time=timestamp(self.started_at),
            end_time=timestamp(self.finished_at) if self.finished_at else NOT_ENDED,
            state=V2_STATE.get(self.phase, ""),
            state_history=[
                message(update_time=timestamp(at), state=state) for at, state in self.history
            ],
            child_tasks=[message(pod_name=node_id(workflow, child)) for child in self.children],
        )
