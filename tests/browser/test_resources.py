"""The Resources view in a real JupyterLab, as a Kubeflow profile's editor on the real control
plane: the cluster admin's ResourceQuota counted by the real quota admission, the editor's pods
with requests (run by kwok), their use served by the metrics.k8s.io double, and a
ReadWriteOnce claim mounted by pods on two nodes. Everything is checked against kubectl's own
answer, at the default sidebar width."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Request, expect

from jupyter_mlops.testing.kubeflow_plane import EDITOR
from jupyter_mlops.testing.metrics_api import serve_metrics, write_pod_metrics
from tests.plane import ProfileNamespace, wait_for
from tests.resources.conftest import pod, sized

from .conftest import SIDEBAR, Lab, OpenPage, across, box, by_test_id, open_section

pytestmark = pytest.mark.browser

Obj = dict[str, Any]
QUOTA: Obj = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "team"},
    "spec": {"hard": {"requests.cpu": "2", "requests.memory": "2Gi", "pods": "10"}},
}
# Reading metrics.k8s.io is not part of Kubeflow's editor role: the admin grants it.
METRICS_READER: list[Obj] = [
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "metrics-reader"},
        "rules": [
            {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]}
        ],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "metrics-reader"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "metrics-reader",
        },
        "subjects": [{"kind": "ServiceAccount", "name": EDITOR}],
    },
]
#: Each pod's requests (cpu, memory) and the use the metrics double says it has; the order by
#: request differs from the order by use.
PODS = {
    "prep": (("700m", "256Mi"), {"cpu": "50m", "memory": "100Mi"}),
    "train": (("200m", "128Mi"), {"cpu": "600m", "memory": "300Mi"}),
    "w1": (("50m", "64Mi"), {"cpu": "10m", "memory": "20Mi"}),
    "w2": (("60m", "64Mi"), {"cpu": "300m", "memory": "40Mi"}),
}
MOUNTS = {"w1": "cpu-1", "w2": "cpu-2"}


def claim(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }


def workload() -> list[Obj]:
    """The editor's pods; w1 and w2 mount the claim `shared` on two different nodes."""
    made = []
    for name, ((cpu, memory), _use) in PODS.items():
        spec = pod(name, sized(cpu, memory))
        if name in MOUNTS:
            spec["spec"]["nodeName"] = MOUNTS[name]
            spec["spec"]["volumes"] = [
                {"name": "data", "persistentVolumeClaim": {"claimName": "shared"}}
            ]
            spec["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
        made.append(spec)
    return made


def described_quota(profile: ProfileNamespace) -> dict[str, tuple[str, str]]:
    """`kubectl describe quota team`'s table: resource → (used, hard)."""
    text = profile.admin.kubectl("describe", "quota", "team").stdout
    rows = re.findall(r"^(\S+)\s+(\S+)\s+(\S+)$", text.split("--------", 1)[1], re.M)
    return {resource: (used, hard) for resource, used, hard in rows if resource != "--------"}


def kubectl_top(profile: ProfileNamespace) -> dict[str, tuple[str, str]]:
    """`kubectl top pod` as the editor: pod → (CPU, memory)."""
    done = profile.kubectl("top", "pod", "--no-headers", check=False)
    if done.returncode != 0:
        return {}
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()]
    return {row[0]: (row[1], row[2]) for row in rows}


def every_pod(rows: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]] | None:
    return rows if set(rows) == set(PODS) else None


def requested_cpu(profile: ProfileNamespace) -> dict[str, str]:
    """Each pod's CPU request as the API server stored it."""
    pods = profile.get("pods")["items"]
    return {
        p["metadata"]["name"]: p["spec"]["containers"][0]["resources"]["requests"]["cpu"]
        for p in pods
    }


def millicores(text: str) -> float:
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000


def test_the_resources_view_shows_quota_pods_by_request_and_use_and_shared_volumes(
    open_page: OpenPage, profile_lab: Lab, profile: ProfileNamespace
) -> None:
    serve_metrics(profile.plane)
    profile.admin.apply(QUOTA, *METRICS_READER)
    profile.apply(claim("shared"), *workload())
    for name, (_asked, use) in PODS.items():
        write_pod_metrics(profile.plane, profile.name, name, {"c0": use})
    wait_for(
        "the quota to count every pod",
        lambda: described_quota(profile).get("pods", ("",))[0] == str(len(PODS)),
        timeout=60,
    )
    top_rows = wait_for(
        "kubectl top to see every pod",
        lambda: every_pod(kubectl_top(profile)),
    )
    asked = requested_cpu(profile)

    with open_page(profile_lab, "resources-story") as page:
        called: list[str] = []

        def note(request: Request) -> None:
            if "/mlops/api/resources" in request.url:
                called.append(request.url)

        page.on("request", note)
        section = open_section(page, "resources")
        toggle = by_test_id(section, "mlops-resources-toggle")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        # Closed, the view reads nothing, however many refreshes of the sidebar pass.
        expect(section).to_be_visible()
        page.wait_for_timeout(4500)
        assert called == []
        toggle.click()

        # Quota bars: the figures the real admission counted, as kubectl describes them.
        described = described_quota(profile)
        lines = by_test_id(section, "mlops-quota-line")
        expect(lines).to_have_count(len(described))
        for resource, (used, hard) in described.items():
            line = section.locator(f'[data-testid="mlops-quota-line"][data-resource="{resource}"]')
            expect(by_test_id(line, "mlops-quota-words")).to_have_text(f"{used} / {hard}")
            expect(line.locator('[role="meter"]')).to_be_visible()

        # Pods: by CPU request (the default, largest first), then by CPU use both ways.
        rows = by_test_id(section, "mlops-pod-row")
        expect(rows).to_have_count(len(PODS))
        by_request = sorted(asked, key=lambda n: (-millicores(asked[n]), n))
        assert_order(rows, by_request)
        for name, (cpu, memory) in top_rows.items():
            cells = section.locator(f'[data-testid="mlops-pod-row"][data-pod="{name}"] td')
            expect(cells.nth(1)).to_have_text(cpu)
            expect(cells.nth(3)).to_have_text(memory)
        by_test_id(section, "mlops-pods-sort-use-cpu").click()
        by_use = sorted(top_rows, key=lambda n: (-millicores(top_rows[n][0]), n))
        assert by_use != by_request
        assert_order(rows, by_use)
        by_test_id(section, "mlops-pods-sort-use-cpu").click()
        assert_order(rows, list(reversed(by_use)))
        by_test_id(section, "mlops-pods-sort-request-cpu").click()
        assert_order(rows, by_request)

        # GPUs: the editor cannot read nodes, and the view says so.
        expect(by_test_id(section, "mlops-gpus-note")).to_contain_text("not readable")

        # Volumes: the claim, the two pods kubectl says use it, and the ReadWriteOnce warning.
        volume = section.locator('[data-testid="mlops-volume"][data-claim="shared"]')
        expect(volume).to_contain_text("2Gi")
        expect(volume).to_contain_text("ReadWriteOnce")
        used_by = profile.kubectl("describe", "pvc", "shared").stdout
        for name, node in MOUNTS.items():
            assert re.search(rf"Used By:.*\b{name}\b", used_by, re.S), used_by
            expect(volume.locator(f'[data-pod="{name}"]')).to_have_text(f"{name} on {node}")
        warning = by_test_id(volume, "mlops-volume-warning")
        expect(warning).to_contain_text("ReadWriteOnce")
        expect(warning).to_contain_text("cpu-1")
        expect(warning).to_contain_text("cpu-2")

        # My notebook: this lab's own use from its cgroup, with a gauge for each resource.
        mine = by_test_id(section, "mlops-resources-me")
        expect(by_test_id(mine, "mlops-gauge-cpu-words")).to_contain_text("used")
        expect(by_test_id(mine, "mlops-gauge-memory-words")).to_contain_text("used")

        # At the default width nothing needs sideways scrolling.
        sidebar = box(page.locator(SIDEBAR))
        assert section.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
        for part in ("me", "quotas", "pods", "gpus", "volumes"):
            shown = by_test_id(section, f"mlops-resources-{part}")
            shown.scroll_into_view_if_needed()
            assert shown.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), part
            assert across(shown, sidebar), part
        # No figure of the pods table is cut short to fit.
        figures = section.locator('[data-testid="mlops-pod-row"] td:not(:first-child)')
        assert figures.evaluate_all(
            "cells => cells.every(c => c.scrollWidth <= c.clientWidth + 1)"
        ), figures.all_inner_texts()
        assert called, "the opened view read nothing"


def assert_order(rows: Locator, names: list[str]) -> None:
    """The table's rows are the pods `names`, in that order."""
    for index, name in enumerate(names):
        expect(rows.nth(index)).to_have_attribute("data-pod", name)
