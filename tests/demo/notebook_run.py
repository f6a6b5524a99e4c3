"""The demo notebook run top to bottom, and what its cells must show: shared by the run on the
emulator (`make demo`) and the run on the real control plane."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_notebook(path: Path) -> dict[str, nbformat.NotebookNode]:
    """Run the notebook at `path` in its folder; no cell may fail. Its cells by first line."""
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    return {cell.source.splitlines()[0]: cell for cell in notebook.cells if cell.source}


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts.append(str(data.get("text/html") or data.get("text/plain") or output.get("text", "")))
    return "\n".join(parts)


def assert_the_story_is_shown(cells: dict[str, nbformat.NotebookNode], namespace: str) -> None:
    """What the notebook's text promises, wherever its cluster runs."""
    assert namespace in text_of(cells["%mlops status"])
    assert "my-notebook-0" in text_of(cells["%k8s get pods"])
    assert "no default StorageClass" in text_of(cells["%k8s describe pvc new-notebook-workspace"])
    assert "SUCCEEDED" in text_of(cells["run = %kfp run regression --local --wait"])
    assert "Insufficient cpu" in text_of(cells["%k8s describe pod training-notebook-0"])
    assert "keeps crashing" in text_of(cells["%k8s describe pod {crashing}"])
    assert "RuntimeError: Numpy is not available" in text_of(
        cells["%k8s logs {crashing} --previous --tail 8"]
    )
    assert "loss=" in text_of(
        cells['trainers = cluster.list("pods", selector="app=iris-trainer").items']
    )
    listing = next(
        cell for line, cell in cells.items() if line.startswith('[(p["metadata"]["name"]')
    )
    assert "my-notebook-0" in text_of(listing)
    assert "regression" in text_of(cells["%mlflow runs kfp/Default"])
    chart = text_of(cells["%mlflow plot {ids[0]} {ids[1]} --metric loss"])
    assert "<svg" in chart and "lr=0.2" in chart and "lr=0.05" in chart
