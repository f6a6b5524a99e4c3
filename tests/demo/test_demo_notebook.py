"""The demo notebook runs from top to bottom against the demo environment of `make demo`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.demo.__main__ import prepare, start_cluster
from jupyter_mlops.kube.cluster import Cluster
from tests.demo.notebook_run import assert_the_story_is_shown, run_notebook
from tests.plane import wait_for

Obj = dict[str, Any]


@pytest.fixture
def demo_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    workspace = tmp_path / "demo-workspace"
    notebook = prepare(workspace)
    cluster, kubeconfig = start_cluster(workspace)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    yield notebook
    cluster.terminate()
    cluster.wait(timeout=10)


def test_every_cell_runs_and_shows_what_the_text_promises(demo_workspace: Path) -> None:
    assert_the_story_is_shown(run_notebook(demo_workspace), "kubeflow-user-example-com")


def restarted_pods(cluster: Cluster) -> list[Obj] | None:
    """The Job's pods, once only its new one is left and it has crashed and restarted."""
    pods = cluster.list("pods", selector="job-name=mnist-train").items
    restarted = [
        p
        for p in pods
        if not (p["metadata"].get("deletionTimestamp"))
        and any(
            int(c.get("restartCount") or 0) > 0
            for c in (p.get("status") or {}).get("containerStatuses") or []
        )
    ]
    return pods if len(pods) == 1 and restarted else None


def test_run_all_still_works_after_deleting_and_scaling_as_the_sidebar_does(
    demo_workspace: Path, tmp_path: Path
) -> None:
    # What the sidebar's delete and scale do, through the same API, before Run All.
    cluster = Cluster(resolve(configure(), root=tmp_path))
    try:
        [crashing] = cluster.list("pods", selector="job-name=mnist-train").items
        cluster.delete_pod(crashing["metadata"]["name"])
        cluster.scale("iris-trainer", 0)
        # The Job makes a new pod, which crashes again: the notebook reads its previous log.
        wait_for("the Job's new pod to crash and restart", lambda: restarted_pods(cluster), 60)
    finally:
        cluster.close()
    run_notebook(demo_workspace)
