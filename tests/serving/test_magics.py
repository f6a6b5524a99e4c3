"""`%kserve` through a real IPython shell: serve, predict, drift, list and delete, locally and on
the real control plane; a user's mistakes are messages, never tracebacks; read-only holds."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.magics.kserve import KServeMagics
from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import FEATURES, SHIFTED, Namespace, Registered, s3_account


@dataclass
class Notebook:
    """A shell the tests type `%kserve` into, as a user would."""

    shell: InteractiveShell

    def kserve(self, line: str) -> Any:
        return self.shell.run_line_magic("kserve", line)

    def printed(self, line: str) -> tuple[Any, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            value = self.kserve(line)
        return value, out.getvalue()

    def config(self, assignment: str) -> None:
        self.shell.run_line_magic("config", f"MLOpsConfig.{assignment}")

    @property
    def magics(self) -> KServeMagics:
        found: KServeMagics = self.shell.magics_manager.registry["KServeMagics"]
        return found


@pytest.fixture
def notebook(
    registered: Registered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Notebook]:
    """A terminal IPython with the extension loaded, pointed at the session's MLflow server."""
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    book = Notebook(shell)
    book.config(f"mlflow_tracking_uri = {registered.url!r}")
    book.config(f"workspace = {str(tmp_path)!r}")
    book.config("cluster = 'none'")
    shell.user_ns.update(
        frame=registered.test, shifted=registered.shifted(), number=3, rows=registered.test.values
    )
    yield book
    serving = book.magics.serving()
    for server in serving.local.all():
        serving.local.stop(server.name)
    book.magics.close()
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    InteractiveShell.clear_instance()


def test_serve_locally_predict_drift_list_delete(
    notebook: Notebook, registered: Registered
) -> None:
    served = notebook.kserve(f"serve {registered.name}@champion --local --name churn")
    assert "churn on this machine" in repr(served) and "Ready" in repr(served)

    answer = notebook.kserve("predict churn --data frame")
    assert answer.data.tolist() == registered.model.predict(registered.test).tolist()
    assert "churn (local) answered in" in repr(answer)
    assert notebook.kserve("predict churn --data rows").data.tolist() == answer.data.tolist()

    report = notebook.kserve("drift churn --data shifted --no-record")
    assert report.report.drifted == (SHIFTED,)
    assert f"drifted: {SHIFTED}" in repr(report)
    assert report._repr_html_().count("<svg") == len(FEATURES)
    # Without --data: what predict sent, twice the held-out rows, which have not moved.
    kept = notebook.kserve("drift churn --no-record")
    assert kept.report.drifted == () and kept.report.current_rows == 2 * len(registered.test)

    table, notes = notebook.printed("list")
    assert [(r["name"], r["mode"], r["ready"]) for r in table.rows] == [("churn", "local", True)]
    assert "cluster: No cluster is configured" in notes

    _, said = notebook.printed("delete churn")
    assert said.strip() == 'local model server "churn" stopped'
    assert notebook.kserve("list").rows == []


def test_drift_is_recorded_as_a_run(notebook: Notebook, registered: Registered) -> None:
    notebook.kserve(f"serve {registered.name}/{registered.version} --local --name recorded")
    view = notebook.kserve("drift recorded --data shifted")
    assert view.report.run_id is not None
    assert f"recorded as MLflow run {view.report.run_id}" in repr(view)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("", "usage: %kserve {serve,list,predict,drift,delete}"),
        ("serve", "usage: %kserve serve MODEL@ALIAS | MODEL/VERSION"),
        ("serve churn@", "names no model version"),
        ("list extra", "usage: %kserve list"),
        ("predict churn", "say which inputs: %kserve predict NAME --data VAR"),
        ("predict churn --data missing", "no variable 'missing' in this notebook"),
        ("predict churn --data frame.head()", "--data takes a variable's name"),
        ("predict churn --data number", "no model is served as 'churn'"),
        ("list --name x", "--name cannot be used with %kserve list"),
        ("delete churn --local --cluster", "--local and --cluster exclude each other"),
        ("serve m@a --local --cpu 1", "--cpu: for the cluster only, not with --local"),
        ("serve 'unclosed", "cannot read the arguments"),
    ],
)
def test_mistakes_are_messages(notebook: Notebook, line: str, says: str) -> None:
    with pytest.raises(UsageError) as error:
        notebook.kserve(line)
    assert says in str(error.value)


def test_serve_names_a_missing_model(notebook: Notebook, registered: Registered) -> None:
    with pytest.raises(UsageError, match="no alias 'gold'"):
        notebook.kserve(f"serve {registered.name}@gold --local")
    with pytest.raises(UsageError, match="no registered model named 'absent'"):
        notebook.kserve("serve absent@champion --local")


def test_read_only_is_obeyed(notebook: Notebook, registered: Registered) -> None:
    notebook.kserve(f"serve {registered.name}@champion --local --name kept")
    notebook.config("read_only = True")
    with pytest.raises(UsageError, match="read-only mode: serving models locally"):
        notebook.kserve(f"serve {registered.name}@champion --local --name another")
    with pytest.raises(UsageError, match="read-only mode: deleting served models"):
        notebook.kserve("delete kept")
    with pytest.raises(UsageError, match="read-only mode: recording drift"):
        notebook.kserve("drift kept --data shifted")
    assert notebook.kserve("predict kept --data frame").data.tolist() == (
        registered.model.predict(registered.test).tolist()
    )


def test_serve_on_the_cluster_shows_asks_and_applies(
    kserve: ControlPlane,
    namespace: Namespace,
    notebook: Notebook,
    registered: Registered,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3_account(namespace)
    notebook.config("cluster = 'kubeconfig'")
    notebook.config(f"kubeconfig = {str(namespace.kubeconfig)!r}")
    notebook.config("mlflow_artifacts_destination = 's3://mlflow/artifacts'")
    notebook.config("serving_service_account = 'models'")
    line = f"serve {registered.name}@champion --name churn --cpu 250m --no-wait"

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # the user answers no
    declined, shown = notebook.printed(line)
    assert declined is None
    assert f"InferenceService churn in namespace {namespace.name}" in shown
    assert "storageUri: s3://mlflow/artifacts/" in shown and "serviceAccountName: models" in shown
    assert "WARNING [requirements]" in shown
    assert shown.rstrip().endswith("Not applied.")
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.strip() == ""

    applied, _ = notebook.printed(f"{line} --yes")
    assert "churn in namespace" in repr(applied) and "not Ready" in repr(applied)
    assert "%k8s doctor inferenceservice/churn" in repr(applied)
    stored = namespace.get("inferenceservice", "churn")
    assert stored["spec"]["predictor"]["model"]["resources"]["requests"] == {"cpu": "250m"}

    table = notebook.kserve("list")
    assert [(r["name"], r["mode"]) for r in table.rows] == [("churn", "cluster")]
    _, said = notebook.printed("delete churn")
    assert said.strip() == f'InferenceService "churn" deleted in namespace {namespace.name}'


def test_a_blocked_plan_is_not_applied(
    kserve: ControlPlane, namespace: Namespace, notebook: Notebook, registered: Registered
) -> None:
    notebook.config("cluster = 'kubeconfig'")
    notebook.config(f"kubeconfig = {str(namespace.kubeconfig)!r}")
    # No artifact store configured: KServe could not read mlflow-artifacts:/.
    with pytest.raises(UsageError, match="fix the errors above"):
        notebook.printed(f"serve {registered.name}@champion --yes")
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.strip() == ""
