"""The emulated resources (experiments, pipelines, versions, runs, recurring runs) and JSON."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .listing import Field, Listable
from .pipeline_spec import Dag, PipelineTask
from .wire import message, timestamp
from .workflow import Node, node_id, pod_name

__all__ = [
    "EXECUTOR_TEMPLATE",
    "EXPERIMENTS",
    "FINAL_STATES",
    "PIPELINES",
    "PIPELINE_VERSIONS",
    "RECURRING_RUNS",
    "RUNS",
    "Experiment",
    "Pipeline",
    "PipelineVersion",
    "RecurringRun",
    "Run",
    "Task",
    "now",
]

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
# The Argo template of every executor pod (a task without a retry policy).
EXECUTOR_TEMPLATE = "system-container-impl"


def now() -> int:
    """The current time in whole seconds, the precision the server stores."""
    return int(time.time())


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
    """One executor of a run (a container task, once per loop iteration), backed by one pod."""

    spec: PipelineTask
    workflow: str
    node_name: str
    state: str = ""
    create_time: int = 0
    start_time: int = 0
    end_time: int = 0
    history: list[tuple[int, str]] = field(default_factory=list)
    pod_created: bool = False

    @property
    def name(self) -> str:
        """The task's name in its DAG (the DAG key, as Argo names the node)."""
        return self.spec.name

    @property
    def node_id(self) -> str:
        """The Argo node id of the task's executor."""
        return node_id(self.workflow, self.node_name)

    @property
    def pod_name(self) -> str:
        """The executor pod's name (Argo's ``POD_NAMES=v2`` scheme)."""
        return pod_name(self.workflow, self.node_name, EXECUTOR_TEMPLATE)

    def move_to(self, state: str, at: int) -> None:
        """Enter ``state`` at time ``at`` and record it in the history."""
        self.state = state
        self.history.append((at, state))


@dataclass
class Run:
    """A run of a pipeline spec in an experiment, with its workflow's nodes and executors."""

    run_id: str
    experiment_id: str
    namespace: str
    display_name: str
    created_at: int
    workflow: str
    pipeline_spec: dict[str, Any] | None = None
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    runtime_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    service_account: str = ""
    pipeline_context_id: str = ""
    run_context_id: str = ""
    recurring_run_id: str = ""
    state: str = "PENDING"
    storage_state: str = "AVAILABLE"
    finished_at: int = 0
    error: str = ""
    history: list[tuple[int, str]] = field(default_factory=list)
    terminating: bool = False
    tasks: list[Task] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    # The spec's DAGs, read once when the run is made (many seeded runs share one).
    dag: Dag | None = None
    #: ``plugins_output`` by plugin name, as the server's MLflow integration fills it in.
    plugins_output: dict[str, Any] = field(default_factory=dict)

    def move_to(self, state: str, at: int) -> None:
        """Enter ``state`` at time ``at`` and record it in the history."""
        self.state = state
        self.history.append((at, state))

    @property
    def finished(self) -> bool:
        """Whether the run reached a final state."""
        return self.state in FINAL_STATES

    def task(self, name: str) -> Task | None:
        """The first executor of the task named ``name``, once it was started."""
        return next((t for t in self.tasks if t.name == name), None)

    def executor(self, node_name: str) -> Task | None:
        """The executor of the node named ``node_name``, if it was started."""
        return next((t for t in self.tasks if t.node_name == node_name), None)

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1Run`` JSON, with one ``run_details.task_details`` entry per node."""
        reference = None
        if self.pipeline_version_id:
            reference = message(
                pipeline_id=self.pipeline_id, pipeline_version_id=self.pipeline_version_id
            )
        # The server's task table has no order; listing by id keeps callers from relying on one.
        nodes = sorted(self.nodes.values(), key=lambda n: n.task_id)
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
                task_details=[n.to_api(self.run_id, self.workflow, self.created_at) for n in nodes],
            ),
            recurring_run_id=self.recurring_run_id,
            state_history=[
                message(update_time=timestamp(at), state=state) for at, state in self.history
            ],
            plugins_output=self.plugins_output,
        )


def mlflow_plugin_output(
    *,
    root_run_id: str,
    experiment_id: str,
    experiment_name: str,
    run_url: str = "",
    endpoint: str = "",
    state: str = "PLUGIN_SUCCEEDED",
    state_message: str = "",
) -> dict[str, Any]:
    """``plugins_output.mlflow`` as the server's MLflow integration writes it (KEP-12862):
    ``entries`` of ``{"value": ...}``, the run link marked ``render_type: URL``, a state."""
    entries = {
        "experiment_name": message(value=experiment_name),
        "experiment_id": message(value=experiment_id),
        "root_run_id": message(value=root_run_id),
        "run_url": message(value=run_url, render_type="URL") if run_url else None,
        "endpoint": message(value=endpoint),
    }
    return message(
        entries={name: value for name, value in entries.items() if value},
        state=state,
        state_message=state_message,
    )


@dataclass
class RecurringRun:
    """A recurring run: a pipeline started on a cron or periodic trigger (a ScheduledWorkflow)."""

    recurring_run_id: str
    display_name: str
    namespace: str
    experiment_id: str
    created_at: int
    k8s_name: str
    trigger: dict[str, Any]
    max_concurrency: int
    enabled: bool
    no_catchup: bool = False
    description: str = ""
    service_account: str = ""
    pipeline_spec: dict[str, Any] | None = None
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    runtime_config: dict[str, Any] = field(default_factory=dict)
    updated_at: int = 0
    runs_made: int = 0
    last_triggered: int = 0

    def to_api(self) -> dict[str, Any]:
        """The ``V2beta1RecurringRun`` JSON (int64 fields are strings, as protojson writes)."""
        reference = None
        if self.pipeline_id or self.pipeline_version_id:
            reference = message(
                pipeline_id=self.pipeline_id, pipeline_version_id=self.pipeline_version_id
            )
        runtime = message(
            parameters=self.runtime_config.get("parameters") or {},
            pipeline_root=self.runtime_config.get("pipeline_root") or "",
        )
        return message(
            recurring_run_id=self.recurring_run_id,
            display_name=self.display_name,
            description=self.description,
            pipeline_spec=None if reference else self.pipeline_spec,
            pipeline_version_reference=reference,
            runtime_config=runtime or None,
            service_account=self.service_account,
            max_concurrency=str(self.max_concurrency),
            trigger=self.trigger,
            mode="ENABLE" if self.enabled else "DISABLE",
            created_at=timestamp(self.created_at),
            updated_at=timestamp(self.updated_at),
            status="ENABLED" if self.enabled else "DISABLED",
            no_catchup=self.no_catchup,
            namespace=self.namespace,
            experiment_id=self.experiment_id,
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
        "recurring_run_id": Field("JobUUID", lambda r: r.recurring_run_id),
    },
)

RECURRING_RUNS: Listable[RecurringRun] = Listable(
    type_name="Job",
    key=lambda j: j.recurring_run_id,
    fields={
        "recurring_run_id": Field("UUID", lambda j: j.recurring_run_id),
        "id": Field("UUID", lambda j: j.recurring_run_id),
        "display_name": Field("DisplayName", lambda j: j.display_name),
        "name": Field("DisplayName", lambda j: j.display_name),
        "created_at": Field("CreatedAtInSec", lambda j: j.created_at),
        "updated_at": Field("UpdatedAtInSec", lambda j: j.updated_at),
        "description": Field("Description", lambda j: j.description),
    },
)
