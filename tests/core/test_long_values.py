"""Long values are summed up in notebook outputs: type, length and head, and open to show all."""

from __future__ import annotations

import datetime as dt
import json

from jupyter_mlops.magics.mlflow import Table
from jupyter_mlops.pipelines.local import LocalPipelines
from jupyter_mlops.pipelines.models import Run, RunStatus
from jupyter_mlops.widgets.summary import html_value, short, text

CURVE = [round(i * 0.0073, 4) for i in range(200)]


def test_a_long_list_is_its_type_length_and_head() -> None:
    assert short(CURVE) == "list of 200: [0.0, 0.0073, 0.0146, …]"
    assert short(json.dumps(CURVE)) == "list of 200: [0.0, 0.0073, 0.0146, …]"
    assert short({f"k{i}": i for i in range(40)}) == "dict of 40 keys: {k0, k1, k2, …}"
    assert short("x" * 500) == "x" * 59 + "… (500 characters)"
    assert short([1, 2, 3]) is None and short("0.01") is None
    assert text([1, 2, 3]) == "[1, 2, 3]" and text("adam") == "adam"


def test_html_keeps_the_whole_value_behind_the_summary_and_escaped() -> None:
    shown = html_value(["<b>x</b>"] * 50)
    assert shown.startswith("<details><summary>list of 50: [")
    assert "<b>" not in shown and "&lt;b&gt;" in shown
    assert shown.count("&lt;b&gt;x&lt;/b&gt;") == 53  # 3 in the head, 50 in the whole


def test_mlflow_runs_table_sums_up_a_list_parameter() -> None:
    table = Table(("id", "curve"), [("a1", json.dumps(CURVE))], "No runs.")
    assert repr(table).splitlines()[1] == "a1  list of 200: [0.0, 0.0073, 0.0146, …]"
    assert "<details><summary>list of 200" in table._repr_html_()


def test_the_run_monitor_shows_a_long_output_in_one_line(tmp_path: object) -> None:
    from jupyter_mlops.widgets.run_monitor import RunMonitor, summary_line

    now = dt.datetime.now(dt.timezone.utc)
    run = Run(
        id="ab" * 16,
        name="curve",
        pipeline_name="p",
        experiment="Default",
        status=RunStatus.SUCCEEDED,
        created_at=now,
        started_at=now,
        finished_at=now,
        outputs={"curve": CURVE, "score": 0.93},
    )
    monitor = RunMonitor(LocalPipelines(str(tmp_path)), run)
    monitor.update(run)
    shown = monitor._outputs.value
    assert "list of 200: [0.0, 0.0073, 0.0146, …]" in shown and "0.93" in shown
    assert shown.count("\n") < 5
    assert "curve=list of 200" in summary_line(run) and len(summary_line(run)) < 200
