"""Per-server state shared by every handler: settings, a thread pool per backend, cached checks."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..config import Settings
from ..connection import Connection

if TYPE_CHECKING:
    from ..checks import StatusReport
    from ..kube.cluster import Cluster
    from ..kube.watch import Informer, WatchCache
    from ..pipelines.backend import PipelineBackend
    from ..pipelines.local import LocalPipelines
    from ..pipelines.poll import RunPoller
    from ..pipelines.remote import RemotePipelines
    from ..serving import Serving
    from ..tracking import Tracking
    from ..tuning import Tuner

T = TypeVar("T")

#: The pools blocking calls run on, by what they wait for: a hung backend fills only its own.
#: "local" is this machine's disk (local runs, artifact files), never behind a remote backend.
Backend = Literal["cluster", "pipelines", "tracking", "local"]
POOL_SIZES: dict[Backend, int] = {"cluster": 8, "pipelines": 4, "tracking": 4, "local": 2}

STATUS_TTL = 5.0
ROWS_TTL = 5.0
#: Kinds whose rows have times relative to now besides `age` (kube/rows.py): after `ROWS_TTL`
#: their rows are all made again; other kinds' rows only get their `age` again.
OTHER_TIMES = frozenset({"jobs", "cronjobs", "events"})
#: Seconds between two looks at the pipeline runs while a browser tab watches them.
RUNS_POLL_SECONDS = 3.0


def _uid(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")


class RowSnapshot:
    """An informer's rows sorted by name at one generation, each row encoded to JSON once.

    The list route joins a page of `encoded` rows and every WebSocket subscriber gets the
    same `array()` string, so neither encodes a row again for each reader.
    """

    def __init__(
        self,
        generation: int,
        rows: list[dict[str, Any]],
        encoded: list[str],
        versions: dict[str, tuple[str, dict[str, Any], str]],
    ) -> None:
        self.generation = generation
        self.made_at = time.monotonic()
        self.rows = rows
        self.encoded = encoded
        #: uid → (resourceVersion, row, encoded row): an object unchanged since is not made again.
        self.versions = versions
        self._array: str | None = None
        self._lock = threading.Lock()
        self._search: list[str] | None = None

    def array(self, counters: RowCounters | None = None) -> str:
        """Every row as one JSON array, joined once and then shared."""
        with self._lock:
            if self._array is None:
                self._array = "[" + ",".join(self.encoded) + "]"
                if counters is not None:
                    counters.arrays += 1
            return self._array

    def matching(self, text: str) -> list[int]:
        """Indexes of the rows whose name or status contains `text` (lower case)."""
        with self._lock:
            if self._search is None:
                self._search = [f"{r['name']} {r.get('status', '')}".lower() for r in self.rows]
            search = self._search
        return [i for i, haystack in enumerate(search) if text in haystack]


@dataclass
class RowCounters:
    """What the row cache made (tests and benchmarks read these): snapshots built, rows made
    and encoded, whole-table arrays joined."""

    snapshots: int = 0
    rows: int = 0
    arrays: int = 0


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
    _rows: dict[Any, RowSnapshot] = field(default_factory=dict, init=False)
    _rows_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    row_counters: RowCounters = field(default_factory=RowCounters, init=False)
    #: The live tables the WebSocket serves, one per (kind, namespace) in view (socket.py).
    live_tables: dict[Any, Any] = field(default_factory=dict, init=False)
    live_tables_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    sockets: set[Any] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.status = CachedCall(self._check, STATUS_TTL, self.status_pool)
        self.connection = Connection(self.settings)

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

    def remote_pipelines(self) -> RemotePipelines:
        return self.connection.cluster_pipelines()

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

                self._run_poller = RunPoller(self.pipeline_backends, interval=RUNS_POLL_SECONDS)
            return self._run_poller

    def row_snapshot(
        self, informer: Informer, make_row: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> RowSnapshot:
        """An informer's rows, built once per informer generation and shared by every reader.

        Blocking (call it through `run`). A change makes again only the rows of the objects
        it changed. Ages are relative to now, so a snapshot is kept `ROWS_TTL` seconds at most
        even when nothing changed; then each unchanged row gets its `age` again (from its
        `created`), and is encoded again only if that age reads differently.
        """
        from ..kube.rows import age

        key = (informer.kind, informer.namespace)
        # One builder at a time per server: concurrent readers wait for it, then share it.
        with self._rows_lock:
            cached = self._rows.get(key)
            fresh = cached is not None and time.monotonic() - cached.made_at < ROWS_TTL
            if cached is not None and fresh and cached.generation == informer.generation:
                return cached
            generation, objects = informer.snapshot()
            aging = cached is not None and not fresh
            reuse = cached.versions if cached is not None else {}
            if aging and informer.kind.plural in OTHER_TIMES:
                reuse = {}
            now = dt.datetime.now(dt.timezone.utc)
            versions: dict[str, tuple[str, dict[str, Any], str]] = {}
            made = 0
            for obj in objects:
                uid = _uid(obj)
                version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
                known = reuse.get(uid)
                if known is None or not version or known[0] != version:
                    row = make_row(obj)
                    known = (version, row, json.dumps(row))
                    made += 1
                elif aging and "age" in known[1]:
                    older = known[1]
                    now_age = age(older.get("created"), now)
                    if now_age != older["age"]:
                        row = {**older, "age": now_age}
                        known = (version, row, json.dumps(row))
                versions[uid] = known
            ordered = sorted(versions.values(), key=lambda v: str(v[1]["name"]))
            snapshot = RowSnapshot(
                generation, [v[1] for v in ordered], [v[2] for v in ordered], versions
            )
            self.row_counters.snapshots += 1
            self.row_counters.rows += made
            self._rows[key] = snapshot
            return snapshot

    def close(self) -> None:
        """Stop every watch and stream: the server is stopping."""
        for socket in list(self.sockets):
            socket.close()
        if self._run_poller is not None:
            self._run_poller.close()
        self.connection.close()
        for pool in (*self.pools.values(), self.status_pool):
            pool.shutdown(wait=False, cancel_futures=True)
