"""One poller of pipeline runs for many listeners: KFP has no watch, so look every few seconds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MLOpsError
from jupyter_mlops.pipelines.models import ListRunsQuery

if TYPE_CHECKING:
    from jupyter_mlops.pipelines.sources import PipelineSources

#: Called with the rows that changed (each marked with its `source`), the ids of rows that left
#: the newest page, and the errors by source that changed (None when a source recovered).
Listener = Callable[[list[dict[str, Any]], list[str], dict[str, dict[str, str] | None]], None]


class RunPoller:
    """Looks at the newest runs of every backend every `interval` seconds, only while someone
    listens, and tells each listener what changed since the last look.

    `sources` gives the pipelines to look at (every configured source); it is called on each
    round, so a source configured later is picked up.
    """

    def __init__(
        self,
        sources: Callable[[], PipelineSources],
        *,
        interval: float = 3.0,
        page_size: int = 50,
    ) -> None:
        self.sources = sources
        self.interval = interval
        self.page_size = page_size
        self.rounds = 0
        self._rows: dict[str, dict[str, Any]] = {}
        self._errors: dict[str, dict[str, str]] = {}
        self._listeners: dict[int, Listener] = {}
        self._next_key = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Start telling `listener` about changes; it hears the current rows at once.

        Returns the function that stops it. The polling thread runs while anyone listens.
        """
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._listeners[key] = listener
            rows, errors = list(self._rows.values()), dict(self._errors)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="mlops-runs", daemon=True)
                self._thread.start()
        if rows or errors:
            listener(rows, [], dict(errors))

        def stop() -> None:
            with self._lock:
                self._listeners.pop(key, None)
                if not self._listeners:
                    self._wake.set()

        return stop

    @property
    def listening(self) -> int:
        """How many listeners there are."""
        with self._lock:
            return len(self._listeners)

    def close(self) -> None:
        """Stop the thread; no listener hears anything more."""
        with self._lock:
            self._closed = True
            self._listeners.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            self.poll()
            with self._lock:
                if not self._listeners or self._closed:
                    self._thread = None
                    # Rows go stale while nobody listens; the next listener starts afresh.
                    self._rows, self._errors = {}, {}
                    self._wake.clear()
                    return
            self._wake.wait(self.interval)

    def poll(self) -> None:
        """Look once at every backend and tell the listeners what changed."""
        rows: dict[str, dict[str, Any]] = {}
        errors: dict[str, dict[str, str]] = {}
        try:
            pipelines = self.sources()
            merged = pipelines.list_runs(
                ListRunsQuery(page_size=self.page_size), pipelines.configured(), raise_alone=False
            )
        except MLOpsError as exc:
            errors["all"] = exc.to_json()
        else:
            for source, run in merged.items:
                rows[f"{source}/{run.id}"] = {**run.model_dump(mode="json"), "source": source}
            for source, failure in merged.errors.items():
                errors[source] = failure.to_json()
                # Keep showing what was seen before the failure.
                rows.update({k: v for k, v in self._rows.items() if v["source"] == source})
        with self._lock:
            changed = [row for key, row in rows.items() if self._rows.get(key) != row]
            gone = [row["id"] for key, row in self._rows.items() if key not in rows]
            error_changes: dict[str, dict[str, str] | None] = {
                s: e for s, e in errors.items() if self._errors.get(s) != e
            }
            error_changes.update({s: None for s in self._errors if s not in errors})
            self._rows, self._errors = rows, errors
            self.rounds += 1
            listeners = list(self._listeners.values())
        if changed or gone or error_changes:
            for listener in listeners:
                listener(changed, gone, error_changes)


__all__ = ["Listener", "RunPoller"]
