"""What a search is and what it found: `Trial` and `Tuning`, alike for local and Katib runs."""

from __future__ import annotations

import datetime as dt
import math
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class TrialState(str, Enum):
    """A trial's state, in Katib's words (its Trial condition types)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    KILLED = "Killed"
    METRICS_UNAVAILABLE = "MetricsUnavailable"

    @property
    def finished(self) -> bool:
        return self not in (TrialState.PENDING, TrialState.RUNNING)


class TuningState(str, Enum):
    """A search's state, in Katib's words (its Experiment condition types)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def finished(self) -> bool:
        return self in (TuningState.SUCCEEDED, TuningState.FAILED)


class Trial(BaseModel):
    """One try of the component with one set of parameters."""

    name: str
    parameters: dict[str, Any]
    state: TrialState = TrialState.PENDING
    metrics: dict[str, float] = Field(default_factory=dict)
    objective: float | None = Field(default=None, description="The objective metric's value.")
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    message: str = ""
    run_id: str | None = Field(default=None, description="The local pipeline run, if local.")
    mlflow_run_id: str | None = None

    @property
    def seconds(self) -> float | None:
        """How long it ran (so far, while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at or dt.datetime.now(dt.timezone.utc)
        return (end - self.started_at).total_seconds()


class Tuning(BaseModel):
    """A search: where it runs, what it optimises, its trials and the best one so far."""

    name: str
    mode: str = Field(description="'local' or 'cluster' (a Katib Experiment).")
    component: str
    metric: str
    direction: str
    algorithm: str
    space: dict[str, str] = Field(description="Each parameter's range, as written.")
    max_trials: int
    parallel: int
    max_failed: int
    state: TuningState = TuningState.CREATED
    message: str = ""
    stopped: bool = Field(default=False, description="Ended by a stop, not by its limits.")
    namespace: str | None = None
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    trials: list[Trial] = Field(default_factory=list)
    best_trial: str | None = None
    mlflow_run_id: str | None = None
    mlflow_experiment_id: str | None = None

    def best(self) -> Trial | None:
        """The trial with the best objective value, if any trial reported one."""
        if self.best_trial is not None:
            for trial in self.trials:
                if trial.name == self.best_trial:
                    return trial
        # A NaN compares false with everything: it would win `max` when it comes first.
        scored = [t for t in self.trials if t.objective is not None and math.isfinite(t.objective)]
        if not scored:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(scored, key=lambda t: t.objective or 0.0)

    def count(self, *states: TrialState) -> int:
        return sum(1 for t in self.trials if t.state in states)


__all__ = ["Trial", "TrialState", "Tuning", "TuningState"]
