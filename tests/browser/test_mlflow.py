"""The MLflow section and runs panel in a real JupyterLab against a real MLflow tracking server."""

from __future__ import annotations

import itertools
import math
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from jupyter_mlops.tracking.chart import run_colour_index

from .conftest import Lab, OpenPage

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
STEPS = 20
NOTES = "learning rate sweep, first pass\n"


@dataclass
class Logged:
    """What the test logged to MLflow, as a user would have from a notebook."""

    experiment: str
    runs: dict[str, str]  # run name -> run id
    model: str


@pytest.fixture(scope="module")
def logged(mlflow_server: Any) -> Logged:
    """Two runs of one experiment, each with a loss history; a note; a model with an alias."""
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    suffix = secrets.token_hex(3)
    experiment = f"browser-sweep-{suffix}"
    experiment_id = client.create_experiment(experiment)
    runs: dict[str, str] = {}
    for name, lr in (("fast-lr", "0.1"), ("slow-lr", "0.01")):
        run = client.create_run(experiment_id, run_name=name)
        client.log_param(run.info.run_id, "lr", lr)
        client.log_param(run.info.run_id, "depth", "3")
        rate = float(lr)
        for step in range(STEPS):
            loss = 1.0 / (1.0 + rate * 10 * step)
            client.log_metric(run.info.run_id, "loss", loss, step=step)
        client.set_terminated(run.info.run_id)
        runs[name] = run.info.run_id
    client.log_text(runs["fast-lr"], NOTES, "notes/summary.txt")
    model = f"sweep-model-{suffix}"
    client.create_registered_model(model)
    client.create_model_version(model, f"runs:/{runs['fast-lr']}/model", run_id=runs["fast-lr"])
    client.set_registered_model_alias(model, "champion", "1")
    return Logged(experiment, runs, model)


def by_test_id(scope: Page | Locator, test_id: str) -> Locator:
    return scope.locator(f'[data-testid="{test_id}"]')


def open_experiment(page: Page, experiment: str) -> Locator:
    """Open the sidebar, search for the experiment and wait for its runs."""
    page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-tracking")
    by_test_id(section, "mlops-mlflow-experiment-search").fill(experiment)
    chosen = by_test_id(section, "mlops-mlflow-experiment")
    expect(chosen.locator("option:checked")).to_have_text(experiment)
    expect(by_test_id(section, "mlops-mlflow-run")).to_have_count(2)
    return section


def compare_both(page: Page, section: Locator) -> Locator:
    """Tick both runs and open them compared."""
    for row in by_test_id(section, "mlops-mlflow-run").all():
        by_test_id(row, "mlops-mlflow-run-select").check()
    by_test_id(section, "mlops-mlflow-compare").click()
    panel = by_test_id(page, "mlops-mlflow-panel")
    expect(panel).to_be_visible()
    return panel


def test_the_section_links_to_the_mlflow_ui(
    open_page: OpenPage, mlflow_lab: Lab, mlflow_server: Any
) -> None:
    with open_page(mlflow_lab, "mlflow-ui-link") as page:
        page.click(SIDEBAR_TAB)
        link = by_test_id(by_test_id(page, "mlops-section-tracking"), "mlops-tracking-ui")
        expect(link).to_have_attribute("href", mlflow_server.url)
        expect(link).to_have_attribute("target", "_blank")


def test_the_runs_table_shows_status_duration_params_and_latest_metrics(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-table") as page:
        section = open_experiment(page, logged.experiment)
        row = section.locator('[data-testid="mlops-mlflow-run"][data-name="fast-lr"]')
        expect(row).to_contain_text("finished")
        expect(row.locator('[data-column="param:lr"]')).to_have_text("0.1")
        latest = 1.0 / (1.0 + 0.1 * 10 * (STEPS - 1))
        expect(row.locator('[data-column="metric:loss"]')).to_have_text(f"{latest:.4g}")
        # Sorting by a param asks MLflow again, in that order (params sort as text: "0.01" first).
        sort = section.locator('[data-testid="mlops-mlflow-sort"][data-column="param:lr"]')
        rows = by_test_id(section, "mlops-mlflow-run")
        shown = ""
        for _ in range(2):
            sort.click()
            # Each click turns the order: wait for the heading to say which way, then the rows.
            expect(sort).to_have_text(re.compile({"": "[▴▾]$", "▴": "▾$", "▾": "▴$"}[shown]))
            shown = (sort.text_content() or "")[-1]
            first = "fast-lr" if shown == "▾" else "slow-lr"
            expect(rows.first).to_have_attribute("data-name", first)


def test_two_runs_are_compared_on_one_chart_with_a_legend(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-chart") as page:
        panel = compare_both(page, open_experiment(page, logged.experiment))
        chart = panel.locator('[data-testid="mlops-chart"][data-metric="loss"]')
        lines = by_test_id(chart, "mlops-chart-line")
        expect(lines).to_have_count(2)
        assert {line.get_attribute("data-run") for line in lines.all()} == set(logged.runs.values())
        for line in lines.all():
            path = line.get_attribute("d") or ""
            # One move, then a segment to each of the other logged steps.
            assert path.count("M") == 1 and path.count("L") == STEPS - 1
        legend = by_test_id(chart, "mlops-chart-legend-item")
        expect(legend).to_have_count(2)
        assert sorted(legend.all_inner_texts()) == ["fast-lr", "slow-lr"]


def test_the_params_diff_marks_the_param_that_differs(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-diff") as page:
        panel = compare_both(page, open_experiment(page, logged.experiment))
        params = by_test_id(panel, "mlops-mlflow-params")
        lr = params.locator('[data-testid="mlops-mlflow-param"][data-key="lr"]')
        depth = params.locator('[data-testid="mlops-mlflow-param"][data-key="depth"]')
        expect(lr).to_have_attribute("data-differs", "true")
        expect(depth).to_have_attribute("data-differs", "false")
        expect(by_test_id(params, "mlops-mlflow-params-differing")).to_have_text("1 of 2 differ")
        by_test_id(params, "mlops-mlflow-only-differences").check()
        expect(by_test_id(params, "mlops-mlflow-param")).to_have_count(1)
        expect(lr).to_be_visible()


def test_a_bad_filter_shows_mlflows_message_under_the_box(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    bad = "metrics.loss <<< 0.5"
    with open_page(mlflow_lab, "mlflow-filter") as page:
        section = open_experiment(page, logged.experiment)
        box = by_test_id(section, "mlops-mlflow-filter")
        box.fill(bad)
        box.press("Enter")
        error = by_test_id(section, "mlops-mlflow-filter-error")
        expect(error).to_contain_text(refusal(mlflow_lab, logged, bad))
        # A good filter clears it and narrows the runs.
        box.fill("params.lr = '0.01'")
        box.press("Enter")
        expect(error).to_have_count(0)
        expect(by_test_id(section, "mlops-mlflow-run")).to_have_count(1)
        expect(by_test_id(section, "mlops-mlflow-run")).to_have_attribute("data-name", "slow-lr")


def refusal(lab: Lab, logged: Logged, text: str) -> str:
    """What the runs route answers about a filter MLflow refuses."""
    experiment = lab.get_json(f"mlops/api/mlflow/experiments?name={logged.experiment}")
    experiment_id = experiment["experiments"][0]["id"]
    answer = requests.get(
        lab.url(f"mlops/api/mlflow/experiments/{experiment_id}/runs"),
        params={"filter": text},
        headers={"Authorization": f"token {lab.token}"},
        timeout=30,
    )
    assert answer.status_code == 400
    message: str = answer.json()["message"]
    return message


def test_a_run_lists_its_artifacts_with_working_download_links(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-artifacts") as page:
        section = open_experiment(page, logged.experiment)
        section.locator('[data-testid="mlops-mlflow-run"][data-name="fast-lr"]').click()
        panel = by_test_id(page, "mlops-mlflow-panel")
        expect(by_test_id(panel, "mlops-mlflow-panel-title")).to_have_text("fast-lr")
        artifacts = by_test_id(panel, "mlops-mlflow-artifacts")
        artifacts.locator('[data-path="notes"] button').click()
        link = artifacts.locator(
            '[data-path="notes/summary.txt"] [data-testid="mlops-mlflow-artifact-download"]'
        )
        expect(link).to_have_text("summary.txt")
        href = link.get_attribute("href") or ""
        # The browser's own session downloads it, as a click would.
        assert href.startswith(mlflow_lab.base_url)
        download = page.request.get(href)
        assert download.ok and download.text() == NOTES


def test_registered_models_show_aliases_and_versions(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-models") as page:
        page.click(SIDEBAR_TAB)
        models = by_test_id(page, "mlops-mlflow-models")
        by_test_id(models, "mlops-mlflow-model-search").fill(logged.model)
        model = models.locator(f'[data-testid="mlops-mlflow-model"][data-name="{logged.model}"]')
        expect(by_test_id(model, "mlops-mlflow-alias")).to_have_text("@champion → v1")
        model.locator("button").click()
        version = by_test_id(model, "mlops-mlflow-version")
        expect(version).to_have_count(1)
        expect(version).to_contain_text("v1")
        expect(version).to_contain_text("@champion")


@pytest.fixture
def quick_refresh(mlflow_lab: Lab) -> Iterator[None]:
    """The sidebar refreshing every 2 s (the shortest the settings allow), not 10 s."""
    mlflow_lab.put_settings("jupyter-mlops:plugin", {"refreshInterval": 2})
    yield
    mlflow_lab.put_settings("jupyter-mlops:plugin", {})


@pytest.mark.usefixtures("quick_refresh")
def test_new_experiments_and_models_appear_without_pressing_refresh(
    open_page: OpenPage, mlflow_lab: Lab, mlflow_server: Any
) -> None:
    prefix = f"appears-{secrets.token_hex(3)}"
    with open_page(mlflow_lab, "mlflow-live") as page:
        page.click(SIDEBAR_TAB)
        section = by_test_id(page, "mlops-section-tracking")
        expect(by_test_id(page, "mlops-updated")).to_contain_text("every 2 s")
        by_test_id(section, "mlops-mlflow-experiment-search").fill(prefix)
        expect(by_test_id(section, "mlops-mlflow-no-experiments")).to_be_visible()
        models = by_test_id(section, "mlops-mlflow-models")
        by_test_id(models, "mlops-mlflow-model-search").fill(prefix)
        expect(models).to_contain_text("No registered models.")

        # Logged from a notebook while the section is open.
        client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
        client.create_experiment(f"{prefix}-experiment")
        client.create_registered_model(f"{prefix}-model")

        chosen = by_test_id(section, "mlops-mlflow-experiment")
        expect(chosen.locator("option:checked")).to_have_text(f"{prefix}-experiment")
        expect(
            models.locator(f'[data-testid="mlops-mlflow-model"][data-name="{prefix}-model"]')
        ).to_be_visible()
        assert by_test_id(section, "mlops-mlflow-refresh").count() == 1


def test_the_chart_has_round_ticks_titled_axes_and_each_runs_own_colour(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-ticks") as page:
        panel = compare_both(page, open_experiment(page, logged.experiment))
        chart = panel.locator('[data-testid="mlops-chart"][data-metric="loss"]')
        for run_id in logged.runs.values():
            line = chart.locator(f'[data-testid="mlops-chart-line"][data-run="{run_id}"]')
            # The same colour as the notebook's chart gives the run (chart.py).
            expect(line).to_have_attribute("data-colour", str(run_colour_index(run_id)))
            swatch = chart.locator(
                f'[data-testid="mlops-chart-legend-item"][data-run="{run_id}"] span'
            )
            expect(swatch).to_have_attribute("data-colour", str(run_colour_index(run_id)))
        for axis in ("y", "x"):
            ticks = [
                float(t) for t in by_test_id(chart, f"mlops-chart-{axis}-tick").all_text_contents()
            ]
            assert len(ticks) >= 3
            gaps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
            assert len(gaps) == 1, ticks
            (gap,) = gaps
            mantissa = abs(gap) / 10 ** math.floor(math.log10(abs(gap)))
            assert round(mantissa, 6) in (1, 2, 5), ticks
        assert [float(t) for t in by_test_id(chart, "mlops-chart-x-tick").all_text_contents()][
            -1
        ] >= STEPS - 1
        expect(by_test_id(chart, "mlops-chart-x-title")).to_have_text("step")
        expect(by_test_id(chart, "mlops-chart-y-title")).to_have_text("loss")


@pytest.fixture(scope="module")
def single(mlflow_server: Any) -> tuple[str, str]:
    """A run that logged one accuracy and a 200-number list param, in an experiment of its own."""
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    experiment = f"single-{secrets.token_hex(3)}"
    run = client.create_run(client.create_experiment(experiment), run_name="one-shot")
    client.log_metric(run.info.run_id, "accuracy", 0.8123, step=0)
    schedule = [round(0.005 * i, 3) for i in range(200)]
    client.log_param(run.info.run_id, "schedule", str(schedule))
    client.set_terminated(run.info.run_id)
    return experiment, run.info.run_id


def open_single(page: Page, experiment: str) -> Locator:
    page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-tracking")
    by_test_id(section, "mlops-mlflow-experiment-search").fill(experiment)
    expect(by_test_id(section, "mlops-mlflow-run")).to_have_count(1)
    by_test_id(section, "mlops-mlflow-run").click()
    panel = by_test_id(page, "mlops-mlflow-panel")
    expect(panel).to_be_visible()
    return panel


def test_a_single_value_is_drawn_mid_chart_on_its_own_step(
    open_page: OpenPage, mlflow_lab: Lab, single: tuple[str, str]
) -> None:
    with open_page(mlflow_lab, "mlflow-single") as page:
        chart = open_single(page, single[0]).locator(
            '[data-testid="mlops-chart"][data-metric="accuracy"]'
        )
        dot = by_test_id(chart, "mlops-chart-dot")
        expect(dot).to_have_count(1)
        expect(by_test_id(chart, "mlops-chart-dot-label")).to_have_text("0.8123")
        # One tick at the step logged: no step -1 or 1 that never was.
        expect(by_test_id(chart, "mlops-chart-x-tick")).to_have_text(["0"])
        values = [float(t) for t in by_test_id(chart, "mlops-chart-y-tick").all_text_contents()]
        assert min(values) < 0.8123 < max(values) and max(values) - min(values) < 1
        svg = chart.locator("svg").bounding_box()
        spot = dot.bounding_box()
        assert svg is not None and spot is not None
        middle = spot["x"] + spot["width"] / 2 - svg["x"]
        assert 0.4 * svg["width"] < middle < 0.6 * svg["width"]


def test_a_long_list_param_is_summarised_and_expands(
    open_page: OpenPage, mlflow_lab: Lab, single: tuple[str, str]
) -> None:
    with open_page(mlflow_lab, "mlflow-long-param") as page:
        params = by_test_id(open_single(page, single[0]), "mlops-mlflow-params")
        value = params.locator('[data-testid="mlops-mlflow-param"][data-key="schedule"]')
        summary = by_test_id(value, "mlops-value-summary")
        expect(summary).to_have_text("list of 200 numbers: [0, 0.005, 0.01, …]")
        full = by_test_id(value, "mlops-value-full")
        expect(full).to_be_hidden()
        summary.click()
        expect(full).to_be_visible()
        expect(full).to_contain_text("0.995")


def test_screenshot_of_the_mlflow_section_and_a_comparison(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-screenshot") as page:
        section = open_experiment(page, logged.experiment)
        panel = compare_both(page, section)
        expect(by_test_id(panel, "mlops-chart-line")).to_have_count(2)
        # At JupyterLab's default sidebar width, as a new user sees it.
        section.scroll_into_view_if_needed()
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / "mlflow.png"))
