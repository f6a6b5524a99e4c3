"""Answers of the `mlops/api/tuning` routes (none takes a body).

The answers forbid keys they do not name, so a key added to what the routes build fails the
route (and its tests) until the model says what it is.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...tuning.models import TrialState, TuningState


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TuningBest(_Answer):
    """The best trial so far, by the objective and its direction."""

    trial: str = Field(description="The trial's name.")
    value: float = Field(description="Its objective value.")
    parameters: dict[str, Any]


class TuningSummary(_Answer):
    """A search as the list shows it."""

    name: str
    where: Literal["local", "cluster"] = Field(
        description="local: trials on this machine; cluster: a Katib Experiment."
    )
    namespace: str | None
    component: str = Field(description="The component each trial runs.")
    state: TuningState
    stopped: bool = Field(description="Ended by a stop, not by its limits.")
    message: str
    algorithm: str
    metric: str = Field(description="The objective metric.")
    direction: Literal["maximize", "minimize"]
    trials_done: int = Field(ge=0, description="Trials that have ended.")
    trials_total: int = Field(ge=0, description="The search's max trials.")
    best: TuningBest | None
    created_at: str | None = Field(description="When it was made (ISO 8601).")


class TuningList(_Answer):
    """`GET tuning/experiments`: local searches, then the namespace's Katib Experiments."""

    namespace: str | None = Field(description="The namespace read, when the cluster answered.")
    experiments: list[TuningSummary]
    errors: dict[str, str] = Field(
        description="What a place (cluster) said when it could not be read."
    )


class TuningTrial(_Answer):
    """One trial: its parameters, the objective and other metrics, state and duration."""

    name: str
    parameters: dict[str, Any]
    state: TrialState
    objective: float | None = Field(description="The objective metric's value, once reported.")
    metrics: dict[str, float | None] = Field(description="Every metric it reported.")
    seconds: float | None = Field(description="How long it ran (so far, while it runs).")
    message: str


class TuningCharts(_Answer):
    """A search's two charts, as SVG with every text in them escaped."""

    metric_by_trial: str = Field(description="SVG: the objective by trial and the best so far.")
    parallel_coordinates: str = Field(
        description="SVG: one axis per parameter and one for the objective, a line per ended trial."
    )


class TuningDetail(TuningSummary):
    """`GET tuning/experiments/NAME`: the search, its trials and its two charts."""

    space: dict[str, str] = Field(description="Each parameter's range, as written.")
    parallel: int = Field(description="Trials run at once.")
    max_failed: int = Field(description="Failed trials that end the search.")
    trials: list[TuningTrial]
    charts: TuningCharts


#: Every model of this family, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [TuningList, TuningSummary, TuningDetail, TuningTrial, TuningBest]
