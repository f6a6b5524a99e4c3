"""Hyperparameter search of a `%%kfp_component`: on this machine, or as a Katib Experiment.

>>> from jupyter_mlops.tuning import tune, loguniform, integer
>>> search = tune(fit, {"lr": loguniform(1e-4, 1e-1), "depth": integer(2, 8)}, "accuracy")
>>> search.wait(); search.best()        # {'lr': 0.012, 'depth': 5}

Importing this package imports neither kfp, mlflow nor the Kubernetes client.
"""

from __future__ import annotations

from .api import ClusterSearch, Search, Tuner, best_parameters, tune
from .limits import Limits
from .local import LocalSearch
from .models import Trial, TrialState, Tuning, TuningState
from .objective import Objective, metrics_from_lines
from .space import Param, choice, integer, loguniform, parse_param, parse_space, uniform

__all__ = [
    "ClusterSearch",
    "Limits",
    "LocalSearch",
    "Objective",
    "Param",
    "Search",
    "Trial",
    "TrialState",
    "Tuner",
    "Tuning",
    "TuningState",
    "best_parameters",
    "choice",
    "integer",
    "loguniform",
    "metrics_from_lines",
    "parse_param",
    "parse_space",
    "tune",
    "uniform",
]
