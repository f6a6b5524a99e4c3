"""The MLflow section and runs panel in a real JupyterLab against a real MLflow tracking server."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pytest
import requests
from playwright.sync_api import Locator, Page, expect

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
        # Sorting by a param asks MLflow again, in that order.
        sort = section.locator('[data-testid="mlops-mlflow-sort"][data-column="param:lr"]')
        sort.click()
        rows = by_test_id(section, "mlops-mlflow-run")
        first = rows.first.get_attribute("data-name")
        sort.click()
        expect(rows.first).not_to_have_attribute("data-name", first or "")


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


def test_screenshot_of_the_mlflow_section_and_a_comparison(
    open_page: OpenPage, mlflow_lab: Lab, logged: Logged
) -> None:
    with open_page(mlflow_lab, "mlflow-screenshot") as page:
        section = open_experiment(page, logged.experiment)
        panel = compare_both(page, section)
        expect(by_test_id(panel, "mlops-chart-line")).to_have_count(2)
        widen_sidebar(page, 400)
        section.scroll_into_view_if_needed()
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / "mlflow.png"))


def widen_sidebar(page: Page, width: int) -> None:
    """Drag the sidebar's edge out, as a user does to read a wide table."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(width, y, steps=5)
    page.mouse.up()
