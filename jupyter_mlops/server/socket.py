"""`mlops/api/ws`: one WebSocket per browser tab carrying live tables and followed logs.

Client → server: `{"op": "subscribe", "id", "kind", "namespace"}`, `{"op": "unsubscribe",
"id"}`, `{"op": "follow", "id", "pod", "container", "tail", "previous"}`, `{"op": "unfollow",
"id"}`. Server → client: `{"id", "type": "snapshot", "rows", "columns"}`, `{"id", "type":
"ADDED"|"MODIFIED"|"DELETED", "row"}`, `{"id", "type": "synced"}`, `{"id", "type": "lines",
"lines", "skipped"}`, `{"id", "type": "end"}`, `{"id", "type": "error", "reason", "message"}`.
Changes are batched for 50 ms, so a burst is one frame.

Pipeline runs: `{"op": "watch-runs", "id"}` / `{"op": "unwatch-runs", "id"}`. The server's one
run poller (every few seconds, while a tab watches) sends `{"id", "type": "runs", "runs",
"gone", "errors"}`: first every row of the newest page of each source, then only the rows that
changed (each with its `source`), ids that left the page, and errors by source (null once a
source answers again).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..errors import BadInput, MLOpsError
from .state import ServerState

if TYPE_CHECKING:
    from ..kube.watch import Subscription

FLUSH_SECONDS = 0.05
LOG_BUFFER = 20_000  # lines kept for a slow browser; older ones are counted as skipped


class LiveSocket(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The tab's live channel; everything it shows comes from the shared watch cache."""

    auth_resource = "mlops"
    example = "ws"

    def set_default_headers(self) -> None:
        """WebSockets take no JupyterHandler default headers."""

    @property
    def state(self) -> ServerState:
        state: ServerState = self.settings["mlops"]
        return state

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "read", "mlops")
        )
        if not allowed:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open()
        self.loop = asyncio.get_running_loop()
        self.subscriptions: dict[str, Subscription] = {}
        self.follows: dict[str, LogFollow] = {}
        self.run_watches: dict[str, Callable[[], None]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.outbox_lock = threading.Lock()
        self.flush_scheduled = False
        self.tasks: set[asyncio.Future[None]] = set()
        self.state.sockets.add(self)

    def on_message(self, message: str | bytes) -> None:
        try:
            request = json.loads(message)
            if not isinstance(request, dict) or not isinstance(request.get("id"), str):
                raise BadInput('a message is a JSON object with a string "id" and an "op"')
            task = asyncio.ensure_future(self.handle(request))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        except ValueError:
            self.send({"id": None, "type": "error", "reason": "Bad input", "message": "not JSON"})
        except MLOpsError as exc:
            self.send({"id": None, "type": "error", **exc.to_json()})

    async def handle(self, request: dict[str, Any]) -> None:
        sid, op = request["id"], request.get("op")
        try:
            if op == "subscribe":
                await self.subscribe(sid, str(request.get("kind", "")), request.get("namespace"))
            elif op == "unsubscribe":
                subscription = self.subscriptions.pop(sid, None)
                if subscription is not None:
                    subscription.close()
            elif op == "follow":
                await self.follow(sid, request)
            elif op == "unfollow":
                follow = self.follows.pop(sid, None)
                if follow is not None:
                    follow.stop()
            elif op == "watch-runs":
                await self.watch_runs(sid)
            elif op == "unwatch-runs":
                stop = self.run_watches.pop(sid, None)
                if stop is not None:
                    stop()
            else:
                raise BadInput(
                    f"unknown op {op!r}: subscribe, unsubscribe, follow, unfollow, watch-runs, "
                    "unwatch-runs"
                )
        except MLOpsError as exc:
            self.send({"id": sid, "type": "error", **exc.to_json()})

    async def subscribe(self, sid: str, kind: str, namespace: Any) -> None:
        if namespace is not None and not isinstance(namespace, str):
            raise BadInput("namespace must be a string")
        from ..kube.rows import columns, row

        def start() -> tuple[Subscription, list[dict[str, Any]], list[str]]:
            cache = self.state.watch_cache()
            k = cache.cluster.kind(kind)
            informer = cache.informer(k, namespace or cache.cluster.namespace)
            informer.wait_synced(timeout=5)

            def changed(type_: str, obj: dict[str, Any] | None) -> None:
                if obj is not None:
                    self.send({"id": sid, "type": type_, "row": row(k.plural, obj)})
                elif type_ == "SYNCED":
                    self.send({"id": sid, "type": "synced"})
                elif type_ == "ERROR" and informer.error is not None:
                    self.send({"id": sid, "type": "error", **informer.error.to_json()})

            subscription = cache.subscribe(k, informer.namespace, changed)
            objects = subscription.informer.objects()
            return subscription, [row(k.plural, o) for o in objects], list(columns(k.plural))

        old = self.subscriptions.pop(sid, None)
        if old is not None:
            old.close()
        subscription, rows, cols = await self.state.run(start)
        self.subscriptions[sid] = subscription
        # The snapshot goes first; changes queued meanwhile follow it in the same flush.
        with self.outbox_lock:
            self.outbox.insert(0, {"id": sid, "type": "snapshot", "rows": rows, "columns": cols})
        self.schedule_flush()

    async def follow(self, sid: str, request: dict[str, Any]) -> None:
        pod = request.get("pod")
        if not isinstance(pod, str) or not pod:
            raise BadInput("follow needs a pod name")
        old = self.follows.pop(sid, None)
        if old is not None:
            old.stop()
        cluster = await self.state.run(self.state.cluster)
        follow = LogFollow(self, sid, cluster, request)
        self.follows[sid] = follow
        follow.start()

    async def watch_runs(self, sid: str) -> None:
        old = self.run_watches.pop(sid, None)
        if old is not None:
            old()

        def changed(rows: list[dict[str, Any]], gone: list[str], errors: dict[str, Any]) -> None:
            self.send({"id": sid, "type": "runs", "runs": rows, "gone": gone, "errors": errors})

        poller = await self.state.run(self.state.run_poller)
        self.run_watches[sid] = await self.state.run(poller.listen, changed)

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message from any thread; the loop sends the batch shortly."""
        with self.outbox_lock:
            self.outbox.append(message)
        self.loop.call_soon_threadsafe(self.schedule_flush)

    def schedule_flush(self) -> None:
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_later(FLUSH_SECONDS, self.send_batch)

    def send_batch(self) -> None:
        self.flush_scheduled = False
        # A follow's lines go before the outbox, which may hold that follow's "end".
        batch = [m for follow in list(self.follows.values()) for m in follow.drain()]
        with self.outbox_lock:
            batch, self.outbox = batch + self.outbox, []
        if not batch:
            return
        try:
            self.write_message(json.dumps(batch))
        except WebSocketClosedError:
            self.on_close()

    def on_close(self) -> None:
        self.state.sockets.discard(self)
        for subscription in getattr(self, "subscriptions", {}).values():
            subscription.close()
        for follow in getattr(self, "follows", {}).values():
            follow.stop()
        for stop in getattr(self, "run_watches", {}).values():
            stop()
        self.subscriptions, self.follows, self.run_watches = {}, {}, {}


class LogFollow:
    """`logs -f` of one pod in a thread, its lines kept in a bounded buffer for the socket."""

    def __init__(self, socket: LiveSocket, sid: str, cluster: Any, request: dict[str, Any]) -> None:
        self.socket, self.sid, self.cluster = socket, sid, cluster
        self.pod = str(request["pod"])
        self.container = request.get("container") or None
        tail = request.get("tail", 1000)
        self.tail = tail if isinstance(tail, int) and tail >= 0 else 1000
        self.previous = bool(request.get("previous"))
        self.namespace = request.get("namespace") or None
        self.lines: deque[str] = deque(maxlen=LOG_BUFFER)
        self.skipped = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"mlops-log-{self.pod}", daemon=True)
        self.stream: Any = None

    def start(self) -> None:
        self.thread.start()

    def run(self) -> None:
        try:
            self.stream = self.cluster.logs(
                self.pod,
                self.container,
                namespace=self.namespace,
                follow=not self.previous,
                tail=self.tail,
                previous=self.previous,
            )
            for line in self.stream:
                if self.stopped.is_set():
                    break
                with self.lock:
                    if len(self.lines) == LOG_BUFFER:
                        self.skipped += 1
                    self.lines.append(line)
                self.socket.loop.call_soon_threadsafe(self.socket.schedule_flush)
            if not self.stopped.is_set():
                self.socket.send({"id": self.sid, "type": "end"})
        except MLOpsError as exc:
            if not self.stopped.is_set():
                self.socket.send({"id": self.sid, "type": "error", **exc.to_json()})

    def drain(self) -> list[dict[str, Any]]:
        with self.lock:
            if not self.lines:
                return []
            lines, skipped = list(self.lines), self.skipped
            self.lines.clear()
            self.skipped = 0
        return [{"id": self.sid, "type": "lines", "lines": lines, "skipped": skipped}]

    def stop(self) -> None:
        self.stopped.set()
        stream = self.stream
        if stream is not None:
            stream.close()
