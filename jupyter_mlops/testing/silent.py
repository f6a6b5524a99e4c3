"""TCP listeners on loopback that answer late, never, or never even accept, for fault tests."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

__all__ = ["FullListener", "SilentListener"]

#: What a late answer says unless told otherwise: an empty JSON object.
EMPTY_JSON = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}"
)


class SilentListener:
    """Accepts every TCP connection on 127.0.0.1 and never sends a byte back.

    `connections` counts the connections accepted, so a test sees whether a client retried.
    With `answer_after`, each request is read and answered with `answer` that many seconds
    later instead: a server still computing. Use it as a context manager, or call `close`.
    """

    def __init__(self, *, answer_after: float | None = None, answer: bytes = EMPTY_JSON) -> None:
        self.answer_after = answer_after
        self.answer = answer
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.05)
        self.port: int = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-listener", daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return len(self._accepted)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted.append(conn)
            if self.answer_after is not None:
                threading.Thread(target=self._answer_late, args=(conn,), daemon=True).start()

    def _answer_late(self, conn: socket.socket) -> None:
        assert self.answer_after is not None
        try:
            _read_request(conn)
            if not self._closed.wait(self.answer_after):
                conn.sendall(self.answer)
        except OSError:
            pass

    def close(self) -> None:
        """Stop listening and drop every connection held."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for conn in self._accepted:
                conn.close()

    def __enter__(self) -> SilentListener:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class FullListener:
    """A port on 127.0.0.1 whose accept queue is full: a new connection never completes.

    The kernel drops the SYN of a connection it has no room for, as a firewall that drops
    packets would, so a client's connect deadline runs out. Nothing is ever accepted.
    """

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0)
        self.port: int = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # This one connection fills the queue.
        self._filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def close(self) -> None:
        """Stop listening."""
        self._filler.close()
        self._server.close()

    def __enter__(self) -> FullListener:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _read_request(conn: socket.socket) -> None:
    """Read one HTTP request: its head, then as many body bytes as it announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk
