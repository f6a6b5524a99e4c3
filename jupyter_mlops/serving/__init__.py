"""Serving from the MLflow registry: KServe InferenceServices, local serving, predictions, drift.

>>> from jupyter_mlops import serving
>>> serving.serve("churn", "champion", mode="local")        # the same v2 protocol as KServe
>>> serving.predict("churn", frame).data
>>> serving.drift("churn", shifted).drifted
>>> plan = serving.plan("churn", "champion"); print(plan.yaml())   # then serving.apply(plan)

The functions act through one `Serving` made from the notebook's configuration (made again
when the configuration changes); `Serving` itself is the object to hold in a server. Importing
this package imports neither mlflow, kubernetes, pandas, numpy nor scipy.
"""

from __future__ import annotations

import threading
from typing import Any

from ..config import Settings
from .api import Serving
from .manifest import FIELD_MANAGER
from .models import (
    Column,
    Condition,
    DriftReport,
    FeatureDrift,
    Finding,
    Histogram,
    ModelRef,
    Plan,
    Prediction,
    PredictorPod,
    Progress,
    Service,
    ServiceList,
    Traffic,
)

__all__ = [
    "FIELD_MANAGER",
    "Column",
    "Condition",
    "DriftReport",
    "FeatureDrift",
    "Finding",
    "Histogram",
    "ModelRef",
    "Plan",
    "Prediction",
    "PredictorPod",
    "Progress",
    "Service",
    "ServiceList",
    "Serving",
    "Traffic",
    "apply",
    "connect",
    "delete",
    "drift",
    "list",
    "plan",
    "predict",
    "serve",
    "service",
]

_current: Serving | None = None
_lock = threading.Lock()


def connect(settings: Settings | None = None) -> Serving:
    """The `Serving` these functions use, for these settings (default: the configuration)."""
    global _current
    from ..config import resolve

    wanted = settings if settings is not None else resolve()
    with _lock:
        if _current is None or _current.settings != wanted:
            if _current is not None:
                _current.close()
            _current = Serving(wanted)
        return _current


def serve(model: str, version_or_alias: str | None = None, **options: Any) -> Service | None:
    """`Serving.serve`: serve a model version on the cluster (default) or with mode="local"."""
    return connect().serve(model, version_or_alias, **options)


def plan(model: str, version_or_alias: str | None = None, **options: Any) -> Plan:
    """`Serving.plan`: the InferenceService for a model version and its checks, not applied."""
    return connect().plan(model, version_or_alias, **options)


def apply(plan: Plan, **options: Any) -> Service:
    """`Serving.apply`: apply a plan and watch it to Ready."""
    return connect().apply(plan, **options)


def predict(name: str, data: Any, **options: Any) -> Prediction:
    """`Serving.predict`: the served model's answer for a DataFrame, an array or a dict."""
    return connect().predict(name, data, **options)


def drift(name: str, data: Any = None, **options: Any) -> DriftReport:
    """`Serving.drift`: PSI and KS per feature against the model's training dataset."""
    return connect().drift(name, data, **options)


def list() -> ServiceList:
    """`Serving.list`: every served model, local and on the cluster."""
    return connect().list()


def service(name: str, **options: Any) -> Service:
    """`Serving.service`: one served model."""
    return connect().service(name, **options)


def delete(name: str, **options: Any) -> Service:
    """`Serving.delete`: stop a local server or delete an InferenceService."""
    return connect().delete(name, **options)
