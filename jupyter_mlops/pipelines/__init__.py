"""Kubeflow Pipelines from Python: compile, run locally or on the cluster, inspect runs."""

from __future__ import annotations

from jupyter_mlops.pipelines.backend import DEFAULT_EXPERIMENT, PipelineBackend, compile_pipeline
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.pipelines.local import LocalPipelines, load_spec
from jupyter_mlops.pipelines.models import (
    Experiment,
    ListRunsQuery,
    Resources,
    Run,
    RunPage,
    RunStatus,
    RunSummary,
    Task,
)

__all__ = [
    "DEFAULT_EXPERIMENT",
    "ClusterPipelines",
    "Experiment",
    "ListRunsQuery",
    "LocalPipelines",
    "PipelineBackend",
    "Resources",
    "Run",
    "RunPage",
    "RunStatus",
    "RunSummary",
    "Task",
    "compile_pipeline",
    "load_spec",
]
