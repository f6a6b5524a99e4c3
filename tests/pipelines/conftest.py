"""A real IPython shell with the pipelines magics, and a workspace for local run history."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.magics.kfp import KfpMagics
from jupyter_mlops.pipelines import LocalPipelines

THREE_STEPS = """
%%kfp_component add
def add(a: int, b: int) -> int:
    print(f"adding {a} and {b}")
    return a + b
"""

DOUBLE = """
%%kfp_component double --inputs x:int --outputs y:int --cpu 2 --memory 1G
print("doubling", x)
y = 2 * x
"""

PIPELINE = """
%%kfp_pipeline three_steps --params a:int,b:int=2
total = add(a=a, b=b)
twice = double(x=total.output)
double(x=twice.output)
"""


@dataclass
class Notebook:
    """A shell the tests type cells into, as a user would."""

    shell: InteractiveShell
    magics: KfpMagics

    @property
    def backend(self) -> LocalPipelines:
        return self.magics.local

    def cell(self, source: str) -> Any:
        """Run a cell; raise what it raised (UsageError for a user mistake)."""
        result = self.shell.run_cell(source, store_history=False)
        result.raise_error()
        return result.result

    def printed(self, source: str) -> tuple[Any, str]:
        """Run a cell and return its value and what it printed."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            value = self.cell(source)
        return value, out.getvalue()


def _open_notebook(root: Path) -> Iterator[Notebook]:
    shell = InteractiveShell.instance()
    magics = KfpMagics(shell=shell, pipelines_dir=str(root))
    shell.register_magics(magics)
    try:
        yield Notebook(shell, magics)
    finally:
        InteractiveShell.clear_instance()


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Notebook]:
    """A fresh notebook whose workspace is a temporary folder."""
    monkeypatch.chdir(tmp_path)
    yield from _open_notebook(tmp_path / ".mlops" / "pipelines")


@pytest.fixture(scope="module")
def module_notebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook]:
    """One notebook shared by a module's tests, so real runs are shared too."""
    workspace = tmp_path_factory.mktemp("workspace")
    # The kernel's directory is the workspace: local MLflow records land there too.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        yield from _open_notebook(workspace / ".mlops" / "pipelines")
