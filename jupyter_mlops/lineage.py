"""Pipeline runs and MLflow runs, linked both ways.

Each pipeline run gets one MLflow run (in the experiment `kfp/<pipeline experiment>`) with one
nested run per task. Both carry the tags below, so a pipeline run finds its MLflow runs and an
MLflow run names the pipeline run and task it came from. Task inputs become params, numeric
outputs metrics. Recording is idempotent: a run recorded once is found again, not doubled.

A Pipelines server with its own MLflow integration (KEP-12862) makes that parent run itself and
names it in the run's `plugins_output.mlflow` (`Run.mlflow`): such a run is linked through it,
and never recorded a second time by us.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .pipelines.models import Run, RunStatus

if TYPE_CHECKING:
    from .tracking import Tracking

TAG_RUN = "kfp.run_id"
TAG_TASK = "kfp.task"
TAG_PIPELINE = "kfp.pipeline"
TAG_BACKEND = "kfp.backend"
TAG_URL = "kfp.url"
TAG_ROLE = "kfp.role"  # "run" on the pipeline run's MLflow run, "task" on each nested one
#: MLflow's own tag naming a nested run's parent; the server's integration nests tasks by it.
TAG_PARENT = "mlflow.parentRunId"
EXPERIMENT_PREFIX = "kfp/"

_STATUS = {
    RunStatus.SUCCEEDED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELED: "KILLED",
}


class TrackedPipeline:
    """A pipeline's spec whose tasks are told the notebook's MLflow store: what a local run
    executes (the local backend reads `pipeline_spec`, as of any pipeline)."""

    def __init__(self, pipeline_spec: Any) -> None:
        self.pipeline_spec = pipeline_spec


def share_tracking(pipeline: Any, tracking: Tracking) -> TrackedPipeline:
    """`pipeline` for a local run, each task given the store and workspace the notebook's
    `tracking` uses, so what the tasks log lands where the sidebar looks.

    They travel in each task's container environment, which kfp.local hands to the task's
    process: nothing is set in this process's environment. A value a task sets itself stays.
    """
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from kfp.pipeline_spec import pipeline_spec_pb2

    from .pipelines.local import load_spec

    values = tracking.task_environment(cluster=False)
    spec = json_format.MessageToDict(load_spec(pipeline))
    for executor in spec.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container")
        if container is None:
            continue  # an importer runs no process
        env = container.setdefault("env", [])
        named = {item.get("name") for item in env}
        env.extend({"name": k, "value": v} for k, v in values.items() if k not in named)
    tracked = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(spec, tracked)
    return TrackedPipeline(tracked)


def record_run(run: Run, tracking: Tracking) -> str:
    """The MLflow run of a finished pipeline run, made once with its nested task runs; the
    server's own when it made one (nothing is written then)."""
    if run.mlflow is not None:
        return run.mlflow.run_id
    experiment = EXPERIMENT_PREFIX + run.experiment
    with tracking.writer() as client:
        found = client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id if found is not None else client.create_experiment(experiment)
        )
        existing = client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{TAG_RUN}` = '{run.id}' and tags.`{TAG_ROLE}` = 'run'",
            max_results=1,
        )
        if existing:
            return str(existing[0].info.run_id)
        tags = {TAG_RUN: run.id, TAG_PIPELINE: run.pipeline_name, TAG_BACKEND: run.backend}
        if run.url:
            tags[TAG_URL] = run.url
        parent = client.create_run(
            experiment_id,
            start_time=_millis(run.started_at or run.created_at),
            tags={**tags, TAG_ROLE: "run"},
            run_name=run.name,
        ).info.run_id
        _log(client, parent, run.parameters, run.outputs)
        for task in run.tasks:
            child = client.create_run(
                experiment_id,
                start_time=_millis(task.started_at or run.started_at or run.created_at),
                tags={**tags, TAG_ROLE: "task", TAG_TASK: task.name, TAG_PARENT: parent},
                run_name=task.name,
            ).info.run_id
            _log(client, child, task.inputs, task.outputs)
            client.set_terminated(
                child, _STATUS.get(task.state, "FAILED"), end_time=_millis(task.finished_at)
            )
        client.set_terminated(
            parent, _STATUS.get(run.status, "FAILED"), end_time=_millis(run.finished_at)
        )
        return str(parent)


class RunLink(BaseModel):
    """An MLflow run recorded for a pipeline run: the run's own, or one task's."""

    mlflow_run_id: str
    experiment_id: str
    name: str
    task: str | None = Field(description="The task's name; None for the pipeline run's own.")
    status: str


def linked_runs(run: Run, tracking: Tracking) -> list[RunLink]:
    """The MLflow runs recorded for a pipeline run: its own first, then one per task."""
    if run.mlflow is not None:
        return _server_links(run.mlflow.run_id, tracking)
    with tracking.writer() as client:
        found = client.get_experiment_by_name(EXPERIMENT_PREFIX + run.experiment)
        if found is None:
            return []
        runs = client.search_runs(
            [found.experiment_id], filter_string=f"tags.`{TAG_RUN}` = '{run.id}'", max_results=500
        )
    links = [
        RunLink(
            mlflow_run_id=r.info.run_id,
            experiment_id=r.info.experiment_id,
            name=r.info.run_name or r.info.run_id,
            task=r.data.tags.get(TAG_TASK),
            status=r.info.status,
        )
        for r in runs
    ]
    return sorted(links, key=lambda link: (link.task is not None, link.task or ""))


def _server_links(parent_id: str, tracking: Tracking) -> list[RunLink]:
    """The parent run the Pipelines server made, then its nested runs (one per task)."""
    with tracking.writer() as client:
        parent = client.get_run(parent_id)
        children = client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.`{TAG_PARENT}` = '{parent_id}'",
            max_results=500,
        )
    tasks = [_link(r, r.info.run_name or r.info.run_id) for r in children]
    return [_link(parent, None), *sorted(tasks, key=lambda link: link.task or "")]


def _link(found: Any, task: str | None) -> RunLink:
    return RunLink(
        mlflow_run_id=found.info.run_id,
        experiment_id=found.info.experiment_id,
        name=found.info.run_name or found.info.run_id,
        task=task,
        status=found.info.status,
    )


def _log(client: Any, run_id: str, params: dict[str, Any], outputs: dict[str, Any]) -> None:
    from mlflow.entities import Metric, Param

    metrics = {
        key: float(value)
        for key, value in outputs.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    client.log_batch(
        run_id,
        params=[Param(key, str(value)[:6000]) for key, value in params.items()],
        metrics=[Metric(key, value, _millis(None), 0) for key, value in metrics.items()],
    )


def _millis(when: Any) -> int:
    import datetime as dt

    moment = when or dt.datetime.now(dt.timezone.utc)
    return int(moment.timestamp() * 1000)
