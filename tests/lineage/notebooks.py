"""A notebook whose tasks log to MLflow, configured with `%config` alone, as the tests type it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.pipelines.models import Run

#: Variables others keep in the environment: MLflow's telemetry (set and unset in whichever
#: process imports MLflow) and pytest's name of the test phase.
BOOKKEEPING = frozenset({"_MLFLOW_TELEMETRY_SESSION_ID", "PYTEST_CURRENT_TEST"})


def process_environment() -> dict[str, str]:
    """`os.environ` now, without others' bookkeeping: what our code could have changed."""
    return {k: v for k, v in os.environ.items() if k not in BOOKKEEPING}


# The task logs with MLflow's own client, reading only its process's environment.
CELLS = (
    "%%kfp_component score\n"
    "def score(tag: str) -> float:\n"
    "    import mlflow\n"
    "    mlflow.set_experiment('tasks-' + tag)\n"
    "    with mlflow.start_run(run_name=tag):\n"
    "        mlflow.log_metric('score', 0.75)\n"
    "    return 0.75\n",
    "%%kfp_pipeline scored --params tag:str\nscore(tag=tag)\n",
)


@dataclass
class Notebook:
    shell: InteractiveShell
    work: Path
    #: The process environment before the component and pipeline cells ran, and after.
    environ: dict[str, str] = field(default_factory=dict)
    after_cells: dict[str, str] = field(default_factory=dict)

    def cell(self, source: str) -> Any:
        result = self.shell.run_cell(source, store_history=False)
        result.raise_error()
        return result.result

    def compiled_env(self) -> list[dict[str, str]]:
        """Each task's environment in the compiled pipeline, as a cluster receives it."""
        target = self.work / f"scored-{uuid.uuid4().hex[:6]}.yaml"
        self.cell(f"%kfp compile scored -o {str(target)!r}")
        spec = next(yaml.safe_load_all(target.read_text()))
        executors = spec["deploymentSpec"]["executors"].values()
        return [
            {item["name"]: item["value"] for item in e["container"].get("env", [])}
            for e in executors
        ]

    def run(self, tag: str) -> Run:
        run: Run = self.cell(f"%kfp run scored --local -p tag={tag} --wait")
        return run


def open_notebook(work: Path, patch: pytest.MonkeyPatch, *config: str) -> Iterator[Notebook]:
    """A kernel with the extension loaded first, then configured with `%config` only."""
    patch.chdir(work)
    shell = InteractiveShell.instance()
    notebook = Notebook(shell, work)
    try:
        notebook.cell("%load_ext jupyter_mlops")
        for line in (f"workspace = {str(work)!r}", "cluster = 'none'", *config):
            notebook.cell(f"%config MLOpsConfig.{line}")
        notebook.environ = process_environment()
        for cell in CELLS:
            notebook.cell(cell)
        notebook.after_cells = process_environment()
        yield notebook
    finally:
        InteractiveShell.clear_instance()
