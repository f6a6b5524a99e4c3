"""The Pipelines section and run panel in a real JupyterLab, with local runs and a KFP emulator."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp
import pytest
from kfp import compiler, dsl
from playwright.sync_api import Locator, Page, Request, expect

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.pipelines import LocalPipelines, Run, RunStatus
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.pipelines.record import write_run
from jupyter_mlops.testing.kfp import KfpEmulator

from .conftest import KFP_NAMESPACE, KFP_TOKEN, Lab, OpenPage

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
PLUGIN_ID = "jupyter-mlops:plugin"


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    print(f"adding {a} and {b}")
    return a + b


@dsl.component(base_image="python:3.11")
def double(x: int) -> int:
    print("doubling", x)
    return 2 * x


@dsl.pipeline(name="three-steps")
def three_steps(a: int = 1, b: int = 2) -> None:
    total = add(a=a, b=b)
    twice = double(x=total.output)
    double(x=twice.output)


@dsl.component(base_image="python:3.11")
def prepare(rows: int) -> int:
    return rows


@dsl.component(base_image="python:3.11")
def train(rows: int) -> float:
    return rows / 10


@dsl.pipeline(name="train-model")
def training(rows: int = 100) -> None:
    prepared = prepare(rows=rows)
    train(rows=prepared.output)


@pytest.fixture(scope="module")
def local_run(pipelines_lab: Lab) -> Run:
    """A three-step run made on the notebook's machine, in the lab's workspace, finished."""
    local = LocalPipelines(pipelines_lab.root_dir / ".mlops" / "pipelines")
    run = local.submit(three_steps, {"a": 3}, experiment="local-tries", run_name="local try")
    done = local.wait(run.id, timeout=120)
    assert done.status is RunStatus.SUCCEEDED, done.error
    return done


@pytest.fixture(scope="module")
def cluster_backend(pipelines_lab: Lab, kfp_api: KfpEmulator) -> ClusterPipelines:
    """The notebook user's own connection to the emulated Kubeflow Pipelines."""
    config = configure(kfp_endpoint=kfp_api.url, kfp_token=KFP_TOKEN, namespace=KFP_NAMESPACE)
    return ClusterPipelines(resolve(config, env={}, root=pipelines_lab.root_dir))


@pytest.fixture(scope="module")
def seeded(kfp_api: KfpEmulator) -> list[str]:
    """Finished cluster runs from earlier days."""
    return kfp_api.seed_runs(3, name_prefix="cluster-run-")


@pytest.fixture
def read_only_settings(pipelines_lab: Lab) -> Iterator[None]:
    pipelines_lab.put_settings(PLUGIN_ID, {"readOnly": True})
    yield
    pipelines_lab.put_settings(PLUGIN_ID, {})


def by_test_id(scope: Page | Locator, test_id: str) -> Locator:
    return scope.locator(f'[data-testid="{test_id}"]')


def open_section(page: Page) -> Locator:
    """Open the sidebar and wait for the Pipelines section to list its runs."""
    page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-pipelines")
    expect(by_test_id(section, "mlops-runs")).to_be_visible()
    return section


def run_row(section: Locator, source: str, name: str) -> Locator:
    return section.locator(f'[data-testid="mlops-run"][data-source="{source}"][data-name="{name}"]')


def is_runs_list(request: Request) -> bool:
    return request.url.split("?")[0].endswith("/mlops/api/pipelines/runs")


def test_local_and_cluster_runs_are_listed_side_by_side_each_marked(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run, seeded: list[str]
) -> None:
    with open_page(pipelines_lab, "side-by-side") as page:
        section = open_section(page)
        local = run_row(section, "local", "local try")
        expect(local).to_be_visible()
        expect(by_test_id(local, "mlops-run-source")).to_have_text("local")
        expect(by_test_id(local, "mlops-run-status")).to_have_text("succeeded")
        cluster = section.locator('[data-testid="mlops-run"][data-source="cluster"]')
        expect(cluster).to_have_count(len(seeded))
        for row in cluster.all():
            expect(by_test_id(row, "mlops-run-source")).to_have_text("cluster")
        # The source filter narrows the list to one side.
        by_test_id(section, "mlops-runs-source").select_option("local")
        expect(section.locator('[data-testid="mlops-run"][data-source="cluster"]')).to_have_count(0)
        expect(local).to_be_visible()


def test_the_status_filter_and_sorting_ask_the_server(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run, seeded: list[str]
) -> None:
    with open_page(pipelines_lab, "filter-sort") as page:
        section = open_section(page)
        by_test_id(section, "mlops-runs-source").select_option("cluster")
        rows = section.locator('[data-testid="mlops-run"]')
        expect(rows).to_have_count(len(seeded))
        by_test_id(section, "mlops-runs-sort-name").click()
        expect(rows.first).to_have_attribute("data-name", "cluster-run-00000")
        by_test_id(section, "mlops-runs-sort-name").click()
        expect(rows.first).to_have_attribute("data-name", f"cluster-run-{len(seeded) - 1:05d}")
        by_test_id(section, "mlops-runs-status").select_option("SUCCEEDED")
        expect(rows).not_to_have_count(0)
        for row in rows.all():
            expect(row).to_have_attribute("data-status", "SUCCEEDED")


def test_a_new_cluster_run_appears_and_changes_state_in_the_list_as_it_runs(
    open_page: OpenPage, pipelines_lab: Lab, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines
) -> None:
    with open_page(pipelines_lab, "live-list") as page:
        section = open_section(page)
        lists: list[str] = []
        page.on("request", lambda r: lists.append(r.url) if is_runs_list(r) else None)
        # Long enough for the server's run poller (every 3 s) to see the task running.
        kfp_api.set_task_seconds("train", 6)
        run = cluster_backend.submit(training, {"rows": 7}, run_name="live training")
        kfp_api.fail_task(run.id, "train")
        row = run_row(section, "cluster", "live training")
        expect(by_test_id(row, "mlops-run-status")).to_have_text("running", timeout=20_000)
        expect(by_test_id(row, "mlops-run-status")).to_have_text("failed", timeout=20_000)
        # The run came and changed over the tab's WebSocket: nothing was listed again.
        assert lists == []


def test_a_local_run_opens_with_its_tasks_their_states_and_a_task_log(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run
) -> None:
    with open_page(pipelines_lab, "local-run-panel") as page:
        section = open_section(page)
        run_row(section, "local", "local try").click()
        panel = page.locator(
            f'[data-testid="mlops-pipeline-run"][data-source="local"][data-id="{local_run.id}"]'
        )
        expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("succeeded")
        tasks = by_test_id(panel, "mlops-pipeline-task")
        expect(tasks).to_have_count(3)
        assert [t.get_attribute("data-state") for t in tasks.all()] == ["SUCCEEDED"] * 3
        expect(by_test_id(panel, "mlops-pipeline-run-parameters")).to_contain_text("3")
        panel.locator('[data-testid="mlops-pipeline-task"][data-name="add"]').click()
        detail = by_test_id(panel, "mlops-pipeline-task-detail")
        expect(detail).to_have_attribute("data-task", "add")
        expect(by_test_id(detail, "mlops-pipeline-task-outputs")).to_contain_text("5")
        expect(by_test_id(detail, "mlops-pipeline-task-log")).to_contain_text("adding 3 and 2")
        # A local run has no dashboard page.
        expect(by_test_id(panel, "mlops-pipeline-run-dashboard")).to_have_count(0)


def test_the_task_graph_draws_each_task_below_those_it_depends_on_and_uploaded_pipelines_list(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run, kfp_api: KfpEmulator, tmp_path: Path
) -> None:
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    client = kfp.Client(host=kfp_api.url, existing_token=KFP_TOKEN, namespace=KFP_NAMESPACE)
    uploaded = client.upload_pipeline(str(package), "graph-trainer", namespace=KFP_NAMESPACE)
    with open_page(pipelines_lab, "task-graph") as page:
        section = open_section(page)
        run_row(section, "local", "local try").click()
        panel = page.locator(
            f'[data-testid="mlops-pipeline-run"][data-source="local"][data-id="{local_run.id}"]'
        )
        graph = by_test_id(panel, "mlops-pipeline-run-graph")
        boxes = by_test_id(graph, "mlops-pipeline-graph-task")
        expect(boxes).to_have_count(3)
        states = {b.get_attribute("data-task"): b.get_attribute("data-state") for b in boxes.all()}
        assert states == {t.name: t.state.value for t in local_run.tasks}
        assert set(states) == {"add", "double", "double-2"}
        # Each task sits a layer below the one it depends on, joined by one arrow.
        tops = {}
        for name in states:
            box = graph.locator(f'[data-testid="mlops-pipeline-graph-task"][data-task="{name}"]')
            bounds = box.bounding_box()
            assert bounds is not None
            tops[name] = bounds["y"]
        assert tops["add"] < tops["double"] < tops["double-2"]
        expect(graph.locator(".jp-mlops-graph-edge")).to_have_count(2)
        graph.locator('[data-task="double"]').click()
        expect(by_test_id(panel, "mlops-pipeline-task-detail")).to_have_attribute(
            "data-task", "double"
        )

        uploaded_list = by_test_id(section, "mlops-uploaded-pipelines")
        uploaded_list.locator("summary").first.click()
        pipeline = uploaded_list.locator(
            f'[data-testid="mlops-uploaded-pipeline"][data-id="{uploaded.pipeline_id}"]'
        )
        expect(pipeline).to_contain_text("graph-trainer")
        pipeline.locator("summary").click()
        expect(by_test_id(pipeline, "mlops-uploaded-version")).to_have_count(1)


def test_stopping_a_cluster_run_asks_first_then_the_run_ends_canceled(
    open_page: OpenPage, pipelines_lab: Lab, kfp_api: KfpEmulator, cluster_backend: ClusterPipelines
) -> None:
    kfp_api.set_task_seconds("train", 600)
    run = cluster_backend.submit(training, {"rows": 9}, run_name="to stop")
    kfp_api.wait_for_task_state(run.id, "train", "RUNNING")
    with open_page(pipelines_lab, "stop-run") as page:
        section = open_section(page)
        run_row(section, "cluster", "to stop").click()
        panel = page.locator(f'[data-testid="mlops-pipeline-run"][data-id="{run.id}"]')
        expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("running")
        link = by_test_id(panel, "mlops-pipeline-run-dashboard")
        expect(link).to_have_attribute(
            "href", f"/_/pipeline/?ns={KFP_NAMESPACE}#/runs/details/{run.id}"
        )
        train_task = panel.locator('[data-testid="mlops-pipeline-task"][data-name="train"]')
        expect(train_task).to_have_attribute("data-state", "RUNNING")
        by_test_id(panel, "mlops-pipeline-run-terminate").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("to stop")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        assert kfp_api.run_state(run.id) == "RUNNING"
        by_test_id(panel, "mlops-pipeline-run-terminate").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Stop run").click()
        expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("canceled")
        assert kfp_api.run_state(run.id) == "CANCELED"
        expect(by_test_id(run_row(section, "cluster", "to stop"), "mlops-run-status")).to_have_text(
            "canceled", timeout=20_000
        )
        # An ended run can be run again; the stop button is gone.
        expect(by_test_id(panel, "mlops-pipeline-run-terminate")).to_have_count(0)
        expect(by_test_id(panel, "mlops-pipeline-run-retry")).to_be_visible()


def test_the_read_only_setting_hides_stop_and_retry(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run, read_only_settings: None
) -> None:
    with open_page(pipelines_lab, "read-only-run") as page:
        section = open_section(page)
        expect(by_test_id(page, "mlops-read-only")).to_be_visible()
        run_row(section, "local", "local try").click()
        panel = by_test_id(page, "mlops-pipeline-run")
        expect(by_test_id(panel, "mlops-pipeline-task")).to_have_count(3)
        expect(by_test_id(panel, "mlops-pipeline-run-retry")).to_have_count(0)
        expect(by_test_id(panel, "mlops-pipeline-run-terminate")).to_have_count(0)


def test_long_nested_list_values_are_summarised_and_expand(
    open_page: OpenPage, pipelines_lab: Lab
) -> None:
    created = dt.datetime.now(dt.timezone.utc)
    curve = [[step, round(1.47 / (step + 1), 4), 0.005] for step in range(200)]
    recorded = Run(
        id="ab" * 16,
        name="long outputs",
        pipeline_name="train-model",
        experiment="Default",
        status=RunStatus.SUCCEEDED,
        created_at=created,
        started_at=created,
        finished_at=created + dt.timedelta(seconds=4),
        parameters={"layers": [64, 32], "schedule": curve},
        outputs={"curve": curve},
    )
    folder = pipelines_lab.root_dir / ".mlops" / "pipelines" / recorded.id
    folder.mkdir(parents=True)
    write_run(folder, recorded)
    with open_page(pipelines_lab, "long-values") as page:
        run_row(open_section(page), "local", "long outputs").click()
        panel = by_test_id(page, "mlops-pipeline-run")
        parameters = by_test_id(panel, "mlops-pipeline-run-parameters")
        # A short list reads whole, with its brackets.
        expect(parameters.locator('[data-name="layers"] [data-testid="mlops-value"]')).to_have_text(
            "[64, 32]"
        )
        schedule = parameters.locator('[data-name="schedule"]')
        summary = by_test_id(schedule, "mlops-value-summary")
        # Its type, length and first items, the nesting kept: not "0, 1.47, 0.005, …".
        expect(summary).to_have_text(
            "list of 200 lists: [[0, 1.47, 0.005], [1, 0.735, 0.005], [2, 0.49, 0.005], …]"
        )
        full = by_test_id(schedule, "mlops-value-full")
        expect(full).to_be_hidden()
        summary.click()
        expect(full).to_be_visible()
        expect(full).to_contain_text("199")
        box = full.bounding_box()
        assert box is not None and box["height"] < 300
        outputs = by_test_id(panel, "mlops-pipeline-run-outputs")
        expect(by_test_id(outputs, "mlops-value-summary")).to_contain_text("list of 200 lists")


def test_screenshot_of_the_pipelines_section_and_a_run(
    open_page: OpenPage, pipelines_lab: Lab, local_run: Run, seeded: list[str]
) -> None:
    with open_page(pipelines_lab, "pipelines-screenshot") as page:
        section = open_section(page)
        expect(run_row(section, "local", "local try")).to_be_visible()
        run_row(section, "local", "local try").click()
        panel = by_test_id(page, "mlops-pipeline-run")
        expect(by_test_id(panel, "mlops-pipeline-task-log")).to_contain_text("adding")
        # At JupyterLab's default sidebar width, as a new user sees it.
        section.scroll_into_view_if_needed()
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / "pipelines.png"))


def test_unreachable_pipelines_are_told_in_words_and_local_runs_still_list(
    open_page: OpenPage, lab_with_unreachable_backends: Lab
) -> None:
    lab = lab_with_unreachable_backends
    created = dt.datetime.now(dt.timezone.utc)
    earlier = Run(
        id="cd" * 16,
        name="offline try",
        pipeline_name="three-steps",
        experiment="Default",
        status=RunStatus.SUCCEEDED,
        created_at=created,
        started_at=created,
        finished_at=created + dt.timedelta(seconds=4),
    )
    folder = lab.root_dir / ".mlops" / "pipelines" / earlier.id
    folder.mkdir(parents=True)
    write_run(folder, earlier)
    with open_page(lab, "pipelines-unreachable") as page:
        section = open_section(page)
        expect(run_row(section, "local", "offline try")).to_be_visible()
        error = section.locator('[data-testid="mlops-runs-source-error"][data-source="cluster"]')
        expect(error).to_contain_text("Kubeflow Pipelines")
        expect(error).to_contain_text("Local runs are still listed.")
        words = lab_error_words(lab)
        expect(error).to_contain_text(words)


def lab_error_words(lab: Lab) -> Any:
    """What the runs route says about the cluster source, as the panel should show it."""
    answer = lab.get_json("mlops/api/pipelines/runs")
    return answer["errors"]["cluster"]["message"]
