"""How a KFP 2.x run unfolds as an Argo Workflow: drivers, DAGs, executors, loops, branches.

The node tree follows the KFP Argo compiler (``backend/src/v2/compiler/argocompiler``):

- the workflow's own node runs ``root-driver`` (a pod) then ``root`` (a DAG);
- in a DAG, a container task ``T`` is ``T-driver`` (a pod) then ``T`` (a DAG holding one
  ``executor`` pod); a sub-pipeline or condition task is ``T-driver`` then ``T`` (a DAG
  holding its tasks), Skipped when its condition is false;
- a ParallelFor task ``T`` is a DAG holding ``iteration-driver`` then ``iteration-iterations``,
  a task group of ``iteration-iterations(i:i)`` DAGs, each ``iteration-item-driver`` then
  ``iteration-item`` (holding the loop's tasks);
- an exit task runs in ``<task>.onExit`` once the task it waits for ended, whatever its state.

And Argo's rules (``workflow/controller/dag.go``): node names are the enclosing DAG's name,
a dot, and the task name; a task with no dependency is a child of its DAG, others of their
dependencies' outbound nodes; a task whose dependency did not succeed is Omitted; after a
failure a DAG starts nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .expressions import Scope, condition_holds
from .pipeline_spec import Dag, PipelineTask, Step, loop_items, root_dag, root_inputs
from .resources import EXECUTOR_TEMPLATE, Run, Task, now
from .workflow import Node

__all__ = ["Drive", "Pods"]

DAG_DRIVER = "system-dag-driver"
CONTAINER_DRIVER = "system-container-driver"
RESET = frozenset({"Failed", "Error", "Omitted"})


class Pods(Protocol):
    """What the drive needs of the task pods (``execution.KubePods``)."""

    async def create(self, run: Run, task: Task) -> bool: ...
    async def set_phase(self, run: Run, task: Task, phase: str) -> None: ...
    async def append_log(self, run: Run, task: Task, lines: list[str]) -> None: ...


@dataclass
class Outcome:
    """What a DAG's task left: its node's phase ("" when never created) and outbound nodes."""

    phase: str
    outbound: list[Node] = field(default_factory=list)
    main: Node | None = None


NOT_CREATED = Outcome("")


@dataclass
class Timing:
    """How a drive spends time: real steps, or none at all (seeded runs end at once)."""

    step_seconds: float
    duration: Callable[[Task], float]
    fails: Callable[[Task], bool]
    frozen_at: int | None = None

    def now(self) -> int:
        return self.frozen_at if self.frozen_at is not None else now()

    async def pause(self, seconds: float) -> None:
        if self.frozen_at is None:
            await asyncio.sleep(seconds)


class Drive:
    """One pass of a run's workflow from its current nodes to the end (or a cancel).

    Nodes that succeeded or were skipped are kept (a retried or resumed run goes on from
    them); nodes that failed or were omitted run again. Pods change before the nodes do, so
    the API never reports a state ahead of its pod.
    """

    def __init__(
        self,
        run: Run,
        timing: Timing,
        pods: Pods | None,
        changed: Callable[[], None],
        output_of: Callable[[str, str], Any],
        lines: Callable[[Run, Task, bool | None], list[str]],
    ) -> None:
        self.run = run
        self.timing = timing
        self.pods = pods
        self.changed = changed
        self.output_of = output_of
        self.lines = lines
        self.concurrent = timing.frozen_at is None

    # -- the workflow --------------------------------------------------------------------

    async def workflow(self) -> str:
        """Run the whole workflow; its final phase."""
        spec = self.run.pipeline_spec or {}
        name = self.run.workflow
        top = self.open(name, name, "DAG", "entrypoint", [])
        driver = await self.driver(f"{name}.root-driver", "root-driver", DAG_DRIVER, [top])
        if driver.phase != "Succeeded":
            return self.finish(top, "Failed")
        root = self.open(f"{name}.root", "root", "DAG", "root", [driver])
        inputs = {**root_inputs(spec), **(self.run.runtime_config.get("parameters") or {})}
        dag = self.run.dag or root_dag(spec)
        phase, _ = await self.dag(root, dag, Scope(inputs, dag, self.output_of))
        self.finish(root, phase)
        return self.finish(top, phase)

    async def dag(self, boundary: Node, dag: Dag, scope: Scope) -> tuple[str, list[Node]]:
        """Run a DAG's tasks inside its node; the DAG's phase and outbound nodes."""
        outcomes: dict[str, Outcome] = {}
        done = {step.key: asyncio.Event() for step in dag.steps} if self.concurrent else {}
        failed: list[str] = []

        async def one(step: Step) -> None:
            try:
                for dependency in step.depends_on if self.concurrent else ():
                    await done[dependency].wait()
                outcome = await self.task(
                    step, boundary, [outcomes[d] for d in step.depends_on], scope, bool(failed)
                )
                if outcome.phase in ("Failed", "Error"):
                    failed.append(step.key)
                outcomes[step.key] = outcome
            finally:
                if self.concurrent:
                    done[step.key].set()

        await self.each(dag.steps, one)
        if failed:
            return "Failed", [boundary]
        leaves = [s for s in dag.steps if not any(s.key in o.depends_on for o in dag.steps)]
        outbound = [n for s in leaves for n in outcomes[s.key].outbound]
        return "Succeeded", outbound or [boundary]

    async def task(
        self, step: Step, boundary: Node, upstream: list[Outcome], scope: Scope, stopped: bool
    ) -> Outcome:
        """One task of a DAG: run, omitted after a failed dependency, or not started at all."""
        if step.exit_task:
            return await self.exit_task(step, boundary, upstream, scope)
        parents = [n for o in upstream for n in o.outbound] or [boundary]
        if any(o.phase == "" for o in upstream):
            return NOT_CREATED
        if any(o.phase != "Succeeded" for o in upstream):
            return self.omit(step, boundary, parents)
        if stopped:
            return NOT_CREATED
        if step.loop is not None:
            return await self.loop(step, boundary, parents, scope)
        return await self.step(step, boundary, parents, scope)

    async def step(self, step: Step, boundary: Node, parents: list[Node], scope: Scope) -> Outcome:
        """A container task or a sub-DAG: its driver, then the task's DAG."""
        template = DAG_DRIVER if step.body is not None else CONTAINER_DRIVER
        name = f"{boundary.name}.{step.key}"
        driver = await self.driver(f"{name}-driver", f"{step.key}-driver", template, parents)
        if driver.phase != "Succeeded":
            return self.omit_node(name, step.key, [driver])
        if step.condition and not condition_holds(step.condition, scope.step_inputs(step)):
            node = self.skip(name, step.key, [driver])
            return Outcome("Skipped", [node], node)
        if step.body is not None:
            node = self.open(name, step.key, "DAG", step.component, [driver])
            phase, outbound = await self.dag(node, step.body, scope.child(step))
            self.finish(node, phase)
            return Outcome(node.phase, outbound, node)
        assert step.container is not None
        node = self.open(name, step.key, "DAG", "system-container-executor", [driver])
        executor = await self.executor(node, step.container)
        self.finish(node, executor.phase)
        return Outcome(node.phase, [executor], node)

    async def loop(self, step: Step, boundary: Node, parents: list[Node], scope: Scope) -> Outcome:
        """A ParallelFor: its driver, then one iteration DAG per item."""
        assert step.loop is not None and step.body is not None
        loop = step.loop
        name = f"{boundary.name}.{step.key}"
        node = self.open(name, step.key, "DAG", f"{step.component}-{step.key}-iterator", parents)
        driver = await self.driver(
            f"{name}.iteration-driver", "iteration-driver", DAG_DRIVER, [node]
        )
        if driver.phase != "Succeeded":
            return Outcome(self.finish(node, "Failed"), [node], node)
        values = scope.step_inputs(step)
        items = loop_items(loop, values.get(loop.input_parameter))
        taken = not step.condition or condition_holds(step.condition, values)
        group_name = f"{name}.iteration-iterations"
        if not items:
            group = self.skip(group_name, "iteration-iterations", [driver])
            self.finish(node, "Succeeded")
            return Outcome(node.phase, [group], node)
        group = self.open(group_name, "iteration-iterations", "TaskGroup", "", [driver])
        limit = (
            asyncio.Semaphore(loop.parallelism) if loop.parallelism and self.concurrent else None
        )
        ends: dict[int, tuple[str, list[Node]]] = {}

        async def iteration(index: int) -> None:
            label = f"iteration-iterations({index}:{index})"
            if not taken:
                skipped = self.skip(f"{name}.{label}", label, [group])
                ends[index] = ("Skipped", [skipped])
                return
            async with limit if limit is not None else contextlib.nullcontext():
                ends[index] = await self.iteration(
                    step, f"{name}.{label}", label, group, scope, items[index]
                )

        await self.each(range(len(items)), iteration)
        phase = "Failed" if any(p in ("Failed", "Error") for p, _ in ends.values()) else "Succeeded"
        self.finish(group, phase)
        self.finish(node, phase)
        return Outcome(node.phase, [n for i in sorted(ends) for n in ends[i][1]], node)

    async def iteration(
        self, step: Step, name: str, label: str, group: Node, scope: Scope, item: Any
    ) -> tuple[str, list[Node]]:
        assert step.loop is not None and step.body is not None
        node = self.open(name, label, "DAG", f"{step.component}-iteration", [group])
        driver = await self.driver(
            f"{name}.iteration-item-driver", "iteration-item-driver", DAG_DRIVER, [node]
        )
        if driver.phase != "Succeeded":
            return self.finish(node, "Failed"), [node]
        body = self.open(
            f"{name}.iteration-item", "iteration-item", "DAG", step.component, [driver]
        )
        inner = scope.child(step, {step.loop.item_input: item})
        phase, outbound = await self.dag(body, step.body, inner)
        self.finish(body, phase)
        return self.finish(node, phase), outbound

    async def exit_task(
        self, step: Step, boundary: Node, upstream: list[Outcome], scope: Scope
    ) -> Outcome:
        """An exit task: a hook on the task it waits for, run once that task ended."""
        watched = next((o.main for o in upstream if o.main is not None and o.main.fulfilled), None)
        if watched is None:
            return NOT_CREATED
        name = f"{watched.name}.onExit"
        display = name[len(boundary.name) + 1 :]
        hook = self.open(
            name, display, "DAG", f"exit-hook-{boundary.display_name}-{step.key}", [watched]
        )
        outcome = await self.step(step, hook, [hook], scope)
        self.finish(hook, outcome.phase if outcome.phase != "Skipped" else "Succeeded")
        return Outcome(hook.phase, [hook], hook)

    # -- nodes ---------------------------------------------------------------------------

    def open(
        self,
        name: str,
        display: str,
        kind: str,
        template: str,
        parents: list[Node],
        phase: str = "",
    ) -> Node:
        """The node named ``name``: kept as it is if it exists, else created (or re-created).

        A new node starts Pending (a pod) or Running (a DAG or task group) unless ``phase``
        says otherwise (Skipped, Omitted).
        """
        node = self.run.nodes.get(name)
        if node is None:
            node = Node(name, display, kind, template, task_id=str(uuid.uuid4()))
            self.run.nodes[name] = node
        for parent in parents:
            parent.add_child(name)
        if not node.phase:
            first = phase or ("Pending" if kind == "Pod" else "Running")
            node.start(kind, first, self.timing.now())
            self.changed()
        return node

    def finish(self, node: Node, phase: str) -> str:
        """Put a DAG or task group node in its final phase (kept if it had one)."""
        if not node.fulfilled:
            node.move_to(phase, self.timing.now())
            self.changed()
        return node.phase

    def skip(self, name: str, display: str, parents: list[Node]) -> Node:
        """A task whose ``when`` was false (a branch not taken, a loop without items)."""
        return self.open(name, display, "Skipped", "", parents, "Skipped")

    def omit_node(self, name: str, display: str, parents: list[Node]) -> Outcome:
        node = self.open(name, display, "Skipped", "", parents, "Omitted")
        return Outcome(node.phase, [node], node)

    def omit(self, step: Step, boundary: Node, parents: list[Node]) -> Outcome:
        """A task whose dependency did not succeed: its first Argo task and the rest Omitted."""
        name = f"{boundary.name}.{step.key}"
        if step.loop is not None:
            return self.omit_node(name, step.key, parents)
        driver = self.omit_node(f"{name}-driver", f"{step.key}-driver", parents)
        return self.omit_node(name, step.key, driver.outbound)

    async def driver(self, name: str, display: str, template: str, parents: list[Node]) -> Node:
        """A driver pod: Pending, Running, Succeeded within one step."""
        node = self.open(name, display, "Pod", template, parents)
        half = self.timing.step_seconds / 2
        if node.phase == "Pending":
            await self.timing.pause(half)
            node.move_to("Running", self.timing.now())
            self.changed()
        if node.phase == "Running":
            await self.timing.pause(half)
            node.move_to("Succeeded", self.timing.now())
            self.changed()
        return node

    async def executor(self, parent: Node, spec: PipelineTask) -> Node:
        """The executor pod of a container task, run as its Task (and pod) says."""
        name = f"{parent.name}.executor"
        task = self.run.executor(name)
        if task is None:
            task = Task(spec=spec, workflow=self.run.workflow, node_name=name)
            self.run.tasks.append(task)
        existing = self.run.nodes.get(name)
        if existing is not None and existing.fulfilled and existing.phase not in RESET:
            parent.add_child(name)
            return existing
        if not task.state:
            task.create_time = self.timing.now()
            if self.pods is not None and not task.pod_created:
                await self.pods.create(self.run, task)
        node = self.open(name, "executor", "Pod", EXECUTOR_TEMPLATE, [parent])
        if not task.state:
            self.move(task, node, "PENDING", task.create_time)
        await self.advance(task, node)
        return node

    async def advance(self, task: Task, node: Node) -> None:
        if task.state == "PENDING":
            await self.timing.pause(self.timing.step_seconds)
            task.start_time = self.timing.now()
            if self.pods is not None:
                await self.pods.set_phase(self.run, task, "Running")
                await self.pods.append_log(self.run, task, self.lines(self.run, task, None))
            self.move(task, node, "RUNNING", task.start_time)
        if task.state == "RUNNING":
            await self.timing.pause(self.timing.duration(task))
            failed = self.timing.fails(task)
            task.end_time = self.timing.now()
            if self.pods is not None:
                await self.pods.append_log(self.run, task, self.lines(self.run, task, failed))
                await self.pods.set_phase(self.run, task, "Failed" if failed else "Succeeded")
            self.move(task, node, "FAILED" if failed else "SUCCEEDED", task.end_time)

    def move(self, task: Task, node: Node, state: str, at: int) -> None:
        task.move_to(state, at)
        node.move_to(state.capitalize(), at)
        self.changed()

    async def each(self, items: Iterable[Any], work: Callable[[Any], Awaitable[None]]) -> None:
        """``work`` on each item: side by side, or one after another for a frozen clock."""
        if self.concurrent:
            await asyncio.gather(*(work(item) for item in items))
        else:
            for item in items:
                await work(item)
