"""A pipeline run and its MLflow runs open each other in a real JupyterLab and MLflow server."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

import secrets
from typing import Any

import pytest
from kfp import dsl
from playwright.sync_api import Locator, Page, expect

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.lineage import linked_runs, record_run
from jupyter_mlops.pipelines import LocalPipelines, Run, RunStatus
from jupyter_mlops.tracking import Tracking

from .conftest import SIDEBAR_TAB, Lab, OpenPage, by_test_id

pytestmark = pytest.mark.browser

RUN_NAME = "linked try"


@dsl.component(base_image="python:3.11")
def scale(x: int) -> int:
    return 10 * x


@dsl.component(base_image="python:3.11")
def shift(x: int) -> int:
    return x + 1


@dsl.pipeline(name="scale-then-shift")
def scale_then_shift(x: int = 1) -> None:
    shift(x=scale(x=x).output)


@pytest.fixture(scope="module")
def recorded_run(mlflow_lab: Lab, mlflow_server: Any) -> Run:
    """A finished local run in the lab's workspace, recorded in the lab's MLflow."""
    local = LocalPipelines(mlflow_lab.root_dir / ".mlops" / "pipelines")
    experiment = f"linked-{secrets.token_hex(3)}"
    run = local.submit(scale_then_shift, {"x": 4}, experiment=experiment, run_name=RUN_NAME)
    done = local.wait(run.id, timeout=120)
    assert done.status is RunStatus.SUCCEEDED, done.error
    settings = configure(mlflow_tracking_uri=mlflow_server.url, workspace=str(mlflow_lab.root_dir))
    tracking = Tracking(resolve(settings, env={}))
    record_run(done, tracking)
    assert [link.task for link in linked_runs(done, tracking)] == [None, "scale", "shift"]
    return done


def open_run_panel(page: Page, run: Run) -> Locator:
    """Open the run from the Pipelines section of the sidebar; its panel, once read."""
    page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-pipelines")
    row = section.locator(f'[data-testid="mlops-run"][data-source="local"][data-name="{RUN_NAME}"]')
    row.click()
    panel = page.locator(
        f'[data-testid="mlops-pipeline-run"][data-source="local"][data-id="{run.id}"]'
    )
    expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("succeeded")
    return panel


def test_a_pipeline_run_opens_its_mlflow_task_runs_and_they_lead_back_to_it(
    open_page: OpenPage, mlflow_lab: Lab, recorded_run: Run
) -> None:
    with open_page(mlflow_lab, "links-both-ways") as page:
        panel = open_run_panel(page, recorded_run)
        block = by_test_id(panel, "mlops-pipeline-run-mlflow")
        links = by_test_id(block, "mlops-pipeline-run-mlflow-link")
        expect(links).to_have_count(3)
        assert [link.get_attribute("data-task") for link in links.all()] == ["", "scale", "shift"]
        expect(links.first).to_have_text(RUN_NAME)
        expect(by_test_id(block, "mlops-pipeline-run-mlflow-error")).to_have_count(0)

        by_test_id(block, "mlops-pipeline-run-mlflow-compare").click()
        mlflow = by_test_id(page, "mlops-mlflow-panel").filter(
            has=page.get_by_text("scale, shift", exact=True)
        )
        expect(mlflow).to_be_visible()
        tasks = by_test_id(mlflow, "mlops-mlflow-pipeline-task")
        expect(tasks).to_have_text(["scale", "shift"])
        back = by_test_id(mlflow, "mlops-mlflow-pipeline-run")
        expect(back).to_have_count(2)
        for link in back.all():
            expect(link).to_have_attribute("data-pipeline-run", recorded_run.id)
            expect(link).to_have_text("Pipeline run")
        expect(by_test_id(mlflow, "mlops-mlflow-pipeline").first).to_contain_text("local")

        # Close the run's panel, so that going back has to open it again.
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=RUN_NAME).locator(
            ".lm-TabBar-tabCloseIcon"
        ).click()
        expect(panel).to_have_count(0)
        back.last.click()
        expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("succeeded")
        expect(by_test_id(panel, "mlops-pipeline-task")).to_have_count(2)


def test_the_run_own_mlflow_run_opens_alone_and_names_no_task(
    open_page: OpenPage, mlflow_lab: Lab, recorded_run: Run
) -> None:
    with open_page(mlflow_lab, "links-own-run") as page:
        panel = open_run_panel(page, recorded_run)
        own = panel.locator('[data-testid="mlops-pipeline-run-mlflow-link"][data-task=""]')
        own.click()
        mlflow = by_test_id(page, "mlops-mlflow-panel").filter(
            has=page.get_by_text(RUN_NAME, exact=True)
        )
        expect(by_test_id(mlflow, "mlops-mlflow-pipeline-run")).to_have_count(1)
        # The pipeline run's own MLflow run is not a task's: no task row.
        expect(by_test_id(mlflow, "mlops-mlflow-pipeline-task")).to_have_count(0)


@pytest.fixture(scope="module")
def run_beside_unreachable_mlflow(lab_with_unreachable_backends: Lab) -> Run:
    """A finished local run in the workspace of a lab whose MLflow refuses connections."""
    root = lab_with_unreachable_backends.root_dir
    local = LocalPipelines(root / ".mlops" / "pipelines")
    run = local.submit(scale_then_shift, {"x": 2}, experiment="offline", run_name=RUN_NAME)
    done = local.wait(run.id, timeout=120)
    assert done.status is RunStatus.SUCCEEDED, done.error
    return done


def test_an_unreachable_mlflow_is_said_in_words_in_the_run_panel(
    open_page: OpenPage, lab_with_unreachable_backends: Lab, run_beside_unreachable_mlflow: Run
) -> None:
    lab = lab_with_unreachable_backends
    answer = lab.get_json(f"mlops/api/pipelines/runs/{run_beside_unreachable_mlflow.id}")
    message = answer["mlflow"]["message"]
    assert message, answer["mlflow"]
    with open_page(lab, "links-unreachable") as page:
        panel = open_run_panel(page, run_beside_unreachable_mlflow)
        block = by_test_id(panel, "mlops-pipeline-run-mlflow")
        expect(by_test_id(block, "mlops-pipeline-run-mlflow-error")).to_have_text(
            f"Cannot tell which MLflow runs belong to this run: {message}"
        )
        expect(by_test_id(block, "mlops-pipeline-run-mlflow-link")).to_have_count(0)
        expect(by_test_id(block, "mlops-pipeline-run-mlflow-compare")).to_have_count(0)
