"""A Kubeflow Pipelines run's tasks as its user knows them, from the task details KFP sends.

A KFP 2.x server on Argo lists one task detail per node of the run's Argo Workflow: the
workflow itself, ``root-driver`` and ``root``, then for each task of a DAG a driver pod
(``<task>-driver``) and a DAG named after the task that holds its ``executor`` pod; sub-pipelines
and ``dsl.If`` branches are DAGs named after their task (a branch not taken is Skipped and
empty), a ParallelFor is ``<task>`` holding ``iteration-iterations(i:i)``, each with an
``iteration-item`` DAG holding the loop's tasks. A detail says only its node's display name,
state, times and the Argo ids of the node's children: never its own id, pod or parent.

So the tasks are found by walking the compiled pipeline and naming each node as Argo does
(``<enclosing DAG's name>.<task>``): a node's id is the workflow's name and the FNV-1a hash of
the node's name, and a task's detail is the one whose children hold its executor's id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.pipelines.models import RunStatus, Task

__all__ = ["TaskTree", "read_tasks"]

# The Argo template of an executor pod; a task with a retry policy has its own, per attempt.
EXECUTOR_TEMPLATE = "system-container-impl"


@dataclass
class TaskTree:
    """The run's tasks in pipeline order, and how many it is expected to have in all."""

    tasks: list[Task] = field(default_factory=list)
    planned: int = 0


def read_tasks(
    details: Sequence[Any] | None,
    spec: Mapping[str, Any],
    state_of: Callable[[Any], RunStatus],
    time_of: Callable[[Any], dt.datetime | None],
    canceled_at: dt.datetime | None = None,
) -> TaskTree:
    """The user's tasks of a run from its ``run_details.task_details`` and pipeline spec.

    Each container task is one Task (once per loop iteration), grouped under the
    sub-pipelines, iterations and branches it runs in; drivers, DAGs and the workflow's own
    node are not tasks. A task that never ran (its upstream failed) is CANCELED, and so is one
    that failed at or after ``canceled_at``, when the run was asked to stop.
    """
    walk = _Walk(_Nodes(details or []), _Reading(state_of, time_of, canceled_at), spec)
    root = _mapping(_mapping(_mapping(spec.get("root")).get("dag")).get("tasks"))
    if walk.nodes.workflow:
        walk.dag(root, f"{walk.nodes.workflow}.root", [], [])
    else:
        walk.count(root)
    return walk.tree


def fnv32a(text: str) -> int:
    """The 32-bit FNV-1a hash of ``text``, as Argo names nodes."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _children(detail: Any) -> list[str]:
    return [
        str(c.pod_name or c.task_id) for c in detail.child_tasks or [] if c.pod_name or c.task_id
    ]


class _Nodes:
    """The details of a run, found by the Argo node names they stand for."""

    def __init__(self, details: Iterable[Any]) -> None:
        self.details = list(details)
        self.children = [_children(d) for d in self.details]
        self.referenced = {c for kids in self.children for c in kids}
        self.named: dict[str, list[int]] = {}
        for index, detail in enumerate(self.details):
            self.named.setdefault(str(detail.display_name or ""), []).append(index)
        self.workflow = self._workflow()
        self.claimed: set[int] = set()

    def _workflow(self) -> str:
        # Every node id but the workflow's own is the workflow's name, a dash and digits; the
        # workflow's node is named after it.
        for child in self.referenced:
            name, _, digits = child.rpartition("-")
            if digits.isdigit() and name in self.named:
                return name
        return ""

    def id(self, name: str) -> str:
        return f"{self.workflow}-{fnv32a(name)}"

    def exists(self, name: str) -> bool:
        """Whether some node lists the node ``name`` as a child (it was created)."""
        return self.id(name) in self.referenced

    def parent_of(self, name: str, display: str) -> Any:
        """The detail named ``display`` whose children hold the node ``name``."""
        wanted = self.id(name)
        for index in self.named.get(display, []):
            if index not in self.claimed and wanted in self.children[index]:
                self.claimed.add(index)
                return self.details[index]
        return None

    def childless(self, display: str) -> Any:
        """A detail named ``display`` without children (a node skipped or omitted)."""
        for index in self.named.get(display, []):
            if index not in self.claimed and not self.children[index]:
                self.claimed.add(index)
                return self.details[index]
        return None


@dataclass(frozen=True)
class _Reading:
    """How a detail's state and times read as ours."""

    state_of: Callable[[Any], RunStatus]
    time_of: Callable[[Any], dt.datetime | None]
    canceled_at: dt.datetime | None

    def state(self, detail: Any) -> RunStatus:
        raw = str(detail.state or "")
        if raw in ("", "RUNTIME_STATE_UNSPECIFIED"):
            # Argo omitted the task (its upstream did not succeed): it never ran.
            return RunStatus.CANCELED
        state = self.state_of(raw)
        ended = self.time_of(detail.end_time)
        if state == RunStatus.FAILED and self.canceled_at and ended and ended >= self.canceled_at:
            return RunStatus.CANCELED
        return state


class _Walk:
    """Walks a compiled pipeline's DAGs, naming their nodes as Argo does."""

    def __init__(self, nodes: _Nodes, reading: _Reading, spec: Mapping[str, Any]) -> None:
        self.nodes = nodes
        self.reading = reading
        self.components = _mapping(spec.get("components"))
        self.tree = TaskTree()

    def body(self, task: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The tasks of a task's DAG component, or None for a container task."""
        reference = str(_mapping(task.get("componentRef")).get("name") or "")
        component = _mapping(self.components.get(reference))
        dag = component.get("dag")
        return _mapping(_mapping(dag).get("tasks")) if isinstance(dag, Mapping) else None

    def dag(
        self, tasks: Mapping[str, Any], boundary: str, group: list[str], upstream: list[str]
    ) -> None:
        """The tasks of the DAG node ``boundary``; ``upstream`` is what the DAG waits for."""
        for key in _in_order(tasks):
            task = _mapping(tasks[key])
            waits = [leaf for d in _dependencies(task) for leaf in self.leaves(tasks, d)]
            before = waits or upstream
            inner = self.body(task)
            name = f"{boundary}.{key}"
            strategy = _mapping(task.get("triggerPolicy")).get("strategy")
            if strategy == "ALL_UPSTREAM_TASKS_COMPLETED" and waits:
                # An exit task runs in an onExit hook of the task it waits for.
                name = f"{boundary}.{_dependencies(task)[0]}.onExit.{key}"
            if inner is None:
                self.container(key, task, name, group, before)
            elif isinstance(task.get("parameterIterator"), Mapping):
                self.loop(key, task, inner, name, group, before)
            elif not self.skipped(name, inner):
                self.dag(inner, name, [*group, key], before)

    def container(
        self, key: str, task: Mapping[str, Any], name: str, group: list[str], upstream: list[str]
    ) -> None:
        self.tree.planned += 1
        executor = f"{name}.executor"
        detail = self.nodes.parent_of(executor, key)
        pod = None
        if detail is not None and "retryPolicy" not in task:
            digits = self.nodes.id(executor).rsplit("-", 1)[1]
            pod = f"{self.nodes.workflow}-{EXECUTOR_TEMPLATE}-{digits}"
        if detail is None and self.nodes.exists(name):
            detail = self.nodes.childless(key)
        if detail is not None:
            state = self.reading.state(detail)
            started = self.reading.time_of(detail.start_time)
            ended = self.reading.time_of(detail.end_time) if state.finished else None
        elif self.nodes.exists(f"{name}-driver"):
            state, started, ended = RunStatus.PENDING, None, None
        else:
            return
        self.tree.tasks.append(
            Task(
                id=".".join([*group, key]),
                name=key,
                state=state,
                started_at=started,
                finished_at=ended,
                pod=pod,
                depends_on=upstream,
                group=group,
            )
        )

    def loop(
        self,
        key: str,
        task: Mapping[str, Any],
        inner: Mapping[str, Any],
        name: str,
        group: list[str],
        upstream: list[str],
    ) -> None:
        iterations = f"{name}.iteration-iterations"
        count = 0
        while self.nodes.exists(f"{iterations}({count}:{count})"):
            count += 1
        if not count and self.nodes.exists(iterations):
            return  # no items: the loop ran nothing
        if not count:
            # Not started yet: count its tasks as many times as it has items, when known.
            count = _raw_length(task)
        for index in range(count):
            body = f"{iterations}({index}:{index}).iteration-item"
            self.dag(inner, body, [*group, f"{key}[{index}]"], upstream)

    def skipped(self, name: str, inner: Mapping[str, Any]) -> bool:
        """Whether the DAG node ``name`` exists but started none of its tasks (a branch not
        taken)."""
        if not self.nodes.exists(name):
            return False
        first = [k for k, t in inner.items() if not _dependencies(_mapping(t))]
        return not any(
            self.nodes.exists(f"{name}.{k}") or self.nodes.exists(f"{name}.{k}-driver")
            for k in first
        )

    def leaves(self, tasks: Mapping[str, Any], key: str) -> list[str]:
        """The container tasks that end task ``key`` of ``tasks``: itself, or its DAG's last."""
        inner = self.body(_mapping(tasks.get(key)))
        if inner is None:
            return [key]
        waited = {d for t in inner.values() for d in _dependencies(_mapping(t))}
        return [leaf for k in _in_order(inner) if k not in waited for leaf in self.leaves(inner, k)]

    def count(self, tasks: Mapping[str, Any]) -> None:
        """Count the tasks a run not started yet is to have."""
        for task in tasks.values():
            inner = self.body(_mapping(task))
            if inner is None:
                self.tree.planned += 1
                continue
            for _ in range(_raw_length(_mapping(task)) if "parameterIterator" in task else 1):
                self.count(inner)


def _dependencies(task: Mapping[str, Any]) -> list[str]:
    # A task also waits for the tasks whose outputs it reads, as the Argo compiler adds.
    found = [str(d) for d in task.get("dependentTasks") or []]
    inputs = _mapping(task.get("inputs"))
    for kind, source in (
        ("parameters", "taskOutputParameter"),
        ("artifacts", "taskOutputArtifact"),
    ):
        for value in _mapping(inputs.get(kind)).values():
            producer = _mapping(_mapping(value).get(source)).get("producerTask")
            if isinstance(producer, str) and producer and producer not in found:
                found.append(producer)
    return found


def _in_order(tasks: Mapping[str, Any]) -> list[str]:
    """The keys of ``tasks`` upstream first (by name among equals); a cycle ends the list."""
    ordered: list[str] = []
    remaining = {
        str(k): [d for d in _dependencies(_mapping(v)) if d in tasks] for k, v in tasks.items()
    }
    while remaining:
        ready = sorted(k for k, deps in remaining.items() if all(d in ordered for d in deps))
        if not ready:
            break
        ordered.extend(ready)
        for key in ready:
            del remaining[key]
    return ordered


def _raw_length(task: Mapping[str, Any]) -> int:
    raw = _mapping(_mapping(task.get("parameterIterator")).get("items")).get("raw")
    try:
        items = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        items = None
    return len(items) if isinstance(items, list) else 1
