"""`%kfp run --cluster --wait` in a terminal IPython: the lines of a run that has a failed task
end with why that task failed and what to do, from the doctor on the task's pod."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.kfp import KfpEmulator
from tests.plane import ProfileNamespace

from .conftest import CELLS, FAILING, SLOW, ended_pod, exit_code, settings_lines


@pytest.fixture
def shell(
    pipelines: KfpEmulator,
    profile: ProfileNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InteractiveShell]:
    """A terminal IPython (no kernel) with the extension loaded, as the profile's editor."""
    monkeypatch.chdir(tmp_path)
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NB_PREFIX", "KF_PIPELINES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    for line in settings_lines(pipelines, profile, tmp_path):
        shell.run_cell(line, store_history=False).raise_error()
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()


def printed(shell: InteractiveShell, source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        shell.run_cell(source, store_history=False).raise_error()
    return out.getvalue()


def test_the_text_progress_ends_with_the_failed_tasks_cause_and_fix(
    shell: InteractiveShell, pipelines: KfpEmulator, profile: ProfileNamespace
) -> None:
    for source in CELLS:
        printed(shell, source)
    # The slow task keeps the run going after the other failed, as a wide pipeline does.
    pipelines.set_task_seconds(SLOW, 3)
    text = printed(shell, "%kfp run wide --cluster --wait")

    (run_id,) = list(pipelines.service.runs)
    pod = ended_pod(profile, run_id, FAILING)
    name, code = pod["metadata"]["name"], exit_code(pod)
    lines = text.splitlines()
    cause = next(i for i, line in enumerate(lines) if line.startswith(f"Task {FAILING}: "))
    assert lines[cause].startswith(
        f"Task {FAILING}: container-failed: Container main failed (exit code {code})"
    )
    assert lines[cause + 1].startswith("  Fix: ") and name in lines[cause + 1]
    # Said once, after the task lines and before the run's last line.
    assert sum(line.startswith(f"Task {FAILING}: ") for line in lines) == 1
    assert any(line.endswith(f"{FAILING}: FAILED (1/2)") for line in lines[:cause])
    assert any(line.startswith(f"Run {run_id} FAILED") for line in lines[cause + 2 :])
