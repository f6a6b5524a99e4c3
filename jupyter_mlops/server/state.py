"""Per-server state shared by every handler: settings, a thread pool per backend, cached checks."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..config import Settings
from ..connection import Connection
from ..kube.rows import RowCounters

if TYPE_CHECKING:
    from ..checks import StatusReport
    from ..kube.cluster import Cluster
    from ..kube.rows import Obj, Row, RowView
    from ..kube.watch import Informer, WatchCache
    from ..pipelines.backend import PipelineBackend
    from ..pipelines.local import LocalPipelines
    from ..pipelines.poll import RunPoller
    from ..serving import Serving
    from ..tracking import Tracking
    from ..tuning import Tuner

T = TypeVar("T")

#: The pools blocking calls run on, by what they wait for: a hung backend fills only its own.
#: "local" is this machine's disk (local runs, artifact files), never behind a networked backend.
Backend = Literal["cluster", "pipelines", "tracking", "local"]
POOL_SIZES: dict[Backend, int] = {"cluster": 8, "pipelines": 4, "tracking": 4, "local": 2}

#: Seconds a status report is kept. The sidebar asks every 10 s, but each check costs the API
#: server a GET /version and a SelfSubjectAccessReview: kept this long, a revoked token or a
#: dead API server shows within a minute, and at once when the user asks again (`fresh`).
STATUS_TTL = 60.0
#: Seconds between two looks at the pipeline runs while a browser tab watches them.
RUNS_POLL_SECONDS = 3.0


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
    #: The class of `connection` (the extension's `connection_class` trait picks it).
    connection_class: type[Connection] = Connection
    pools: dict[Backend, ThreadPoolExecutor] = field(
        default_factory=lambda: {
            name: ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"mlops-{name}")
            for name, size in POOL_SIZES.items()
        }
    )
    # The status check asks all three backends at once, each within a short deadline: on a
    # pool of its own it neither waits behind a hung backend nor holds a worker one needs.
    # One worker is enough, as concurrent callers share one check.
    status_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlops-status")
    )
    status: CachedCall[StatusReport] = field(init=False)
    #: The backends and the policy between them, as every surface has them.
    connection: Connection = field(init=False)
    _run_poller: RunPoller | None = field(default=None, init=False)
    row_counters: RowCounters = field(default_factory=RowCounters, init=False)
    #: The live tables the WebSocket serves, one per (kind, namespace) in view (socket.py).
    live_tables: dict[Any, Any] = field(default_factory=dict, init=False)
    live_tables_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    sockets: set[Any] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.status = CachedCall(self._check, STATUS_TTL, self.status_pool)
        self.connection = self.connection_class(self.settings)

    def _check(self) -> StatusReport:
        # Imported on the first check, in a worker thread: the models cost JupyterLab's start.
        from ..checks import status

        return status(settings=self.settings)

    async def run(self, call: Callable[..., T], *args: Any, backend: Backend = "cluster") -> T:
        """Run a blocking call on the pool of the backend it waits for: the event loop never
        waits for a backend, and a backend that hangs holds only its own pool's workers."""
        pool = self.pools[backend]
        return await asyncio.get_running_loop().run_in_executor(pool, call, *args)

    # Every backend is the connection's (blocking: call them through `run`).

    def cluster(self) -> Cluster:
        return self.connection.cluster()

    def watch_cache(self) -> WatchCache:
        return self.connection.watch_cache()

    def local_pipelines(self) -> LocalPipelines:
        return self.connection.local_pipelines()

    def pipeline_backends(self) -> dict[str, PipelineBackend]:
        return self.connection.pipeline_backends()

    def tracking(self) -> Tracking:
        return self.connection.tracking()

    def serving(self) -> Serving:
        return self.connection.serving()

    def tuning(self) -> Tuner:
        return self.connection.tuner()

    def run_poller(self) -> RunPoller:
        """The one poller of pipeline runs shared by every browser tab."""
        with self._lock:
            if self._run_poller is None:
                from ..pipelines.poll import RunPoller

                self._run_poller = RunPoller(self.connection.pipelines, interval=RUNS_POLL_SECONDS)
            return self._run_poller

    def row_snapshot(self, informer: Informer, make_row: Callable[[Obj], Row]) -> RowView:
        """An informer's rows as they are now, read from its row index without rebuilding.

        Blocking the first time (the index is made from the informer's objects, then kept
        current by its events). Ages are written as rows are read, so a view is always right.
        """
        return informer.rows(make_row, self.row_counters).view()

    def close(self) -> None:
        """Stop every watch and stream: the server is stopping."""
        for socket in list(self.sockets):
            socket.close()
        if self._run_poller is not None:
            self._run_poller.close()
        self.connection.close()
        for pool in (*self.pools.values(), self.status_pool):
            pool.shutdown(wait=False, cancel_futures=True)
