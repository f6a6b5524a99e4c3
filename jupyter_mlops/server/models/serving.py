"""Answers and request bodies of the `mlops/api/serving` routes.

The answers forbid keys they do not name: a field added to the serving API's dataclasses
fails the route (and its tests) until the model says what it is, instead of reaching the
browser undescribed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictInt

from ...kube.doctor import Finding

ServingModeValue = Literal["local", "cluster"]
DeploymentMode = Literal["Standard", "Knative", "RawDeployment", "Serverless"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServingCondition(_Answer):
    """One condition of an InferenceService's status."""

    type: str
    status: str = Field(description="'True', 'False' or 'Unknown', as KServe writes it.")
    reason: str
    message: str


class TrafficShare(_Answer):
    """One revision's share of the traffic (Knative mode; a canary has tag 'latest')."""

    revision: str
    percent: int
    tag: str
    latest: bool


class PredictorPod(_Answer):
    """A pod serving the model."""

    name: str
    phase: str
    ready: bool


class AppliedService(_Answer):
    """A served model: an InferenceService on the cluster or a model server on loopback."""

    name: str
    mode: ServingModeValue
    ready: bool
    url: str | None = Field(description="Where it answers, once it has an address.")
    reason: str = Field(description="Why it is not Ready, in a line.")
    namespace: str | None
    model: str | None = Field(description="The registered MLflow model it serves.")
    version: str | None
    alias: str | None = Field(description="The alias it was served from.")
    model_format: str
    storage_uri: str | None
    runtime: str | None
    deployment_mode: str | None
    conditions: list[ServingCondition]
    traffic: list[TrafficShare]
    canary_percent: int | None
    pods: list[PredictorPod]
    created: str | None = Field(description="When it was made (RFC 3339).")


class ServingService(AppliedService):
    """A served model as the sidebar lists it: with the doctor's findings when an
    InferenceService is not Ready, and where its alias points now."""

    findings: list[Finding] = Field(
        description="The doctor's findings while an InferenceService is not Ready; else empty."
    )
    alias_version: str | None = Field(
        description="The version the alias points at now; unlike version, the alias moved."
    )


class ServingServiceList(_Answer):
    """`GET serving/services`: every served model, local and in the namespace."""

    namespace: str | None = Field(description="The namespace read, when the cluster answered.")
    services: list[ServingService]
    errors: dict[str, str] = Field(
        description="What a source (cluster, pods) said when it could not be read."
    )


class TensorSpec(BaseModel):
    """One input or output of a model's v2 metadata; a model server may add its own keys."""

    model_config = ConfigDict(extra="allow")

    name: str
    datatype: str
    shape: list[int]


class ServingMetadata(BaseModel):
    """`GET serving/services/NAME/metadata`: the model's v2 metadata as its server sent it
    (its signature); every key is the server's, so none is required."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    versions: list[str] | None = None
    platform: str | None = None
    inputs: list[TensorSpec] | None = None
    outputs: list[TensorSpec] | None = None
    parameters: dict[str, Any] | None = None


class PredictionTable(_Answer):
    """A prediction as columns and rows, for a table on screen."""

    columns: list[str]
    rows: list[list[Any]] = Field(description="At most 1000 rows; the response keeps them all.")
    total: int = Field(description="How many rows the prediction has.")


class ServingPrediction(_Answer):
    """`POST serving/services/NAME/predict`: the model's answer and how long it took."""

    name: str
    mode: ServingModeValue
    url: str
    latency_ms: float
    response: dict[str, Any] = Field(
        description="The v2 inference response as the model server sent it."
    )
    table: PredictionTable


class Tensor(BaseModel):
    """A v2 tensor of a request."""

    name: str
    datatype: str = Field(description="A v2 datatype: BOOL, INT64, FP64, BYTES, ...")
    shape: list[int]
    data: list[Any]
    parameters: dict[str, Any] | None = None


class PredictInputs(BaseModel):
    """A v2 inference request; named tensors read as a table's columns unless
    parameters.content_type says otherwise."""

    id: str | None = None
    inputs: list[Tensor] = Field(description="At least one (a request without is refused).")
    parameters: dict[str, Any] | None = None


class PredictColumns(BaseModel):
    """Values by column, as a table."""

    columns: dict[str, Any] = Field(
        min_length=1, description="Each column's values (a list, or one value)."
    )


class PredictBody(RootModel[PredictInputs | PredictColumns]):
    """What `POST serving/services/NAME/predict` takes: v2 inputs, or values by column."""


class ServeRequest(BaseModel):
    """`POST serving/serve`: a version or an alias of a registered model."""

    # The sidebar's numbers are names and versions too.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    model: str = Field(description="The registered model.")
    version: str | None = Field(
        default=None, description="A version number; without version and alias, the newest."
    )
    alias: str | None = Field(
        default=None,
        description="An alias (e.g. champion); serving it again after it moved rolls the "
        "service out to its new version.",
    )
    name: str | None = Field(
        default=None, description="The InferenceService's name (default: made from the model's)."
    )
    canary: StrictInt | None = Field(
        default=None,
        # Checked where the manifest is made, which names the range in its message.
        json_schema_extra={"minimum": 0, "maximum": 100},
        description="Percent of the traffic for the new version (KServe's "
        "canaryTrafficPercent; Knative mode).",
    )
    deployment_mode: DeploymentMode | None = Field(
        default=None, description="Standard (default) or Knative, or their former names."
    )
    service_account: str | None = Field(
        default=None, description="The ServiceAccount with the storage credentials."
    )
    runtime: str | None = Field(default=None, description="A ServingRuntime (default: auto).")
    mode: ServingModeValue | None = Field(
        default=None, description="cluster (default) or a model server on loopback."
    )


class PlanFinding(_Answer):
    """What a check before applying found: an error blocks, a warning or a note does not."""

    check: str
    severity: Literal["error", "warning", "info"]
    message: str
    fix: str


class ServeAnswer(_Answer):
    """`POST serving/serve`: the service as applied (not Ready yet), what the checks found
    and the manifest applied."""

    service: AppliedService
    findings: list[PlanFinding]
    manifest: dict[str, Any] | None


#: Every model of this family, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [
    ServingServiceList,
    ServingService,
    ServingMetadata,
    ServingPrediction,
    PredictBody,
    ServeRequest,
    ServeAnswer,
]
