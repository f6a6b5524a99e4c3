"""The search space as written in text, metrics read as Katib's StdOut collector reads them,
the Experiment's trial Job input once Katib has put the values in, and the charts' escaping."""

from __future__ import annotations

import json
import random
import re

import pytest

from jupyter_mlops.errors import BadInput
from jupyter_mlops.tuning import Objective, Trial, TrialState, Tuning, metrics_from_lines
from jupyter_mlops.tuning.charts import metric_by_trial, parallel_coordinates
from jupyter_mlops.tuning.component import ComponentInfo
from jupyter_mlops.tuning.experiment import executor_input, katib_parameter
from jupyter_mlops.tuning.space import choice, integer, loguniform, parse_param, uniform


def test_text_ranges_read_as_the_magic_takes_them() -> None:
    assert parse_param("lr=loguniform(1e-4,1e-1)") == ("lr", loguniform(1e-4, 1e-1))
    assert parse_param("depth=int(2,8)") == ("depth", integer(2, 8))
    assert parse_param(" x = uniform(0, 1, step=0.25) ") == ("x", uniform(0, 1, step=0.25))
    assert parse_param("kind=choice('tree', \"linear\")") == ("kind", choice("tree", "linear"))
    assert parse_param("flag=choice(True,False)")[1].values == (True, False)
    assert parse_param("mixed=choice(1,True)")[1].values == (1, True)
    for text, says in [
        ("lr=loguniform(0,1)", "above 0"),
        ("d=int(2.5,8)", "must be integers"),
        ("d=int(2,8,step=0)", "step must be a whole number above 0"),
        ("c=choice(1)", "at least two values"),
        ("c=choice(1,1)", "listed twice"),
        ("c=choice(len)", "must be literals"),
        ("x=uniform(1,0)", "below the high end"),
        ("x=normal(0,1)", "normal() is not a range"),
        ("2x=uniform(0,1)", "write NAME="),
    ]:
        with pytest.raises(BadInput, match=re.escape(says)):
            parse_param(text)


def test_draws_stay_in_their_ranges_and_a_grid_steps_through_them() -> None:
    rng = random.Random(1)
    lr = loguniform(1e-4, 1e-1)
    draws = [float(lr.sample(rng)) for _ in range(500)]
    assert all(1e-4 <= d <= 1e-1 for d in draws)
    # Log-uniform: about a third of the draws in each decade.
    assert 100 < sum(1 for d in draws if d < 1e-3) < 230
    assert {integer(2, 4).sample(rng) for _ in range(200)} == {2, 3, 4}
    assert uniform(0, 1, step=0.25).grid("x") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert integer(2, 8, step=3).grid("d") == [2, 5, 8]
    with pytest.raises(BadInput, match="needs a step for uniform"):
        uniform(0, 1).grid("x")


def test_printed_metrics_are_read_as_the_stdout_collector_reads_them() -> None:
    # The forms Katib's DefaultFilter documents, and lines it skips.
    printed = "\n".join(
        [
            "epoch 1: loss=0.3 accuracy=.98",
            "Score=-7.53e-05",
            "accuracy = 0.5",
            "lossy=12",
            "accuracy=nan-ish",
            "no metric here=1.0",
            "Score=1E0",
        ]
    )
    found = metrics_from_lines(printed, ["accuracy", "loss", "Score"])
    assert (found["accuracy"].min, found["accuracy"].max, found["accuracy"].latest) == (
        0.5,
        0.98,
        0.5,
    )
    assert found["loss"].latest == 0.3
    assert (found["Score"].min, found["Score"].latest) == (-7.53e-05, 1.0)
    assert "lossy" not in found
    # The objective takes the best value printed; an output of that name wins.
    up, down = Objective("accuracy"), Objective("accuracy", "minimize")
    assert up.read({}, printed)["accuracy"] == 0.98
    assert down.read({}, printed)["accuracy"] == 0.5
    assert up.read({"accuracy": 0.7}, printed)["accuracy"] == 0.7
    assert up.read({"Output": 0.61}, "")["accuracy"] == 0.61
    assert up.read({"Output": "text"}, "") == {}
    with pytest.raises(BadInput, match="cannot name a metric"):
        Objective("acc uracy")


INFO = ComponentInfo(
    name="fit",
    inputs={"lr": "Float", "depth": "Integer", "kind": "String", "flag": "Boolean"},
    required=frozenset({"lr", "depth", "kind", "flag"}),
    artifact_inputs=frozenset(),
    outputs={"Output": "Float"},
    image="python:3.11",
    command=(),
    args=(),
)


def test_the_trial_job_input_is_the_executors_json_once_katib_fills_it() -> None:
    space = {
        "lr": loguniform(1e-4, 1e-1),
        "depth": integer(2, 8),
        "kind": choice("tree", "linear"),
        "flag": choice(True, False),
    }
    text = executor_input(INFO, space, {})
    # Katib replaces each `${trialParameters.NAME}` with the assignment's text.
    filled = (
        text.replace("${trialParameters.lr}", "0.001")
        .replace("${trialParameters.depth}", "5")
        .replace("${trialParameters.kind}", "linear")
        .replace(
            "${trialParameters.flag}",
            katib_parameter("flag", space["flag"])["feasibleSpace"]["list"][1],
        )
    )
    document = json.loads(filled)
    assert document["inputs"]["parameterValues"] == {
        "lr": 0.001,
        "depth": 5,
        "kind": "linear",
        "flag": False,
    }
    assert document["outputs"]["parameters"] == {"Output": {"outputFile": "/tmp/outputs/Output"}}
    assert katib_parameter("lr", space["lr"])["feasibleSpace"]["distribution"] == "logUniform"
    assert katib_parameter("kind", space["kind"])["parameterType"] == "categorical"
    assert katib_parameter("d", choice(1, 2.5))["parameterType"] == "discrete"


def test_the_charts_draw_every_trial_and_escape_what_they_show() -> None:
    tuning = Tuning(
        name="s",
        mode="local",
        component="fit",
        metric="accuracy",
        direction="maximize",
        algorithm="random",
        space={"kind": "choice('<b>', 'x')", "lr": "uniform(0,1)"},
        max_trials=3,
        parallel=1,
        max_failed=1,
        trials=[
            Trial(
                name="t1",
                parameters={"kind": "<b>", "lr": 0.2},
                objective=0.5,
                state=TrialState.SUCCEEDED,
            ),
            Trial(
                name="t2",
                parameters={"kind": "x", "lr": 0.7},
                objective=0.9,
                state=TrialState.SUCCEEDED,
            ),
            Trial(name="t3", parameters={"kind": "x", "lr": 0.4}, state=TrialState.FAILED),
        ],
    )
    by_trial = metric_by_trial(tuning)
    assert by_trial.count("<circle") == 2
    assert "t2: accuracy=0.9" in by_trial
    lines = parallel_coordinates(tuning)
    assert lines.count("<polyline") == 3
    assert "<b>" not in lines and "&lt;b&gt;" in lines
    assert 'stroke-dasharray="4 3"' in lines  # the failed trial
