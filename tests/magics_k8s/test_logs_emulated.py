"""A follow that ends with the pod, on the Python emulator: kwok never ends a follow (its
kubelet log reader is told that every container still runs), where a kubelet ends it once the
container exits, and the emulator does the same."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.widgets.logs import LogView

from .test_log_view import received_at_least
from .test_logs import WAIT, Screen

NAMESPACE = "team"
POD = "trainer-0"


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(pod_start_delay=0.01) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        emulator.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": POD, "namespace": NAMESPACE},
                "spec": {
                    "nodeName": "emulated-node",
                    "containers": [{"name": "main", "image": "python:3.11"}],
                },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "main",
                            "image": "python:3.11",
                            "ready": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                        }
                    ],
                },
            }
        )
        yield emulator


@pytest.fixture
def shell(
    kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    """A terminal IPython with the extension, on the emulator."""
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    shell.run_line_magic("config", f"MLOpsConfig.kubeconfig = {str(kubeconfig)!r}")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()


def test_follow_in_a_terminal_prints_lines_as_they_come_until_the_pod_ends(
    kube: KubeEmulator, shell: InteractiveShell
) -> None:
    kube.append_log(NAMESPACE, POD, "main", ["epoch 1"])
    screen = Screen()

    def training() -> None:
        try:
            screen.wait_for("epoch 1")
            kube.append_log(NAMESPACE, POD, "main", ["epoch 2"])
            screen.wait_for("epoch 2")
            kube.append_log(NAMESPACE, POD, "main", ["done"])
        finally:
            kube.finish_pod(NAMESPACE, POD, exit_code=0)

    pod = threading.Thread(target=training)
    pod.start()
    with contextlib.redirect_stdout(screen):
        result = shell.run_line_magic("k8s", f"logs {POD} -f")
    pod.join(WAIT)

    assert result is None
    assert screen.lines == ["epoch 1", "epoch 2", "done"]


def test_the_view_ends_with_the_pod(kube: KubeEmulator, shell: InteractiveShell) -> None:
    cluster: Cluster = shell.magics_manager.registry["K8sMagics"].cluster()
    kube.append_log(NAMESPACE, POD, "main", ["epoch 1", "epoch 2"])
    view = LogView(cluster.logs(POD, follow=True), pod=POD)
    shown = received_at_least(view, 2)
    view.start()
    try:
        assert shown.wait(WAIT)
        kube.finish_pod(NAMESPACE, POD, exit_code=0)

        assert view.wait(WAIT)
        assert view.lines == ["epoch 1", "epoch 2"]
        assert not view.following and view.stop_button.disabled
        assert "ended · 2 lines" in view.header.value
    finally:
        view.stop()
