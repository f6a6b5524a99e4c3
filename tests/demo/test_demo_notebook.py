"""The demo notebook runs from top to bottom against the demo environment of `make demo`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlops.demo.__main__ import prepare, start_cluster


@pytest.fixture
def demo_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    workspace = tmp_path / "demo-workspace"
    notebook = prepare(workspace)
    cluster, kubeconfig = start_cluster(workspace)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    yield notebook
    cluster.terminate()
    cluster.wait(timeout=10)


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts.append(str(data.get("text/html") or data.get("text/plain") or output.get("text", "")))
    return "\n".join(parts)


def test_every_cell_runs_and_shows_what_the_text_promises(demo_workspace: Path) -> None:
    notebook = nbformat.read(demo_workspace, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(demo_workspace.parent)}},
    ).execute()
    by_source = {cell.source.splitlines()[0]: cell for cell in notebook.cells if cell.source}
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []

    assert "kubeflow-user-example-com" in text_of(by_source["%mlops status"])
    assert "my-notebook-0" in text_of(by_source["%k8s get pods"])
    assert "no default StorageClass" in text_of(
        by_source["%k8s describe pvc new-notebook-workspace"]
    )
    assert "SUCCEEDED" in text_of(by_source["run = %kfp run regression --local --wait"])
    assert "Insufficient cpu" in text_of(by_source["%k8s describe pod training-notebook-0"])
    assert "keeps crashing" in text_of(by_source["%k8s describe pod {crashing}"])
    assert "RuntimeError: Numpy is not available" in text_of(
        by_source["%k8s logs {crashing} --previous --tail 8"]
    )
    assert "loss=" in text_of(
        by_source['trainers = cluster.list("pods", selector="app=iris-trainer").items']
    )
    listing = next(c for c in notebook.cells if c.source.startswith('[(p["metadata"]["name"]'))
    assert "my-notebook-0" in text_of(listing)
    assert "regression" in text_of(by_source["%mlflow runs kfp/Default"])
    chart = text_of(by_source["%mlflow plot {ids[0]} {ids[1]} --metric loss"])
    assert "<svg" in chart and "lr=0.2" in chart and "lr=0.05" in chart


def test_run_all_still_works_after_deleting_and_scaling_as_the_sidebar_does(
    demo_workspace: Path, tmp_path: Path
) -> None:
    from jupyter_mlops.config import configure, resolve
    from jupyter_mlops.kube.cluster import Cluster

    # What the sidebar's delete and scale do, through the same API, before Run All.
    cluster = Cluster(resolve(configure(), root=tmp_path))
    try:
        [crashing] = cluster.list("pods", selector="job-name=mnist-train").items
        cluster.delete_pod(crashing["metadata"]["name"])
        cluster.scale("iris-trainer", 0)
        # The Job makes a new pod, which crashes again: the notebook reads its previous log.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
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
            if len(pods) == 1 and restarted:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the Job's new pod did not crash and restart: {pods}")
    finally:
        cluster.close()
    notebook = nbformat.read(demo_workspace, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(demo_workspace.parent)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
