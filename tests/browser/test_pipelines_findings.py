"""A failed cluster task's finding in the run panel of a real JupyterLab: the notebook of a
Kubeflow profile on the real control plane, Kubeflow Pipelines at the KFP emulator, which makes
each task's pod there as Argo's workflow controller does; kwok's lifecycle Stage plays the
kubelet that ends it. Argo's pod GC, which removes it, is done by the admin in its place."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp
import pytest
from playwright.sync_api import Locator, Page, expect

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import KfpEmulator
from tests import traffic_scan
from tests.kfp_pipelines import compiled, two_steps
from tests.plane import ProfileNamespace, fresh_profile, wait_for

from .conftest import KFP_TOKEN, Lab, OpenPage, _check_built, running_lab

pytestmark = pytest.mark.browser

SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
RUN_LABEL = "pipeline/runid"


@pytest.fixture(scope="module")
def profile(
    kubeflow_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProfileNamespace]:
    with fresh_profile(kubeflow_plane, tmp_path_factory.mktemp("profile")) as ns:
        yield ns


@pytest.fixture(scope="module")
def pipelines(kubeflow_plane: ControlPlane, profile: ProfileNamespace) -> Iterator[KfpEmulator]:
    """Kubeflow Pipelines whose task pods run in the profile's namespace on the plane."""
    with KfpEmulator(
        control_plane=kubeflow_plane,
        token=KFP_TOKEN,
        step_seconds=0.05,
        namespaces=(profile.name,),
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def findings_lab(
    tmp_path_factory: pytest.TempPathFactory, profile: ProfileNamespace, pipelines: KfpEmulator
) -> Iterator[Lab]:
    """JupyterLab as in the profile's notebook pod: the editor's kubeconfig, Pipelines at the
    emulator with its token in a projected file, the namespace from NB_PREFIX."""
    _check_built()
    base = tmp_path_factory.mktemp("lab-findings")
    token = base / "kfp-token"
    token.write_text(KFP_TOKEN)
    # The browser must never see a credential for the cluster.
    traffic_scan.register_secret(profile.token, "Kubernetes token")
    env = {
        "KUBECONFIG": str(profile.kubeconfig),
        "KF_PIPELINES_ENDPOINT": pipelines.url,
        "KF_PIPELINES_SA_TOKEN_PATH": str(token),
        "NB_PREFIX": f"/notebook/{profile.name}/notebook",
    }
    with running_lab(base, env=env) as server:
        yield server


def by_test_id(scope: Page | Locator, test_id: str) -> Locator:
    return scope.locator(f'[data-testid="{test_id}"]')


def failed_run(pipelines: KfpEmulator, profile: ProfileNamespace, package: Path) -> str:
    """A run whose first task fails, once kwok has ended that task's pod."""
    client = kfp.Client(host=pipelines.url, existing_token=KFP_TOKEN, namespace=profile.name)
    run_id: str = client.create_run_from_pipeline_package(str(package), run_name="bad data").run_id
    pipelines.fail_task(run_id, "load-data")
    assert pipelines.wait_for_run_state(run_id, timeout=60) == "FAILED"
    return run_id


def ended_pod(profile: ProfileNamespace, run_id: str) -> Any:
    """The run's task pod once kwok has ended it, as kubectl shows it."""
    return wait_for(
        "the task pod Failed",
        lambda: next(
            (
                p
                for p in profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"]
                if p["status"].get("phase") == "Failed"
            ),
            None,
        ),
        timeout=60,
    )


def open_run(page: Page, run_id: str) -> Locator:
    page.click(SIDEBAR_TAB)
    section = by_test_id(page, "mlops-section-pipelines")
    row = section.locator(f'[data-testid="mlops-run"][data-source="cluster"][data-id="{run_id}"]')
    row.click()
    panel = page.locator(f'[data-testid="mlops-pipeline-run"][data-id="{run_id}"]')
    # The run and its task tree come from the Pipelines API through the server: under a full
    # suite on two cores that can take longer than the default wait.
    expect(by_test_id(panel, "mlops-pipeline-run-status")).to_have_text("failed", timeout=30_000)
    return panel


def test_a_failed_cluster_tasks_finding_then_that_its_pod_is_gone(
    open_page: OpenPage,
    findings_lab: Lab,
    pipelines: KfpEmulator,
    profile: ProfileNamespace,
    tmp_path: Path,
) -> None:
    package = compiled(two_steps, tmp_path)
    run_id = failed_run(pipelines, profile, package)
    pod = ended_pod(profile, run_id)
    name = pod["metadata"]["name"]
    main = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "main")
    code = main["state"]["terminated"]["exitCode"]

    with open_page(findings_lab, "task-findings") as page:
        panel = open_run(page, run_id)
        # The failed task is the one shown first.
        detail = by_test_id(panel, "mlops-pipeline-task-detail")
        expect(detail).to_have_attribute("data-task", "load-data")
        found = by_test_id(detail, "mlops-pipeline-task-findings")
        finding = by_test_id(found, "mlops-finding")
        expect(finding).to_have_attribute("data-cause", "container-failed")
        expect(finding).to_have_attribute("data-object", f"Pod/{name}")
        expect(by_test_id(finding, "mlops-finding-summary")).to_contain_text(
            f"Container main failed (exit code {code})"
        )
        expect(by_test_id(finding, "mlops-finding-fix")).to_contain_text(
            f"kubectl -n {profile.name} logs {name} -c main"
        )
        evidence = finding.locator('[data-testid="mlops-finding-evidence"][data-source="log"]')
        expect(evidence.filter(has_text="RuntimeError: task load-data failed")).to_have_count(1)

    # Argo's pod GC removes the pods of a finished run (done by the admin in its place).
    profile.admin.kubectl("delete", "pod", name, "--grace-period=0", "--force")
    wait_for(
        "the pod gone",
        lambda: not profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"] or None,
    )
    route = f"mlops/api/pipelines/runs/{run_id}/tasks/load-data/findings?source=cluster"
    wait_for(
        "the server's watches to see the pod gone",
        lambda: [
            f for f in findings_lab.get_json(route)["findings"] if f["cause"] != "container-failed"
        ],
    )
    client = kfp.Client(host=pipelines.url, existing_token=KFP_TOKEN, namespace=profile.name)
    details = client.get_run(run_id).run_details.task_details
    ended = next(t for t in details if t.display_name == "load-data")
    finished = ended.end_time.strftime("%Y-%m-%dT%H:%M:%SZ")

    with open_page(findings_lab, "task-findings-gone") as page:
        panel = open_run(page, run_id)
        detail = by_test_id(panel, "mlops-pipeline-task-detail")
        expect(detail).to_have_attribute("data-task", "load-data")
        finding = by_test_id(by_test_id(detail, "mlops-pipeline-task-findings"), "mlops-finding")
        expect(finding).to_have_attribute("data-cause", "task-pod-gone")
        expect(by_test_id(finding, "mlops-finding-summary")).to_contain_text(
            f"Task load-data of run {run_id} failed, and its pod is gone, so the cluster no "
            f"longer says why: its last known state is FAILED (finished {finished})"
        )
        expect(by_test_id(finding, "mlops-finding-fix")).to_contain_text(
            "Run the pipeline again to see the cause on a live pod"
        )
        # The other task never ran: choosing it shows no finding.
        panel.locator('[data-testid="mlops-pipeline-task"][data-name="train-model"]').click()
        expect(detail).to_have_attribute("data-task", "train-model")
        expect(by_test_id(detail, "mlops-pipeline-task-findings")).to_have_count(0)
