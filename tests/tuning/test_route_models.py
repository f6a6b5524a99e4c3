"""What the tuning routes answer is built through their models: a search as the Python API
holds it becomes JSON valid against api/schemas.json, and a key a model does not name, or one
it lacks, fails instead of reaching the browser."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from jupyter_mlops.server.models.tuning import TuningSummary
from jupyter_mlops.server.tuning_routes import detail_answer, summary_json, summary_model
from jupyter_mlops.tuning.models import Trial, TrialState, Tuning, TuningState

DEFS = json.loads((Path(__file__).parents[2] / "api" / "schemas.json").read_text())["$defs"]
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def conforms(answer: Any, model: str) -> Any:
    jsonschema.validate(answer, {"$ref": f"#/$defs/{model}", "$defs": DEFS})
    return answer


def search(*objectives: float) -> Tuning:
    """A finished local search of one trial per objective value."""
    trials = [
        Trial(
            name=f"adding-{n}",
            parameters={"a": n, "kind": "tree"},
            state=TrialState.SUCCEEDED,
            metrics={"total": value, "loss": 1.0},
            objective=value,
            started_at=START,
            finished_at=START + dt.timedelta(seconds=n + 1),
        )
        for n, value in enumerate(objectives)
    ]
    return Tuning(
        name="adding",
        mode="local",
        component="add",
        metric="total",
        direction="maximize",
        algorithm="random",
        space={"a": "integer(0, 3)", "kind": "choice('tree', 'linear')"},
        max_trials=len(objectives) + 1,
        parallel=2,
        max_failed=1,
        state=TuningState.SUCCEEDED,
        created_at=START,
        trials=trials,
    )


def test_a_search_answers_its_detail_as_the_schema_says() -> None:
    tuning = search(2.0, 5.0)
    detail = conforms(json.loads(json.dumps(detail_answer(tuning))), "TuningDetail")
    assert detail["best"] == {
        "trial": "adding-1",
        "value": 5.0,
        "parameters": tuning.trials[1].parameters,
    }
    assert [t["seconds"] for t in detail["trials"]] == [1.0, 2.0]
    assert (detail["trials_done"], detail["trials_total"]) == (2, 3)
    assert detail["created_at"] == START.isoformat()
    assert detail["charts"]["metric_by_trial"].startswith("<svg")
    conforms(summary_model(tuning).model_dump(mode="json"), "TuningSummary")


def test_a_nan_objective_answers_null_and_no_best_trial() -> None:
    answer = detail_answer(search(math.nan))
    # Strict JSON: a NaN would make the body unreadable to the browser's JSON.parse.
    detail = conforms(json.loads(json.dumps(answer, allow_nan=False)), "TuningDetail")
    assert detail["best"] is None
    assert detail["trials"][0]["objective"] is None
    assert detail["trials"][0]["metrics"] == {"total": None, "loss": 1.0}


def test_a_nan_objective_first_does_not_hide_the_best_trial() -> None:
    detail = conforms(detail_answer(search(math.nan, 3.0)), "TuningDetail")
    assert (detail["best"]["trial"], detail["best"]["value"]) == ("adding-1", 3.0)
    assert "<circle" in detail["charts"]["metric_by_trial"]


def test_a_key_the_model_does_not_name_or_lacks_fails() -> None:
    summary = summary_json(search(1.0))
    TuningSummary.model_validate(summary)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TuningSummary.model_validate({**summary, "finished_at": None})
    with pytest.raises(ValidationError, match="Field required"):
        TuningSummary.model_validate({k: v for k, v in summary.items() if k != "stopped"})
    with pytest.raises(ValidationError):
        TuningSummary.model_validate({**summary, "where": "remote"})
