"""Local tuning for real: trials as local pipeline runs in worker processes, 3 at a time, each a
nested MLflow run of the search's run in the session's MLflow server; stop and Ctrl-C end
them; the failure limit and a finished grid end the search as Katib's controller would."""

from __future__ import annotations

import itertools
import os
import signal
import threading
from typing import Any

import pytest
from mlflow import MlflowClient

from jupyter_mlops.errors import BadInput, Conflict, ReadOnly
from jupyter_mlops.pipelines import LocalPipelines, RunStatus
from jupyter_mlops.testing.mlflow_server import MlflowServer
from jupyter_mlops.tuning import (
    LocalSearch,
    Objective,
    Param,
    TrialState,
    Tuner,
    TuningState,
    choice,
    integer,
    loguniform,
    tune,
    uniform,
)
from jupyter_mlops.tuning.local import FAILED_LIMIT, GRID_DONE, MAX_TRIALS, STOPPED
from jupyter_mlops.tuning.mlflow_runs import EXPERIMENT_PREFIX, TAG_ROLE, TAG_TRIAL, TAG_TUNING
from jupyter_mlops.tuning.models import Tuning
from tests.plane import wait_for

from .conftest import FIT, QUIET, SLOW, Notebook

ADD = """
%%kfp_component add
def add(a: int, b: float) -> float:
    print(f"total={a + b}")
    return a + b
"""


def most_at_once(tuning: Tuning) -> int:
    """The most trials that were running at the same moment."""
    edges = []
    for trial in tuning.trials:
        assert trial.started_at is not None and trial.finished_at is not None
        edges += [(trial.started_at, 1), (trial.finished_at, -1)]
    running = peak = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak


def untracked_search(
    notebook: Notebook, cell: str, space: dict[str, Param], objective: str, **options: Any
) -> LocalSearch:
    """`tune` of the component the cell defines (run first, its name on its first line),
    without MLflow; the settings are the notebook's unless `options` say otherwise."""
    notebook.cell(cell)
    component = notebook.shell.user_ns[cell.split()[1]]
    options.setdefault("settings", notebook.settings())
    search = tune(component, space, objective, track=False, **options)
    assert isinstance(search, LocalSearch)
    return search


def slow_search(notebook: Notebook, **options: Any) -> LocalSearch:
    """A search whose trials each sleep two minutes: they run until stopped."""
    return untracked_search(notebook, SLOW, {"seconds": integer(120, 130)}, "score", **options)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_twelve_trials_three_at_a_time_find_the_best_and_nest_in_mlflow(
    notebook: Notebook, mlflow_server: MlflowServer
) -> None:
    notebook.cell(FIT)
    fit = notebook.shell.user_ns["fit"]
    settings = notebook.settings(mlflow_tracking_uri=mlflow_server.url)
    space = {"lr": loguniform(0.01, 0.4), "depth": integer(1, 6)}
    goal = Objective("accuracy", "maximize", additional=("leaves",))

    search = tune(fit, space, goal, max_trials=12, parallel=3, seed=7, settings=settings)
    assert isinstance(search, LocalSearch)
    # The call returned with the trials still to run: the kernel is free meanwhile.
    assert not search.finished
    final = search.wait(timeout=280)

    assert final.state == TuningState.SUCCEEDED, final.message
    assert final.message == MAX_TRIALS
    assert [t.state for t in final.trials] == [TrialState.SUCCEEDED] * 12
    assert 2 <= most_at_once(final) <= 3
    backend = LocalPipelines(settings.state_dir / "pipelines")
    for trial in final.trials:
        # Each trial is a local pipeline run of the component with the trial's parameters,
        # and its metric is what the component's own function gives for them.
        assert trial.run_id is not None
        run = backend.get_run(trial.run_id)
        assert (run.status, run.parameters) == (RunStatus.SUCCEEDED, trial.parameters)
        assert trial.objective == pytest.approx(fit.python_func(**trial.parameters))
        assert trial.metrics["leaves"] >= 1
    best_value = max(t.objective or 0.0 for t in final.trials)
    best = final.best()
    assert best is not None and best.objective == best_value
    assert search.best() == best.parameters
    assert set(search.best()) == {"lr", "depth"}
    assert Tuner(settings).best(final.name) == best.parameters

    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment = client.get_experiment_by_name(EXPERIMENT_PREFIX + "fit")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`{TAG_TUNING}` = '{final.name}'"
    )
    parents = [r for r in runs if r.data.tags[TAG_ROLE] == "tuning"]
    children = {r.data.tags[TAG_TRIAL]: r for r in runs if r.data.tags[TAG_ROLE] == "trial"}
    assert len(parents) == 1 and parents[0].info.run_id == final.mlflow_run_id
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_accuracy"] == best_value
    assert parent.data.tags["mlops.best_trial"] == best.name
    assert set(children) == {t.name for t in final.trials}
    for trial in final.trials:
        child = children[trial.name]
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params == {k: str(v) for k, v in trial.parameters.items()}
        assert child.data.metrics["accuracy"] == trial.objective
        assert child.data.metrics["leaves"] == trial.metrics["leaves"]
        assert child.info.status == "FINISHED"


def test_stop_ends_the_running_trials_cleanly(notebook: Notebook) -> None:
    settings = notebook.settings()
    search = slow_search(notebook, settings=settings, max_trials=6, parallel=2)
    backend = LocalPipelines(settings.state_dir / "pipelines")

    def running_pids() -> list[int]:
        runs = [backend.get_run(t.run_id) for t in search.snapshot().trials if t.run_id]
        pids = [r.pid for r in runs if r.status == RunStatus.RUNNING and r.pid is not None]
        return pids if len(pids) == 2 else []

    pids = wait_for("two trials running", running_pids, timeout=60)
    final = search.stop()

    assert final.state == TuningState.SUCCEEDED and final.stopped
    assert final.message == STOPPED
    assert [t.state for t in final.trials] == [TrialState.KILLED] * 2
    assert not any(alive(pid) for pid in pids)
    assert all(backend.get_run(t.run_id or "").status == RunStatus.CANCELED for t in final.trials)
    # Stopped once is stopped: a second stop says so; the record on disk agrees.
    with pytest.raises(Conflict, match="has already ended"):
        Tuner(settings).stop(final.name)
    assert Tuner(settings).search(final.name).snapshot().trials == final.trials


def test_ctrl_c_while_waiting_stops_the_search(notebook: Notebook) -> None:
    search = slow_search(notebook, max_trials=2, parallel=1)
    wait_for("a trial running", lambda: search.snapshot().count(TrialState.RUNNING), timeout=60)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        search.wait(timeout=60)
    timer.join()
    final = search.snapshot()
    assert search.finished and final.stopped
    assert [t.state for t in final.trials] == [TrialState.KILLED]


def test_trials_without_the_metric_end_the_search_at_its_failure_limit(
    notebook: Notebook,
) -> None:
    search = untracked_search(
        notebook, QUIET, {"x": integer(1, 9)}, "accuracy", max_trials=6, parallel=1, max_failed=2
    )
    final = search.wait(timeout=120)
    assert (final.state, final.message) == (TuningState.FAILED, FAILED_LIMIT)
    assert [t.state for t in final.trials] == [TrialState.METRICS_UNAVAILABLE] * 2
    assert "accuracy was neither an output nor printed" in final.trials[0].message
    with pytest.raises(Exception, match="has reported accuracy"):
        search.best()


def test_a_grid_tries_every_point_once_then_ends(notebook: Notebook) -> None:
    search = untracked_search(
        notebook,
        ADD,
        {"a": integer(1, 3), "b": choice(0.5, 2.0)},
        "total",
        direction="minimize",
        max_trials=10,
        parallel=3,
        algorithm="grid",
    )
    final = search.wait(timeout=180)
    assert (final.state, final.message) == (TuningState.SUCCEEDED, GRID_DONE)
    tried = sorted((t.parameters["a"], t.parameters["b"]) for t in final.trials)
    assert tried == sorted(itertools.product([1, 2, 3], [0.5, 2.0]))
    assert all(t.objective == t.parameters["a"] + t.parameters["b"] for t in final.trials)
    assert search.best() == {"a": 1, "b": 0.5}


#: What `tune` refuses, as (space, its other arguments, what it says).
REFUSED: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({"c": integer(1, 3), "a": integer(1, 2)}, {}, "has no input 'c'"),
    ({"a": uniform(0, 1)}, {}, "input a is of type Integer; uniform() gives floats"),
    ({"a": integer(1, 3)}, {}, "add needs b: search it, or fix it"),
    (
        {"a": integer(1, 3), "b": choice("x", "y")},
        {},
        "input b is of type Float; choice() lists 'x'",
    ),
    ({"a": integer(1, 3)}, {"fixed": {"a": 1, "b": 2.0}}, "a is both searched and fixed"),
    (
        {"a": integer(1, 3)},
        {"fixed": {"b": 1.0}, "algorithm": "bayesianoptimization", "track": True},
        "'bayesianoptimization' does not run locally",
    ),
    (
        {"b": loguniform(0.1, 1)},
        {"fixed": {"a": 1}, "algorithm": "grid", "track": True},
        "grid search cannot cut loguniform",
    ),
    (
        {"a": integer(1, 3)},
        {"fixed": {"b": 1.0}, "max_trials": 2, "parallel": 4, "track": True},
        "parallel (4) cannot exceed max_trials (2)",
    ),
]


def test_what_cannot_be_searched_is_refused_before_anything_runs(notebook: Notebook) -> None:
    notebook.cell(ADD)
    add = notebook.shell.user_ns["add"]
    settings = notebook.settings()
    for space, options, says in REFUSED:
        with pytest.raises(BadInput) as error:
            tune(add, space, "total", settings=settings, **{"track": False, **options})
        assert says in error.value.message
    assert not (settings.state_dir / "tuning").exists()


def test_read_only_refuses_tuning_and_stopping(notebook: Notebook) -> None:
    search = slow_search(notebook, max_trials=1, parallel=1)
    slow = notebook.shell.user_ns["slow"]
    reader = notebook.settings(read_only=True)
    try:
        with pytest.raises(ReadOnly, match="read-only mode: tuning is turned off"):
            tune(slow, {"seconds": integer(1, 2)}, "score", settings=reader, track=False)
        with pytest.raises(ReadOnly, match="read-only mode: stopping searches"):
            Tuner(reader).stop(search.name)
        assert not search.finished
    finally:
        search.stop()
