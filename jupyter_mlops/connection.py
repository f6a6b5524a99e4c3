"""One object under every surface: what `jupyter_mlops.connect()` returns.

Built from `Settings`, it makes each backend once, when first asked (the cluster and its
shared watches, the local and cluster pipelines, MLflow, serving, tuning), and holds the
policy between them: which backend holds a run (`policy.run_source`), and the read-only guard
every backend is built with. The server, its WebSocket and the magics ask it; none builds a
backend itself. Every call may block (it may connect): a server calls it off its event loop.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .config import NO_CLUSTER, Settings
from .errors import MLOpsError, Unavailable

if TYPE_CHECKING:
    from .config import MLOpsConfig
    from .kube.cluster import Cluster
    from .kube.watch import WatchCache
    from .pipelines.backend import PipelineBackend
    from .pipelines.cluster import ClusterPipelines
    from .pipelines.local import LocalPipelines
    from .pipelines.sources import PipelineSources
    from .serving import Serving
    from .tracking import Tracking
    from .tuning import Tuner

#: What to do when no Kubeflow Pipelines endpoint is configured.
NO_PIPELINES = (
    "No Kubeflow Pipelines endpoint is configured, so runs are local only. In a Kubeflow "
    "notebook, tick 'Allow access to Kubeflow Pipelines' (the PodDefault access-ml-pipeline); "
    "elsewhere set $KF_PIPELINES_ENDPOINT (or c.MLOpsConfig.kfp_endpoint) and a token."
)


class Connection:
    """The backends of one configuration, each made once, and the policy between them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._cluster: Cluster | None = None
        self._watch_cache: WatchCache | None = None
        self._local: LocalPipelines | None = None
        self._cluster_pipelines: ClusterPipelines | None = None
        self._sources: PipelineSources | None = None
        self._tracking: Tracking | None = None
        self._serving: Serving | None = None
        self._tuner: Tuner | None = None

    # -- Kubernetes ------------------------------------------------------------------------

    @property
    def has_cluster(self) -> bool:
        return self.settings.cluster != "none"

    def cluster(self) -> Cluster:
        """The one connection to the Kubernetes API; `Unavailable` when none is configured."""
        with self._lock:
            if self._cluster is None:
                if not self.has_cluster:
                    raise Unavailable("cluster", NO_CLUSTER)
                from .kube.cluster import Cluster

                self._cluster = Cluster(self.settings)
            return self._cluster

    def watch_cache(self) -> WatchCache:
        """The shared watches every live view and the doctor read."""
        with self._lock:
            if self._watch_cache is None:
                from .kube.connect import watch_cache_of

                # The Cluster's one cache: Serving and Tuning, handed only the Cluster, share it.
                self._watch_cache = watch_cache_of(self.cluster())
            return self._watch_cache

    # -- pipelines -------------------------------------------------------------------------

    def local_pipelines(self) -> LocalPipelines:
        """The runs made on this machine, kept in the workspace."""
        with self._lock:
            if self._local is None:
                from .pipelines.local import LocalPipelines
                from .pipelines.sources import pipelines_root

                self._local = LocalPipelines(
                    pipelines_root(self.settings), read_only=self.settings.read_only
                )
            return self._local

    def cluster_pipelines(self) -> ClusterPipelines:
        """Kubeflow Pipelines; `Unavailable`, saying how to set it up, when none is set."""
        with self._lock:
            if self._cluster_pipelines is None:
                if self.settings.pipelines != "cluster":
                    raise Unavailable("pipelines", NO_PIPELINES)
                from .pipelines.cluster import ClusterPipelines

                # Task logs read the pods through the one cluster connection, when asked.
                logs = self.cluster if self.has_cluster else None
                self._cluster_pipelines = ClusterPipelines(
                    self.settings, cluster=logs, unsent=self.pipelines().unsent
                )
            return self._cluster_pipelines

    def pipelines(self) -> PipelineSources:
        """Local and cluster pipelines as one: which holds a run, runs of several sources
        merged with each one's error, and where unsent pipelines are kept."""
        with self._lock:
            if self._sources is None:
                from .pipelines.sources import UNSENT, PipelineSources

                self._sources = PipelineSources(
                    self.local_pipelines,
                    self.cluster_pipelines,
                    has_cluster=self.settings.pipelines == "cluster",
                    unsent=self.local_pipelines().root / UNSENT,
                )
            return self._sources

    def pipeline_backends(self) -> dict[str, PipelineBackend]:
        """Every pipelines backend by source: 'local' always, 'cluster' when configured."""
        sources = self.pipelines()
        return {source: sources.backend(source) for source in sources.configured()}

    def pipelines_of(self, run_id: str, source: str | None = None) -> PipelineBackend:
        """The backend holding a run: `source` when given, else told by the id's shape."""
        return self.pipelines().holding(run_id, source)

    # -- MLflow, serving, tuning -----------------------------------------------------------

    def tracking(self) -> Tracking:
        """MLflow (a local store in the workspace when no server is configured)."""
        with self._lock:
            if self._tracking is None:
                from .tracking import Tracking

                self._tracking = Tracking(self.settings)
            return self._tracking

    def serving(self) -> Serving:
        """Models served from the registry, on this MLflow and this cluster."""
        with self._lock:
            if self._serving is None:
                from .serving import Serving

                self._serving = Serving(
                    self.settings, tracking=self.tracking(), cluster=self._cluster_if_any()
                )
            return self._serving

    def tuner(self) -> Tuner:
        """Hyperparameter searches, local and on Katib."""
        with self._lock:
            if self._tuner is None:
                from .tuning import Tuner

                self._tuner = Tuner(self.settings, cluster=self._cluster_if_any())
            return self._tuner

    def _cluster_if_any(self) -> Cluster | None:
        """The cluster for what also works without one (local models and searches): None
        when none is configured or it cannot be made; they then say why when asked."""
        if not self.has_cluster:
            return None
        try:
            return self.cluster()
        except MLOpsError:
            return None

    def close(self) -> None:
        """Stop the watches and close the cluster connection; what stands on them is made
        again when next asked for (local model servers and local searches keep running)."""
        with self._lock:
            watch_cache, cluster = self._watch_cache, self._cluster
            self._watch_cache = self._cluster = None
            self._cluster_pipelines = self._serving = self._tuner = None
        if watch_cache is not None:
            watch_cache.close()
        if cluster is not None:
            cluster.close()


def connect(config: MLOpsConfig | None = None, *, settings: Settings | None = None) -> Connection:
    """The backends of this configuration: `config` (traitlets, as `%config` sets it), or
    `settings` already resolved, else what the environment says (a Kubeflow pod's own)."""
    if settings is None:
        from .config import resolve

        settings = resolve(config)
    return Connection(settings)


__all__ = ["NO_PIPELINES", "Connection", "connect"]
