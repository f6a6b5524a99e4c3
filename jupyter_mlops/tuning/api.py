"""`tune()`: search a component's parameters here or on Katib; `Tuner` lists searches, gives
the best parameters and stops them, whichever surface asks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import BadInput, Conflict, Invalid, MLOpsError, NotFound
from ..policy import refuse_writes
from .algorithms import check_algorithm, grid_size, suggestions
from .component import describe, require_fit
from .limits import Limits
from .local import LocalSearch
from .models import Tuning, TuningState
from .objective import Direction, Objective
from .space import Param, Value, check_space
from .store import TuningStore, check_name, new_name

if TYPE_CHECKING:
    from ..config import Settings
    from ..connection import Connection
    from ..kube.cluster import Cluster
    from ..serving.models import Finding

#: How often a search on the cluster is read again while someone follows it.
CLUSTER_POLL = 2.0
# Local searches running in this process, by name, so that any surface can stop them.
_RUNNING: dict[str, LocalSearch] = {}
_RUNNING_LOCK = threading.Lock()


class Search(Protocol):
    """A running or ended search, local or on Katib."""

    @property
    def name(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def finished(self) -> bool: ...
    def refresh(self) -> Tuning: ...
    def snapshot(self) -> Tuning: ...
    def wait(self, timeout: float | None = None) -> Tuning: ...
    def stop(self) -> Tuning: ...
    def best(self) -> dict[str, Any]: ...


def best_parameters(tuning: Tuning) -> dict[str, Any]:
    """The best trial's parameters; `NotFound` when no trial has reported the objective."""
    best = tuning.best()
    if best is None or best.objective is None:
        raise NotFound(f"no trial of {tuning.name} has reported {tuning.metric} yet")
    return dict(best.parameters)


def _settings(settings: Settings | None) -> Settings:
    from ..config import resolve

    return settings if settings is not None else resolve()


def _objective(objective: str | Objective, direction: Direction) -> Objective:
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise BadInput(f"the objective is a metric's name, not {objective!r}")
    return Objective(objective, direction)


def tune(
    component: Any,
    space: Mapping[str, Param],
    objective: str | Objective,
    *,
    direction: Direction = "maximize",
    max_trials: int = 12,
    parallel: int = 3,
    max_failed: int | None = None,
    algorithm: str = "random",
    cluster: bool = False,
    name: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
    track: bool = True,
    connection: Connection | None = None,
) -> Search:
    """Search `space` for the component's best `objective` and return the search at once.

    Locally (the default) each trial is a local pipeline run of the component in its own
    worker process, `parallel` at a time, each a nested MLflow run of the search's run; with
    `cluster=True` a Katib Experiment in the profile namespace runs them, after the checks
    (`Invalid` listing what blocks it). `fixed` inputs are the same for every trial;
    `max_failed` is 3 (or `max_trials` if fewer) unless given. The backends are
    `connection`'s (a magic passes its kernel's), else those of `settings`.
    """
    if connection is None:
        from ..connection import connect

        connection = connect(settings=_settings(settings))
    settings = connection.settings
    refuse_writes(settings, "tuning" + (" on the cluster (Katib Experiments)" if cluster else ""))
    space = check_space(space)
    goal = _objective(objective, direction)
    # A few failures are worth seeing before the search gives up; never more than it has trials.
    limits = Limits(max_trials, parallel, min(3, max_trials) if max_failed is None else max_failed)
    check_algorithm(algorithm, cluster=cluster)
    fixed = dict(fixed or {})
    info = describe(component)
    require_fit(info, space, fixed)
    if algorithm == "grid":
        grid_size(space)  # a range a grid cannot cut is refused before anything runs
    name = check_name(name) if name is not None else new_name(info.name)
    if cluster:
        return _tune_on_cluster(connection, name, info, space, goal, limits, algorithm, fixed)
    return _tune_here(
        connection, name, component, info, space, goal, limits, algorithm, fixed, seed, track
    )


def _tuning(
    name: str,
    mode: str,
    info: Any,
    space: Mapping[str, Param],
    goal: Objective,
    limits: Limits,
    algorithm: str,
) -> Tuning:
    import datetime as dt

    return Tuning(
        name=name,
        mode=mode,
        component=info.name,
        metric=goal.metric,
        direction=goal.direction,
        algorithm=algorithm,
        space={n: p.describe() for n, p in space.items()},
        max_trials=limits.max_trials,
        parallel=limits.parallel,
        max_failed=limits.max_failed,
        created_at=dt.datetime.now(dt.timezone.utc),
    )


def _tune_here(
    connection: Connection,
    name: str,
    component: Any,
    info: Any,
    space: Mapping[str, Param],
    goal: Objective,
    limits: Limits,
    algorithm: str,
    fixed: dict[str, Any],
    seed: int | None,
    track: bool,
) -> LocalSearch:
    from ..lineage import share_tracking

    settings = connection.settings
    store = TuningStore(settings.state_dir / "tuning")
    if store.exists(name):
        raise Conflict(f"a local search named {name} exists already; choose another name")
    tuning = _tuning(name, "local", info, space, goal, limits, algorithm)
    tracking = None
    if track:
        tracking = connection.tracking()
        component = share_tracking(component, tracking)
    backend = connection.local_pipelines()
    search = LocalSearch(
        tuning,
        component,
        info,
        goal,
        suggestions(algorithm, space, seed),
        fixed=fixed,
        backend=backend,
        store=store,
        tracking=tracking,
    )
    with _RUNNING_LOCK:
        _RUNNING[name] = search
    return search.start()


def trial_env(settings: Settings) -> dict[str, str]:
    """What trial pods get from the notebook: its MLflow server (a local store means nothing
    in a pod)."""
    uri = settings.tracking_uri
    return {"MLFLOW_TRACKING_URI": uri} if uri.startswith(("http://", "https://")) else {}


class ClusterSearch:
    """A search Katib runs: read from its Experiment and Trials whenever asked."""

    def __init__(
        self, cluster: Cluster, name: str, namespace: str, findings: tuple[Finding, ...] = ()
    ) -> None:
        self.cluster = cluster
        self._name = name
        self.namespace = namespace
        self.findings = findings
        self._last: Tuning | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return "cluster"

    def refresh(self) -> Tuning:
        """The Experiment and its Trials as they are now."""
        from . import katib

        obj = katib.get(self.cluster, self.name, self.namespace)
        self._last = katib.to_tuning(
            obj, katib.list_trials(self.cluster, self.name, self.namespace)
        )
        return self._last

    def snapshot(self) -> Tuning:
        return self._last if self._last is not None else self.refresh()

    @property
    def finished(self) -> bool:
        return self.snapshot().state.finished

    def wait(self, timeout: float | None = None) -> Tuning:
        """Read the Experiment every few seconds until it ends or `timeout` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        tuning = self.refresh()
        while not tuning.state.finished:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(CLUSTER_POLL)
            tuning = self.refresh()
        return tuning

    def stop(self) -> Tuning:
        from . import katib

        self._last = katib.stop(self.cluster, self.name, self.namespace)
        return self._last

    def best(self) -> dict[str, Any]:
        from . import katib

        return katib.best_assignments(katib.get(self.cluster, self.name, self.namespace))

    def close(self) -> None:
        """Close the connection to the cluster (the Experiment goes on)."""
        self.cluster.close()


def _tune_on_cluster(
    connection: Connection,
    name: str,
    info: Any,
    space: Mapping[str, Param],
    goal: Objective,
    limits: Limits,
    algorithm: str,
    fixed: dict[str, Any],
) -> ClusterSearch:
    from . import experiment, katib

    settings, cluster = connection.settings, connection.cluster()
    namespace = cluster.namespace
    findings = katib.check(cluster, namespace, name, info, space, fixed)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        lines = "; ".join(f"{f.message}" + (f" (fix: {f.fix})" if f.fix else "") for f in errors)
        raise Invalid(f"Experiment {name} not applied: {lines}")
    manifest = experiment.experiment(
        name, namespace, info, space, goal, limits, algorithm, fixed=fixed, env=trial_env(settings)
    )
    katib.apply(cluster, manifest)
    search = ClusterSearch(cluster, name, namespace, tuple(findings))
    search.refresh()
    return search


class Tuner:
    """Searches as a surface sees them: local ones (this workspace) and the namespace's Katib
    Experiments; their best parameters; stop."""

    def __init__(self, settings: Settings | None = None, *, cluster: Cluster | None = None) -> None:
        self.settings = _settings(settings)
        self.store = TuningStore(self.settings.state_dir / "tuning")
        # A connection given (the server's one) is shared: `close` leaves it open.
        self._cluster: Cluster | None = cluster
        self._owns_cluster = cluster is None

    def cluster(self) -> Cluster:
        from ..kube.cluster import Cluster

        if self._cluster is None:
            self._cluster = Cluster(self.settings)
        return self._cluster

    def close(self) -> None:
        if self._cluster is not None and self._owns_cluster:
            self._cluster.close()
            self._cluster = None

    def list(self, *, cluster: bool | None = None) -> tuple[list[Tuning], dict[str, str]]:
        """Searches (local first, then the cluster's), and why a place could not be read."""
        found: list[Tuning] = []
        errors: dict[str, str] = {}
        if cluster is not True:
            found += [self._live(t) for t in self.store.all()]
        if cluster is not False and self.settings.cluster != "none":
            from . import katib

            try:
                c = self.cluster()
                found += katib.list_experiments(c, c.namespace)
            except MLOpsError as error:
                errors["cluster"] = error.message
        return found, errors

    def _live(self, tuning: Tuning) -> Tuning:
        with _RUNNING_LOCK:
            search = _RUNNING.get(tuning.name)
        return search.snapshot() if search is not None else tuning

    def search(self, name: str, *, cluster: bool | None = None) -> Search:
        """The search named `name`: a local one if there is one (unless `cluster`), else the
        namespace's Experiment of that name."""
        check_name(name)
        if cluster is not True:
            with _RUNNING_LOCK:
                running = _RUNNING.get(name)
            if running is not None:
                return running
            if self.store.exists(name):
                return _Ended(self.store.load(name))
            if cluster is False:
                raise NotFound(f"no local search named {name!r}")
        if self.settings.cluster == "none":
            raise NotFound(f"no local search named {name!r}, and no cluster is configured")
        c = self.cluster()
        search = ClusterSearch(c, name, c.namespace)
        search.refresh()
        return search

    def best(self, name: str, *, cluster: bool | None = None) -> dict[str, Any]:
        """The best parameters of search `name`, ready to pass to the component."""
        return self.search(name, cluster=cluster).best()

    def stop(self, name: str, *, cluster: bool | None = None) -> Tuning:
        """Stop search `name`: no new trials, unfinished ones ended."""
        refuse_writes(self.settings, "stopping searches")
        return self.search(name, cluster=cluster).stop()


class _Ended:
    """A local search recorded on disk and not running in this kernel."""

    def __init__(self, tuning: Tuning) -> None:
        self.tuning = tuning

    @property
    def name(self) -> str:
        return self.tuning.name

    @property
    def mode(self) -> str:
        return "local"

    @property
    def finished(self) -> bool:
        return True

    def refresh(self) -> Tuning:
        return self.tuning

    def snapshot(self) -> Tuning:
        return self.tuning

    def wait(self, timeout: float | None = None) -> Tuning:
        return self.tuning

    def stop(self) -> Tuning:
        if self.tuning.state.finished:
            raise Conflict(f"search {self.name} has already ended ({self.tuning.state.value})")
        raise Conflict(
            f"search {self.name} runs in another kernel (or its kernel has gone); stop it there"
        )

    def best(self) -> dict[str, Any]:
        return best_parameters(self.tuning)


def follow(search: Search, listener: Callable[[Tuning], None], stop: threading.Event) -> None:
    """Call `listener` with each new state of a search until it ends or `stop` is set."""
    if isinstance(search, LocalSearch):
        search.on_change(listener)
        return

    def loop() -> None:
        while not stop.is_set():
            try:
                tuning = search.refresh()
            except MLOpsError:
                return
            listener(tuning)
            if tuning.state.finished:
                return
            stop.wait(CLUSTER_POLL)

    threading.Thread(target=loop, name=f"follow-{search.name}", daemon=True).start()


__all__ = [
    "ClusterSearch",
    "Search",
    "Tuner",
    "TuningState",
    "Value",
    "best_parameters",
    "follow",
    "trial_env",
    "tune",
]
