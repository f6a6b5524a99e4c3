"""The Doctor follows the namespace over the tab's WebSocket, against the real control plane:
a pod that starts crash-looping (kwok plays it as the kubelet reports it) shows as a finding,
and the sidebar tab's badge counts it, without a reload and without a request of the view; a
pod the real scheduler cannot place counts while the sidebar is hidden, and a deleted pod's
finding goes."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, expect

from tests.plane import Namespace

from .conftest import CLUSTER_NAMESPACE, SIDEBAR_TAB, Lab, OpenPage
from .test_doctor import by_test_id, crash_looping_pod, finding, greedy_pod, open_doctor

FILE_BROWSER_TAB = '.jp-SideBar li[data-id="filebrowser"]'


def doctor_reads(page: Page) -> list[str]:
    """The REST reads of the doctor this page makes from now on."""
    reads: list[str] = []

    def seen(request: Request) -> None:
        if "/mlops/api/kube/doctor" in request.url:
            reads.append(request.url)

    page.on("request", seen)
    return reads


def test_findings_and_the_badge_follow_the_cluster_live(
    open_page: OpenPage, cluster_lab: Lab, cluster_namespace: Namespace
) -> None:
    team = cluster_namespace
    team.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "healthy", "namespace": CLUSTER_NAMESPACE},
            "spec": {"containers": [{"name": "main", "image": "python:3.11-slim"}]},
        }
    )
    with open_page(cluster_lab, "doctor-live") as page:
        reads = doctor_reads(page)
        section = open_doctor(page)
        count = by_test_id(section, "mlops-doctor-errors")
        expect(count).to_have_text("no errors")
        expect(section).to_have_attribute("data-live", "true")
        tab = page.locator(SIDEBAR_TAB)
        expect(tab).not_to_have_attribute("data-mlops-errors", re.compile(".*"))

        # The pod starts crash-looping: its finding and the badge come unasked. (Its name is
        # not test_doctor's: the plane keeps serving a pod name's logs only in the namespace
        # it first served them in, and team-a is made again for each module.)
        crash_looping_pod(team, "live-trainer")
        trainer = finding(page, "Pod", "live-trainer")
        expect(trainer).to_have_count(1, timeout=60_000)
        expect(trainer).to_have_attribute("data-severity", "error")
        expect(by_test_id(trainer, "mlops-finding-summary")).to_contain_text(
            "Python cannot import 'torch'"
        )
        expect(count).to_have_text("1 error")
        expect(tab).to_have_attribute("data-mlops-errors", "1")
        expect(tab).to_have_attribute("title", "MLOps: 1 error found by the Doctor")

        # Hidden, the sidebar's badge still follows: a pod no node can take counts too.
        page.click(FILE_BROWSER_TAB)
        expect(page.locator("#jupyter-mlops-sidebar")).to_be_hidden()
        team.apply(greedy_pod("greedy", CLUSTER_NAMESPACE))
        expect(tab).to_have_attribute("data-mlops-errors", "2", timeout=60_000)

        page.click(SIDEBAR_TAB)
        expect(finding(page, "Pod", "greedy")).to_have_count(1)
        team.kubectl("delete", "pod", "live-trainer", "--wait=false", "--grace-period=0", "--force")
        expect(trainer).to_have_count(0, timeout=60_000)
        expect(count).to_have_text("1 error")
        expect(tab).to_have_attribute("data-mlops-errors", "1")
        # All of it came over the WebSocket: the view never read the REST route.
        assert reads == []
