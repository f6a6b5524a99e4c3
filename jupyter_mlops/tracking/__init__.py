"""MLflow tracking and registry reads: `Tracking` and the typed models it answers with.

Importing this package does not import mlflow; the client is loaded on the first call.
"""

from __future__ import annotations

from .chart import metric_chart
from .client import MAX_RESULTS, Tracking, artifact_path
from .downsample import downsample
from .models import (
    Artifact,
    Experiment,
    ExperimentPage,
    MetricHistory,
    MetricPoint,
    ModelVersion,
    ModelVersionPage,
    RegisteredModel,
    RegisteredModelPage,
    Run,
    RunPage,
    RunSummary,
)

__all__ = [
    "MAX_RESULTS",
    "Artifact",
    "Experiment",
    "ExperimentPage",
    "MetricHistory",
    "MetricPoint",
    "ModelVersion",
    "ModelVersionPage",
    "RegisteredModel",
    "RegisteredModelPage",
    "Run",
    "RunPage",
    "RunSummary",
    "Tracking",
    "artifact_path",
    "downsample",
    "metric_chart",
]
