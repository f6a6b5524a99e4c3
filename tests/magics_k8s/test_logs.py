"""`%k8s logs`: a read log, and `-f` in a terminal IPython, on the real plane: kwok serves each
container's log as a kubelet does, from the file `ControlPlane.append_log` writes.

kwok never ends a follow (its kubelet log reader is told every container still runs): that a
terminal follow returns once the pod ends is tested on the emulator, in test_logs_emulated.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.testing.control_plane import OOM_KILLED, cri_line, lifecycle
from jupyter_mlops.widgets.logs import MAX_LINES, PRINT_BACKLOG, LogText
from tests.plane import Namespace, wait_for

from .conftest import Notebook, running_pod

WAIT = 30.0


def talking(ns: Namespace, name: str, *lines: str, containers: tuple[str, ...] = ("main",)) -> None:
    """A running pod whose first container has printed `lines`."""
    ns.plane.append_log(ns.name, name, containers[0], *lines)
    running_pod(ns, name, containers=containers)


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
    talking(notebook.ns, "trainer-0", "epoch 1", "epoch 2")

    log = notebook.k8s("logs trainer-0")

    assert isinstance(log, LogText)
    assert log.lines == ["epoch 1", "epoch 2"]
    assert repr(log) == "epoch 1\nepoch 2"
    assert log.lines == notebook.ns.kubectl("logs", "trainer-0").stdout.splitlines()


def test_tail_and_container_pick_the_lines(notebook: Notebook) -> None:
    ns = notebook.ns
    ns.plane.append_log(ns.name, "trainer-0", "sidecar", "proxy up")
    talking(ns, "trainer-0", *(f"main {i}" for i in range(5)), containers=("main", "sidecar"))

    assert notebook.k8s("logs trainer-0 -c main --tail 2").lines == ["main 3", "main 4"]
    assert notebook.k8s("logs trainer-0 --container sidecar").lines == ["proxy up"]


def test_a_pod_with_several_containers_asks_which(notebook: Notebook) -> None:
    running_pod(notebook.ns, "trainer-0", containers=("main", "sidecar"))

    # The API server's own answer.
    with pytest.raises(UsageError, match=r"choose one of: \[main sidecar\]"):
        notebook.k8s("logs trainer-0")


def test_previous_shows_the_crashed_container(notebook: Notebook) -> None:
    ns = notebook.ns
    ns.plane.append_log(ns.name, "trainer-0", "main", "Killed: out of memory", previous=True)
    ns.plane.append_log(ns.name, "trainer-0", "main", "starting again")
    # kwok, as the kubelet, kills it for memory and restarts it.
    ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "trainer-0", **lifecycle(OOM_KILLED)},
            "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
        }
    )
    wait_for(
        "a restart",
        lambda: (
            ns.get("pod", "trainer-0")["status"]
            .get("containerStatuses", [{}])[0]
            .get("restartCount")
        ),
        WAIT,
    )

    assert notebook.k8s("logs trainer-0 --previous").lines == ["Killed: out of memory"]
    assert notebook.k8s("logs trainer-0").lines == ["starting again"]


def test_since_leaves_out_older_lines_and_timestamps_prefix_them(notebook: Notebook) -> None:
    ns = notebook.ns
    now = dt.datetime.now(dt.timezone.utc)
    ns.plane.log_file(ns.name, "trainer-0", "main").write_text(
        cri_line("an hour ago", when=now - dt.timedelta(hours=1)) + cri_line("just now", when=now)
    )
    running_pod(ns, "trainer-0")

    assert notebook.k8s("logs trainer-0 --since 5m").lines == ["just now"]
    stamped = notebook.k8s("logs trainer-0 --timestamps").lines
    assert [line.split(" ", 1)[1] for line in stamped] == ["an hour ago", "just now"]
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in stamped)
    assert stamped == ns.kubectl("logs", "trainer-0", "--timestamps").stdout.splitlines()


def test_log_lines_are_escaped_in_html(notebook: Notebook) -> None:
    talking(notebook.ns, "trainer-0", "<script>alert(1)</script>", "a & b")

    shown = notebook.k8s("logs trainer-0")._repr_html_()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;\na &amp; b</pre>" in shown
    assert "<script>" not in shown


def test_a_long_log_shows_its_end_in_html_and_keeps_every_line(notebook: Notebook) -> None:
    total = MAX_LINES + 250
    talking(notebook.ns, "trainer-0", *(f"line {i:05d}" for i in range(total)))

    log = notebook.k8s("logs trainer-0")
    shown = log._repr_html_()

    assert len(log.lines) == total
    assert f"250 earlier lines not shown here; all {total} are in this result" in shown
    assert "line 00249" not in shown and "line 00250" in shown and f"line {total - 1:05d}" in shown


def ctrl_c_once(screen: Screen, line: str) -> threading.Thread:
    """A user who presses Ctrl-C once `line` is on the screen."""
    main = threading.main_thread().ident
    assert main == threading.get_ident()  # the signal must reach the thread running the magic
    assert main is not None

    def press() -> None:
        screen.wait_for(line)
        signal.pthread_kill(main, signal.SIGINT)

    user = threading.Thread(target=press)
    user.start()
    return user


def test_follow_in_a_terminal_prints_lines_as_they_come(notebook: Notebook) -> None:
    ns = notebook.ns
    talking(ns, "trainer-0", "epoch 1")
    screen = Screen()

    def training() -> None:
        screen.wait_for("epoch 1")
        ns.plane.append_log(ns.name, "trainer-0", "main", "epoch 2")
        screen.wait_for("epoch 2")
        ns.plane.append_log(ns.name, "trainer-0", "main", "done")

    pod = threading.Thread(target=training)
    pod.start()
    user = ctrl_c_once(screen, "done")
    with contextlib.redirect_stdout(screen):
        result = notebook.k8s("logs trainer-0 -f")
    pod.join(WAIT)
    user.join(WAIT)

    assert result is None
    assert screen.lines == [
        "epoch 1",
        "epoch 2",
        "done",
        "",
        "Stopped following the log of trainer-0.",
    ]


def test_ctrl_c_stops_following_in_a_terminal(notebook: Notebook) -> None:
    talking(notebook.ns, "trainer-0", "epoch 1")
    screen = Screen()
    user = ctrl_c_once(screen, "epoch 1")

    with contextlib.redirect_stdout(screen):
        result = notebook.k8s("logs trainer-0 -f")
    user.join(WAIT)

    assert result is None
    assert screen.lines == ["epoch 1", "", "Stopped following the log of trainer-0."]
    assert notebook.ns.get("pod", "trainer-0")["status"]["phase"] == "Running"


def test_follow_in_a_terminal_prints_a_long_log_whole_and_in_order(notebook: Notebook) -> None:
    lines = [f"step {i}" for i in range(2 * PRINT_BACKLOG + 7)]
    talking(notebook.ns, "trainer-0", *lines)
    screen = Screen()
    user = ctrl_c_once(screen, lines[-1])

    with contextlib.redirect_stdout(screen):
        notebook.k8s("logs trainer-0 -f")
    user.join(WAIT)

    assert screen.lines == [*lines, "", "Stopped following the log of trainer-0."]
