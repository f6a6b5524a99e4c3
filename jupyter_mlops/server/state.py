"""Per-server state shared by every handler: settings, a thread pool, cached checks."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..checks import StatusReport, status
from ..config import Settings
from ..errors import Unavailable

if TYPE_CHECKING:
    from ..kube.cluster import Cluster
    from ..kube.watch import WatchCache

T = TypeVar("T")

STATUS_TTL = 5.0


class CachedCall(Generic[T]):
    """A blocking call run off the event loop, shared by concurrent callers, kept for `ttl` s."""

    def __init__(self, call: Callable[[], T], ttl: float, pool: ThreadPoolExecutor) -> None:
        self._call = call
        self._ttl = ttl
        self._pool = pool
        self._value: T | None = None
        self._at = 0.0
        self._pending: asyncio.Future[T] | None = None

    async def get(self, *, fresh: bool = False) -> T:
        if not fresh and self._value is not None and time.monotonic() - self._at < self._ttl:
            return self._value
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = asyncio.ensure_future(loop.run_in_executor(self._pool, self._call))
        pending = self._pending
        try:
            value = await asyncio.shield(pending)
        finally:
            if self._pending is pending and pending.done():
                self._pending = None
        self._value, self._at = value, time.monotonic()
        return value


@dataclass
class ServerState:
    """What the handlers share; created once when the extension loads."""

    settings: Settings
    log: logging.Logger
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="mlops")
    )
    status: CachedCall[StatusReport] = field(init=False)
    _cluster: Cluster | None = field(default=None, init=False)
    _watch_cache: WatchCache | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    sockets: set[Any] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.status = CachedCall(lambda: status(settings=self.settings), STATUS_TTL, self.pool)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on the pool: the event loop never waits for a backend."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, call, *args)

    def cluster(self) -> Cluster:
        """The one cluster connection of this server (blocking: call it through `run`)."""
        with self._lock:
            if self._cluster is None:
                if self.settings.cluster == "none":
                    raise Unavailable(
                        "cluster",
                        "No cluster is configured. Inside a Kubeflow notebook this is automatic; "
                        "elsewhere point $KUBECONFIG (or c.MLOpsConfig.kubeconfig) at a "
                        "kubeconfig file.",
                    )
                from ..kube.cluster import Cluster

                self._cluster = Cluster(self.settings)
            return self._cluster

    def watch_cache(self) -> WatchCache:
        """The watches shared by every browser tab of this server."""
        cluster = self.cluster()
        with self._lock:
            if self._watch_cache is None:
                from ..kube.watch import WatchCache

                self._watch_cache = WatchCache(cluster)
            return self._watch_cache

    def close(self) -> None:
        """Stop every watch and stream: the server is stopping."""
        for socket in list(self.sockets):
            socket.close()
        if self._watch_cache is not None:
            self._watch_cache.close()
        if self._cluster is not None:
            self._cluster.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
