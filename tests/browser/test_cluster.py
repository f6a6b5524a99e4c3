"""The Cluster section against the real control plane: live tables, describe, logs, actions.

Pods run on kwok's nodes; a test picks how one lives and ends by its lifecycle label
(jupyter_mlops.testing.control_plane), and ends a long run early by shortening its `run-for`
(kwok acts on the change), never by writing the pod's status. kubectl is the reference for
what the cluster holds.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_mlops.testing.control_plane import (
    CRASH_LOOP,
    LIFECYCLE_LABEL,
    OOM_KILLED,
    SUCCEED,
    ControlPlane,
    lifecycle,
)
from tests.plane import Namespace, wait_for

from .conftest import (
    CLUSTER_NAMESPACE,
    Lab,
    OpenPage,
    lab_on_plane,
    named_namespace,
)

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
PLUGIN_ID = "jupyter-mlops:plugin"
_names = itertools.count()


def unique(prefix: str) -> str:
    """A pod name no other test of this module uses (they share one namespace)."""
    return f"{prefix}-{next(_names)}"


def pod(
    name: str,
    *,
    cpu: str | None = None,
    containers: tuple[str, ...] = ("main",),
    meta: dict[str, Any] | None = None,
    restart_policy: str | None = None,
    namespace: str = CLUSTER_NAMESPACE,
) -> Any:
    """A pod; `meta` (a `lifecycle(...)`) says how kwok plays it, else it runs for good."""
    spec: dict[str, Any] = {
        "containers": [{"name": c, "image": "python:3.11-slim"} for c in containers]
    }
    if cpu is not None:
        spec["containers"][0]["resources"] = {"requests": {"cpu": cpu}}
    if restart_policy is not None:
        spec["restartPolicy"] = restart_policy
    meta = meta or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": name, **meta.get("labels", {})},
            "annotations": meta.get("annotations", {}),
        },
        "spec": spec,
    }


#: Long enough that a test ends the run itself (`end_run_now`).
FOR_GOOD = "600s"


def set_run_for(ns: Namespace, name: str, run_for: str) -> None:
    """Change how long pod `name`'s container runs (its lifecycle's `run-for`); kwok acts on
    the change at once, so "0s" ends the run now."""
    ns.kubectl("annotate", "--overwrite", "pod", name, f"{LIFECYCLE_LABEL}/run-for={run_for}")


def end_run_now(ns: Namespace, name: str) -> None:
    set_run_for(ns, name, "0s")


def cluster_uids(ns: Namespace) -> set[str]:
    """The uids of the namespace's pods, as kubectl lists them."""
    return {p["metadata"]["uid"] for p in ns.get("pods")["items"]}


def page_uids(page: Page) -> list[str]:
    uids: list[str] = by_test_id(page, "mlops-row").evaluate_all("rs => rs.map(r => r.dataset.uid)")
    return uids


def wait_rows_match_the_cluster(page: Page, ns: Namespace) -> list[str]:
    """Until the table's rows are the namespace's pods as kubectl lists them (the table
    follows the cluster with a delay); the rows' uids."""

    def same() -> list[str] | None:
        shown, stored = page_uids(page), cluster_uids(ns)
        return shown if sorted(shown) == sorted(stored) else None

    return wait_for("the table to show the pods kubectl lists", same, timeout=30)


def deployment(name: str, replicas: int = 1) -> Any:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def by_test_id(scope: Page | Locator, test_id: str) -> Locator:
    return scope.locator(f'[data-testid="{test_id}"]')


def row(page: Page, name: str) -> Locator:
    return page.locator(
        f'[data-testid="mlops-table"] [data-testid="mlops-row"][data-name="{name}"]'
    )


def pod_rows(page: Page, prefix: str) -> Locator:
    return page.locator(
        f'[data-testid="mlops-table"] [data-testid="mlops-row"][data-name^="{prefix}"]'
    )


def open_cluster(page: Page) -> None:
    """Open the sidebar (unless it is open) and wait for the pods table to be live."""
    if not page.locator("#jupyter-mlops-sidebar").is_visible():
        page.click(SIDEBAR_TAB)
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-kind", "pods")
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-state", "live")


def open_object(page: Page, name: str) -> Locator:
    """Click a row and return the main-area panel it opens."""
    row(page, name).click()
    panel = page.locator(
        f'.jp-mlops-object-panel:has([data-testid="mlops-object-name"]:text-is("{name}"))'
    )
    expect(panel).to_be_visible()
    return panel


@pytest.fixture(scope="module")
def team(cluster_namespace: Namespace) -> Namespace:
    """The namespace the lab works in (`team-a`), with kubectl as the cluster admin."""
    return cluster_namespace


@pytest.fixture(scope="module")
def shared_page(browser: Browser, cluster_lab: Lab) -> Iterator[Page]:
    """One JupyterLab page for the tests that can share it: loading JupyterLab takes seconds,
    and each test puts the page back as a user would (see `page`)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(cluster_lab.url(f"lab/workspaces/cluster-tests?token={cluster_lab.token}"))
        page.wait_for_selector(SIDEBAR_TAB, timeout=60_000)
        yield page
    finally:
        context.close()


@pytest.fixture
def page(shared_page: Page) -> Page:
    """The shared page, back at the start: no dialog or object panel, the sidebar on the pods
    of the default namespace, no filter."""
    page = shared_page
    page.keyboard.press("Escape")
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 800})
    if page.locator(".jp-mlops-object-panel").count() > 0:
        page.locator(".lm-MenuBar-item").filter(has_text="File").click()
        page.locator(".lm-Menu .lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel").get_by_text("Close All Tabs", exact=True)
        ).click()
        expect(page.locator(".jp-mlops-object-panel")).to_have_count(0)
    if not page.locator("#jupyter-mlops-sidebar").is_visible():
        page.click(SIDEBAR_TAB)
    namespace = by_test_id(page, "mlops-namespace-input")
    namespace.fill("")
    namespace.press("Enter")
    expect(namespace).to_have_value(CLUSTER_NAMESPACE)
    custom = by_test_id(page, "mlops-custom-kind")
    if custom.count() > 0:
        custom.select_option("")
    by_test_id(page, "mlops-tab-pods").click()
    by_test_id(page, "mlops-filter").fill("")
    return page


def test_a_new_pod_appears_and_its_phase_change_shows(page: Page, team: Namespace) -> None:
    open_cluster(page)
    name = unique("trainer")
    team.apply(pod(name, meta=lifecycle(CRASH_LOOP, run_for=FOR_GOOD), restart_policy="Never"))
    expect(row(page, name)).to_have_count(1)
    status = row(page, name).locator('[data-testid="mlops-status"]')
    expect(status).to_have_text("Running")
    expect(status).to_have_attribute("data-health", "ok")
    expect(row(page, name).locator('td[data-column="ready"]')).to_have_text("1/1")
    node = team.get("pod", name)["spec"]["nodeName"]
    expect(row(page, name).locator('td[data-column="node"]')).to_have_text(node)

    end_run_now(team, name)  # it exits 1
    expect(status).to_have_text("Error")
    assert team.columns("pod", name)["STATUS"] == "Error"  # as kubectl prints it
    expect(status).to_have_attribute("data-health", "error")
    # The status colour is the theme's error colour.
    colours = status.evaluate(
        """e => {
            const probe = document.createElement('span');
            probe.style.color = 'var(--jp-error-color1)';
            document.body.appendChild(probe);
            const theme = getComputedStyle(probe).color;
            probe.remove();
            return [getComputedStyle(e).borderLeftColor, theme];
        }"""
    )
    assert colours[0] == colours[1]
    expect(by_test_id(page, "mlops-count-pods")).to_have_text(str(len(cluster_uids(team))))


def test_the_filter_narrows_the_table(page: Page, team: Namespace) -> None:
    wanted, other = unique("filter-me"), unique("filter-not")
    team.apply(pod(wanted), pod(other))
    open_cluster(page)
    expect(row(page, other)).to_have_count(1)
    by_test_id(page, "mlops-filter").fill(wanted)
    expect(by_test_id(page, "mlops-row")).to_have_count(1)
    expect(row(page, wanted)).to_have_count(1)
    by_test_id(page, "mlops-filter").fill("no-such-pod")
    expect(by_test_id(page, "mlops-table-empty")).to_contain_text('No pods match "no-such-pod"')


@pytest.fixture
def team_b(team: Namespace, tmp_path: Path) -> Iterator[Namespace]:
    """Another namespace, new."""
    with named_namespace(team.plane, f"team-b-{secrets.token_hex(3)}", tmp_path) as ns:
        yield ns


def test_another_namespace_can_be_typed(page: Page, team: Namespace, team_b: Namespace) -> None:
    namespace = team_b.name
    elsewhere = pod(unique("elsewhere"), namespace=namespace)
    team_b.apply(elsewhere)
    here = unique("here")
    team.apply(pod(here))
    open_cluster(page)
    expect(row(page, here)).to_have_count(1)

    field = by_test_id(page, "mlops-namespace-input")
    expect(field).to_have_value(CLUSTER_NAMESPACE)
    field.fill(namespace)
    field.press("Enter")
    expect(row(page, elsewhere["metadata"]["name"])).to_have_count(1)
    expect(by_test_id(page, "mlops-row")).to_have_count(1)

    # Emptied, the box goes back to the namespace the server works in.
    field.fill("")
    field.press("Enter")
    expect(field).to_have_value(CLUSTER_NAMESPACE)
    expect(row(page, here)).to_have_count(1)


def append_log(ns: Namespace, pod_name: str, container: str, *lines: str) -> None:
    """The container writes `lines` to its log, now."""
    ns.plane.append_log(ns.name, pod_name, container, *lines)


def test_logs_follow_search_and_download(page: Page, team: Namespace) -> None:
    name = unique("logger")
    append_log(team, name, "main", "epoch 1 loss 0.91", "epoch 2 loss 0.52")
    team.apply(pod(name))
    open_cluster(page)
    expect(row(page, name).locator('[data-testid="mlops-status"]')).to_have_text("Running")
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-logs").click()
    lines = by_test_id(panel, "mlops-log-line")
    expect(lines).to_have_text(["1epoch 1 loss 0.91", "2epoch 2 loss 0.52"])
    expect(by_test_id(panel, "mlops-log-state")).to_contain_text("Following")

    append_log(team, name, "main", "epoch 3 loss 0.27")
    expect(lines).to_have_count(3)
    expect(lines.nth(2)).to_have_text("3epoch 3 loss 0.27")

    by_test_id(panel, "mlops-log-search").fill("LOSS 0.5")
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("1 of 1")
    expect(panel.locator("mark.jp-mlops-log-match")).to_have_text(["loss 0.5"])

    with page.expect_download() as download:
        by_test_id(panel, "mlops-log-download").click()
    assert download.value.suggested_filename == f"{name}-main.log"
    saved = Path(download.value.path()).read_text()
    assert saved == "epoch 1 loss 0.91\nepoch 2 loss 0.52\nepoch 3 loss 0.27\n"

    # Following again reads the log anew, with what was written meanwhile.
    by_test_id(panel, "mlops-log-follow").uncheck()
    expect(by_test_id(panel, "mlops-log-state")).to_contain_text("Not following")
    append_log(team, name, "main", "epoch 4 loss 0.11")
    by_test_id(panel, "mlops-log-follow").check()
    expect(lines).to_have_count(4)


def append_steps(ns: Namespace, pod_name: str, first: int, last: int) -> None:
    lines = [f"step {i} loss {1 / (i + 1):.6f}" for i in range(first, last)]
    append_log(ns, pod_name, "main", *lines)


def test_long_logs_draw_only_what_is_in_view_and_keep_the_newest_lines(
    page: Page, team: Namespace
) -> None:
    name = unique("chatty")
    team.plane.log_file(team.name, name, "main")  # kwok serves its log file from the start
    team.apply(pod(name))
    open_cluster(page)
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-logs").click()
    viewer = by_test_id(panel, "mlops-log-lines")
    # A first line shown means the server follows the log: later lines all come through.
    append_log(team, name, "main", "training started")
    expect(viewer).to_have_attribute("data-total", "1")
    # Chunks that fit the server's buffer, each awaited, so that no line is skipped.
    chunk = 20_000
    for start in range(0, 100_000, chunk):
        append_steps(team, name, start, start + chunk)
        expect(viewer).to_have_attribute("data-total", str(1 + start + chunk), timeout=30_000)
    drawn = by_test_id(panel, "mlops-log-line").count()
    assert 0 < drawn < 200, f"{drawn} lines in the DOM"
    # Following keeps the newest line in view.
    expect(panel.locator('[data-testid="mlops-log-line"][data-line="100001"]')).to_be_visible()

    by_test_id(panel, "mlops-log-search").fill("step 31415 ")
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("1 of 1", timeout=30_000)
    # Searching 100,000 lines and scrolling to the match can take seconds on a busy machine.
    expect(panel.locator('[data-testid="mlops-log-line"][data-line="31417"]')).to_be_visible(
        timeout=30_000
    )
    assert by_test_id(panel, "mlops-log-line").count() < 200

    # Past MAX_LOG_LINES the oldest lines go, and the viewer says how many.
    for start in range(100_000, 210_000, chunk):
        end = min(start + chunk, 210_000)
        append_steps(team, name, start, end)
        if 1 + end <= 200_000:
            expect(viewer).to_have_attribute("data-total", str(1 + end), timeout=30_000)
    dropped = 1 + 210_000 - 200_000
    expect(by_test_id(panel, "mlops-log-dropped")).to_contain_text(
        f"{dropped:,} older lines were dropped: the viewer keeps the last 200,000."
    )
    expect(viewer).to_have_attribute("data-total", "200000")
    # Lines keep their numbers; the search finds only the lines kept.
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("1 of 1")
    expect(panel.locator('[data-testid="mlops-log-line"][data-line="31417"]')).to_be_visible()
    by_test_id(panel, "mlops-log-search").fill("step 5000 ")
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("no match")
    by_test_id(panel, "mlops-log-search").fill("step 209999 ")
    expect(panel.locator('[data-testid="mlops-log-line"][data-line="210001"]')).to_be_visible()


def test_delete_asks_first_and_the_deployment_makes_a_new_pod(page: Page, team: Namespace) -> None:
    name = unique("web")
    team.apply(deployment(name))
    open_cluster(page)
    owned = pod_rows(page, f"{name}-")
    expect(owned).to_have_count(1)
    expect(owned.locator('[data-testid="mlops-status"]')).to_have_text("Running")
    first = owned.get_attribute("data-name")
    assert first is not None
    panel = open_object(page, first)

    by_test_id(panel, "mlops-action-delete").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"Delete pod {first} in namespace {CLUSTER_NAMESPACE}?")
    expect(dialog).to_contain_text(f"Its Deployment {name} (through ReplicaSet {name}-")
    expect(by_test_id(dialog, "mlops-delete-outcome")).to_have_attribute("data-fate", "replaced")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(row(page, first)).to_have_count(1)

    by_test_id(panel, "mlops-action-delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(row(page, first)).to_have_count(0)
    expect(by_test_id(panel, "mlops-object-gone")).to_be_visible()
    expect(owned).to_have_count(1)
    expect(owned).not_to_have_attribute("data-name", first)
    expect(owned.locator('[data-testid="mlops-status"]')).to_have_text("Running")


def job(name: str) -> Any:
    """A Job whose pods run until the test ends their run (they then fail, exit code 1)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE},
        "spec": {
            "backoffLimit": 3,
            "template": {
                "metadata": lifecycle(CRASH_LOOP, run_for=FOR_GOOD),
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "python:3.11-slim"}],
                },
            },
        },
    }


def delete_dialog_says(page: Page, pod_name: str) -> tuple[str, str]:
    """Open the pod, ask to delete it, read what the dialog promises, and cancel."""
    panel = open_object(page, pod_name)
    by_test_id(panel, "mlops-action-delete").click()
    outcome = by_test_id(page.locator(".jp-Dialog"), "mlops-delete-outcome")
    expect(outcome).to_be_visible()
    said = (outcome.inner_text(), outcome.get_attribute("data-fate") or "")
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    return said


def test_the_delete_dialog_says_a_bare_pod_is_gone_for_good(page: Page, team: Namespace) -> None:
    name = unique("bare")
    team.apply(pod(name))
    open_cluster(page)
    expect(row(page, name)).to_have_count(1)
    words, fate = delete_dialog_says(page, name)
    assert fate == "gone"
    assert "Nothing owns it, so no new pod replaces it: it is gone for good." in words


def test_the_delete_dialog_says_what_a_job_does_for_a_finished_and_a_running_pod(
    page: Page, team: Namespace
) -> None:
    name = unique("train-job")
    team.apply(job(name))
    open_cluster(page)
    pods = pod_rows(page, f"{name}-")
    expect(pods).to_have_count(1)
    failed = pods.get_attribute("data-name")
    assert failed is not None
    expect(row(page, failed).locator('[data-testid="mlops-status"]')).to_have_text("Running")
    # The first try fails; the Job makes its next pod after its back-off (10 s), which runs.
    end_run_now(team, failed)
    expect(row(page, failed).locator('[data-testid="mlops-status"]')).to_have_text("Error")
    expect(pods).to_have_count(2, timeout=60_000)
    running = next(n for n in pods.evaluate_all("rs => rs.map(r => r.dataset.name)") if n != failed)
    expect(row(page, running).locator('[data-testid="mlops-status"]')).to_have_text("Running")

    words, fate = delete_dialog_says(page, failed)
    assert fate == "gone"
    assert f"It has failed already, and its Job {name} does not run a finished pod again" in words
    words, fate = delete_dialog_says(page, running)
    assert fate == "replaced"
    assert f"Its Job {name} still needs 1 successful pod, so it makes a new pod" in words


def test_the_warnings_badge_opens_only_the_warning_events(page: Page, team: Namespace) -> None:
    team.apply(pod(unique("too-big"), cpu="64"), pod(unique("fits")))
    open_cluster(page)
    badge = by_test_id(page, "mlops-warnings")
    expect(badge).not_to_have_attribute("data-count", "0")
    by_test_id(page, "mlops-tab-events").click()
    events = by_test_id(page, "mlops-row")
    expect(page.locator('[data-testid="mlops-row"][data-health="ok"]').first).to_be_visible()

    badge.click()
    count = int(badge.get_attribute("data-count") or 0)
    expect(by_test_id(page, "mlops-only-warnings")).to_be_checked()
    expect(events).to_have_count(count)
    assert set(events.evaluate_all("rs => rs.map(r => r.dataset.health)")) == {"warning"}
    # Unticked, every event shows again.
    by_test_id(page, "mlops-only-warnings").uncheck()
    expect(page.locator('[data-testid="mlops-row"][data-health="ok"]').first).to_be_visible()


def test_scale_a_deployment_after_confirming(page: Page, team: Namespace) -> None:
    name = unique("api")
    team.apply(deployment(name))
    open_cluster(page)
    expect(pod_rows(page, f"{name}-")).to_have_count(1)
    by_test_id(page, "mlops-tab-deployments").click()
    panel = open_object(page, name)
    by_test_id(panel, "mlops-action-scale").click()
    page.locator('.jp-Dialog [data-testid="mlops-scale-input"]').fill("3")
    page.locator(".jp-Dialog").get_by_role("button", name="Scale").click()
    expect(by_test_id(panel, "mlops-action-message")).to_have_text(
        f"Deployment {name} scaled to 3 replicas."
    )
    expect(row(page, name).locator('td[data-column="ready"]')).to_have_text("3/3")
    by_test_id(page, "mlops-tab-pods").click()
    expect(pod_rows(page, f"{name}-")).to_have_count(3)
    assert team.get("deployment", name)["status"]["readyReplicas"] == 3


def test_a_pending_pod_says_why_in_describe(page: Page, team: Namespace) -> None:
    name = unique("greedy")
    team.apply(pod(name, cpu="64"))
    open_cluster(page)
    status = row(page, name).locator('[data-testid="mlops-status"]')
    expect(status).to_have_text("Pending")  # as kubectl says; red, and describe says why
    expect(status).to_have_attribute("data-health", "error")
    panel = open_object(page, name)
    diagnosis = by_test_id(panel, "mlops-diagnosis-item").first
    expect(diagnosis).to_contain_text("No node has enough cpu free for this pod")
    expect(diagnosis).to_contain_text("requests cpu 64")
    # The diagnosis comes before everything else the panel says about the pod.
    order = panel.locator('[data-testid="mlops-describe"] > section').first
    expect(order).to_have_attribute("data-testid", "mlops-diagnosis")
    expect(panel.locator('[data-testid="mlops-event"][data-type="Warning"]').first).to_contain_text(
        "FailedScheduling"
    )
    expect(by_test_id(panel, "mlops-container-state")).to_have_text("waiting")

    warnings = team.get("events", "--field-selector", "type=Warning")["items"]
    expect(by_test_id(page, "mlops-warnings")).to_have_attribute("data-count", str(len(warnings)))
    by_test_id(page, "mlops-warnings").click()
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-kind", "events")
    expect(by_test_id(page, "mlops-table").get_by_text(f"pod/{name}").first).to_be_visible()


def test_yaml_tab_shows_the_object(page: Page, team: Namespace) -> None:
    name = unique("yaml")
    team.apply(pod(name))
    open_cluster(page)
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-yaml").click()
    text = by_test_id(panel, "mlops-yaml")
    expect(text).to_contain_text(f"name: {name}")
    expect(text).to_contain_text("image: python:3.11-slim")
    assert "monospace" in text.evaluate("e => getComputedStyle(e).fontFamily")
    # Opening the same object again shows the same panel.
    row(page, name).click()
    expect(page.locator(".jp-mlops-object-panel")).to_have_count(1)


@pytest.fixture
def read_only(cluster_lab: Lab) -> Iterator[None]:
    cluster_lab.put_settings(PLUGIN_ID, {"readOnly": True})
    yield
    cluster_lab.put_settings(PLUGIN_ID, {})


@pytest.mark.usefixtures("read_only")
def test_read_only_setting_hides_actions(
    open_page: OpenPage, cluster_lab: Lab, team: Namespace
) -> None:
    name = unique("kept")
    team.apply(deployment(name))
    # A page loaded after the setting changed: the shared one would need to be told.
    with open_page(cluster_lab, "read-only") as page:
        check_read_only(page, name)


def check_read_only(page: Page, name: str) -> None:
    open_cluster(page)
    expect(by_test_id(page, "mlops-read-only")).to_have_attribute("data-by", "settings")
    owned = pod_rows(page, f"{name}-")
    expect(owned).to_have_count(1)
    first = owned.get_attribute("data-name")
    assert first is not None
    panel = open_object(page, first)
    expect(by_test_id(panel, "mlops-describe")).to_be_visible()
    expect(by_test_id(panel, "mlops-action-delete")).to_have_count(0)
    by_test_id(page, "mlops-tab-deployments").click()
    deployment_panel = open_object(page, name)
    expect(by_test_id(deployment_panel, "mlops-describe")).to_be_visible()
    expect(by_test_id(deployment_panel, "mlops-action-scale")).to_have_count(0)


@pytest.fixture(scope="module")
def own_plane() -> Iterator[ControlPlane]:
    """A control plane of this module's own, whose kube-apiserver a test stops and starts
    (the session's plane stays up for the other tests)."""
    with ControlPlane() as plane:
        plane.api(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CLUSTER_NAMESPACE}},
        )
        yield plane


@pytest.fixture(scope="module")
def own_plane_lab(
    tmp_path_factory: pytest.TempPathFactory, own_plane: ControlPlane
) -> Iterator[Lab]:
    with lab_on_plane(tmp_path_factory, own_plane, "lab-own-plane") as server:
        yield server


def test_the_table_survives_an_api_server_restart(
    open_page: OpenPage, own_plane: ControlPlane, own_plane_lab: Lab, tmp_path: Path
) -> None:
    ns = Namespace(own_plane, CLUSTER_NAMESPACE, tmp_path)
    prefix = unique("survivor")
    names = [f"{prefix}-{i}" for i in range(3)]
    ns.apply(*(pod(name) for name in names))
    with open_page(own_plane_lab, "api-server-restart") as page:
        open_cluster(page)
        rows = pod_rows(page, f"{prefix}-")
        expect(rows).to_have_count(3)
        # A second API server on the same etcd, as a cluster with several has: the cluster
        # changes through it while the one the lab talks to is down.
        with own_plane.another_apiserver() as other:
            own_plane.stop_apiserver()
            try:
                expect(by_test_id(page, "mlops-reconnecting")).to_be_visible(timeout=30_000)
                # While the API server is down the cluster changes: one pod goes, one comes.
                own_plane.kubectl(
                    "-n",
                    CLUSTER_NAMESPACE,
                    "delete",
                    "pod",
                    names[0],
                    "--grace-period=0",
                    "--force",
                    kubeconfig=other,
                )
                new = ns.manifest(pod(f"{prefix}-new"))
                own_plane.kubectl("apply", "-f", str(new), kubeconfig=other)
                # The rows known stay on screen meanwhile, and the table still answers the user.
                expect(rows).to_have_count(3)
                by_test_id(page, "mlops-filter").fill(names[1])
                expect(rows).to_have_count(1)
                by_test_id(page, "mlops-filter").fill("")
                expect(rows).to_have_count(3)
            finally:
                own_plane.start_apiserver()
        expect(by_test_id(page, "mlops-reconnecting")).to_have_count(0, timeout=60_000)
        expected = sorted([*names[1:], f"{prefix}-new"])
        expect(rows).to_have_count(3)
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.name)")) == expected
        uids = wait_rows_match_the_cluster(page, ns)
        assert len(uids) == len(set(uids))


def test_a_broken_websocket_reconnects_and_resubscribes(
    open_page: OpenPage, cluster_lab: Lab, team: Namespace
) -> None:
    with open_page(cluster_lab, "broken-websocket") as page:
        break_the_websocket(page, team)


def break_the_websocket(page: Page, team: Namespace) -> None:
    connections: list[Any] = []

    def relay(socket: Any) -> None:
        socket.connect_to_server()
        connections.append(socket)

    # Every connection of the page passes through here, so the test can cut one.
    page.route_web_socket("**/mlops/api/ws*", relay)
    open_cluster(page)
    assert len(connections) == 1
    before = unique("before")
    team.apply(pod(before))
    expect(row(page, before)).to_have_count(1)

    connections[0].close()
    during = unique("during")
    team.apply(pod(during))
    team.kubectl("delete", "pod", before, "--wait=false")
    expect(row(page, during)).to_have_count(1)
    expect(row(page, before)).to_have_count(0, timeout=30_000)
    assert len(connections) == 2
    wait_rows_match_the_cluster(page, team)


VIEWER_ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "pod-reader", "namespace": CLUSTER_NAMESPACE},
    "rules": [
        {
            "apiGroups": [""],
            "resources": ["pods", "pods/log", "events"],
            "verbs": ["get", "list", "watch"],
        }
    ],
}


def viewer_objects() -> list[Any]:
    """A ServiceAccount `viewer` that may only read pods, their logs and events."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "viewer", "namespace": CLUSTER_NAMESPACE},
        },
        VIEWER_ROLE,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "viewer-reads-pods", "namespace": CLUSTER_NAMESPACE},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-reader",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "viewer", "namespace": CLUSTER_NAMESPACE}
            ],
        },
    ]


@pytest.fixture(scope="module")
def viewer_lab(tmp_path_factory: pytest.TempPathFactory, team: Namespace) -> Iterator[Lab]:
    """JupyterLab acting as a ServiceAccount that may only read pods, their logs and events,
    with a real token (TokenRequest)."""
    team.apply(*viewer_objects())
    token = team.kubectl("create", "token", "viewer").stdout.strip()
    wait_for(
        "the viewer's Role to apply",
        lambda: (
            team.kubectl(
                "auth",
                "can-i",
                "list",
                "pods",
                f"--as=system:serviceaccount:{team.name}:viewer",
                check=False,
            ).stdout.strip()
            == "yes"
        ),
    )
    with lab_on_plane(tmp_path_factory, team.plane, "lab-viewer", token=token) as server:
        yield server


def test_refusals_by_the_cluster_are_said_in_words(
    open_page: OpenPage, viewer_lab: Lab, team: Namespace
) -> None:
    name = unique("guarded")
    team.apply(pod(name))
    with open_page(viewer_lab, "viewer") as page:
        open_cluster(page)
        panel = open_object(page, name)
        by_test_id(panel, "mlops-action-delete").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
        message = by_test_id(panel, "mlops-action-message")
        expect(message).to_have_attribute("data-ok", "false")
        expect(message).to_contain_text(
            f"Not allowed: not allowed to delete pods in namespace '{CLUSTER_NAMESPACE}'"
        )
        expect(message).to_contain_text("It needs a Role")
        expect(row(page, name)).to_have_count(1)
        assert team.get("pod", name)["metadata"].get("deletionTimestamp") is None

        by_test_id(page, "mlops-tab-secrets").click()
        expect(by_test_id(page, "mlops-table-error")).to_contain_text("not allowed to list secrets")


def training_log(epochs: int) -> list[str]:
    """A training script's log, the same on every run."""
    lines = [
        "INFO loading dataset imagenet-subset (12,800 images)",
        "INFO model resnet50, 23.5M parameters",
    ]
    for epoch in range(1, epochs + 1):
        for step in range(0, 400, 100):
            loss = 2.3 / (epoch + step / 400)
            lines.append(f"INFO epoch {epoch}/{epochs} step {step:>3} loss {loss:.4f} lr 0.0010")
        accuracy = 1 - 0.9 / (epoch + 1)
        lines.append(
            f"INFO epoch {epoch}/{epochs} done: val_loss {2.1 / epoch:.4f} val_acc {accuracy:.3f}"
        )
    return lines


@pytest.fixture
def ml_team(team: Namespace, tmp_path: Path) -> Iterator[Namespace]:
    """The namespace `ml-team` the pictures show."""
    with named_namespace(team.plane, "ml-team", tmp_path) as ns:
        yield ns


def test_screenshots_of_the_cluster_section_and_the_log_viewer(
    page: Page, ml_team: Namespace
) -> None:
    namespace = ml_team.name
    # How each pod lives: runs on, ends well, fails, or waits for a node with 64 CPUs free.
    pods: dict[str, dict[str, Any] | None] = {
        "train-resnet": None,
        "preprocess-data": lifecycle(SUCCEED, run_for="1s"),
        "tune-learning-rate": lifecycle(CRASH_LOOP, run_for="1s"),
        "evaluate-model": None,
        "big-model": None,
    }
    ml_team.plane.append_log(namespace, "train-resnet", "main", *training_log(20))
    ml_team.apply(
        *(
            pod(
                name,
                cpu="64" if name == "big-model" else "500m",
                meta=meta,
                restart_policy="Never",
                namespace=namespace,
            )
            for name, meta in pods.items()
        )
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    open_cluster(page)
    # The README shows the section as a new user sees it: at JupyterLab's default width.
    assert (
        249
        <= (page.locator("#jupyter-mlops-sidebar").bounding_box() or {"width": 0})["width"]
        <= 251
    )
    field = by_test_id(page, "mlops-namespace-input")
    field.fill(namespace)
    field.press("Enter")
    expect(by_test_id(page, "mlops-row")).to_have_count(len(pods))
    expect(row(page, "preprocess-data").locator('[data-testid="mlops-status"]')).to_have_text(
        "Completed"
    )
    expect(row(page, "tune-learning-rate").locator('[data-testid="mlops-status"]')).to_have_text(
        "Error"
    )
    expect(row(page, "big-model").locator('[data-testid="mlops-status"]')).to_have_text("Pending")
    expect(row(page, "train-resnet").locator('[data-testid="mlops-status"]')).to_have_text(
        "Running"
    )
    expect(by_test_id(page, "mlops-warnings")).not_to_have_attribute("data-count", "0")
    # Hover effects would make the picture change from run to run.
    page.mouse.move(1000, 800)
    IMAGES.mkdir(parents=True, exist_ok=True)
    by_test_id(page, "mlops-cluster").screenshot(path=IMAGES / "cluster.png")
    assert (IMAGES / "cluster.png").stat().st_size > 5_000

    panel = open_object(page, "train-resnet")
    by_test_id(panel, "mlops-object-tab-logs").click()
    expect(by_test_id(panel, "mlops-log-line").last).to_contain_text("epoch 20/20 done")
    by_test_id(panel, "mlops-log-search").fill("val_acc")
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("1 of 20")
    by_test_id(panel, "mlops-log-search").press("Shift+Enter")
    expect(by_test_id(panel, "mlops-log-matches")).to_have_text("20 of 20")
    page.mouse.move(1000, 10)
    panel.screenshot(path=IMAGES / "logs.png")
    assert (IMAGES / "logs.png").stat().st_size > 5_000


def notebook(name: str) -> Any:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": "jupyter"}]}}},
    }


def notebook_is_ready(ns: Namespace, name: str) -> None:
    """Write the Notebook's status as Kubeflow's notebook controller does once its pod runs
    (no such controller runs on the plane), through the status subresource."""
    status = {
        "conditions": [{"type": "Ready", "status": "True"}],
        "readyReplicas": 1,
        "containerState": {"running": {"startedAt": "2026-01-05T09:00:00Z"}},
    }
    ns.kubectl(
        "patch",
        "notebook",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )


def test_custom_resources_have_their_own_table(page: Page, team: Namespace) -> None:
    name = unique("notebook")
    team.apply(notebook(name))
    notebook_is_ready(team, name)
    open_cluster(page)
    picker = by_test_id(page, "mlops-custom-kind")
    expect(picker.locator("option", has_text="Notebook (kubeflow.org)")).to_have_count(1)
    picker.select_option("notebooks")
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-kind", "notebooks")
    status = row(page, name).locator('[data-testid="mlops-status"]')
    expect(status).to_have_text("Ready")
    expect(status).to_have_attribute("data-health", "ok")
    panel = open_object(page, name)
    expect(panel.locator(".jp-mlops-object-title")).to_contain_text("Notebook")
    by_test_id(panel, "mlops-object-tab-yaml").click()
    expect(by_test_id(panel, "mlops-yaml")).to_contain_text("apiVersion: kubeflow.org/v1")


def test_show_pod_logs_from_the_command_palette(page: Page, team: Namespace) -> None:
    name = unique("palette")
    append_log(team, name, "main", "ready to serve")
    team.apply(pod(name))
    open_cluster(page)
    expect(row(page, name)).to_have_count(1)
    # The filter box keeps typed keys to itself: give the focus to the panel first.
    page.locator("#jupyter-mlops-sidebar .jp-mlops-title").click()
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Show pod logs")
    item = page.locator('.lm-CommandPalette-item[data-command="jupyter-mlops:show-pod-logs"]')
    header = item.locator(
        "xpath=preceding-sibling::li[contains(@class, 'lm-CommandPalette-header')][1]"
    )
    expect(header).to_have_text("MLOps")
    item.click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(name)
    dialog.get_by_role("button", name="OK").click()
    panel = page.locator(
        f'.jp-mlops-object-panel:has([data-testid="mlops-object-name"]:text-is("{name}"))'
    )
    expect(by_test_id(panel, "mlops-object-tab-logs")).to_have_attribute("aria-selected", "true")
    expect(by_test_id(panel, "mlops-log-line")).to_have_text(["1ready to serve"])


def restart_count(ns: Namespace, name: str) -> int:
    statuses = ns.get("pod", name)["status"].get("containerStatuses") or [{}]
    return int(statuses[0].get("restartCount", 0))


def rotate_log(ns: Namespace, name: str, container: str, *lines: str) -> None:
    """As the container runtime does when a container restarts: the log so far becomes the
    previous log, and the new run's log starts with `lines` (kwok does not do it)."""
    plane = ns.plane
    current = plane.log_file(ns.name, name, container)
    plane.log_file(ns.name, name, container, previous=True).write_text(current.read_text())
    current.write_text("")
    append_log(ns, name, container, *lines)


def test_a_restarted_container_shows_its_last_end_and_previous_log(
    page: Page, team: Namespace
) -> None:
    name = unique("crashy")
    append_log(team, name, "main", "loading model", "CUDA out of memory")
    # Killed for memory when the test ends its run; restarted after 5 s of back-off.
    team.apply(pod(name, meta=lifecycle(OOM_KILLED, run_for=FOR_GOOD, back_off="5s")))
    open_cluster(page)
    expect(row(page, name).locator('[data-testid="mlops-status"]')).to_have_text("Running")
    end_run_now(team, name)
    wait_for("the container's restart", lambda: restart_count(team, name) == 1)
    # The next run goes on until the test ends.
    set_run_for(team, name, FOR_GOOD)
    rotate_log(team, name, "main", "loading a smaller model")
    expect(row(page, name).locator('td[data-column="restarts"]')).to_have_text("1")
    expect(row(page, name).locator('[data-testid="mlops-status"]')).to_have_text(
        "Running", timeout=30_000
    )

    panel = open_object(page, name)
    expect(by_test_id(panel, "mlops-container-restarts")).to_have_text("1")
    expect(by_test_id(panel, "mlops-container-last-termination")).to_contain_text("exit code 137")
    by_test_id(panel, "mlops-object-tab-logs").click()
    lines = by_test_id(panel, "mlops-log-line")
    expect(lines).to_have_text(["1loading a smaller model"])
    by_test_id(panel, "mlops-log-previous").check()
    expect(lines).to_have_text(["1loading model", "2CUDA out of memory"])
    expect(by_test_id(panel, "mlops-log-state")).to_have_text(
        "The log of the run before the last restart."
    )
    expect(by_test_id(panel, "mlops-log-follow")).to_be_disabled()
    by_test_id(panel, "mlops-log-previous").uncheck()
    expect(lines).to_have_text(["1loading a smaller model"])


def test_the_container_picker_shows_each_container_log(page: Page, team: Namespace) -> None:
    name = unique("two-containers")
    append_log(team, name, "trainer", "epoch 1 loss 0.9")
    append_log(team, name, "metrics", "exporting on :9100")
    team.apply(pod(name, containers=("trainer", "metrics")))
    open_cluster(page)
    expect(row(page, name).locator('td[data-column="ready"]')).to_have_text("2/2")
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-logs").click()
    picker = by_test_id(panel, "mlops-log-container")
    expect(picker.locator("option")).to_have_text(["trainer", "metrics"])
    lines = by_test_id(panel, "mlops-log-line")
    expect(lines).to_have_text(["1epoch 1 loss 0.9"])
    picker.select_option("metrics")
    expect(lines).to_have_text(["1exporting on :9100"])
    with page.expect_download() as download:
        by_test_id(panel, "mlops-log-download").click()
    assert download.value.suggested_filename == f"{name}-metrics.log"
