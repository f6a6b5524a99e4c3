"""Typed shapes of pipeline runs, tasks and experiments, shared by every backend and surface."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunStatus(str, Enum):
    """State of a run or a task, with Kubeflow Pipelines v2 names."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def finished(self) -> bool:
        """True once the state can no longer change."""
        return self in FINISHED


FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


class Resources(_Model):
    """Limits a component asks for when it runs as a pipeline task on the cluster."""

    cpu: str | None = Field(default=None, description="CPU limit, e.g. '2' or '500m'.")
    memory: str | None = Field(default=None, description="Memory limit, e.g. '4G'.")
    gpu: int | None = Field(default=None, ge=0, description="Number of GPUs.")

    def is_empty(self) -> bool:
        """True when no limit is set."""
        return self.cpu is None and self.memory is None and self.gpu is None


class Task(_Model):
    """One step of a run: a component executed with its inputs."""

    id: str = Field(description="Unique within the run (a task that runs twice gets '#2').")
    name: str = Field(description="The task's name in the pipeline.")
    state: RunStatus = RunStatus.PENDING
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    pod: str | None = Field(default=None, description="The pod executing it, on a cluster.")
    depends_on: list[str] = Field(
        default_factory=list, description="Names of the tasks that must finish before it starts."
    )
    group: list[str] = Field(
        default_factory=list,
        description=(
            "The sub-pipelines, loop iterations ('for-loop-2[0]') and condition branches it "
            "runs in, outermost first; empty at the top level."
        ),
    )


class RunSummary(_Model):
    """What a list of runs shows of each run."""

    id: str
    name: str
    pipeline_name: str
    experiment: str
    status: RunStatus
    backend: str = Field(default="local", description="'local' or 'cluster'.")
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    tasks_done: int = 0
    tasks_total: int = 0
    url: str | None = Field(
        default=None, description="The run's page in the Kubeflow dashboard (cluster runs)."
    )

    @property
    def duration(self) -> dt.timedelta | None:
        """Time from start to end, or to now while the run goes on."""
        if self.started_at is None:
            return None
        end = self.finished_at or dt.datetime.now(dt.timezone.utc)
        return end - self.started_at


class MlflowLink(_Model):
    """The MLflow run the Pipelines server made for a run itself (its `plugins_output.mlflow`)."""

    run_id: str = Field(description="The MLflow parent run of the pipeline run.")
    experiment_id: str = ""
    experiment_name: str = ""
    url: str | None = Field(default=None, description="The run's page in the MLflow UI.")
    state: str = Field(
        default="", description="The server's sync state: PLUGIN_SUCCEEDED, PLUGIN_FAILED..."
    )
    message: str = Field(default="", description="Why the sync failed, when it did.")


class Run(RunSummary):
    """A run with its arguments, outputs and tasks."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    tasks: list[Task] = Field(default_factory=list)
    error: str | None = None
    retry_of: str | None = Field(default=None, description="The run this one re-runs, if any.")
    pid: int | None = Field(default=None, description="Process executing a local run.")
    mlflow: MlflowLink | None = Field(
        default=None,
        description="The MLflow run the Pipelines server links to this run, when it has "
        "MLflow on; our own linkage is used only without it.",
    )

    def __repr__(self) -> str:
        done = f"{self.tasks_done}/{self.tasks_total} tasks"
        return (
            f"Run(id={self.id!r}, name={self.name!r}, status={self.status.value}, {done}, "
            f"outputs={self.outputs!r})"
        )

    def summary(self) -> RunSummary:
        """The run as a list shows it."""
        return RunSummary.model_validate(self.model_dump(include=set(RunSummary.model_fields)))

    def task(self, name_or_id: str) -> Task:
        """The task with this id, or the last one with this name; KeyError if none."""
        for task in self.tasks:
            if task.id == name_or_id:
                return task
        for task in reversed(self.tasks):
            if task.name == name_or_id:
                return task
        raise KeyError(name_or_id)


class Experiment(_Model):
    """A named group of runs."""

    id: str
    name: str
    description: str = ""
    created_at: dt.datetime


class ListRunsQuery(_Model):
    """Which runs to list, in which order, one page at a time."""

    page_size: int = Field(default=20, ge=1, le=200)
    page_token: str = Field(
        default="", description="Opaque token from the previous page; '' for first."
    )
    sort: str = Field(
        default="created_at desc",
        description="A field (created_at, finished_at, name, status) and asc or desc.",
    )
    status: RunStatus | None = None
    experiment: str | None = None


class RunPage(_Model):
    """One page of runs and the token of the next page ('' after the last)."""

    runs: list[RunSummary]
    next_page_token: str = ""
    total_size: int = 0


class Pipeline(_Model):
    """A pipeline uploaded to Kubeflow Pipelines, runnable by any of its versions."""

    id: str
    name: str
    display_name: str = ""
    description: str = ""
    created_at: dt.datetime
    namespace: str = Field(default="", description="Its profile namespace; '' when shared.")


class PipelineVersion(_Model):
    """One uploaded version of a pipeline."""

    id: str
    pipeline_id: str
    name: str
    display_name: str = ""
    description: str = ""
    created_at: dt.datetime


class PipelinePage(_Model):
    """One page of uploaded pipelines, or of one pipeline's versions."""

    pipelines: list[Pipeline] = Field(default_factory=list)
    versions: list[PipelineVersion] = Field(default_factory=list)
    next_page_token: str = ""
    total_size: int = 0
