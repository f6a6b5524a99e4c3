"""A real IPython shell with `%load_ext jupyter_mlops`, pointed at a Kubernetes API emulator."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules

NAMESPACE = "team"
EDITOR_TOKEN = "team-editor-token"


def running_pod(
    name: str,
    *,
    containers: tuple[str, ...] = ("main",),
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    """A pod already scheduled and running, so its log can be read at once."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels or {},
            "annotations": annotations or {},
        },
        "spec": {
            "nodeName": "emulated-node",
            "containers": [{"name": c, "image": "python:3.11"} for c in containers],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": c,
                    "image": "python:3.11",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                }
                for c in containers
            ],
        },
    }


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    """An emulator with the namespace `team` and the token of its Kubeflow editor."""
    with KubeEmulator(pod_start_delay=0.01, bookmark_interval=0.5) as emulator:
        for namespace in (NAMESPACE, "other"):
            emulator.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )
        emulator.add_token(
            EDITOR_TOKEN,
            f"system:serviceaccount:{NAMESPACE}:default-editor",
            kubeflow_edit_rules(NAMESPACE),
        )
        yield emulator


@dataclass
class Notebook:
    """A shell the tests type magics into, as a user would."""

    shell: InteractiveShell
    kube: KubeEmulator
    workdir: Path

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

    def use_token(self, token: str | None) -> None:
        """Act as another identity, through a kubeconfig of its own."""
        path = self.kube.write_kubeconfig(
            self.workdir / f"kubeconfig-{token}", token=token, namespace=NAMESPACE
        )
        self.config(f"kubeconfig = {str(path)!r}")


@pytest.fixture
def notebook(
    kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Notebook]:
    """A terminal IPython (no kernel) with the extension loaded and an admin kubeconfig."""
    monkeypatch.chdir(tmp_path)
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    book = Notebook(shell, kube, tmp_path)
    book.use_token(None)
    yield book
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()
