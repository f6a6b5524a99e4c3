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

import pytest

from jupyter_mlops.demo.__main__ import prepare
from jupyter_mlops.demo.plane import TRAINING_NOTEBOOK_CPU, SeededPlane, seed_plane
from jupyter_mlops.testing.control_plane import ControlPlane
from tests.demo.notebook_run import assert_the_story_is_shown, run_notebook, text_of


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


@pytest.mark.timeout(900)
def test_the_demo_notebook_on_the_real_plane(seeded: SeededPlane, demo_workspace: Path) -> None:
    cells = run_notebook(demo_workspace)
    assert_the_story_is_shown(cells, seeded.namespace)
    training = text_of(cells["%k8s describe pod training-notebook-0"])
    # The real scheduler's wording: two CPU nodes too small, the GPU node tainted.
    assert "2 Insufficient cpu" in training
    assert f"cpu {TRAINING_NOTEBOOK_CPU}" in training
