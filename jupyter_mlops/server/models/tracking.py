"""Answers of the `mlops/api/mlflow` routes, named for the wire.

The handlers send the tracking API's own models (`jupyter_mlops.tracking.models`); these
models give them the names the browser's types carry. Items subclass the API's models, so a
field renamed there is renamed here too; pages name their items' wire types.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ...tracking.models import (
    Artifact,
    Experiment,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    Run,
    RunSummary,
)

TOKEN = "Ask again with it for the next page; null on the last page."


class MlflowExperiment(Experiment):
    """An MLflow experiment: a named group of runs."""


class MlflowExperimentPage(BaseModel):
    """`GET mlflow/experiments`: one page of experiments, by name."""

    experiments: list[MlflowExperiment]
    next_page_token: str | None = Field(description=TOKEN)


class MlflowRunSummary(RunSummary):
    """A run as one row of the runs table: the chosen params and metrics only."""


class MlflowRun(Run):
    """`GET mlflow/runs/ID`: a run with every param, latest metric and tag."""


class MlflowRunPage(BaseModel):
    """`GET mlflow/experiments/ID/runs`: one page of an experiment's runs."""

    experiment_id: str
    runs: list[MlflowRunSummary]
    next_page_token: str | None = Field(description=TOKEN)


class MlflowMetricPoint(MetricPoint):
    """One logged value of a metric (timestamp in milliseconds since the epoch)."""


class MlflowMetricHistory(BaseModel):
    """`GET mlflow/runs/ID/history`: a metric's values in step order, possibly downsampled."""

    run_id: str
    key: str
    total: int = Field(ge=0, description="How many points the run logged.")
    downsampled: bool
    points: list[MlflowMetricPoint]


class MlflowArtifact(Artifact):
    """A file or folder among a run's artifacts; `path` is relative to the run's root."""


class MlflowArtifactList(BaseModel):
    """`GET mlflow/runs/ID/artifacts`: the files and folders directly under one folder."""

    run_id: str
    path: str = Field(description="The folder, relative to the run's root; empty for the root.")
    artifacts: list[MlflowArtifact]


class MlflowRegisteredModel(RegisteredModel):
    """`GET mlflow/models/NAME`: a registered model; `aliases` maps each alias to a version."""


class MlflowRegisteredModelPage(BaseModel):
    """`GET mlflow/models`: one page of registered models, by name."""

    models: list[MlflowRegisteredModel]
    next_page_token: str | None = Field(description=TOKEN)


class MlflowModelVersion(ModelVersion):
    """A version of a registered model, with the aliases that point at it."""


class MlflowModelVersionPage(BaseModel):
    """`GET mlflow/models/NAME/versions`: one page of a model's versions, newest first."""

    name: str
    versions: list[MlflowModelVersion]
    next_page_token: str | None = Field(description=TOKEN)


#: Every model of this family, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [
    MlflowExperimentPage,
    MlflowRunPage,
    MlflowRun,
    MlflowMetricHistory,
    MlflowArtifactList,
    MlflowRegisteredModelPage,
    MlflowRegisteredModel,
    MlflowModelVersionPage,
]
