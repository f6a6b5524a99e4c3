"""Per-container log buffers that `pods/log` reads and follows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

LogKey = tuple[str, str, str]  # namespace, pod, container


def timestamp(at: float) -> str:
    """RFC 3339 with nanoseconds, as the kubelet prefixes log lines."""
    moment = datetime.fromtimestamp(at, tz=timezone.utc)
    nanos = round((at - int(at)) * 1e9) % 1_000_000_000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


class ContainerLog:
    """One container's output: chunks of whole lines, each stamped with when it was appended."""

    __slots__ = ("chunks", "lines", "size")

    def __init__(self) -> None:
        self.chunks: list[tuple[float, bytes, int]] = []
        self.lines = 0
        self.size = 0

    def add(self, at: float, data: bytes, lines: int) -> None:
        """Append a chunk of `lines` newline-terminated lines."""
        self.chunks.append((at, data, lines))
        self.lines += lines
        self.size += len(data)


def _encode(lines: str | bytes | Iterable[str]) -> tuple[bytes, int]:
    if isinstance(lines, bytes):
        data = lines
    elif isinstance(lines, str):
        data = lines.encode()
    else:
        data = "\n".join(lines).encode()
        if not data:
            return b"", 0
        data += b"\n"
    if not data:
        return b"", 0
    if not data.endswith(b"\n"):
        data += b"\n"
    return data, data.count(b"\n")


def render(chunk: tuple[float, bytes, int], timestamps: bool) -> bytes:
    """A chunk as the log endpoint sends it, with timestamp prefixes when asked."""
    at, data, _lines = chunk
    if not timestamps:
        return data
    prefix = (timestamp(at) + " ").encode()
    return prefix + data[:-1].replace(b"\n", b"\n" + prefix) + b"\n"


def tail_chunks(
    chunks: list[tuple[float, bytes, int]], tail: int
) -> list[tuple[float, bytes, int]]:
    """The last `tail` lines, keeping each line's timestamp."""
    if tail <= 0:
        return []
    picked: list[tuple[float, bytes, int]] = []
    remaining = tail
    for at, data, lines in reversed(chunks):
        if lines <= remaining:
            picked.append((at, data, lines))
            remaining -= lines
        else:
            cut = len(data) - 1
            for _ in range(remaining):
                cut = data.rfind(b"\n", 0, cut)
            picked.append((at, data[cut + 1 :], remaining))
            remaining = 0
        if remaining == 0:
            break
    picked.reverse()
    return picked


class LogStore:
    """Current and previous logs of every container, and who follows them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[LogKey, ContainerLog] = {}
        self._previous: dict[LogKey, ContainerLog] = {}
        self._followers: dict[tuple[str, str], set[Callable[[], None]]] = {}

    def append(
        self,
        namespace: str,
        pod: str,
        container: str,
        lines: str | bytes | Iterable[str],
        *,
        previous: bool = False,
        at: float | None = None,
    ) -> int:
        """Append lines (a list, or text with newlines); returns how many were added."""
        data, count = _encode(lines)
        if not count:
            return 0
        with self._lock:
            table = self._previous if previous else self._current
            buffer = table.setdefault((namespace, pod, container), ContainerLog())
            buffer.add(time.time() if at is None else at, data, count)
            wake = list(self._followers.get((namespace, pod), ()))
        for callback in wake:
            callback()
        return count

    def buffer(
        self, namespace: str, pod: str, container: str, previous: bool
    ) -> ContainerLog | None:
        """The buffer a log request reads, if the container ever wrote."""
        with self._lock:
            table = self._previous if previous else self._current
            return table.get((namespace, pod, container))

    def ensure(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The current buffer, created empty so a follower can wait on it."""
        with self._lock:
            return self._current.setdefault((namespace, pod, container), ContainerLog())

    def restart(self, namespace: str, pod: str, container: str) -> None:
        """A container restarted: its output becomes `previous`, a fresh buffer starts."""
        with self._lock:
            key = (namespace, pod, container)
            self._previous[key] = self._current.pop(key, ContainerLog())
            wake = list(self._followers.get((namespace, pod), ()))
        for callback in wake:
            callback()

    def forget(self, namespace: str, pod: str) -> None:
        """The pod is gone: its logs go with it."""
        with self._lock:
            for table in (self._current, self._previous):
                for key in [k for k in table if k[0] == namespace and k[1] == pod]:
                    del table[key]

    def wake(self, namespace: str, pod: str) -> None:
        """Tell followers of a pod that something changed (new lines, pod state)."""
        with self._lock:
            wake = list(self._followers.get((namespace, pod), ()))
        for callback in wake:
            callback()

    def follow(self, namespace: str, pod: str, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) whenever the pod's logs or state change."""
        with self._lock:
            self._followers.setdefault((namespace, pod), set()).add(callback)

    def unfollow(self, namespace: str, pod: str, callback: Callable[[], None]) -> None:
        """Stop calling `callback`."""
        with self._lock:
            followers = self._followers.get((namespace, pod))
            if followers is not None:
                followers.discard(callback)
                if not followers:
                    del self._followers[(namespace, pod)]

    def dump(self) -> list[list[object]]:
        """Everything, for saving state: [namespace, pod, container, previous, [[at, text]...]]."""
        with self._lock:
            out: list[list[object]] = []
            for previous, table in ((False, self._current), (True, self._previous)):
                for (ns, pod, container), buffer in table.items():
                    chunks = [[at, data.decode(errors="replace")] for at, data, _n in buffer.chunks]
                    out.append([ns, pod, container, previous, chunks])
            return out

    def load(self, saved: list[list[object]]) -> None:
        """Restore what `dump` returned."""
        for ns, pod, container, previous, chunks in saved:
            for at, text in chunks:  # type: ignore[attr-defined]
                self.append(
                    str(ns),
                    str(pod),
                    str(container),
                    str(text),
                    previous=bool(previous),
                    at=float(at),
                )
