"""The Cluster section against the Kubernetes emulator: live tables, describe, logs, actions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from jupyter_mlops.testing.kube import KubeEmulator, Rule

from .conftest import CLUSTER_NAMESPACE, Lab, OpenPage, running_lab

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
PLUGIN_ID = "jupyter-mlops:plugin"
_names = itertools.count()


def unique(prefix: str) -> str:
    """A pod name no other test of this module uses (they share one emulator)."""
    return f"{prefix}-{next(_names)}"


def pod(name: str, *, cpu: str | None = None, containers: tuple[str, ...] = ("main",)) -> Any:
    spec: dict[str, Any] = {
        "containers": [{"name": c, "image": "python:3.11-slim"} for c in containers]
    }
    if cpu is not None:
        spec["containers"][0]["resources"] = {"requests": {"cpu": cpu}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE, "labels": {"app": name}},
        "spec": spec,
    }


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


def test_a_new_pod_appears_and_its_phase_change_shows(page: Page, kube: KubeEmulator) -> None:
    open_cluster(page)
    name = unique("trainer")
    kube.create(pod(name))
    expect(row(page, name)).to_have_count(1)
    status = row(page, name).locator('[data-testid="mlops-status"]')
    expect(status).to_have_text("Running")
    expect(status).to_have_attribute("data-health", "ok")
    expect(row(page, name).locator('td[data-column="ready"]')).to_have_text("1/1")
    expect(row(page, name).locator('td[data-column="node"]')).to_have_text("emulated-node")

    kube.finish_pod(CLUSTER_NAMESPACE, name, exit_code=1)
    expect(status).to_have_text("Error")  # as kubectl prints a pod whose container failed
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
    expect(by_test_id(page, "mlops-count-pods")).to_have_text(
        str(len(kube.objects("v1", "Pod", CLUSTER_NAMESPACE)))
    )


def test_the_filter_narrows_the_table(page: Page, kube: KubeEmulator) -> None:
    wanted, other = unique("filter-me"), unique("filter-not")
    kube.create(pod(wanted))
    kube.create(pod(other))
    open_cluster(page)
    expect(row(page, other)).to_have_count(1)
    by_test_id(page, "mlops-filter").fill(wanted)
    expect(by_test_id(page, "mlops-row")).to_have_count(1)
    expect(row(page, wanted)).to_have_count(1)
    by_test_id(page, "mlops-filter").fill("no-such-pod")
    expect(by_test_id(page, "mlops-table-empty")).to_contain_text('No pods match "no-such-pod"')


def test_another_namespace_can_be_typed(page: Page, kube: KubeEmulator) -> None:
    namespace = unique("team-b")
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    elsewhere = pod(unique("elsewhere"))
    elsewhere["metadata"]["namespace"] = namespace
    kube.create(elsewhere)
    here = unique("here")
    kube.create(pod(here))
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


def test_logs_follow_search_and_download(page: Page, kube: KubeEmulator) -> None:
    name = unique("logger")
    kube.create(pod(name))
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["epoch 1 loss 0.91", "epoch 2 loss 0.52"])
    open_cluster(page)
    expect(row(page, name).locator('[data-testid="mlops-status"]')).to_have_text("Running")
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-logs").click()
    lines = by_test_id(panel, "mlops-log-line")
    expect(lines).to_have_text(["1epoch 1 loss 0.91", "2epoch 2 loss 0.52"])
    expect(by_test_id(panel, "mlops-log-state")).to_contain_text("Following")

    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["epoch 3 loss 0.27"])
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
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["epoch 4 loss 0.11"])
    by_test_id(panel, "mlops-log-follow").check()
    expect(lines).to_have_count(4)


def append_steps(kube: KubeEmulator, pod_name: str, first: int, last: int) -> None:
    lines = [f"step {i} loss {1 / (i + 1):.6f}" for i in range(first, last)]
    kube.append_log(CLUSTER_NAMESPACE, pod_name, "main", lines)


def test_long_logs_draw_only_what_is_in_view_and_keep_the_newest_lines(
    page: Page, kube: KubeEmulator
) -> None:
    name = unique("chatty")
    kube.create(pod(name))
    open_cluster(page)
    panel = open_object(page, name)
    by_test_id(panel, "mlops-object-tab-logs").click()
    viewer = by_test_id(panel, "mlops-log-lines")
    # A first line shown means the server follows the log: later lines all come through.
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["training started"])
    expect(viewer).to_have_attribute("data-total", "1")
    # Chunks that fit the server's buffer, each awaited, so that no line is skipped.
    chunk = 20_000
    for start in range(0, 100_000, chunk):
        append_steps(kube, name, start, start + chunk)
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
        append_steps(kube, name, start, end)
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


def test_delete_asks_first_and_the_deployment_makes_a_new_pod(
    page: Page, kube: KubeEmulator
) -> None:
    name = unique("web")
    kube.create(deployment(name))
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
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE},
        "spec": {
            "backoffLimit": 3,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "python:3.11-slim"}],
                }
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


def test_the_delete_dialog_says_a_bare_pod_is_gone_for_good(page: Page, kube: KubeEmulator) -> None:
    name = unique("bare")
    kube.create(pod(name))
    open_cluster(page)
    expect(row(page, name)).to_have_count(1)
    words, fate = delete_dialog_says(page, name)
    assert fate == "gone"
    assert "Nothing owns it, so no new pod replaces it: it is gone for good." in words


def test_the_delete_dialog_says_what_a_job_does_for_a_finished_and_a_running_pod(
    page: Page, kube: KubeEmulator
) -> None:
    name = unique("train-job")
    kube.create(job(name))
    open_cluster(page)
    pods = pod_rows(page, f"{name}-")
    expect(pods).to_have_count(1)
    failed = pods.get_attribute("data-name")
    assert failed is not None
    # The first try fails; the Job has made its next pod, which is running.
    kube.finish_pod(CLUSTER_NAMESPACE, failed, 1)
    expect(pods).to_have_count(2)
    running = next(n for n in pods.evaluate_all("rs => rs.map(r => r.dataset.name)") if n != failed)
    expect(row(page, running).locator('[data-testid="mlops-status"]')).to_have_text("Running")

    words, fate = delete_dialog_says(page, failed)
    assert fate == "gone"
    assert f"It has failed already, and its Job {name} does not run a finished pod again" in words
    words, fate = delete_dialog_says(page, running)
    assert fate == "replaced"
    assert f"Its Job {name} still needs 1 successful pod, so it makes a new pod" in words


def test_the_warnings_badge_opens_only_the_warning_events(page: Page, kube: KubeEmulator) -> None:
    kube.create(pod(unique("too-big"), cpu="64"))
    kube.create(pod(unique("fits")))
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


def test_scale_a_deployment_after_confirming(page: Page, kube: KubeEmulator) -> None:
    name = unique("api")
    kube.create(deployment(name))
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


def test_a_pending_pod_says_why_in_describe(page: Page, kube: KubeEmulator) -> None:
    name = unique("greedy")
    kube.create(pod(name, cpu="64"))
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

    warnings = [
        e for e in kube.objects("v1", "Event", CLUSTER_NAMESPACE) if e.get("type") == "Warning"
    ]
    expect(by_test_id(page, "mlops-warnings")).to_have_attribute("data-count", str(len(warnings)))
    by_test_id(page, "mlops-warnings").click()
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-kind", "events")
    expect(by_test_id(page, "mlops-table").get_by_text(f"pod/{name}").first).to_be_visible()


def test_yaml_tab_shows_the_object(page: Page, kube: KubeEmulator) -> None:
    name = unique("yaml")
    kube.create(pod(name))
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
    open_page: OpenPage, cluster_lab: Lab, kube: KubeEmulator
) -> None:
    name = unique("kept")
    kube.create(deployment(name))
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


def test_the_table_survives_an_api_server_restart(page: Page, kube: KubeEmulator) -> None:
    prefix = unique("survivor")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        kube.create(pod(name))
    open_cluster(page)
    rows = pod_rows(page, f"{prefix}-")
    expect(rows).to_have_count(3)

    kube.stop()
    try:
        expect(by_test_id(page, "mlops-reconnecting")).to_be_visible()
        # While the API server is down the cluster changes: one pod goes, one comes.
        kube.delete("v1", "Pod", names[0], CLUSTER_NAMESPACE)
        kube.create(pod(f"{prefix}-new"))
        # The rows known stay on screen meanwhile, and the table still answers the user.
        expect(rows).to_have_count(3)
        by_test_id(page, "mlops-filter").fill(names[1])
        expect(rows).to_have_count(1)
        by_test_id(page, "mlops-filter").fill("")
        expect(rows).to_have_count(3)
    finally:
        kube.restart()
    expect(by_test_id(page, "mlops-reconnecting")).to_have_count(0, timeout=30_000)
    expected = sorted([*names[1:], f"{prefix}-new"])
    expect(rows).to_have_count(3)
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.name)")) == expected
    uids = by_test_id(page, "mlops-row").evaluate_all("rs => rs.map(r => r.dataset.uid)")
    assert len(uids) == len(set(uids))
    stored = {p["metadata"]["uid"] for p in kube.objects("v1", "Pod", CLUSTER_NAMESPACE)}
    assert set(uids) == stored


def test_a_broken_websocket_reconnects_and_resubscribes(
    open_page: OpenPage, cluster_lab: Lab, kube: KubeEmulator
) -> None:
    with open_page(cluster_lab, "broken-websocket") as page:
        break_the_websocket(page, kube)


def break_the_websocket(page: Page, kube: KubeEmulator) -> None:
    connections: list[Any] = []

    def relay(socket: Any) -> None:
        socket.connect_to_server()
        connections.append(socket)

    # Every connection of the page passes through here, so the test can cut one.
    page.route_web_socket("**/mlops/api/ws*", relay)
    open_cluster(page)
    assert len(connections) == 1
    before = unique("before")
    kube.create(pod(before))
    expect(row(page, before)).to_have_count(1)

    connections[0].close()
    during = unique("during")
    kube.create(pod(during))
    kube.delete("v1", "Pod", before, CLUSTER_NAMESPACE)
    expect(row(page, during)).to_have_count(1)
    expect(row(page, before)).to_have_count(0)
    assert len(connections) == 2
    uids = by_test_id(page, "mlops-row").evaluate_all("rs => rs.map(r => r.dataset.uid)")
    stored = {p["metadata"]["uid"] for p in kube.objects("v1", "Pod", CLUSTER_NAMESPACE)}
    assert sorted(uids) == sorted(stored)


@pytest.fixture(scope="module")
def viewer_lab(tmp_path_factory: pytest.TempPathFactory, kube: KubeEmulator) -> Iterator[Lab]:
    """JupyterLab acting as a user who may only read pods, their logs and events."""
    kube.add_token(
        "viewer-token",
        f"system:serviceaccount:{CLUSTER_NAMESPACE}:viewer",
        [Rule(("get", "list", "watch"), ("pods", "pods/log", "events"))],
        namespaces=[CLUSTER_NAMESPACE],
    )
    base = tmp_path_factory.mktemp("lab-viewer")
    kubeconfig = kube.write_kubeconfig(
        base / "kubeconfig", token="viewer-token", namespace=CLUSTER_NAMESPACE
    )
    with running_lab(base, env={"KUBECONFIG": str(kubeconfig)}) as server:
        yield server


def test_refusals_by_the_cluster_are_said_in_words(
    open_page: OpenPage, viewer_lab: Lab, kube: KubeEmulator
) -> None:
    name = unique("guarded")
    kube.create(pod(name))
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


def test_screenshots_of_the_cluster_section_and_the_log_viewer(
    page: Page, kube: KubeEmulator
) -> None:
    namespace = "ml-team"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    pods = {
        "train-resnet": None,
        "preprocess-data": 0,
        "tune-learning-rate": 1,
        "evaluate-model": None,
        "big-model": None,
    }
    for name in pods:
        spec = pod(name, cpu="64" if name == "big-model" else "500m")
        spec["metadata"]["namespace"] = namespace
        kube.create(spec)
    kube.append_log(namespace, "train-resnet", "main", training_log(20))
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
    for name, exit_code in pods.items():
        if exit_code is not None:
            kube.finish_pod(namespace, name, exit_code)
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


def test_custom_resources_have_their_own_table(page: Page, kube: KubeEmulator) -> None:
    name = unique("notebook")
    kube.create(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": "jupyter"}]}}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "readyReplicas": 1},
        }
    )
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


def test_show_pod_logs_from_the_command_palette(page: Page, kube: KubeEmulator) -> None:
    name = unique("palette")
    kube.create(pod(name))
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["ready to serve"])
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


def test_a_restarted_container_shows_its_last_end_and_previous_log(
    page: Page, kube: KubeEmulator
) -> None:
    name = unique("crashy")
    kube.create(pod(name))
    open_cluster(page)
    expect(row(page, name).locator('[data-testid="mlops-status"]')).to_have_text("Running")
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["loading model", "CUDA out of memory"])
    kube.restart_container(CLUSTER_NAMESPACE, name, "main", exit_code=137)
    kube.append_log(CLUSTER_NAMESPACE, name, "main", ["loading a smaller model"])
    expect(row(page, name).locator('td[data-column="restarts"]')).to_have_text("1")

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


def test_the_container_picker_shows_each_container_log(page: Page, kube: KubeEmulator) -> None:
    name = unique("two-containers")
    kube.create(pod(name, containers=("trainer", "metrics")))
    kube.append_log(CLUSTER_NAMESPACE, name, "trainer", ["epoch 1 loss 0.9"])
    kube.append_log(CLUSTER_NAMESPACE, name, "metrics", ["exporting on :9100"])
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
