"""A real IPython shell with the pipelines and tuning magics, in a fresh workspace, and the
components the tuning tests search."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.config import Settings, configure, resolve

#: A small scikit-learn fit: the held-out accuracy of a decision tree on the iris data,
#: printed as the StdOut metrics collector reads it, and returned.
FIT = """
%%kfp_component fit --packages scikit-learn
def fit(lr: float, depth: int) -> float:
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=0)
    # lr stands for a second knob: the smallest share of samples a leaf may hold.
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=lr, random_state=0)
    tree.fit(x_train, y_train)
    accuracy = float(tree.score(x_test, y_test))
    print(f"accuracy={accuracy}")
    print(f"leaves = {tree.get_n_leaves()}")
    return accuracy
"""

#: Sleeps, so a search of it is still running when the test stops it.
SLOW = """
%%kfp_component slow
def slow(seconds: int) -> float:
    import time
    print("started", flush=True)
    time.sleep(seconds)
    print("score=1.0")
    return 1.0
"""

#: Prints nothing the collector reads and returns a string: every trial MetricsUnavailable.
QUIET = """
%%kfp_component quiet
def quiet(x: int) -> str:
    print("nothing to see")
    return "done"
"""


@dataclass
class Notebook:
    """A shell the tests type cells into, as a user would, in its own workspace."""

    shell: InteractiveShell
    workspace: Path

    def cell(self, source: str) -> Any:
        """Run a cell; raise what it raised (UsageError for a user mistake)."""
        result = self.shell.run_cell(source, store_history=False)
        result.raise_error()
        return result.result

    def printed(self, source: str) -> tuple[Any, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            value = self.cell(source)
        return value, out.getvalue()

    def settings(self, **values: Any) -> Settings:
        return resolve(configure(workspace=str(self.workspace), **values), env={})

    def config(self, assignment: str) -> None:
        """`%config MLOpsConfig.<assignment>`, as a user would type it."""
        self.shell.run_line_magic("config", f"MLOpsConfig.{assignment}")

    def katib(self, line: str) -> Any:
        return self.shell.run_line_magic("katib", line)


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Notebook]:
    """A terminal IPython with the extension loaded, its workspace a temporary folder."""
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    try:
        yield Notebook(shell, tmp_path)
    finally:
        InteractiveShell.clear_instance()
