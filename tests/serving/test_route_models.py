"""The serving routes answer through their models: every field of the serving API's
dataclasses has its place in a model (a new one fails here and in the routes until the model
names it), and a key a model does not name, or one it lacks, is refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from jupyter_mlops.server.models import serving as wire
from jupyter_mlops.server.serving_routes import serve_request
from jupyter_mlops.serving.models import (
    Condition,
    Finding,
    Prediction,
    PredictorPod,
    Service,
    Traffic,
)


def names(kind: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(kind)}


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        (wire.AppliedService, Service),
        (wire.ServingCondition, Condition),
        (wire.TrafficShare, Traffic),
        (wire.PredictorPod, PredictorPod),
        (wire.PlanFinding, Finding),
    ],
)
def test_each_dataclass_field_has_its_place_in_the_model(model: type[BaseModel], kind: Any) -> None:
    assert set(model.model_fields) == names(kind)


def test_the_answers_add_only_what_the_routes_add() -> None:
    added = set(wire.ServingService.model_fields) - set(wire.AppliedService.model_fields)
    assert added == {"findings", "alias_version"}
    # The decoded data stays in Python; the route adds the table of it.
    assert set(wire.ServingPrediction.model_fields) == names(Prediction) - {"data"} | {"table"}


def test_a_key_the_model_does_not_name_or_lacks_is_refused() -> None:
    service = Service(
        name="churn",
        mode="cluster",
        ready=False,
        conditions=(Condition("Ready", "False", "MinimumReplicasUnavailable"),),
        traffic=(Traffic("churn-predictor-00001", 100, latest=True),),
        pods=(PredictorPod("churn-predictor-0", "Pending", False),),
    )
    answer = {**service.to_json(), "findings": [], "alias_version": None}
    assert wire.ServingService.model_validate(answer).model_dump(mode="json") == answer
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        wire.ServingService.model_validate({**answer, "replicas": 1})
    with pytest.raises(ValidationError, match="Field required"):
        wire.ServingService.model_validate({k: v for k, v in answer.items() if k != "url"})


def test_a_serve_request_becomes_the_serving_apis_arguments() -> None:
    assert serve_request({"model": "churn", "version": 3, "name": "", "canary": 10}) == {
        "model": "churn",
        "version_or_alias": "3",
        "name": None,
        "mode": "cluster",
        "canary": 10,
        "deployment_mode": "Standard",
        "service_account": None,
        "runtime": "auto",
    }
    assert serve_request({"model": "churn", "alias": "@champion", "mode": "local"}) == {
        "model": "churn",
        "version_or_alias": "champion",
        "name": None,
        "mode": "local",
    }
