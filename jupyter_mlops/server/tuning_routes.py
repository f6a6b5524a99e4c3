"""Tuning routes under `mlops/api/tuning/`: the searches (local ones and the namespace's Katib
Experiments), one search's trials, best trial and charts, and Stop."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import BadInput, MLOpsError
from ..serving.models import json_safe
from .base import MLOpsHandler

if TYPE_CHECKING:
    from ..tuning import Tuner
    from ..tuning.models import Trial, Tuning
    from .models.tuning import TuningDetail, TuningSummary

NAME = r"(?P<name>[^/]+)"
WHERE = ("local", "cluster")
#: The charts' size, drawn for the sidebar: shown at its default width, their text stays legible.
CHART_SIZE = {"width": 300, "height": 210}


class TuningHandler(MLOpsHandler):
    """Shared parsing of the tuning routes' arguments, and the server's one `Tuner`."""

    def tuner(self) -> Tuner:
        """The server's one `Tuner` (blocking)."""
        return self.state.tuning()

    def search_name(self, name: str) -> str:
        from ..tuning.store import check_name

        return check_name(name)

    def where(self) -> bool | None:
        """`?where=local|cluster` as `Tuner`'s `cluster` flag; both places when not given."""
        value: str | None = self.get_query_argument("where", None) or None
        if value is not None and value not in WHERE:
            raise BadInput(f"where must be local or cluster, not {value!r}")
        return None if value is None else value == "cluster"


def best_json(tuning: Tuning) -> dict[str, Any] | None:
    """The best trial so far: its name, objective value and parameters (none while no
    objective is a number: a NaN is no value to show)."""
    best = tuning.best()
    if best is None or best.objective is None or not math.isfinite(best.objective):
        return None
    return {"trial": best.name, "value": best.objective, "parameters": best.parameters}


def summary_json(tuning: Tuning) -> dict[str, Any]:
    """A search as the list shows it (a `TuningSummary`'s keys)."""
    return {
        "name": tuning.name,
        "where": tuning.mode,
        "namespace": tuning.namespace,
        "component": tuning.component,
        "state": tuning.state.value,
        "stopped": tuning.stopped,
        "message": tuning.message,
        "algorithm": tuning.algorithm,
        "metric": tuning.metric,
        "direction": tuning.direction,
        "trials_done": sum(1 for t in tuning.trials if t.state.finished),
        "trials_total": tuning.max_trials,
        "best": best_json(tuning),
        "created_at": tuning.created_at.isoformat() if tuning.created_at else None,
    }


def trial_json(trial: Trial) -> dict[str, Any]:
    return {
        "name": trial.name,
        "parameters": trial.parameters,
        "state": trial.state.value,
        "objective": trial.objective,
        "metrics": trial.metrics,
        "seconds": trial.seconds,
        "message": trial.message,
    }


def detail_json(tuning: Tuning) -> dict[str, Any]:
    """A search with its trials and both charts (SVG, every text in them escaped): a
    `TuningDetail`'s keys."""
    from ..tuning.charts import metric_by_trial, parallel_coordinates

    return {
        **summary_json(tuning),
        "space": tuning.space,
        "parallel": tuning.parallel,
        "max_failed": tuning.max_failed,
        "trials": [trial_json(t) for t in tuning.trials],
        "charts": {
            "metric_by_trial": metric_by_trial(tuning, **CHART_SIZE),
            "parallel_coordinates": parallel_coordinates(tuning, **CHART_SIZE),
        },
    }


def summary_model(tuning: Tuning) -> TuningSummary:
    """A search as the list shows it, checked by its model."""
    from .models.tuning import TuningSummary

    return TuningSummary.model_validate(json_safe(summary_json(tuning)))


def detail_answer(tuning: Tuning) -> dict[str, Any]:
    """The JSON of a `TuningDetail`: what the model does not name fails here, not in the
    browser."""
    from .models.tuning import TuningDetail

    detail: TuningDetail = TuningDetail.model_validate(json_safe(detail_json(tuning)))
    answer: dict[str, Any] = detail.model_dump(mode="json")
    return answer


class ExperimentsHandler(TuningHandler):
    """`GET tuning/experiments`: local searches, then the namespace's Katib Experiments."""

    example = "tuning/experiments"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        def experiments() -> dict[str, Any]:
            from .models.tuning import TuningList

            tuner = self.tuner()
            found, errors = tuner.list()
            namespace = None
            if tuner.settings.cluster != "none" and "cluster" not in errors:
                try:
                    namespace = tuner.cluster().namespace
                except MLOpsError as error:
                    errors["cluster"] = error.message
            answer = TuningList(
                namespace=namespace,
                experiments=[summary_model(t) for t in found],
                errors=errors,
            )
            listed: dict[str, Any] = answer.model_dump(mode="json")
            return listed

        self.finish(await self.state.run(experiments))


class ExperimentHandler(TuningHandler):
    """`GET tuning/experiments/NAME?where=`: one search's trials, best trial and charts."""

    example = "tuning/experiments/x"

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name, where = self.search_name(name), self.where()

        def experiment() -> dict[str, Any]:
            return detail_answer(self.tuner().search(name, cluster=where).refresh())

        self.finish(await self.state.run(experiment))


class StopHandler(TuningHandler):
    """`POST tuning/experiments/NAME/stop?where=`: no new trials, unfinished ones ended."""

    example = "tuning/experiments/x/stop"

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        name, where = self.search_name(name), self.where()

        def stop() -> dict[str, Any]:
            return detail_answer(self.tuner().stop(name, cluster=where))

        self.finish(await self.state.run(stop))


TUNING_ROUTES: list[tuple[str, Any]] = [
    ("tuning/experiments", ExperimentsHandler),
    (f"tuning/experiments/{NAME}/stop", StopHandler),
    (f"tuning/experiments/{NAME}", ExperimentHandler),
]
