"""Answers of the `mlops/api/pipelines` routes and the `watch-runs` push of the WebSocket.

The handlers answer what the backends' models dump, each row marked with its `source`; these
models document those bytes (a renamed or unknown field is refused), and the route tests
validate every answer against them. The terminate and retry routes take no body; a task's
findings are the doctor's `DoctorReport`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Where a run lives: this machine (`kfp.local`) or Kubeflow Pipelines on the cluster.
RunSource = Literal["local", "cluster"]
#: The state of a run or of a task, with Kubeflow Pipelines v2 names.
PipelineState = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"]


class _Wire(BaseModel):
    # A renamed or unknown field is refused, so the schema cannot drift from the wire.
    model_config = ConfigDict(extra="forbid")


class PipelineSourceError(_Wire):
    """What a source that could not be read said: the routes' error envelope."""

    reason: str = Field(description="Short name of the failure, e.g. 'Unavailable'.")
    message: str = Field(description="What went wrong and what to do, in words.")


class PipelineExperiment(_Wire):
    """An experiment of one source."""

    id: str
    name: str
    description: str
    created_at: dt.datetime
    source: RunSource


class PipelineExperimentsPage(_Wire):
    """`GET pipelines/experiments`: the experiments of every source asked for."""

    experiments: list[PipelineExperiment]
    errors: dict[RunSource, PipelineSourceError] = Field(
        description="By source: why it could not be read (the others are still listed)."
    )


class PipelineRunRow(_Wire):
    """One row of the runs list: a run as a list shows it, marked with its source."""

    id: str
    name: str
    pipeline_name: str
    experiment: str
    status: PipelineState
    backend: RunSource = Field(description="The backend that ran it.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    tasks_done: int = Field(ge=0)
    tasks_total: int = Field(ge=0)
    url: str | None = Field(description="The run's page in the Kubeflow dashboard (cluster).")
    source: RunSource


class PipelineSourcePage(_Wire):
    """Where one source's list goes on."""

    next_page_token: str = Field(description="Token of the next page; '' after the last.")
    total_size: int = Field(ge=0, description="How many runs match, on every page.")


class PipelineRunsPage(_Wire):
    """`GET pipelines/runs`: one page of each source asked for, side by side."""

    runs: list[PipelineRunRow]
    pages: dict[RunSource, PipelineSourcePage] = Field(description="By source that answered.")
    errors: dict[RunSource, PipelineSourceError] = Field(
        description="By source: why it could not be read (the others are still listed)."
    )


class PipelineTask(_Wire):
    """One step of a run: a component executed with its inputs."""

    id: str = Field(description="Unique within the run (a task that runs twice gets '#2').")
    name: str = Field(description="The task's name in the pipeline.")
    state: PipelineState
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    pod: str | None = Field(description="The pod executing it, on a cluster.")
    depends_on: list[str] = Field(description="Tasks that must finish before it starts.")
    group: list[str] = Field(
        description="The sub-pipelines, loop iterations and condition branches it runs in, "
        "outermost first; empty at the top level."
    )


class PipelineRunLinks(_Wire):
    """Pages about the run elsewhere; a link that does not exist is left out."""

    dashboard: str = Field(default="", description="The run's page in the Kubeflow dashboard.")
    mlflow: str = Field(
        default="", description="The MLflow run the Pipelines server made for the run."
    )


class PipelineServerMlflow(_Wire):
    """The MLflow run the Pipelines server made for a run itself (its `plugins_output`)."""

    run_id: str = Field(description="The MLflow parent run of the pipeline run.")
    experiment_id: str
    experiment_name: str
    url: str | None = Field(description="The run's page in the MLflow UI.")
    state: str = Field(description="The server's sync state: PLUGIN_SUCCEEDED, PLUGIN_FAILED...")
    message: str = Field(description="Why the sync failed, when it did.")


class PipelineMlflowRun(_Wire):
    """An MLflow run recorded for a pipeline run: the run's own (`task` null), or a task's."""

    mlflow_run_id: str
    experiment_id: str
    name: str
    task: str | None = Field(description="The task's name; null for the pipeline run's own.")
    status: str = Field(description="The MLflow run's status, e.g. FINISHED.")


class _PipelineRunBody(PipelineRunRow):
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    tasks: list[PipelineTask]
    error: str | None = Field(description="Why the run failed, in words.")
    retry_of: str | None = Field(description="The run this one re-runs, if any.")
    pid: int | None = Field(description="The process executing a local run.")
    links: PipelineRunLinks


class PipelineRunDetail(_PipelineRunBody):
    """`GET pipelines/runs/ID`: a run with its tasks, arguments, outputs and links."""

    mlflow: list[PipelineMlflowRun] | PipelineSourceError = Field(
        description="The MLflow runs recorded for the run, or why MLflow could not be read."
    )


class PipelineRunChanged(_PipelineRunBody):
    """`POST pipelines/runs/ID/terminate` and `.../retry`: the run as the action left it."""

    mlflow: PipelineServerMlflow | None = Field(
        description="The MLflow run the Pipelines server links to the run, when it has MLflow on."
    )


class PipelineTaskLog(_Wire):
    """`GET pipelines/runs/ID/tasks/TASK/log`: what a task printed."""

    run: str = Field(description="The run's id.")
    task: str = Field(description="The task's name or id, as asked.")
    source: RunSource
    text: str = Field(description="The last lines it printed.")


class UploadedPipeline(_Wire):
    """A pipeline uploaded to Kubeflow Pipelines, runnable by any of its versions."""

    id: str
    name: str
    display_name: str
    description: str
    created_at: dt.datetime
    namespace: str = Field(description="Its profile namespace; '' when shared.")


class UploadedPipelinesPage(_Wire):
    """`GET pipelines/pipelines`: one page of uploaded pipelines."""

    pipelines: list[UploadedPipeline]
    next_page_token: str = Field(description="Token of the next page; '' after the last.")
    total_size: int = Field(ge=0)


class UploadedPipelineVersion(_Wire):
    """One uploaded version of a pipeline."""

    id: str
    pipeline_id: str
    name: str
    display_name: str
    description: str
    created_at: dt.datetime


class UploadedPipelineVersionsPage(_Wire):
    """`GET pipelines/pipelines/ID/versions`: one page of a pipeline's versions."""

    versions: list[UploadedPipelineVersion]
    next_page_token: str = Field(description="Token of the next page; '' after the last.")
    total_size: int = Field(ge=0)


class RunsPush(_Wire):
    """A push of the WebSocket's `watch-runs`: every row of each newest page first, then only
    the rows that changed."""

    id: str = Field(description="The id of the watch-runs request.")
    type: Literal["runs"]
    runs: list[PipelineRunRow] = Field(description="The rows that changed.")
    gone: list[str] = Field(description="Ids of the runs that left the newest page.")
    errors: dict[Literal["local", "cluster", "all"], PipelineSourceError | None] = Field(
        description="By source ('all': the backends could not be made): why it could not be "
        "read; null once it answers again."
    )


#: Every model of this family, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [
    PipelineExperimentsPage,
    PipelineRunsPage,
    PipelineRunDetail,
    PipelineRunChanged,
    PipelineTaskLog,
    UploadedPipelinesPage,
    UploadedPipelineVersionsPage,
    RunsPush,
]
