"""`%kfp run --cluster` in a notebook of a Kubeflow profile on the real control plane: the KFP
emulator makes each task's pod there as Argo's workflow controller does, kwok's lifecycle Stage
plays the kubelet that ends it, and the emulator writes its log through the plane's files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import KfpEmulator
from tests.plane import ProfileNamespace, wait_for

TOKEN = "magic-findings-kfp-token"
RUN_LABEL = "pipeline/runid"
FAILING = "fail-fast"
SLOW = "slow"

# Two tasks side by side: the run goes on, with the slow one, after the other failed.
CELLS = (
    "%%kfp_component fail_fast\ndef fail_fast(rows: int) -> int:\n    return rows\n",
    "%%kfp_component slow\ndef slow(rows: int) -> int:\n    return rows\n",
    "%%kfp_pipeline wide --params rows:int=3\nfail_fast(rows=rows)\nslow(rows=rows)\n",
)


@pytest.fixture
def pipelines(kubeflow_plane: ControlPlane, profile: ProfileNamespace) -> Iterator[KfpEmulator]:
    """Kubeflow Pipelines whose task pods run in the profile's namespace on the plane; every
    task named FAILING fails."""
    with KfpEmulator(
        control_plane=kubeflow_plane,
        token=TOKEN,
        step_seconds=0.05,
        namespaces=(profile.name,),
        failing_task_names=(FAILING,),
    ) as emulator:
        yield emulator


def settings_lines(pipelines: KfpEmulator, profile: ProfileNamespace, work: Path) -> list[str]:
    """The `%config` lines of a notebook of the profile, as its editor."""
    values: dict[str, Any] = {
        "kfp_endpoint": pipelines.url,
        "kfp_token": TOKEN,
        "namespace": profile.name,
        "kubeconfig": str(profile.kubeconfig),
        "workspace": str(work),
    }
    return [f"%config MLOpsConfig.{name} = {value!r}" for name, value in values.items()]


def ended_pod(profile: ProfileNamespace, run_id: str, task: str) -> Any:
    """The run's pod of `task` once kwok has ended it, as kubectl shows it."""

    def found() -> Any:
        for pod in profile.admin.get("pods", "-l", f"{RUN_LABEL}={run_id}")["items"]:
            node = pod["metadata"].get("annotations", {}).get("workflows.argoproj.io/node-name")
            if f".{task}." in str(node) and pod["status"].get("phase") == "Failed":
                return pod
        return None

    return wait_for(f"the pod of {task} Failed", found, timeout=60)


def exit_code(pod: Any) -> int:
    main = next(c for c in pod["status"]["containerStatuses"] if c["name"] == "main")
    code: int = main["state"]["terminated"]["exitCode"]
    return code
