"""`LogView`: the widget `%k8s logs -f` shows in a notebook, fed by a real followed log (kwok
serves it as a kubelet does). A view that ends with its pod: test_logs_emulated.py; one whose
API server goes away: tests/kube/test_api_server_restart.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.widgets.logs import MAX_LINES, LogView

from .conftest import Notebook, running_pod

WAIT = 30.0


@pytest.fixture
def cluster(notebook: Notebook) -> Cluster:
    """The connection the notebook's `%k8s` uses."""
    magics = notebook.shell.magics_manager.registry["K8sMagics"]
    connection: Cluster = magics.cluster()
    return connection


def trainer(notebook: Notebook, *lines: str) -> str:
    """A running pod `trainer-0` that has printed `lines`."""
    ns = notebook.ns
    ns.plane.append_log(ns.name, "trainer-0", "main", *lines)
    running_pod(ns, "trainer-0")
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


def test_the_view_shows_lines_as_they_come_escaped(
    notebook: Notebook, cluster: Cluster, views: list[LogView]
) -> None:
    pod = trainer(notebook, "<script>alert(1)</script>")
    view = LogView(cluster.logs(pod, follow=True), pod=pod)
    views.append(view)
    first = received_at_least(view, 1)
    view.start()
    assert view.following and not view.stop_button.disabled

    assert first.wait(WAIT)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view.log_box.value
    assert "<script>" not in view.log_box.value

    second = received_at_least(view, 2)
    notebook.ns.plane.append_log(notebook.ns.name, pod, "main", "epoch 2")
    assert second.wait(WAIT)
    assert view.lines == ["<script>alert(1)</script>", "epoch 2"]
    assert view.following


def test_the_stop_button_ends_the_follow_and_keeps_the_lines(
    notebook: Notebook, cluster: Cluster, views: list[LogView]
) -> None:
    pod = trainer(notebook, "epoch 1")
    view = LogView(cluster.logs(pod, follow=True), pod=pod)
    views.append(view)
    first = received_at_least(view, 1)
    view.start()
    assert first.wait(WAIT)

    view.stop_button.click()

    assert view.wait(0)  # the click returns once the follow has ended
    assert not view.following
    assert view.lines == ["epoch 1"]
    assert "ended · 1 lines" in view.header.value
    assert notebook.ns.get("pod", pod)["status"]["phase"] == "Running"


def test_the_buffer_keeps_the_newest_lines_and_counts_the_dropped_ones(
    notebook: Notebook, cluster: Cluster, views: list[LogView]
) -> None:
    total = MAX_LINES * 2 + 123
    pod = trainer(notebook, *(f"line {i:05d}" for i in range(total)))
    view = LogView(cluster.logs(pod, follow=True), pod=pod)
    views.append(view)
    every = received_at_least(view, total)

    view.start()

    assert every.wait(WAIT)
    view.stop()
    assert (view.received, view.dropped) == (total, total - MAX_LINES)
    assert view.lines == [f"line {i:05d}" for i in range(total - MAX_LINES, total)]
    shown = view.log_box.value
    assert f"line {total - MAX_LINES - 1:05d}" not in shown
    assert f"line {total - MAX_LINES:05d}" in shown and f"line {total - 1:05d}" in shown
    assert f"{total} lines ({total - MAX_LINES} older lines dropped)" in view.header.value
