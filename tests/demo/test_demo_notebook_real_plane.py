"""The demo notebook once, top to bottom, against the real control plane instead of the emulator.

The story is seeded the real way (`jupyter_mlops.demo.plane.seed_plane`): the real scheduler,
controllers and PV binder, kwok's lifecycles for the kubelet, the fixtures' log texts served
through kwok's kubelet endpoint. The kernel acts as the profile's default-editor with a real
TokenRequest token, as a Kubeflow user's notebook does. Pipelines run locally and MLflow keeps
its runs in the workspace, as in `make demo`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlops.demo.__main__ import prepare
from jupyter_mlops.demo.plane import TRAINING_NOTEBOOK_CPU, SeededPlane, seed_plane
from jupyter_mlops.testing.control_plane import ControlPlane


@pytest.fixture
def seeded(kubeflow_plane: ControlPlane) -> Iterator[SeededPlane]:
    story = seed_plane(kubeflow_plane)
    yield story
    story.close()


@pytest.fixture
def demo_workspace(seeded: SeededPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = tmp_path / "demo-workspace"
    notebook = prepare(workspace)
    kubeconfig = seeded.write_kubeconfig(workspace / ".mlops" / "plane-kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return notebook


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts.append(str(data.get("text/html") or data.get("text/plain") or output.get("text", "")))
    return "\n".join(parts)


@pytest.mark.timeout(900)
def test_the_demo_notebook_on_the_real_plane(seeded: SeededPlane, demo_workspace: Path) -> None:
    notebook = nbformat.read(demo_workspace, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(demo_workspace.parent)}},
    ).execute()
    by_source = {cell.source.splitlines()[0]: cell for cell in notebook.cells if cell.source}
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []

    assert seeded.namespace in text_of(by_source["%mlops status"])
    assert "my-notebook-0" in text_of(by_source["%k8s get pods"])
    claim = text_of(by_source["%k8s describe pvc new-notebook-workspace"])
    assert "no default StorageClass" in claim
    assert "SUCCEEDED" in text_of(by_source["run = %kfp run regression --local --wait"])
    training = text_of(by_source["%k8s describe pod training-notebook-0"])
    # The real scheduler's wording: two CPU nodes too small, the GPU node tainted.
    assert "Insufficient cpu" in training
    assert "2 Insufficient cpu" in training
    assert f"cpu {TRAINING_NOTEBOOK_CPU}" in training
    crashing = text_of(by_source["%k8s describe pod {crashing}"])
    assert "keeps crashing" in crashing
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
