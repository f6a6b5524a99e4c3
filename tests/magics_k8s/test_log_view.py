"""`LogView`: the widget `%k8s logs -f` shows in a notebook, fed by a real followed log."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.widgets.logs import MAX_LINES, LogView

from .conftest import NAMESPACE, Notebook, running_pod

WAIT = 10.0


@pytest.fixture
def cluster(notebook: Notebook) -> Cluster:
    """The connection the notebook's `%k8s` uses."""
    magics = notebook.shell.magics_manager.registry["K8sMagics"]
    connection: Cluster = magics.cluster()
    return connection


@pytest.fixture
def trainer(notebook: Notebook) -> str:
    notebook.kube.create(running_pod("trainer-0"))
    return "trainer-0"


def received_at_least(view: LogView, count: int) -> threading.Event:
    """An event set once the view has shown `count` lines."""
    reached = threading.Event()

    def check(change: dict[str, Any]) -> None:
        if change["new"] >= count:
            reached.set()

    view.observe(check, "received")
    if view.received >= count:
        reached.set()
    return reached


@pytest.fixture
def views() -> Iterator[list[LogView]]:
    """Views made by a test; any still following is stopped afterwards."""
    made: list[LogView] = []
    yield made
    for view in made:
        view.stop()


def test_the_view_shows_lines_as_they_come_and_ends_with_the_pod(
    notebook: Notebook, cluster: Cluster, trainer: str, views: list[LogView]
) -> None:
    # The emulator answers a follow only once there is a first line to send.
    notebook.kube.append_log(NAMESPACE, trainer, "main", ["<script>alert(1)</script>"])
    view = LogView(cluster.logs(trainer, follow=True), pod=trainer)
    views.append(view)
    first = received_at_least(view, 1)
    view.start()
    assert view.following and not view.stop_button.disabled

    assert first.wait(WAIT)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view.log_box.value
    assert "<script>" not in view.log_box.value

    second = received_at_least(view, 2)
    notebook.kube.append_log(NAMESPACE, trainer, "main", ["epoch 2"])
    assert second.wait(WAIT)
    notebook.kube.finish_pod(NAMESPACE, trainer, exit_code=0)

    assert view.wait(WAIT)
    assert view.lines == ["<script>alert(1)</script>", "epoch 2"]
    assert not view.following and view.stop_button.disabled
    assert "ended · 2 lines" in view.header.value


def test_the_stop_button_ends_the_follow_and_keeps_the_lines(
    notebook: Notebook, cluster: Cluster, trainer: str, views: list[LogView]
) -> None:
    notebook.kube.append_log(NAMESPACE, trainer, "main", ["epoch 1"])
    view = LogView(cluster.logs(trainer, follow=True), pod=trainer)
    views.append(view)
    first = received_at_least(view, 1)
    view.start()
    assert first.wait(WAIT)

    view.stop_button.click()

    assert view.wait(0)  # the click returns once the follow has ended
    assert not view.following
    assert view.lines == ["epoch 1"]
    assert "ended · 1 lines" in view.header.value
    pod = notebook.kube.get("v1", "Pod", trainer, NAMESPACE)
    assert pod is not None and pod["status"]["phase"] == "Running"


def test_the_buffer_keeps_the_newest_lines_and_counts_the_dropped_ones(
    notebook: Notebook, cluster: Cluster, trainer: str, views: list[LogView]
) -> None:
    total = MAX_LINES * 2 + 123
    notebook.kube.append_log(NAMESPACE, trainer, "main", [f"line {i:05d}" for i in range(total)])
    notebook.kube.finish_pod(NAMESPACE, trainer, exit_code=0)
    view = LogView(cluster.logs(trainer, follow=True), pod=trainer)
    views.append(view)

    view.start()

    assert view.wait(WAIT)
    assert (view.received, view.dropped) == (total, total - MAX_LINES)
    assert view.lines == [f"line {i:05d}" for i in range(total - MAX_LINES, total)]
    shown = view.log_box.value
    assert f"line {total - MAX_LINES - 1:05d}" not in shown
    assert f"line {total - MAX_LINES:05d}" in shown and f"line {total - 1:05d}" in shown
    assert f"{total} lines ({total - MAX_LINES} older lines dropped)" in view.header.value


def test_a_broken_follow_shows_why(
    notebook: Notebook, cluster: Cluster, trainer: str, views: list[LogView]
) -> None:
    notebook.kube.append_log(NAMESPACE, trainer, "main", ["epoch 1"])
    view = LogView(cluster.logs(trainer, follow=True), pod=trainer)
    views.append(view)
    first = received_at_least(view, 1)
    view.start()
    assert first.wait(WAIT)

    notebook.kube.stop()

    assert view.wait(WAIT)
    assert not view.following
    assert view.lines == ["epoch 1"]
    assert view.error.startswith("the stream from http://127.0.0.1") and "broke" in view.error
    assert html.escape(view.error) in view.header.value
