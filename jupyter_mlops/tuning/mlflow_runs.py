"""A search in MLflow: one run for the search, one nested run per trial.

The search's run is in the experiment `tuning/<component>`, so searches of one component sit
side by side; each trial's run names it as parent (`mlflow.parentRunId`), holds its parameters
and metrics, and the search's run ends with the best trial's parameters and objective.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..lineage import TAG_RUN
from .models import Trial, TrialState, Tuning

if TYPE_CHECKING:
    from ..tracking import Tracking

EXPERIMENT_PREFIX = "tuning/"
TAG_TUNING = "mlops.tuning"
TAG_TRIAL = "mlops.trial"
TAG_ROLE = "mlops.role"  # "tuning" on the search's run, "trial" on each nested one
PARENT = "mlflow.parentRunId"
_STATUS = {
    TrialState.SUCCEEDED: "FINISHED",
    TrialState.FAILED: "FAILED",
    TrialState.METRICS_UNAVAILABLE: "FAILED",
    TrialState.KILLED: "KILLED",
}


def _millis(when: dt.datetime | None) -> int | None:
    return int(when.timestamp() * 1000) if when is not None else None


def start_search(tracking: Tracking, tuning: Tuning) -> tuple[str, str]:
    """The search's own run, made now: (experiment id, run id)."""
    name = EXPERIMENT_PREFIX + tuning.component
    with tracking.writer() as client:
        found = client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
        run = client.create_run(
            experiment_id,
            start_time=_millis(tuning.created_at),
            tags={TAG_TUNING: tuning.name, TAG_ROLE: "tuning"},
            run_name=tuning.name,
        )
        run_id = str(run.info.run_id)
        for key, value in (
            ("tuning.metric", tuning.metric),
            ("tuning.direction", tuning.direction),
            ("tuning.algorithm", tuning.algorithm),
            ("tuning.max_trials", str(tuning.max_trials)),
            ("tuning.parallel", str(tuning.parallel)),
            *((f"space.{k}", v) for k, v in tuning.space.items()),
        ):
            client.log_param(run_id, key, value)
    return str(experiment_id), run_id


def record_trial(tracking: Tracking, tuning: Tuning, trial: Trial) -> str:
    """A finished trial as a nested run of the search's run; its run id."""
    assert tuning.mlflow_experiment_id is not None and tuning.mlflow_run_id is not None
    from mlflow.entities import Metric, Param

    tags = {
        TAG_TUNING: tuning.name,
        TAG_TRIAL: trial.name,
        TAG_ROLE: "trial",
        PARENT: tuning.mlflow_run_id,
    }
    if trial.run_id:
        tags[TAG_RUN] = trial.run_id
    end = _millis(trial.finished_at) or 0
    with tracking.writer() as client:
        run = client.create_run(
            tuning.mlflow_experiment_id,
            start_time=_millis(trial.started_at),
            tags=tags,
            run_name=trial.name,
        )
        run_id = str(run.info.run_id)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, end, 0) for k, v in trial.metrics.items()],
            params=[Param(k, str(v)) for k, v in trial.parameters.items()],
        )
        client.set_terminated(run_id, _STATUS.get(trial.state, "FAILED"), end_time=end or None)
    return run_id


def finish_search(tracking: Tracking, tuning: Tuning) -> None:
    """End the search's run with the best trial's parameters and objective value."""
    assert tuning.mlflow_run_id is not None
    from mlflow.entities import Metric, Param

    best = tuning.best()
    end = _millis(tuning.finished_at or dt.datetime.now(dt.timezone.utc)) or 0
    with tracking.writer() as client:
        if best is not None and best.objective is not None:
            client.log_batch(
                tuning.mlflow_run_id,
                metrics=[Metric(f"best_{tuning.metric}", best.objective, end, 0)],
                params=[Param(f"best.{k}", str(v)) for k, v in best.parameters.items()],
                tags=[],
            )
            client.set_tag(tuning.mlflow_run_id, "mlops.best_trial", best.name)
        status = "FINISHED" if tuning.state.value == "Succeeded" else "FAILED"
        if tuning.stopped:
            status = "KILLED"
        client.set_terminated(tuning.mlflow_run_id, status, end_time=end)


__all__ = [
    "EXPERIMENT_PREFIX",
    "TAG_ROLE",
    "TAG_TRIAL",
    "TAG_TUNING",
    "finish_search",
    "record_trial",
    "start_search",
]
