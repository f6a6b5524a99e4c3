"""Local and cluster pipelines as one: which backend holds a run, the runs and experiments of
several sources merged with what each failing source said, and the one folder where a
compiled pipeline that could not be sent is kept.

Every surface lists and routes runs through this (the routes, the runs poller of the
WebSocket, the magics), so "where does this run live" and "what if one source is down" have
one answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import BadInput, MLOpsError
from ..policy import SOURCES, Source, run_source

if TYPE_CHECKING:
    from ..config import Settings
    from .backend import PipelineBackend
    from .models import Experiment, ListRunsQuery, RunSummary

#: The folder under the pipelines' root where compiled pipelines not sent are kept.
UNSENT = "unsent"

T = TypeVar("T")
A = TypeVar("A")


@dataclass
class Merged(Generic[T]):
    """What each source answered, in the order asked, and what a source that failed said
    (the others are still listed). `pages` holds each source's next page token and total."""

    items: list[tuple[Source, T]] = field(default_factory=list)
    pages: dict[Source, tuple[str, int]] = field(default_factory=dict)
    errors: dict[Source, MLOpsError] = field(default_factory=dict)


class PipelineSources:
    """The local pipelines always, Kubeflow Pipelines when configured, as one."""

    def __init__(
        self,
        local: Callable[[], PipelineBackend],
        cluster: Callable[[], PipelineBackend],
        *,
        has_cluster: bool,
        unsent: Path,
    ) -> None:
        self._local = local
        self._cluster = cluster
        self.has_cluster = has_cluster
        #: Where a compiled pipeline is kept when it could not be sent to the cluster.
        self.unsent = unsent

    def configured(self) -> tuple[Source, ...]:
        return SOURCES if self.has_cluster else ("local",)

    def asked(self, value: str | None) -> tuple[Source, ...]:
        """The sources a `source=local|cluster|all` value names (all configured ones when
        empty); anything else is `BadInput`."""
        if not value or value == "all":
            return self.configured()
        if value not in SOURCES:
            raise BadInput(f"source must be local, cluster or all, not {value!r}")
        return (value,)

    def backend(self, source: Source) -> PipelineBackend:
        """The backend of a source; `Unavailable`, saying how to set it up, for a cluster
        that is not configured."""
        return self._local() if source == "local" else self._cluster()

    def holding(self, run_id: str, source: str | None = None) -> PipelineBackend:
        """The backend holding a run: `source` when given, else told by the id's shape."""
        return self.backend(run_source(run_id, source))

    def list_runs(
        self, query: ListRunsQuery, sources: tuple[Source, ...], *, raise_alone: bool = True
    ) -> Merged[RunSummary]:
        """One page of runs of each source; the failure of a source asked alone is raised
        (unless `raise_alone` is false), that of one of several is kept in `errors`."""
        merged: Merged[RunSummary] = Merged()
        listed = self._each(sources, lambda b: b.list_runs(query), merged, raise_alone)
        for source, page in listed:
            merged.items.extend((source, run) for run in page.runs)
            merged.pages[source] = (page.next_page_token, page.total_size)
        return merged

    def list_experiments(self, sources: tuple[Source, ...]) -> Merged[Experiment]:
        """The experiments of each source, errors as `list_runs`."""
        merged: Merged[Experiment] = Merged()
        for source, found in self._each(sources, lambda b: b.list_experiments(), merged, True):
            merged.items.extend((source, experiment) for experiment in found)
        return merged

    def keep_unsent(self, name: str, text: str, at: dt.datetime | None = None) -> Path:
        """Keep a compiled pipeline that could not be sent; the path to tell the user."""
        return keep_unsent(self.unsent, name, text, at)

    def _each(
        self,
        sources: tuple[Source, ...],
        call: Callable[[PipelineBackend], A],
        merged: Merged[T],
        raise_alone: bool,
    ) -> list[tuple[Source, A]]:
        answers: list[tuple[Source, A]] = []
        for source in sources:
            try:
                answers.append((source, call(self.backend(source))))
            except MLOpsError as exc:
                if raise_alone and len(sources) == 1:
                    raise
                merged.errors[source] = exc
        return answers


def pipelines_root(settings: Settings) -> Path:
    """Where the local runs live: the workspace's .mlops/pipelines."""
    return settings.state_dir / "pipelines"


def keep_unsent(folder: Path, name: str, text: str, at: dt.datetime | None = None) -> Path:
    """Write a compiled pipeline that could not be sent into `folder`, named by its
    pipeline and the time; the path, to tell the user where it is."""
    at = at or dt.datetime.now(dt.timezone.utc)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{at:%Y%m%d-%H%M%S}.yaml"
    path.write_text(text)
    return path
