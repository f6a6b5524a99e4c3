"""A real IPython shell with `%load_ext jupyter_mlops`, pointed through a kubeconfig at the
real control plane (tests/plane.py), in the test's own namespace."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.control_plane import ControlPlane
from tests.kube.helpers import IMAGE, running
from tests.plane import Namespace, fresh_namespace


def running_pod(
    ns: Namespace,
    name: str,
    *,
    containers: tuple[str, ...] = ("main",),
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> None:
    """Create a pod and wait until kwok, as its kubelet, reports it Running."""
    ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"containers": [{"name": c, "image": IMAGE} for c in containers], **spec},
        }
    )
    running(ns, name)


@dataclass
class Notebook:
    """A shell the tests type magics into, as a user would, in namespace `ns`."""

    shell: InteractiveShell
    ns: Namespace

    def k8s(self, line: str) -> Any:
        """`%k8s LINE`: its value; a user mistake raises UsageError."""
        return self.shell.run_line_magic("k8s", line)

    def printed(self, line: str) -> str:
        """What `%k8s LINE` printed."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.k8s(line)
        return out.getvalue()

    def config(self, assignment: str) -> None:
        """`%config MLOpsConfig.<assignment>`."""
        self.shell.run_line_magic("config", f"MLOpsConfig.{assignment}")

    def use_kubeconfig(self, path: Path) -> None:
        """Act as whoever this kubeconfig names."""
        self.config(f"kubeconfig = {str(path)!r}")


@pytest.fixture
def notebook(
    namespace: Namespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Notebook]:
    """A terminal IPython (no kernel) with the extension loaded and an admin kubeconfig."""
    monkeypatch.chdir(tmp_path)
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    book = Notebook(shell, namespace)
    book.use_kubeconfig(namespace.kubeconfig)
    yield book
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()


@pytest.fixture
def other(control_plane: ControlPlane, tmp_path: Path) -> Iterator[Namespace]:
    """A second namespace, for what a notebook sees beyond its own."""
    where = tmp_path / "other"
    where.mkdir()
    with fresh_namespace(control_plane, where) as ns:
        yield ns
