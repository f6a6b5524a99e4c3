"""The Doctor in the sidebar and in the object panel, against the real control plane: the
real scheduler leaves a greedy pod Pending, and kwok plays a crash loop as the kubelet
reports it, with the crashed run's log served as the previous log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from jupyter_mlops.testing.control_plane import CRASH_LOOP, lifecycle
from tests.plane import Namespace

from .conftest import CLUSTER_NAMESPACE, SIDEBAR_TAB, Lab, OpenPage, by_test_id, named_namespace

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MISSING_MODULE = "ModuleNotFoundError: No module named 'torch'"
TRAIN_LOG = [
    "Traceback (most recent call last):",
    '  File "/app/train.py", line 2, in <module>',
    "    import torch",
    MISSING_MODULE,
]


def greedy_pod(name: str, namespace: str) -> Any:
    """A pod asking for more CPU than any node has: the scheduler leaves it Pending."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "python:3.11-slim",
                    "resources": {"requests": {"cpu": "64"}},
                }
            ]
        },
    }


def crash_looping_pod(ns: Namespace, name: str) -> None:
    """A pod whose container exits 1 at import and is restarted after a back-off, again and
    again, with the log of the run that crashed as its previous log."""
    ns.plane.append_log(ns.name, name, "main", *TRAIN_LOG, previous=True)
    ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns.name,
                **lifecycle(CRASH_LOOP, run_for="300ms", back_off="10s"),
            },
            "spec": {"containers": [{"name": "main", "image": "python:3.11-slim"}]},
        }
    )


def finding(page: Page, kind: str, name: str) -> Locator:
    return page.locator(
        f'[data-testid="mlops-section-doctor"] [data-testid="mlops-finding"]'
        f'[data-object="{kind}/{name}"]'
    )


def open_doctor(page: Page) -> Locator:
    if not page.locator("#jupyter-mlops-sidebar").is_visible():
        page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-doctor")
    expect(section).to_be_visible()
    return section


def route_findings(lab: Lab, namespace: str) -> dict[str, Any]:
    report = lab.get_json(f"mlops/api/kube/doctor?namespace={namespace}")
    return {f["object"]["name"]: f for f in report["findings"]}


def test_the_doctor_shows_what_is_wrong_links_to_the_panel_and_follows_the_cluster(
    open_page: OpenPage, cluster_lab: Lab, cluster_namespace: Namespace
) -> None:
    team = cluster_namespace
    team.apply(greedy_pod("greedy", CLUSTER_NAMESPACE))
    crash_looping_pod(team, "trainer")

    with open_page(cluster_lab, "doctor-story") as page:
        section = open_doctor(page)
        expect(by_test_id(section, "mlops-doctor-errors")).to_have_text("2 errors")
        tab = page.locator(SIDEBAR_TAB)
        expect(tab).to_have_attribute("data-mlops-errors", "2")
        expect(tab).to_have_attribute("title", "MLOps: 2 errors found by the Doctor")

        # Each finding says what the doctor route says: its summary and its fix.
        said = route_findings(cluster_lab, CLUSTER_NAMESPACE)
        greedy, trainer = finding(page, "Pod", "greedy"), finding(page, "Pod", "trainer")
        for shown, name in ((greedy, "greedy"), (trainer, "trainer")):
            expect(shown).to_have_attribute("data-severity", "error")
            expect(by_test_id(shown, "mlops-finding-summary")).to_have_text(said[name]["summary"])
            expect(by_test_id(shown, "mlops-finding-fix")).to_have_text(said[name]["fix"])
        expect(by_test_id(greedy, "mlops-finding-summary")).to_contain_text(
            "No node has enough cpu free for this pod (it requests cpu 64"
        )
        expect(by_test_id(trainer, "mlops-finding-summary")).to_contain_text(
            "Python cannot import 'torch'"
        )

        # The crash loop's evidence quotes the previous container's log.
        by_test_id(trainer, "mlops-finding-evidence-toggle").click()
        log_lines = trainer.locator('[data-testid="mlops-finding-evidence"][data-source="log"]')
        expect(log_lines.last).to_be_visible()
        expect(log_lines.last.locator("blockquote")).to_have_text(MISSING_MODULE)

        # The fix copies as it reads.
        page.context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=cluster_lab.base_url
        )
        by_test_id(trainer, "mlops-finding-copy").click()
        expect(by_test_id(trainer, "mlops-finding-copy")).to_have_attribute("data-copied", "true")
        assert page.evaluate("navigator.clipboard.readText()") == said["trainer"]["fix"]

        # The finding's object opens the pod's panel, whose "What is wrong" is the same finding.
        by_test_id(trainer, "mlops-finding-object").click()
        panel = page.locator(
            '.jp-mlops-object-panel:has([data-testid="mlops-object-name"]:text-is("trainer"))'
        )
        expect(panel).to_be_visible()
        in_panel = by_test_id(panel, "mlops-diagnosis").locator('[data-testid="mlops-finding"]')
        expect(in_panel).to_have_count(1)
        expect(in_panel).to_have_attribute("data-cause", said["trainer"]["cause"])
        expect(by_test_id(in_panel, "mlops-finding-summary")).to_have_text(
            said["trainer"]["summary"]
        )
        expect(by_test_id(in_panel, "mlops-finding-fix")).to_have_text(said["trainer"]["fix"])
        expect(
            in_panel.locator('[data-testid="mlops-finding-evidence"][data-source="log"]').last
        ).to_contain_text(MISSING_MODULE)

        # The greedy pod deleted, its finding goes without a reload.
        team.kubectl("delete", "pod", "greedy", "--wait=false")
        expect(greedy).to_have_count(0)
        expect(by_test_id(section, "mlops-doctor-errors")).to_have_text("1 error")
        expect(tab).to_have_attribute("data-mlops-errors", "1")
        expect(trainer).to_have_count(1)


@pytest.fixture
def ml_team(cluster_namespace: Namespace, tmp_path: Path) -> Iterator[Namespace]:
    """The namespace `ml-team` the picture shows."""
    with named_namespace(cluster_namespace.plane, "ml-team", tmp_path) as ns:
        yield ns


def test_screenshot_of_the_doctor_at_the_default_sidebar_width(
    open_page: OpenPage, cluster_lab: Lab, ml_team: Namespace
) -> None:
    namespace = ml_team.name
    ml_team.apply(greedy_pod("notebook-gpu-big", namespace))
    crash_looping_pod(ml_team, "train-resnet")

    with open_page(cluster_lab, "doctor-screenshot") as page:
        section = open_doctor(page)
        field = by_test_id(page, "mlops-namespace-input")
        field.fill(namespace)
        field.press("Enter")
        expect(by_test_id(section, "mlops-doctor-errors")).to_have_text("2 errors")
        crash = finding(page, "Pod", "train-resnet")
        by_test_id(crash, "mlops-finding-evidence-toggle").click()
        expect(crash.locator('[data-testid="mlops-finding-evidence"]').last).to_be_visible()
        # Tall enough for the whole section: the sidebar keeps its default width.
        page.set_viewport_size({"width": 1280, "height": 1800})
        width = page.locator("#jupyter-mlops-sidebar").bounding_box()
        assert width is not None and width["width"] <= 260
        section.screenshot(path=IMAGES / "doctor.png")
