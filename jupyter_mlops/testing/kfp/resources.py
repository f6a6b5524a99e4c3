"""The emulated resources (experiments, pipelines, versions, runs, tasks) and their JSON."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from .listing import Field, Listable
from .pipeline_spec import PipelineTask
from .wire import message, timestamp

__all__ = [
    "EXPERIMENTS",
    "FINAL_STATES",
    "PIPELINES",
    "PIPELINE_VERSIONS",
    "RUNS",
    "Experiment",
    "Pipeline",
    "PipelineVersion",
    "Run",
    "Task",
    "now",
]

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})


def now() -> int:
    """The current time in whole seconds, the precision the server stores."""
    return int(time.time())


def _digits(text: str) -> str:
    # Argo names nodes and pods with a hash of the node name; any stable hash looks the same.
    return str(zlib.crc32(text.encode()))


@dataclass
class Experiment:
    """An experiment: a named group of runs in one namespace."""

    experiment_id: str
    display_name: str
    namespace: str
    created_at: int
    description: str = ""
    storage_state: str = "AVAILABLE"
    last_run_created_at: int = 0

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1Experiment`` JSON."""
        return message(
            experiment_id=self.experiment_id,
            display_name=self.display_name,
            description=self.description,
            created_at=timestamp(self.created_at),
            namespace=self.namespace,
            storage_state=self.storage_state,
            last_run_created_at=timestamp(self.last_run_created_at),
        )


@dataclass
class Pipeline:
    """A pipeline: a name (shared when its namespace is empty) that versions hang under."""

    pipeline_id: str
    name: str
    display_name: str
    namespace: str
    created_at: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1Pipeline`` JSON."""
        return message(
            pipeline_id=self.pipeline_id,
            name=self.name,
            display_name=self.display_name,
            description=self.description,
            created_at=timestamp(self.created_at),
            namespace=self.namespace,
            tags=dict(self.tags),
        )


@dataclass
class PipelineVersion:
    """A pipeline version: one compiled pipeline spec under a pipeline."""

    pipeline_version_id: str
    pipeline_id: str
    name: str
    display_name: str
    created_at: int
    pipeline_spec: dict[str, Any]
    description: str = ""
    code_source_url: str = ""
    package_url: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1PipelineVersion`` JSON."""
        return message(
            pipeline_id=self.pipeline_id,
            pipeline_version_id=self.pipeline_version_id,
            name=self.name,
            display_name=self.display_name,
            description=self.description,
            created_at=timestamp(self.created_at),
            package_url=message(pipeline_url=self.package_url),
            code_source_url=self.code_source_url,
            pipeline_spec=self.pipeline_spec,
            tags=dict(self.tags),
        )


@dataclass
class Task:
    """One executed task of a run, backed by one pod."""

    spec: PipelineTask
    workflow: str
    execution_id: str
    state: str = ""
    create_time: int = 0
    start_time: int = 0
    end_time: int = 0
    error: str = ""
    history: list[tuple[int, str]] = field(default_factory=list)
    pod_created: bool = False

    @property
    def name(self) -> str:
        """The task's name in the pipeline (``taskInfo.name`` / the DAG key)."""
        return self.spec.name

    @property
    def node_id(self) -> str:
        """The Argo node id of the task's executor."""
        return f"{self.workflow}-{_digits(self.node_name)}"

    @property
    def node_name(self) -> str:
        """The Argo node name of the task's executor, as in the pod's annotation."""
        return f"{self.workflow}.root.{self.name}.executor"

    @property
    def pod_name(self) -> str:
        """The executor pod's name (Argo's ``POD_NAMES=v2`` scheme)."""
        return f"{self.workflow}-system-container-impl-{_digits(self.node_name)}"

    def move_to(self, state: str, at: int) -> None:
        """Enter ``state`` at time ``at`` and record it in the history."""
        self.state = state
        self.history.append((at, state))

    def to_api(self, run_id: str, parent_id: str) -> dict[str, Any]:
        """The ``V2beta1PipelineTaskDetail`` JSON."""
        has_pod = self.pod_created or self.state not in ("", "SKIPPED")
        return message(
            run_id=run_id,
            task_id=self.node_id,
            display_name=self.name,
            create_time=timestamp(self.create_time),
            start_time=timestamp(self.start_time),
            end_time=timestamp(self.end_time),
            state=self.state,
            execution_id=self.execution_id,
            error=message(code=2, message=self.error) if self.error else None,
            parent_task_id=parent_id,
            state_history=[
                message(update_time=timestamp(at), state=state) for at, state in self.history
            ],
            pod_name=self.pod_name if has_pod else "",
            child_tasks=[message(pod_name=self.pod_name)] if has_pod else [],
        )


@dataclass
class Run:
    """A run of a pipeline spec in an experiment, with its tasks' progress."""

    run_id: str
    experiment_id: str
    namespace: str
    display_name: str
    created_at: int
    workflow: str
    tasks: list[Task]
    pipeline_spec: dict[str, Any] | None = None
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    runtime_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    service_account: str = ""
    pipeline_context_id: str = ""
    run_context_id: str = ""
    state: str = "PENDING"
    storage_state: str = "AVAILABLE"
    finished_at: int = 0
    error: str = ""
    history: list[tuple[int, str]] = field(default_factory=list)
    terminating: bool = False

    def move_to(self, state: str, at: int) -> None:
        """Enter ``state`` at time ``at`` and record it in the history."""
        self.state = state
        self.history.append((at, state))

    @property
    def finished(self) -> bool:
        """Whether the run reached a final state."""
        return self.state in FINAL_STATES

    def task(self, name: str) -> Task | None:
        """The task named ``name``, if the spec has one."""
        return next((t for t in self.tasks if t.name == name), None)

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1Run`` JSON, with ``run_details.task_details`` of the started tasks."""
        shown = [t for t in self.tasks if t.state]
        reference = None
        if self.pipeline_version_id:
            reference = message(
                pipeline_id=self.pipeline_id, pipeline_version_id=self.pipeline_version_id
            )
        return message(
            experiment_id=self.experiment_id,
            run_id=self.run_id,
            display_name=self.display_name,
            storage_state=self.storage_state,
            description=self.description,
            pipeline_version_id=self.pipeline_version_id,
            pipeline_spec=None if reference else self.pipeline_spec,
            pipeline_version_reference=reference,
            runtime_config=message(
                parameters=self.runtime_config.get("parameters") or {},
                pipeline_root=self.runtime_config.get("pipeline_root") or "",
            ),
            service_account=self.service_account,
            created_at=timestamp(self.created_at),
            scheduled_at=timestamp(self.created_at),
            finished_at=timestamp(self.finished_at),
            state=self.state,
            error=message(code=2, message=self.error) if self.error else None,
            run_details=message(
                pipeline_context_id=self.pipeline_context_id,
                pipeline_run_context_id=self.run_context_id,
                task_details=[t.to_api(self.run_id, self.workflow) for t in shown],
            ),
            state_history=[
                message(update_time=timestamp(at), state=state) for at, state in self.history
            ],
        )


EXPERIMENTS: Listable[Experiment] = Listable(
    type_name="Experiment",
    key=lambda e: e.experiment_id,
    fields={
        "experiment_id": Field("UUID", lambda e: e.experiment_id),
        "id": Field("UUID", lambda e: e.experiment_id),
        "display_name": Field("Name", lambda e: e.display_name),
        "name": Field("Name", lambda e: e.display_name),
        "description": Field("Description", lambda e: e.description),
        "created_at": Field("CreatedAtInSec", lambda e: e.created_at),
        "namespace": Field("Namespace", lambda e: e.namespace),
        "storage_state": Field("StorageState", lambda e: e.storage_state),
        "last_run_created_at": Field("LastRunCreatedAtInSec", lambda e: e.last_run_created_at),
    },
)

PIPELINES: Listable[Pipeline] = Listable(
    type_name="Pipeline",
    key=lambda p: p.pipeline_id,
    fields={
        "pipeline_id": Field("UUID", lambda p: p.pipeline_id),
        "id": Field("UUID", lambda p: p.pipeline_id),
        "name": Field("Name", lambda p: p.name),
        "display_name": Field("DisplayName", lambda p: p.display_name),
        "description": Field("Description", lambda p: p.description),
        "created_at": Field("CreatedAtInSec", lambda p: p.created_at),
        "namespace": Field("Namespace", lambda p: p.namespace),
    },
)

PIPELINE_VERSIONS: Listable[PipelineVersion] = Listable(
    type_name="PipelineVersion",
    key=lambda v: v.pipeline_version_id,
    fields={
        "pipeline_version_id": Field("UUID", lambda v: v.pipeline_version_id),
        "id": Field("UUID", lambda v: v.pipeline_version_id),
        "name": Field("Name", lambda v: v.name),
        "display_name": Field("DisplayName", lambda v: v.display_name),
        "description": Field("Description", lambda v: v.description),
        "created_at": Field("CreatedAtInSec", lambda v: v.created_at),
        "pipeline_id": Field("PipelineId", lambda v: v.pipeline_id),
    },
)

RUNS: Listable[Run] = Listable(
    type_name="Run",
    key=lambda r: r.run_id,
    fields={
        "run_id": Field("UUID", lambda r: r.run_id),
        "id": Field("UUID", lambda r: r.run_id),
        "display_name": Field("DisplayName", lambda r: r.display_name),
        "name": Field("DisplayName", lambda r: r.display_name),
        "created_at": Field("CreatedAtInSec", lambda r: r.created_at),
        "finished_at": Field("FinishedAtInSec", lambda r: r.finished_at),
        "scheduled_at": Field("ScheduledAtInSec", lambda r: r.created_at),
        "description": Field("Description", lambda r: r.description),
        "storage_state": Field("StorageState", lambda r: r.storage_state),
        "namespace": Field("Namespace", lambda r: r.namespace),
        "experiment_id": Field("ExperimentId", lambda r: r.experiment_id),
        "state": Field("State", lambda r: r.state),
        "pipeline_version_id": Field("PipelineVersionId", lambda r: r.pipeline_version_id),
        "pipeline_id": Field("PipelineId", lambda r: r.pipeline_id),
    },
)
