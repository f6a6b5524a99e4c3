"""Typed answers of the tracking API: experiments, runs, metric histories, registered models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class Experiment(BaseModel):
    """An MLflow experiment: a named group of runs."""

    id: str
    name: str
    lifecycle_stage: str = Field(description="active or deleted")
    artifact_location: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    tags: dict[str, str]


class ExperimentPage(BaseModel):
    """One page of experiments; ask again with `next_page_token` for the next one."""

    experiments: list[Experiment]
    next_page_token: str | None


class RunSummary(BaseModel):
    """A run as one row of a table: the chosen params and metrics only."""

    id: str
    name: str
    experiment_id: str
    status: str = Field(description="RUNNING, SCHEDULED, FINISHED, FAILED or KILLED")
    user: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    params: dict[str, str]
    metrics: dict[str, float | None] = Field(description="latest value of each metric")


class Run(RunSummary):
    """One run in full: every param, latest metric and tag, and where its artifacts are."""

    lifecycle_stage: str
    artifact_uri: str
    tags: dict[str, str]


class RunPage(BaseModel):
    """One page of runs; ask again with `next_page_token` for the next one."""

    experiment_id: str
    runs: list[RunSummary]
    next_page_token: str | None


class MetricPoint(BaseModel):
    """One logged value of a metric (timestamp in milliseconds since the epoch)."""

    step: int
    timestamp: int
    value: float | None


class MetricHistory(BaseModel):
    """A metric's values over steps, possibly downsampled; `total` counts the logged points."""

    run_id: str
    key: str
    total: int = Field(description="how many points the run logged")
    downsampled: bool
    points: list[MetricPoint]


class Artifact(BaseModel):
    """A file or folder among a run's artifacts; `path` is relative to the run's root."""

    path: str
    is_dir: bool
    size: int | None


class ModelVersion(BaseModel):
    """A version of a registered model, with the aliases that point at it."""

    name: str
    version: str
    run_id: str | None
    source: str
    status: str
    description: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    aliases: list[str]
    tags: dict[str, str]


class RegisteredModel(BaseModel):
    """A registered model; `aliases` maps each alias (e.g. champion) to a version."""

    name: str
    description: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    aliases: dict[str, str]
    tags: dict[str, str]


class RegisteredModelPage(BaseModel):
    """One page of registered models; ask again with `next_page_token` for the next one."""

    models: list[RegisteredModel]
    next_page_token: str | None


class ModelVersionPage(BaseModel):
    """One page of a registered model's versions, newest first."""

    name: str
    versions: list[ModelVersion]
    next_page_token: str | None
