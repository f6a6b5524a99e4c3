"""A pod's log: `LogText` read once, `LogView` followed live in a notebook, `print_follow` in a
terminal."""

from __future__ import annotations

import collections
import html
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import ipywidgets as widgets
from traitlets import Bool, Float, Int, Unicode, observe

# Lines a view keeps and shows; older ones are dropped and counted, so a chatty pod cannot
# fill the kernel's memory or the browser.
MAX_LINES = 5000
# A followed log redraws at most this often, however fast lines come.
REFRESH_SECONDS = 0.2
# A terminal follow prints what arrived at least this often.
PRINT_SECONDS = 0.05
PRINT_BACKLOG = 10_000

# Newest lines at the bottom, and the box starts scrolled there (no JavaScript needed).
_BOX = (
    "max-height:32em;overflow:auto;display:flex;flex-direction:column-reverse;"
    "border:1px solid var(--jp-border-color2)"
)
_PRE = (
    "margin:0;padding:4px;font-family:var(--jp-code-font-family);font-size:var(--jp-code-font-size)"
)


class Closable(Protocol):
    """A source of lines that another thread can end (as `Cluster.logs(...)` returns)."""

    def __iter__(self) -> Iterator[str]: ...

    def close(self) -> None: ...


def log_html(lines: Iterable[str]) -> str:
    """Lines as a scrolled, escaped `<pre>` block."""
    text = html.escape("\n".join(lines))
    return f'<div style="{_BOX}"><pre style="{_PRE}">{text}</pre></div>'


class LogText:
    """A log read once (`%k8s logs POD`): all its lines, the last `MAX_LINES` shown in HTML."""

    def __init__(self, lines: Iterable[str], *, pod: str = "", container: str = "") -> None:
        self.lines = list(lines)
        self.pod = pod
        self.container = container

    def _repr_html_(self) -> str:
        if not self.lines:
            return "<p>The log is empty.</p>"
        hidden = len(self.lines) - MAX_LINES
        note = (
            f"<p>{hidden} earlier lines not shown here; all {len(self.lines)} are in this "
            "result's <code>.lines</code> (or use <code>--tail</code>).</p>"
            if hidden > 0
            else ""
        )
        return note + log_html(self.lines[-MAX_LINES:])

    def __repr__(self) -> str:
        return "\n".join(self.lines)


def print_follow(source: Closable, write: Callable[[str], object]) -> bool:
    """Write lines as they come until the source ends (True) or Ctrl-C (False).

    A background thread reads, so Ctrl-C never lands inside a socket read (where it can leave
    the connection's buffers locked); this thread only waits and writes, in batches. At most
    `PRINT_BACKLOG` lines wait to be written: a slow terminal slows the reading, not memory.
    """
    arrived: collections.deque[str] = collections.deque()
    changed = threading.Condition()
    state = {"ended": False, "stopping": False}
    failure: list[BaseException] = []

    def read() -> None:
        append = arrived.append
        try:
            for line in source:
                append(line)
                if len(arrived) >= PRINT_BACKLOG:
                    with changed:
                        changed.notify_all()
                        changed.wait_for(lambda: len(arrived) < PRINT_BACKLOG or state["stopping"])
        except Exception as exc:
            failure.append(exc)
        finally:
            with changed:
                state["ended"] = True
                changed.notify_all()

    def drain() -> None:
        count = len(arrived)
        if count:
            take = arrived.popleft
            write("\n".join([take() for _ in range(count)]) + "\n")
        with changed:
            changed.notify_all()

    def due() -> bool:
        return state["ended"] or len(arrived) >= PRINT_BACKLOG

    reader = threading.Thread(target=read, name="log-follow", daemon=True)
    reader.start()
    try:
        while not state["ended"]:
            with changed:
                changed.wait_for(due, timeout=PRINT_SECONDS)
            drain()
    except KeyboardInterrupt:
        state["stopping"] = True
        source.close()
        with changed:
            changed.notify_all()
        reader.join()
        drain()
        return False
    reader.join()
    drain()
    if failure:
        raise failure[0]
    return True


class _Received:
    """Lines received so far, written by the reader alone (a plain slot: no lock per line)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class LogView(widgets.VBox):  # type: ignore[misc]
    """A followed log: lines arrive from a background thread until the pod ends or Stop.

    The reader only appends each line to a bounded deque (thread-safe, no lock); the painter
    moves what arrived to the view's buffer once per refresh, under the view's lock. At most
    `max_lines` lines wait and `max_lines` are shown, however many the pod writes.

    >>> view = LogView(cluster.logs("trainer-0", follow=True), pod="trainer-0").start()
    """

    pod = Unicode("", help="The pod whose log is shown.")
    container = Unicode("", help="The container, when the pod has several.")
    max_lines = Int(MAX_LINES, help="Lines kept and shown; older ones are dropped and counted.")
    refresh_seconds = Float(REFRESH_SECONDS, help="Least time between two redraws.")
    received = Int(0, help="Lines received since the follow started.")
    dropped = Int(0, help="Received lines no longer shown, because only max_lines are kept.")
    following = Bool(False, help="True while more lines may come.")
    error = Unicode("", help="Why the follow broke, if it did.")

    def __init__(self, source: Closable, **kwargs: Any) -> None:
        self.header = widgets.HTML()
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", tooltip="Stop following this log", disabled=True
        )
        self.log_box = widgets.HTML(value=log_html([]))
        # Before the traits are set: a `max_lines=` given here resizes these at once.
        self._lock = threading.Lock()
        self._buffer: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        # Lines read and not yet moved to `_buffer`; when full, the oldest are dropped.
        self._incoming: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        super().__init__(
            children=[widgets.HBox([self.stop_button, self.header]), self.log_box], **kwargs
        )
        self._source = source
        self._received = _Received()
        self._ended = threading.Event()
        self._reader: threading.Thread | None = None
        self._painter: threading.Thread | None = None
        self.stop_button.on_click(lambda _button: self.stop())
        self._show_header()

    # -- public ----------------------------------------------------------------------------

    def start(self) -> LogView:
        """Start following in the background; returns the view, to display it."""
        if self._reader is not None:
            return self
        self.following = True
        name = f"log-{self.pod}"
        self._reader = threading.Thread(target=self._read, name=name, daemon=True)
        self._painter = threading.Thread(target=self._paint, name=f"{name}-view", daemon=True)
        self._reader.start()
        self._painter.start()
        return self

    def stop(self) -> None:
        """Stop following (the Stop button does this); the lines shown stay."""
        self._source.close()
        self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the follow has ended and the last lines are shown; False on timeout."""
        if self._reader is None or self._painter is None:
            return True
        self._reader.join(timeout)
        self._painter.join(timeout)
        return not self._painter.is_alive()

    @property
    def lines(self) -> list[str]:
        """The lines kept now (at most `max_lines`, newest last)."""
        with self._lock:
            self._take()
            return list(self._buffer)

    # -- background ------------------------------------------------------------------------

    def _read(self) -> None:
        received = self._received
        try:
            for count, line in enumerate(self._source, 1):
                self._incoming.append(line)
                received.count = count
        except Exception as exc:
            self.error = str(getattr(exc, "message", exc))
        finally:
            self._ended.set()

    def _paint(self) -> None:
        shown = -1
        ended = False
        while not ended:
            # Waiting on the end rather than sleeping: the last lines show at once.
            ended = self._ended.wait(self.refresh_seconds)
            count = self._received.count
            if count == shown:
                continue
            with self._lock:
                self._take()
                lines = list(self._buffer)
            shown = count
            self.log_box.value = log_html(lines)
            self.dropped = max(0, count - len(lines))
            self.received = count
        self.following = False

    def _take(self) -> None:
        """Move what arrived to the shown buffer (lock held). Only holders of the lock take
        from the left and the reader only appends, so what `len` counted is still there."""
        take = self._incoming.popleft
        self._buffer.extend([take() for _ in range(len(self._incoming))])

    # -- view ------------------------------------------------------------------------------

    @observe("max_lines")
    def _resize(self, change: dict[str, Any]) -> None:
        with self._lock:
            size = max(1, change["new"])
            self._buffer = collections.deque(self._buffer, maxlen=size)
            self._incoming = collections.deque(self._incoming, maxlen=size)

    @observe("pod", "container", "received", "dropped", "following", "error")
    def _show_header(self, _: Any = None) -> None:
        name = html.escape(self.pod + (f"/{self.container}" if self.container else ""))
        state = "following…" if self.following else "ended"
        dropped = f" ({self.dropped} older lines dropped)" if self.dropped else ""
        error = (
            f' <span style="color:var(--jp-error-color1)">{html.escape(self.error)}</span>'
            if self.error
            else ""
        )
        self.header.value = f"<code>{name}</code> · {state} · {self.received} lines{dropped}{error}"
        self.stop_button.disabled = not self.following


__all__ = [
    "MAX_LINES",
    "PRINT_BACKLOG",
    "Closable",
    "LogText",
    "LogView",
    "log_html",
    "print_follow",
]
