"""The KServe InferenceService this product writes for an MLflow model version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import BadInput
from .models import ModelRef

API_VERSION = "serving.kserve.io/v1beta1"
#: The field manager of every server-side apply this product makes; `managedFields` shows it.
FIELD_MANAGER = "jupyter-mlops"
DEFAULT_RUNTIME = "kserve-mlserver"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
#: Annotation values by the mode a user names. KServe 0.15 renamed RawDeployment to Standard
#: and Serverless to Knative and still reads the old names; older KServe reads only those.
DEPLOYMENT_MODES = {
    "Standard": "RawDeployment",
    "RawDeployment": "RawDeployment",
    "Knative": "Serverless",
    "Serverless": "Serverless",
}
MANAGED_BY = {"app.kubernetes.io/managed-by": FIELD_MANAGER}
MODEL_ANNOTATIONS = {
    "model": f"{FIELD_MANAGER}/registered-model",
    "version": f"{FIELD_MANAGER}/model-version",
    "alias": f"{FIELD_MANAGER}/model-alias",
    "model_id": f"{FIELD_MANAGER}/model-id",
    "run_id": f"{FIELD_MANAGER}/run-id",
}
# DNS-1035: Knative and the predictor Service need a letter first; 63 less KServe's suffixes.
_NAME = re.compile(r"[a-z]([-a-z0-9]{0,43}[a-z0-9])?")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
RESOURCE_KEYS = ("cpu", "memory", "nvidia.com/gpu")


def service_name(model: str) -> str:
    """A valid InferenceService name made from a registered model's name."""
    name = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = f"m-{name}".rstrip("-")
    return name[:45].rstrip("-")


def check_name(name: str) -> str:
    """`name` if KServe can use it (lowercase letters, digits and '-', a letter first, at most
    45 characters so the predictor's names fit in 63); `BadInput` saying so otherwise."""
    if not _NAME.fullmatch(name):
        raise BadInput(
            f"{name!r} cannot name an InferenceService: use lowercase letters, digits and '-', "
            "starting with a letter, at most 45 characters"
        )
    return name


def deployment_mode(mode: str) -> str:
    """The annotation value for a mode (Standard, Knative, or their former names)."""
    if mode not in DEPLOYMENT_MODES:
        raise BadInput(f"deployment mode {mode!r}: use Standard or Knative")
    return DEPLOYMENT_MODES[mode]


def canary_percent(value: Any) -> int | None:
    """A canary's share of the traffic, a whole number from 0 to 100 (None: no canary)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise BadInput(f"canary must be a whole percentage from 0 to 100, not {value!r}")
    return value


def resources(given: Mapping[str, Any] | None) -> dict[str, dict[str, str]] | None:
    """`{"requests": {...}, "limits": {...}}` from that form or from `{"cpu": "1", ...}` (then
    requests and limits alike); quantities checked, so a typo fails here, not in the pod."""
    if not given:
        return None
    if set(given) <= {"requests", "limits"}:
        parts = {k: dict(v or {}) for k, v in given.items()}
    else:
        parts = {"requests": dict(given), "limits": dict(given)}
    for part, values in parts.items():
        for key, value in values.items():
            if key not in RESOURCE_KEYS:
                raise BadInput(
                    f"resources.{part}: {key!r} is not one of {', '.join(RESOURCE_KEYS)}"
                )
            if not _QUANTITY.fullmatch(str(value)):
                raise BadInput(
                    f"resources.{part}.{key}: {value!r} is not a quantity like 500m or 2Gi"
                )
            values[key] = str(value)
    return parts


def inference_service(
    name: str,
    namespace: str,
    ref: ModelRef,
    *,
    runtime: str,
    mode: str,
    service_account: str | None,
    requests: dict[str, dict[str, str]] | None,
    canary: int | None = None,
) -> dict[str, Any]:
    """The InferenceService serving `ref` with MLServer's MLflow runtime over the v2 protocol;
    with `canary`, that share of the traffic goes to this version and the rest stays on the
    last one that was Ready (KServe's `canaryTrafficPercent`)."""
    annotations = {DEPLOYMENT_MODE: deployment_mode(mode)}
    for field, key in MODEL_ANNOTATIONS.items():
        value = getattr(ref, field) if field != "model" else ref.name
        if value:
            annotations[key] = str(value)
    model: dict[str, Any] = {
        "modelFormat": {"name": "mlflow"},
        "protocolVersion": "v2",
        "runtime": runtime,
        "storageUri": ref.storage_uri or ref.download_uri,
    }
    if requests:
        model["resources"] = requests
    predictor: dict[str, Any] = {"model": model}
    if service_account:
        predictor["serviceAccountName"] = service_account
    if canary is not None:
        predictor["canaryTrafficPercent"] = canary
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
            "annotations": annotations,
        },
        "spec": {"predictor": predictor},
    }
