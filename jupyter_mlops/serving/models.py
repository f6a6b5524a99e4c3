"""Typed answers of the serving API: plain frozen dataclasses, each with a JSON-safe `to_json`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Mode = Literal["local", "cluster"]


def json_safe(value: Any) -> Any:
    """`value` made of dicts, lists, strings, numbers, booleans and None only (no NaN)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return json_safe(value.tolist())
    return str(value)


class _Json:
    """`to_json()` for the dataclasses below."""

    def to_json(self) -> dict[str, Any]:
        """This object as JSON-safe data, for a route or a widget."""
        answer: dict[str, Any] = json_safe(self)
        return answer


@dataclasses.dataclass(frozen=True)
class Column(_Json):
    """One input of a model's signature."""

    name: str
    type: str


@dataclasses.dataclass(frozen=True)
class ModelRef(_Json):
    """A registered model version, resolved through the MLflow registry for serving."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    model_id: str | None
    source: str
    download_uri: str  # what MLflow downloads the model from
    storage_uri: str | None  # what KServe's storage initializer reads, ending in "/"
    flavors: tuple[str, ...]
    mlflow_version: str | None
    requirements: tuple[str, ...]
    inputs: tuple[Column, ...]

    @property
    def label(self) -> str:
        """`name v3 (@champion)`, for messages."""
        return f"{self.name} v{self.version}" + (f" (@{self.alias})" if self.alias else "")


@dataclasses.dataclass(frozen=True)
class Finding(_Json):
    """What a check before applying found: an error blocks, a warning or a note does not."""

    check: str
    severity: Severity
    message: str
    fix: str = ""


@dataclasses.dataclass(frozen=True)
class Plan(_Json):
    """An InferenceService ready to apply: the manifest to show and what the checks found."""

    name: str
    namespace: str
    model: ModelRef
    runtime: str
    deployment_mode: str
    manifest: dict[str, Any]
    findings: tuple[Finding, ...]

    @property
    def blocked(self) -> bool:
        """Whether a check found an error, so applying would fail or serve nothing."""
        return any(f.severity == "error" for f in self.findings)

    def yaml(self) -> str:
        """The manifest as YAML, as `kubectl apply -f` would take it."""
        import yaml

        return yaml.safe_dump(self.manifest, sort_keys=False)


@dataclasses.dataclass(frozen=True)
class Condition(_Json):
    """One condition of an InferenceService's status."""

    type: str
    status: str
    reason: str = ""
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Traffic(_Json):
    """One revision's share of the traffic (Knative mode; a canary has `tag` 'latest')."""

    revision: str
    percent: int
    tag: str = ""
    latest: bool = False


@dataclasses.dataclass(frozen=True)
class PredictorPod(_Json):
    """A pod serving the model."""

    name: str
    phase: str
    ready: bool


@dataclasses.dataclass(frozen=True)
class Service(_Json):
    """A served model: an InferenceService on the cluster or a model server on loopback."""

    name: str
    mode: Mode
    ready: bool
    url: str | None = None
    reason: str = ""
    namespace: str | None = None
    model: str | None = None
    version: str | None = None
    alias: str | None = None
    model_format: str = "mlflow"
    storage_uri: str | None = None
    runtime: str | None = None
    deployment_mode: str | None = None
    conditions: tuple[Condition, ...] = ()
    traffic: tuple[Traffic, ...] = ()
    canary_percent: int | None = None
    pods: tuple[PredictorPod, ...] = ()
    created: str | None = None


@dataclasses.dataclass(frozen=True)
class ServiceList(_Json):
    """Every served model, local and on the cluster; a source that failed says why."""

    services: tuple[Service, ...]
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Progress(_Json):
    """One step on the way to Ready, as the watch saw it."""

    name: str
    ready: bool
    message: str
    conditions: tuple[Condition, ...] = ()


@dataclasses.dataclass(frozen=True)
class Prediction(_Json):
    """A model's answer through the Open Inference Protocol (v2), and how long it took.

    `data` is a DataFrame, an array or a dict of arrays, as the response's content type says;
    `response` is the v2 JSON body as it came.
    """

    name: str
    mode: Mode
    url: str
    latency_ms: float
    data: Any = dataclasses.field(compare=False)
    response: dict[str, Any] = dataclasses.field(compare=False)

    def to_json(self) -> dict[str, Any]:
        answer = super().to_json()
        answer.pop("data")  # the decoded form of `response`, which is JSON already
        return answer


@dataclasses.dataclass(frozen=True)
class FeatureDrift(_Json):
    """How far one feature's values moved from the training data."""

    feature: str
    kind: Literal["numeric", "categorical"]
    psi: float
    ks: float | None
    ks_pvalue: float | None
    drifted: bool


@dataclasses.dataclass(frozen=True)
class Histogram(_Json):
    """One feature's distribution in the training data and in the compared inputs: shares of
    each bin (numeric, bins between `edges`) or of each category, for a chart."""

    feature: str
    edges: tuple[float, ...]
    categories: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class DriftReport(_Json):
    """Per-feature drift of inputs against the model's training dataset, with what to plot."""

    name: str
    model: str
    version: str
    dataset: str
    reference_rows: int
    current_rows: int
    psi_threshold: float
    ks_threshold: float
    features: tuple[FeatureDrift, ...]
    plot: tuple[Histogram, ...]
    run_id: str | None = None
    experiment_id: str | None = None

    @property
    def drifted(self) -> tuple[str, ...]:
        """Names of the features flagged above a threshold."""
        return tuple(f.feature for f in self.features if f.drifted)

    def to_json(self) -> dict[str, Any]:
        answer = super().to_json()
        answer["drifted"] = list(self.drifted)
        return answer
