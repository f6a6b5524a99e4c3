"""A local run whose compiled pipeline is gone cannot be retried, and says why in words."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.errors import NotFound
from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.pipelines import Run
from jupyter_mlops.pipelines.local import LocalPipelines


def test_retry_of_a_run_without_its_pipeline_names_the_missing_file(
    local_run: Run, workspace: Path
) -> None:
    local = LocalPipelines(workspace / ".mlops" / "pipelines")
    with pytest.raises(NotFound, match=r"keeps no compiled pipeline \(pipeline.pb is missing"):
        local.retry(local_run.id)

    shell = InteractiveShell.instance()
    try:
        shell.config.MLOpsConfig.workspace = str(workspace)
        shell.register_magics(KfpMagics(shell=shell))
        with contextlib.redirect_stdout(io.StringIO()), pytest.raises(UsageError) as refused:
            shell.run_cell(f"%kfp retry {local_run.id}", store_history=False).raise_error()
        assert "cannot be run again" in str(refused.value)
        assert "FileNotFoundError" not in str(refused.value)
    finally:
        InteractiveShell.clear_instance()
