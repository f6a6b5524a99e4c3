"""`%mlflow` in a real IPython shell, against the real MLflow server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.mlflow_server import free_port

from .conftest import STEPS, Seeded


@pytest.fixture
def shell(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", seeded.url)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    InteractiveShell.clear_instance()


def test_experiments_table(shell: InteractiveShell, seeded: Seeded) -> None:
    table = shell.run_line_magic("mlflow", f"experiments {seeded.prefix}")
    text = repr(table)
    assert text.splitlines()[0].split() == ["id", "name", "created"]
    assert seeded.experiment_name in text and f"{seeded.prefix}-other-2" in text
    assert f"<td>{seeded.experiment_name}</td>" in table._repr_html_()


def test_runs_filtered_and_ordered_by_name_of_experiment(
    shell: InteractiveShell, seeded: Seeded
) -> None:
    table = shell.run_line_magic(
        "mlflow",
        f"runs {seeded.experiment_name} --filter \"params.lr = '0.01'\" "
        '--order-by "metrics.loss DESC"',
    )
    lines = repr(table).splitlines()
    assert lines[0].split() == [
        "id",
        "name",
        "status",
        "started",
        "depth",
        "lr",
        "accuracy",
        "loss",
    ]
    assert [line.split()[1] for line in lines[1:]] == ["run-1", "run-4"]


def test_runs_tell_when_more_exist(shell: InteractiveShell, seeded: Seeded) -> None:
    table = shell.run_line_magic("mlflow", f"runs {seeded.experiment_id} --max 2")
    text = repr(table)
    assert len(text.splitlines()) == 4 and "More runs exist" in text


def test_a_bad_filter_shows_mlflows_message(shell: InteractiveShell, seeded: Seeded) -> None:
    with pytest.raises(UsageError, match="Invalid comparator"):
        shell.run_line_magic("mlflow", f"runs {seeded.experiment_id} --filter 'metrics.x >>> 1'")


def test_a_missing_experiment_is_a_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="no experiment named 'ghost'"):
        shell.run_line_magic("mlflow", "runs ghost")


def test_models_with_aliases(shell: InteractiveShell, seeded: Seeded) -> None:
    table = shell.run_line_magic("mlflow", f"models {seeded.prefix}")
    row = repr(table).splitlines()[1]
    assert seeded.model in row and "challenger→v3, champion→v2" in row


def test_plot_draws_a_long_history_downsampled_with_an_escaped_label(
    shell: InteractiveShell, seeded: Seeded
) -> None:
    chart = shell.run_line_magic("mlflow", f"plot {seeded.runs['long']} --metric curve")
    svg = chart._repr_html_()
    # The run is named "<b>long</b>": shown as text, never as markup.
    assert "&lt;b&gt;long&lt;/b&gt;" in svg and "<b>" not in svg
    drawn = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(drawn) == 1 and len(drawn[0].split()) <= 500
    assert f"({STEPS} points)" in svg
    assert f"over {STEPS} points" in repr(chart) and "max 100" in repr(chart)


def test_plot_has_one_series_and_legend_entry_per_run(
    shell: InteractiveShell, seeded: Seeded
) -> None:
    runs = [seeded.runs[name] for name in ("run-0", "run-1", "run-2")]
    chart = shell.run_line_magic("mlflow", f"plot {' '.join(runs)} --metric loss")
    svg = chart._repr_html_()
    # One logged value each: a dot per run, and a legend line naming it.
    assert svg.count("<circle") == 3
    for name, run_id in zip(("run-0", "run-1", "run-2"), runs, strict=True):
        assert f"{name} ({run_id[:8]})" in svg
    assert len(repr(chart).splitlines()) == 3


def test_plot_of_a_metric_a_run_lacks_is_a_usage_error(
    shell: InteractiveShell, seeded: Seeded
) -> None:
    with pytest.raises(UsageError, match="has no metric 'curve'"):
        shell.run_line_magic("mlflow", f"plot {seeded.runs['run-0']} --metric curve")
    with pytest.raises(UsageError):
        shell.run_line_magic("mlflow", f"plot {seeded.runs['run-0']}")


def test_an_unreachable_server_is_a_usage_error(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UsageError, match="cannot reach the MLflow server"):
        shell.run_line_magic("mlflow", "experiments")


def test_plot_takes_the_short_ids_its_legend_shows(shell: InteractiveShell, seeded: Seeded) -> None:
    runs = [seeded.runs[name] for name in ("run-0", "run-1")]
    whole = shell.run_line_magic("mlflow", f"plot {' '.join(runs)} --metric loss")
    short = shell.run_line_magic("mlflow", f"plot {' '.join(r[:8] for r in runs)} --metric loss")
    assert repr(short) == repr(whole)
    with pytest.raises(UsageError, match="no run"):
        shell.run_line_magic("mlflow", f"plot {runs[0][:4]} --metric loss")
    with pytest.raises(UsageError, match="no run whose id starts with"):
        shell.run_line_magic("mlflow", "plot 00000000 --metric loss")
