"""The Cluster section against the Kubernetes emulator: live tables, describe, logs, actions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import CLUSTER_NAMESPACE, Lab, OpenPage

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
    return page.locator(f'[data-testid="mlops-table"] [data-testid="mlops-row"][data-name="{name}"]')


def pod_rows(page: Page, prefix: str) -> Locator:
    return page.locator(
        f'[data-testid="mlops-table"] [data-testid="mlops-row"][data-name^="{prefix}"]'
    )


def open_cluster(page: Page) -> None:
    """Open the sidebar and wait for the pods table to be live."""
    page.click(SIDEBAR_TAB)
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-kind", "pods")
    expect(by_test_id(page, "mlops-table")).to_have_attribute("data-state", "live")


def open_object(page: Page, name: str) -> Locator:
    """Click a row and return the main-area panel it opens."""
    row(page, name).click()
    panel = page.locator(f'.jp-mlops-object-panel:has([data-testid="mlops-object-name"]:text-is("{name}"))')
    expect(panel).to_be_visible()
    return panel


@pytest.fixture
def page(open_page: OpenPage, cluster_lab: Lab, request: pytest.FixtureRequest) -> Iterator[Page]:
    with open_page(cluster_lab, request.node.name) as page:
        yield page


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
    expect(status).to_have_text("Failed")
    expect(status).to_have_attribute("data-health", "error")
    page.screenshot(path="/tmp/cluster-debug.png")
