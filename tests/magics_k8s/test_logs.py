"""`%k8s logs`: a read log, and `-f` in a terminal IPython, which prints until the pod ends."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.widgets.logs import MAX_LINES, PRINT_BACKLOG, LogText

from .conftest import NAMESPACE, Notebook, running_pod

WAIT = 10.0


class Screen:
    """A terminal stand-in: what was printed, line by line, with a way to await a line."""

    def __init__(self) -> None:
        self.text = ""
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            self.text += text
            self._changed.notify_all()
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def wait_for(self, line: str) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: line in self.lines, timeout=WAIT):
                raise AssertionError(f"{line!r} never printed; got {self.lines}")


def test_logs_returns_the_lines(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["epoch 1", "epoch 2"])

    log = notebook.k8s("logs trainer-0")

    assert isinstance(log, LogText)
    assert log.lines == ["epoch 1", "epoch 2"]
    assert repr(log) == "epoch 1\nepoch 2"


def test_tail_and_container_pick_the_lines(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0", containers=("main", "sidecar")))
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", [f"main {i}" for i in range(5)])
    notebook.kube.append_log(NAMESPACE, "trainer-0", "sidecar", ["proxy up"])

    assert notebook.k8s("logs trainer-0 -c main --tail 2").lines == ["main 3", "main 4"]
    assert notebook.k8s("logs trainer-0 --container sidecar").lines == ["proxy up"]


def test_a_pod_with_several_containers_asks_which(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0", containers=("main", "sidecar")))

    with pytest.raises(UsageError, match=r"choose one of: \[main sidecar\]"):
        notebook.k8s("logs trainer-0")


def test_previous_shows_the_crashed_container(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["Killed: out of memory"])
    notebook.kube.restart_container(NAMESPACE, "trainer-0", "main", exit_code=137)
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["starting again"])

    assert notebook.k8s("logs trainer-0 --previous").lines == ["Killed: out of memory"]
    assert notebook.k8s("logs trainer-0").lines == ["starting again"]


def test_since_leaves_out_older_lines_and_timestamps_prefix_them(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    an_hour_ago = time.time() - 3600
    notebook.kube.logs.append(NAMESPACE, "trainer-0", "main", ["an hour ago"], at=an_hour_ago)
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["just now"])

    assert notebook.k8s("logs trainer-0 --since 5m").lines == ["just now"]
    stamped = notebook.k8s("logs trainer-0 --timestamps").lines
    assert [line.split(" ", 1)[1] for line in stamped] == ["an hour ago", "just now"]
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in stamped)


def test_log_lines_are_escaped_in_html(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["<script>alert(1)</script>", "a & b"])

    shown = notebook.k8s("logs trainer-0")._repr_html_()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;\na &amp; b</pre>" in shown
    assert "<script>" not in shown


def test_a_long_log_shows_its_end_in_html_and_keeps_every_line(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    total = MAX_LINES + 250
    lines = [f"line {i:05d}" for i in range(total)]
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", lines)

    log = notebook.k8s("logs trainer-0")
    shown = log._repr_html_()

    assert len(log.lines) == total
    assert f"250 earlier lines not shown here; all {total} are in this result" in shown
    assert "line 00249" not in shown and "line 00250" in shown and f"line {total - 1:05d}" in shown


def test_follow_in_a_terminal_prints_lines_as_they_come_until_the_pod_ends(
    notebook: Notebook,
) -> None:
    kube = notebook.kube
    kube.create(running_pod("trainer-0"))
    kube.append_log(NAMESPACE, "trainer-0", "main", ["epoch 1"])
    screen = Screen()

    def training() -> None:
        try:
            screen.wait_for("epoch 1")
            kube.append_log(NAMESPACE, "trainer-0", "main", ["epoch 2"])
            screen.wait_for("epoch 2")
            kube.append_log(NAMESPACE, "trainer-0", "main", ["done"])
        finally:
            kube.finish_pod(NAMESPACE, "trainer-0", exit_code=0)

    pod = threading.Thread(target=training)
    pod.start()
    with contextlib.redirect_stdout(screen):
        result = notebook.k8s("logs trainer-0 -f")
    pod.join(WAIT)

    assert result is None
    assert screen.lines == ["epoch 1", "epoch 2", "done"]


def test_ctrl_c_stops_following_in_a_terminal(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", ["epoch 1"])
    screen = Screen()
    main = threading.main_thread().ident
    assert main == threading.get_ident()  # the signal must reach the thread running the magic

    def press_ctrl_c() -> None:
        screen.wait_for("epoch 1")
        signal.pthread_kill(main, signal.SIGINT)

    user = threading.Thread(target=press_ctrl_c)
    user.start()
    with contextlib.redirect_stdout(screen):
        result = notebook.k8s("logs trainer-0 -f")
    user.join(WAIT)

    assert result is None
    assert screen.lines == ["epoch 1", "", "Stopped following the log of trainer-0."]
    pod = notebook.kube.get("v1", "Pod", "trainer-0", NAMESPACE)
    assert pod is not None and pod["status"]["phase"] == "Running"


def test_follow_in_a_terminal_prints_a_long_log_whole_and_in_order(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    lines = [f"step {i}" for i in range(2 * PRINT_BACKLOG + 7)]
    notebook.kube.append_log(NAMESPACE, "trainer-0", "main", lines)
    notebook.kube.finish_pod(NAMESPACE, "trainer-0", exit_code=0)
    screen = Screen()

    with contextlib.redirect_stdout(screen):
        notebook.k8s("logs trainer-0 -f")

    assert screen.lines == lines
