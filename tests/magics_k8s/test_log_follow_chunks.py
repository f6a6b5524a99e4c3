"""`LogView` on a chatty pod: it keeps at most its buffer, redraws per refresh, not per line.
The log is a real follow: kwok serves the file as a kubelet serves a container's log."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.control_plane import cri_line
from jupyter_mlops.widgets.logs import LogView

from .conftest import Notebook, running_pod
from .test_log_view import received_at_least

WAIT = 30.0
KEPT = 1000
TOTAL = 200_000


@pytest.fixture
def cluster(notebook: Notebook) -> Cluster:
    """The connection the notebook's `%k8s` uses."""
    magics = notebook.shell.magics_manager.registry["K8sMagics"]
    connection: Cluster = magics.cluster()
    return connection


def test_a_long_follow_keeps_at_most_its_buffer_and_redraws_per_refresh(
    notebook: Notebook, cluster: Cluster
) -> None:
    ns = notebook.ns
    ns.plane.log_file(ns.name, "chatty", "main").write_text(
        "".join(cri_line(f"step {i:06d}") for i in range(TOTAL))
    )
    running_pod(ns, "chatty")
    view = LogView(cluster.logs("chatty", follow=True), pod="chatty", max_lines=KEPT)
    kept: list[int] = []
    redraws: list[int] = []
    view.observe(lambda _change: kept.append(len(view.lines)), "received")
    view.log_box.observe(lambda _change: redraws.append(1), "value")

    every = received_at_least(view, TOTAL)
    view.start()

    assert every.wait(WAIT)
    view.stop()
    assert (view.received, view.dropped) == (TOTAL, TOTAL - KEPT)
    assert view.lines == [f"step {i:06d}" for i in range(TOTAL - KEPT, TOTAL)]
    assert kept and max(kept) <= KEPT
    # One redraw per refresh that saw new lines, never one per line or per chunk.
    assert len(redraws) <= TOTAL // 1000, len(redraws)


def test_lines_that_come_before_a_quiet_spell_are_shown_without_waiting_for_more(
    notebook: Notebook, cluster: Cluster
) -> None:
    notebook.ns.plane.append_log(notebook.ns.name, "quiet", "main", "one", "two", "three")
    running_pod(notebook.ns, "quiet")
    view = LogView(cluster.logs("quiet", follow=True), pod="quiet")
    shown = threading.Event()

    def check(change: dict[str, Any]) -> None:
        if change["new"] >= 3:
            shown.set()

    view.observe(check, "received")
    view.start()
    try:
        assert shown.wait(WAIT)
        assert view.following
        assert view.lines == ["one", "two", "three"]
        assert "three" in view.log_box.value
    finally:
        view.stop()
