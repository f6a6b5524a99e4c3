"""The Cluster section at JupyterLab's default sidebar width (250 px) and wider: what must show.

The pods run on the real control plane, played by kwok; the real scheduler leaves the greedy
one Pending, with its Warning event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jupyter_mlops.testing.control_plane import CRASH_LOOP, SUCCEED, lifecycle
from tests.plane import Namespace

from .conftest import (
    CLUSTER_NAMESPACE,
    DEFAULT_WIDTH,
    SIDEBAR,
    SIDEBAR_TAB,
    Lab,
    OpenPage,
    box,
    by_test_id,
)

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WIDE = 600
# Long names, as Kubeflow makes them: they must be cut, never push the status out.
PODS = {
    "train-resnet50-imagenet-shard-0-7f9c4d": None,
    "preprocess-imagenet-tfrecords-2x8kq": 0,
    "tune-learning-rate-trial-0042-worker-0": 1,
    "serve-resnet-predictor-00001-deployment-5d": "64",
}
PODS_COLUMNS = ["name", "ready", "status", "restarts", "age", "node"]


def pod(name: str, end: int | str | None) -> Any:
    """A pod that runs on (`None`), exits with the code `end` soon, or asks for `end` CPUs."""
    cpu = end if isinstance(end, str) else "500m"
    meta: dict[str, Any] = {}
    if end == 0:
        meta = lifecycle(SUCCEED, run_for="1s")
    elif isinstance(end, int):
        meta = lifecycle(CRASH_LOOP, run_for="1s", exit_code=end)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": CLUSTER_NAMESPACE, **meta},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "main", "image": "python:3.11", "resources": {"requests": {"cpu": cpu}}}
            ],
        },
    }


@pytest.fixture(scope="module")
def seeded(cluster_namespace: Namespace) -> Namespace:
    """Pods that run, finish, fail and wait for a node (which gives a Warning event), and a
    custom resource, so that the custom kinds picker shows."""
    cluster_namespace.apply(*(pod(name, end) for name, end in PODS.items()))
    cluster_namespace.apply(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "workbench", "namespace": CLUSTER_NAMESPACE},
            "spec": {"template": {"spec": {"containers": [{"name": "nb", "image": "jupyter"}]}}},
        }
    )
    return cluster_namespace


@pytest.fixture
def page(
    open_page: OpenPage, cluster_lab: Lab, seeded: Namespace, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A workspace of the test's own, so the sidebar has JupyterLab's default width, open on
    the pods."""
    with open_page(cluster_lab, request.node.name) as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click(SIDEBAR_TAB)
        table = by_test_id(page, "mlops-table")
        expect(table).to_have_attribute("data-state", "live")
        expect(by_test_id(page, "mlops-row")).to_have_count(len(PODS))
        # Each pod has reached the state it stays in.
        for name, word in zip(PODS, ("Running", "Completed", "Error", "Pending"), strict=True):
            status = page.locator(f'[data-name="{name}"] [data-testid="mlops-status"]')
            expect(status).to_have_text(word, timeout=30_000)
        expect(by_test_id(page, "mlops-warnings")).not_to_have_attribute("data-count", "0")
        yield page


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def set_sidebar_width(page: Page, width: int) -> None:
    """Drag the split handle until the left panel is `width` pixels wide, as a user would."""
    panel = page.locator(SIDEBAR)
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    for _ in range(3):
        now = box(panel)
        if abs(now["width"] - width) <= 1:
            return
        grip = box(handle)
        y = grip["y"] + grip["height"] / 2
        page.mouse.move(grip["x"] + grip["width"] / 2, y)
        page.mouse.down()
        page.mouse.move(grip["x"] + grip["width"] / 2 + width - now["width"], y, steps=5)
        page.mouse.up()
    assert abs(box(panel)["width"] - width) <= 1, box(panel)


def assert_name_and_status_show(page: Page) -> None:
    """Every pod's name and status are on screen inside the sidebar; the status is never cut,
    and the name carries its whole text as a tooltip."""
    panel = box(page.locator(SIDEBAR))
    for name in PODS:
        row = page.locator(f'[data-testid="mlops-row"][data-name="{name}"]')
        name_cell = row.locator('td[data-column="name"]')
        status = row.locator('[data-testid="mlops-status"]')
        expect(name_cell).to_be_visible()
        expect(status).to_be_visible()
        # Sections above (the Doctor's findings) may push a row below the fold: scroll to it,
        # as a user would; what is checked is that it fits across.
        name_cell.scroll_into_view_if_needed()
        assert inside(box(name_cell), panel), name
        assert inside(box(status), panel), name
        assert status.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), name
        expect(name_cell).to_have_attribute("title", name)
        assert name_cell.evaluate("e => e.offsetWidth") >= 40


def assert_namespace_field_is_free(page: Page) -> None:
    field = by_test_id(page, "mlops-namespace-input")
    badge = by_test_id(page, "mlops-warnings")
    assert not overlap(box(field), box(badge))
    # The field is what a click at its middle reaches.
    assert field.evaluate(
        """e => {
            const r = e.getBoundingClientRect();
            return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === e;
        }"""
    )
    assert inside(box(field), box(page.locator(SIDEBAR)))
    assert inside(box(badge), box(page.locator(SIDEBAR)))


def assert_picker_inside_its_card(page: Page) -> None:
    card = box(by_test_id(page, "mlops-section-cluster"))
    picker = by_test_id(page, "mlops-custom-kind")
    expect(picker).to_be_visible()
    assert inside(box(picker), card)
    for tab in by_test_id(page, "mlops-cluster").locator(".jp-mlops-tab").all():
        assert inside(box(tab), card)


def assert_events_show_their_message(page: Page, share: float) -> None:
    """The warnings badge opens the Warning events; each shows its whole message, readable,
    on at least `share` of the table's width."""
    by_test_id(page, "mlops-warnings").click()
    table = by_test_id(page, "mlops-table")
    expect(table).to_have_attribute("data-kind", "events")
    expect(table).to_have_attribute("data-only-warnings", "true")
    rows = by_test_id(page, "mlops-row")
    expect(rows.first).to_be_visible()
    panel = box(page.locator(SIDEBAR))
    width = box(table)["width"]
    for row in rows.all():
        message = row.locator('td[data-column="message"]')
        expect(message).to_be_visible()
        text = message.inner_text()
        assert text.strip(), "an event without its message"
        # The real scheduler's message takes a few lines: the row may be below the fold.
        message.scroll_into_view_if_needed()
        assert inside(box(message), panel)
        # The message has room, so a row is a few lines, not a tall narrow column.
        assert box(message)["width"] >= share * width
        assert box(row)["height"] < 120
        assert message.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def test_at_the_default_width_name_status_namespace_picker_and_events_fit(
    page: Page, seeded: Namespace
) -> None:
    assert abs(box(page.locator(SIDEBAR))["width"] - DEFAULT_WIDTH) <= 1
    assert_name_and_status_show(page)
    headers = by_test_id(page, "mlops-table").locator("th")
    visible = [h.get_attribute("data-column") for h in headers.all() if h.is_visible()]
    assert visible == ["name", "status"]
    # A hidden column's value is still in the row's tooltip.
    row = page.locator(f'[data-testid="mlops-row"][data-name="{next(iter(PODS))}"]')
    title = row.get_attribute("title") or ""
    node = seeded.get("pod", next(iter(PODS)))["spec"]["nodeName"]
    assert "Ready: 1/1" in title and f"Node: {node}" in title
    assert_namespace_field_is_free(page)
    assert_picker_inside_its_card(page)
    page.mouse.move(1200, 880)
    IMAGES.mkdir(parents=True, exist_ok=True)
    by_test_id(page, "mlops-section-cluster").screenshot(path=IMAGES / "cluster-250px.png")
    # Narrow, the message has a line of its own under the reason.
    assert_events_show_their_message(page, 0.9)
    page.mouse.move(1200, 880)
    by_test_id(page, "mlops-section-cluster").screenshot(path=IMAGES / "cluster-events-250px.png")


def test_a_wider_sidebar_shows_every_column_and_events_as_a_table(page: Page) -> None:
    set_sidebar_width(page, WIDE)
    assert_name_and_status_show(page)
    table = by_test_id(page, "mlops-table")
    panel = box(page.locator(SIDEBAR))
    for column in PODS_COLUMNS:
        header = table.locator(f'th[data-column="{column}"]')
        expect(header).to_be_visible()
        assert inside(box(header), panel), column
    assert_namespace_field_is_free(page)
    assert_picker_inside_its_card(page)
    page.mouse.move(1200, 880)
    IMAGES.mkdir(parents=True, exist_ok=True)
    by_test_id(page, "mlops-section-cluster").screenshot(path=IMAGES / "cluster-600px.png")
    assert_events_show_their_message(page, 0.35)
    # Wide, events are a table again, with a header over each column.
    expect(table.locator('th[data-column="message"]')).to_be_visible()
