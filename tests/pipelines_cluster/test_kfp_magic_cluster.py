"""`%kfp run --cluster` and `%kfp runs --cluster` against the KFP API emulator."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.testing.kfp import KfpEmulator

COMPONENT = """
%%kfp_component square
def square(x: int) -> int:
    return x * x
"""

PIPELINE = """
%%kfp_pipeline squares --params x:int=3
first = square(x=x)
square(x=first.output)
"""


@pytest.fixture
def shell(config: dict[str, Any], workspace: Path) -> Iterator[InteractiveShell]:
    """A notebook configured, as with %config, for the emulated Kubeflow Pipelines."""
    shell = InteractiveShell.instance()
    for name, value in config.items():
        setattr(shell.config.MLOpsConfig, name, value)
    shell.register_magics(KfpMagics(shell=shell, pipelines_dir=str(workspace / "local")))
    yield shell
    InteractiveShell.clear_instance()


def cell(shell: InteractiveShell, source: str) -> tuple[Any, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = shell.run_cell(source, store_history=False)
    result.raise_error()
    return result.result, out.getvalue()


def test_a_notebook_pipeline_runs_on_the_cluster_and_is_listed(
    shell: InteractiveShell, kfp_api: KfpEmulator
) -> None:
    cell(shell, COMPONENT)
    cell(shell, PIPELINE)
    _, printed = cell(shell, "%kfp run squares --cluster --param x=4 --experiment demo")
    assert "started on the cluster backend" in printed
    [run_id] = list(kfp_api.service.runs)
    run = kfp_api.service.runs[run_id]
    assert run.runtime_config["parameters"] == {"x": 4}
    assert kfp_api.service.experiments[run.experiment_id].display_name == "demo"
    assert kfp_api.wait_for_run_state(run_id) == "SUCCEEDED"

    table, _ = cell(shell, "%kfp runs --cluster --experiment demo")
    assert [(r.id, r.status.value) for r in table.page.runs] == [(run_id, "SUCCEEDED")]
    assert run_id in repr(table)


def test_logs_retry_and_terminate_reach_a_cluster_run_by_its_id(
    shell: InteractiveShell, kfp_api: KfpEmulator
) -> None:
    cell(shell, COMPONENT)
    cell(shell, PIPELINE)
    cell(shell, "%kfp run squares --cluster --param x=4")
    [run_id] = list(kfp_api.service.runs)
    assert kfp_api.wait_for_run_state(run_id) == "SUCCEEDED"

    # A KFP run id (a UUID) is the cluster's, as the server's routes tell it.
    _, printed = cell(shell, f"%kfp logs {run_id} square")
    expected = kfp_api.service.runs[run_id]
    assert f"component comp-square of run {run_id}" in printed  # the launcher's first line
    with pytest.raises(Exception, match="only a FAILED or CANCELED run can be retried"):
        cell(shell, f"%kfp retry {run_id}")
    with pytest.raises(Exception, match="has already ended"):
        cell(shell, f"%kfp terminate --cluster {run_id}")
    # Not a local run, asked as one: the local store says it has no such run.
    with pytest.raises(Exception, match=run_id[:8]):
        cell(shell, f"%kfp terminate --local {run_id}")
    assert expected.state == "SUCCEEDED"
