"""`%katib` in a real IPython shell: tune shows the live view, list, best and stop; every
mistake is a message without a traceback; read-only is obeyed."""

from __future__ import annotations

import re
import time

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.magics.katib import join_ranges
from jupyter_mlops.tuning import TrialState, TuningState
from jupyter_mlops.widgets.table import Table
from jupyter_mlops.widgets.tuning import TuningView

from .conftest import SLOW, Notebook

ADD = """
%%kfp_component add
def add(a: int, b: float) -> float:
    print(f"total={a + b}")
    return a + b
"""


def wait_for_end(view: TuningView, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while view.state not in ("Succeeded", "Failed"):
        assert time.monotonic() < deadline, f"the search is still {view.state}"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("", "usage: %katib {tune,list,best,stop}"),
        ("tune", "usage: %katib tune COMPONENT"),
        ("tune add --objective total", "say what to search: --param"),
        ("tune add --param a=int(1,3)", "say what to optimise: --objective"),
        ("tune nothing --param a=int(1,3) --objective total", "no component 'nothing'"),
        ("tune add --param a=range(1,3) --objective total", "range() is not a range"),
        ("tune add --param a=int(1) --objective total", "--param 'a=int(1)'"),
        ("tune add --param a=int(3,1) --objective total", "must be below the high end"),
        ("tune add --param a --objective total", "write NAME=uniform(LOW,HIGH)"),
        ("tune add --param a=int(1,3) --param a=int(1,4) --objective total", "given twice"),
        ("tune add --param a=int(1,3) --fix b=2 --objective 'acc uracy'", "cannot name a metric"),
        ("tune add --param a=int(1,3) --fix b --objective total", "--fix 'b': write NAME=VALUE"),
        ("tune add --param a=int(1,3) --objective total", "add needs b"),
        ("tune add --param a=int(1,3) --fix b=2 --objective total --local --cluster", "exclude"),
        ("tune add --param a=int(1,3) --fix b=2 --objective t --maximize --minimize", "exclude"),
        (
            "tune add --param a=int(1,3) --fix b=2 --objective total "
            "--algorithm bayesianoptimization",
            "bayesianoptimization runs on Katib: use --cluster",
        ),
        ("tune add --param b=loguniform(0,1) --fix a=1 --objective total", "above 0"),
        ("tune add --param a=int(1,3) --fix b=2 --objective total --trials 0", "max_trials"),
        ("tune add --param a=int(1,3) --fix b=2 --objective total --name Bad_Name", "cannot name"),
        ("tune add --param a=int(1,3) --objective total --trials many", "invalid int value"),
        ("tune add --param a=int(1,3) --fix b=2 --objective total --algorithm hill", "'hill'"),
        ("best", "usage: %katib best NAME"),
        ("best nosuch", "no local search named 'nosuch', and no cluster is configured"),
        ("stop nosuch --local", "no local search named 'nosuch'"),
        ("list extra", "usage: %katib list"),
        ("list --trials 3", "--trials cannot be used with %katib list"),
        ("tune 'unclosed", "cannot read the arguments"),
    ],
)
def test_mistakes_are_messages(notebook: Notebook, line: str, says: str) -> None:
    notebook.cell(ADD)
    with pytest.raises(UsageError) as error:
        notebook.katib(line)
    assert says in str(error.value)


def test_ranges_written_with_spaces_are_read_whole() -> None:
    words = ["--param", "lr=uniform(0,", "1)", "--param", "d=choice(1,", "2,", "3)", "x"]
    assert join_ranges(words) == ["--param", "lr=uniform(0,1)", "--param", "d=choice(1,2,3)", "x"]


def test_tune_shows_the_trials_live_then_best_and_list(notebook: Notebook) -> None:
    notebook.cell(ADD)
    view = notebook.katib(
        "tune add --param a=int(1,4) --param 'b=choice(0.5, 2.0)' --objective total --minimize "
        "--trials 4 --parallel 2 --name add-search --seed 3"
    )
    assert isinstance(view, TuningView)
    wait_for_end(view)
    tuning = view.tuning
    assert tuning.state == TuningState.SUCCEEDED
    assert [t.state for t in tuning.trials] == [TrialState.SUCCEEDED] * 4
    lowest = min(tuning.trials, key=lambda t: t.objective or 0.0)

    # The table: one row per trial with its parameters, metric and state; the best in bold.
    table = view.children[2].value
    for trial in tuning.trials:
        assert f"<td>{trial.name}</td>" in table
    assert table.count("Succeeded</span>") == 4
    assert f'<tr style="font-weight:bold"><td>{lowest.name}</td>' in table
    # The charts: a dot per trial that reported the metric, a line per ended trial.
    charts = view.children[3].value
    assert charts.count("<circle") == 4
    assert charts.count("<polyline") == 1 + 4
    assert view.stop_button.disabled
    assert f"best total={lowest.objective:.4g}" in view.children[0].value

    best = notebook.katib("best add-search")
    assert best == lowest.parameters
    # The dict goes straight into the component (here: called, it runs at once).
    assert notebook.shell.user_ns["add"].python_func(**best) == lowest.objective

    table = notebook.katib("list")
    assert isinstance(table, Table)
    (row,) = [r for r in table.rows if r["name"] == "add-search"]
    assert (row["where"], row["state"], row["trials"]) == ("local", "Succeeded", "4/4")
    assert row["objective"] == "total (minimize)"


def test_the_stop_button_ends_a_running_search(notebook: Notebook) -> None:
    notebook.cell(SLOW)
    view = notebook.katib(
        "tune slow --param seconds=int(100,120) --objective score --trials 3 --parallel 1"
    )
    deadline = time.monotonic() + 60
    while "Running</span>" not in view.children[2].value:
        assert time.monotonic() < deadline, "no trial started"
        time.sleep(0.1)
    assert not view.stop_button.disabled
    view.stop_button.click()
    assert view.stop_button.disabled
    assert view.tuning.stopped
    assert [t.state for t in view.tuning.trials] == [TrialState.KILLED]
    assert "Killed</span>" in view.children[2].value
    with pytest.raises(UsageError, match="has already ended"):
        notebook.katib(f"stop {view.tuning.name}")


def test_read_only_is_obeyed(notebook: Notebook) -> None:
    notebook.cell(SLOW)
    view = notebook.katib(
        "tune slow --param seconds=int(100,120) --objective score --trials 1 "
        "--parallel 1 --name kept"
    )
    try:
        notebook.config("read_only = True")
        with pytest.raises(UsageError, match="read-only mode: tuning is turned off"):
            notebook.katib("tune slow --param seconds=int(1,2) --objective score")
        with pytest.raises(UsageError, match="read-only mode: stopping searches"):
            notebook.katib("stop kept")
        # Reading is still allowed.
        assert [r["name"] for r in notebook.katib("list").rows] == ["kept"]
    finally:
        view.stop()
    assert re.search("Stopped by request", view.children[4].value)
