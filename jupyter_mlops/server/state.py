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

from ..config import NO_CLUSTER, Settings
from ..errors import Unavailable

if TYPE_CHECKING:
    from ..checks import StatusReport
    from ..kube.cluster import Cluster
    from ..kube.watch import Informer, WatchCache
    from ..pipelines.backend import PipelineBackend
    from ..pipelines.local import LocalPipelines
    from ..pipelines.poll import RunPoller
    from ..pipelines.remote import RemotePipelines
    from ..tracking import Tracking

T = TypeVar("T")

#: The pools blocking calls run on, by what they wait for: a hung backend fills only its own.
#: "local" is this machine's disk (local runs, artifact files), never behind a remote backend.
Backend = Literal["cluster", "pipelines", "tracking", "local"]
POOL_SIZES: dict[Backend, int] = {"cluster": 8, "pipelines": 4, "tracking": 4, "local": 2}

STATUS_TTL = 5.0
ROWS_TTL = 5.0
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
    _cluster: Cluster | None = field(default=None, init=False)
    _watch_cache: WatchCache | None = field(default=None, init=False)
    _remote_pipelines: RemotePipelines | None = field(default=None, init=False)
    _local_pipelines: LocalPipelines | None = field(default=None, init=False)
    _run_poller: RunPoller | None = field(default=None, init=False)
    _tracking: Tracking | None = field(default=None, init=False)
    _rows: dict[Any, tuple[str, float, list[dict[str, Any]]]] = field(
        default_factory=dict, init=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    sockets: set[Any] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.status = CachedCall(self._check, STATUS_TTL, self.status_pool)

    def _check(self) -> StatusReport:
        # Imported on the first check, in a worker thread: the models cost JupyterLab's start.
        from ..checks import status

        return status(settings=self.settings)

    async def run(self, call: Callable[..., T], *args: Any, backend: Backend = "cluster") -> T:
        """Run a blocking call on the pool of the backend it waits for: the event loop never
        waits for a backend, and a backend that hangs holds only its own pool's workers."""
        pool = self.pools[backend]
        return await asyncio.get_running_loop().run_in_executor(pool, call, *args)

    def cluster(self) -> Cluster:
        """The one cluster connection of this server (blocking: call it through `run`)."""
        with self._lock:
            if self._cluster is None:
                if self.settings.cluster == "none":
                    raise Unavailable("cluster", NO_CLUSTER)
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

    def remote_pipelines(self) -> RemotePipelines:
        """The Kubeflow Pipelines API of this server; Unavailable, saying how, if none is set."""
        with self._lock:
            if self._remote_pipelines is None:
                if self.settings.pipelines != "remote":
                    raise Unavailable(
                        "pipelines",
                        "No Kubeflow Pipelines endpoint is configured, so runs are local only. "
                        "In a Kubeflow notebook, tick 'Allow access to Kubeflow Pipelines' (the "
                        "PodDefault access-ml-pipeline); elsewhere set $KF_PIPELINES_ENDPOINT "
                        "(or c.MLOpsConfig.kfp_endpoint) and a token.",
                    )
                from ..pipelines.remote import RemotePipelines

                cluster = self.cluster if self.settings.cluster != "none" else None
                self._remote_pipelines = RemotePipelines(self.settings, cluster=cluster)
            return self._remote_pipelines

    def local_pipelines(self) -> LocalPipelines:
        """The history of the runs made on this machine, in the workspace."""
        with self._lock:
            if self._local_pipelines is None:
                from ..pipelines.local import LocalPipelines

                self._local_pipelines = LocalPipelines(
                    self.settings.state_dir / "pipelines", read_only=self.settings.read_only
                )
            return self._local_pipelines

    def pipeline_backends(self) -> dict[str, PipelineBackend]:
        """Every pipelines backend by source: 'local' always, 'remote' when configured."""
        backends: dict[str, PipelineBackend] = {"local": self.local_pipelines()}
        if self.settings.pipelines == "remote":
            backends["remote"] = self.remote_pipelines()
        return backends

    def tracking(self) -> Tracking:
        """The MLflow store of this server (a local one when nothing is configured)."""
        with self._lock:
            if self._tracking is None:
                from ..tracking import Tracking

                self._tracking = Tracking(self.settings)
            return self._tracking

    def run_poller(self) -> RunPoller:
        """The one poller of pipeline runs shared by every browser tab."""
        with self._lock:
            if self._run_poller is None:
                from ..pipelines.poll import RunPoller

                self._run_poller = RunPoller(self.pipeline_backends, interval=RUNS_POLL_SECONDS)
            return self._run_poller

    def sorted_rows(
        self, informer: Informer, make_row: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """An informer's rows sorted by name, made again only when its version moved on."""
        key = (informer.kind, informer.namespace)
        with self._lock:
            cached = self._rows.get(key)
        # Ages are relative to now: keep rows a few seconds at most even when nothing changed.
        if (
            cached is not None
            and cached[0] == informer.resource_version
            and (time.monotonic() - cached[1] < ROWS_TTL)
        ):
            return cached[2]
        version = informer.resource_version
        rows = sorted((make_row(o) for o in informer.objects()), key=lambda r: str(r["name"]))
        with self._lock:
            self._rows[key] = (version, time.monotonic(), rows)
        return rows

    def close(self) -> None:
        """Stop every watch and stream: the server is stopping."""
        for socket in list(self.sockets):
            socket.close()
        if self._run_poller is not None:
            self._run_poller.close()
        if self._watch_cache is not None:
            self._watch_cache.close()
        if self._cluster is not None:
            self._cluster.close()
        for pool in (*self.pools.values(), self.status_pool):
            pool.shutdown(wait=False, cancel_futures=True)
