"""`WatchCache`: one watch per (kind, namespace) feeding a cache that every view reads.

Each `Informer` lists once, then watches from the list's resourceVersion. It resumes from the
last version it saw after a broken connection (with backoff), relists on 410 Gone and tells its
listeners only the difference, so a view never loses or doubles a row. An informer nobody
listens to stops after `idle_seconds` (one timer per informer, whatever the number of reads),
or at once when its requests keep failing. Once a table of it was read, the informer also keeps
its rows (`rows.RowIndex`) current from the same events, under the same lock.

Watches are what a browser can make the server ask of the API server, so they are bounded:
names are checked first, a namespace other than the server's own is watched only when it
exists and this identity may list the kind there, and one server keeps at most
`max_informers` of them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Forbidden, MLOpsError, NotFound, Unavailable
from .cluster import Cluster, Expired, Obj, Stream, redact
from .kinds import Kind, find_kind
from .names import check_namespace

if TYPE_CHECKING:
    from .rows import Row, RowCounters, RowIndex

log = logging.getLogger(__name__)

# (type, object): ADDED, MODIFIED, DELETED for one object; SYNCED (object None) after a list;
# ERROR (object None) when the watch is broken and being retried; see `Informer.error`.
Listener = Callable[[str, Obj | None], None]

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
#: Failures in a row after which an informer nobody listens to stops for good.
GIVE_UP_AFTER = 3
#: A watch that ends sooner than this with nothing in it counts as a failure (no tight loop).
SHORT_WATCH = 1.0
MAX_INFORMERS = 64
#: Seconds one watch request lasts before it is made again from the last version (client-go's
#: reflectors take 5 to 10 minutes): a table in view costs the API one request per this.
WATCH_SECONDS = 300
#: Seconds a namespace's access check is remembered, allowed or not.
ACCESS_TTL = 60.0
#: Seconds a reader waits for a new informer's first list (a big namespace on a busy API
#: server takes seconds); the informer keeps listing after a reader gives up.
SYNC_WAIT = 30.0


def uid_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")


@dataclass
class Counters:
    """What an informer asked of the API server (benchmarks and tests read these)."""

    lists: int = 0
    watches: int = 0
    relists: int = 0


class Informer:
    """The live copy of one (kind, namespace), kept by a background thread."""

    def __init__(
        self,
        cluster: Cluster,
        kind: Kind,
        namespace: str | None,
        watch_seconds: int = WATCH_SECONDS,
        on_give_up: Callable[[Informer], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self._on_give_up = on_give_up
        self.kind = kind
        self.namespace = namespace if kind.namespaced else None
        self.watch_seconds = watch_seconds
        self.counters = Counters()
        self.error: MLOpsError | None = None
        self.resource_version = ""
        #: Moves on with every change to the objects: a view built at one generation is
        #: current while it stays the same (a BOOKMARK moves the version, not this).
        self.generation = 0
        self._objects: dict[str, Obj] = {}
        #: The table rows, kept from the events once a table was read (`rows`).
        self._rows: RowIndex | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._synced = threading.Event()
        self._stopped = threading.Event()
        self._stream: Stream | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"mlops-watch-{kind.plural}-{namespace}", daemon=True
        )

    # -- readers ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def objects(self) -> list[Obj]:
        with self._lock:
            return list(self._objects.values())

    def snapshot(self) -> tuple[int, list[Obj]]:
        """The objects and the generation they are at, read together."""
        with self._lock:
            return self.generation, list(self._objects.values())

    def rows(self, make_row: Callable[[Obj], Row], counters: RowCounters) -> RowIndex:
        """The row index of this informer, made from its objects on first use and kept
        current from then on by every event and relist (blocking the first time)."""
        with self._lock:
            if self._rows is None:
                from .rows import RowIndex

                self._rows = RowIndex(self.kind.plural, make_row, counters)
                self._rows.reset(self._objects)
            return self._rows

    @property
    def row_index(self) -> RowIndex | None:
        """The row index if a table was read, else None (nothing made for magics)."""
        return self._rows

    def wait_synced(self, timeout: float) -> list[Obj]:
        """The objects once the first list arrived; the first error if that list failed."""
        deadline = time.monotonic() + timeout
        while not self._synced.wait(0.02):
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                raise Unavailable(
                    "cluster", f"no answer from the Kubernetes API within {timeout:g} s"
                )
        return self.objects()

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def add_listener(self, listener: Listener) -> list[Obj]:
        """Listen to changes; returns the objects as they are now (consistent with the stream)."""
        with self._lock:
            self._listeners.append(listener)
            return list(self._objects.values())

    def remove_listener(self, listener: Listener) -> int:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            return len(self._listeners)

    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    # -- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        failures = 0
        need_list = True
        while not self._stopped.is_set():
            failure: MLOpsError | None = None
            try:
                if need_list:
                    self._relist()
                    need_list = False
                if self._watch():
                    backoff, failures = BACKOFF_FIRST, 0
                    continue
                # Ended at once with nothing in it: wait as after a failure, never spin.
                failure = self.error
            except Expired:
                need_list = True
                continue
            except MLOpsError as exc:
                failure = exc
            except Exception as exc:  # never let the thread die silently
                log.exception("watch of %s failed", self.kind.plural)
                failure = Unavailable("cluster", f"the watch of {self.kind.plural} failed: {exc}")
            failures += 1
            if failure is not None:
                self._fail(failure)
            if failures >= GIVE_UP_AFTER and self.listener_count() == 0:
                self.stop()
                if self._on_give_up is not None:
                    self._on_give_up(self)
                return
            self._stopped.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _fail(self, exc: MLOpsError) -> None:
        if self._stopped.is_set():
            return
        self.error = exc
        self._emit("ERROR", None)

    def _relist(self) -> None:
        page = self.cluster.list_all(self.kind, self.namespace)
        self.counters.lists += 1
        fresh = {uid_of(o): o for o in page.items}
        with self._lock:
            old = self._objects
            self._objects = fresh
            self.generation += 1
            self.resource_version = page.resource_version
            first = not self._synced.is_set()
            self.error = None
            listeners = list(self._listeners)
            changes: list[tuple[str, Obj]] = []
            if not first:
                self.counters.relists += 1
                changes = [("DELETED", o) for uid, o in old.items() if uid not in fresh]
                for uid, obj in fresh.items():
                    before = old.get(uid)
                    if before is None:
                        changes.append(("ADDED", obj))
                    elif _version(before) != _version(obj):
                        changes.append(("MODIFIED", obj))
            self._update_rows(fresh, changes, first)
        self._synced.set()
        for listener in listeners:
            for type_, obj in changes:
                listener(type_, obj)
            listener("SYNCED", None)

    def _update_rows(
        self, fresh: dict[str, Obj], changes: list[tuple[str, Obj]], first: bool
    ) -> None:
        """Bring the rows to a new list (lock held): change by change when few changed."""
        if self._rows is None:
            return
        if first or len(changes) * 4 > len(fresh):
            self._rows.reset(fresh)
            return
        for type_, obj in changes:
            self._rows.apply(type_, uid_of(obj), obj)

    def _watch(self) -> bool:
        """Follow one watch to its end; False when it ended at once with nothing in it."""
        started = time.monotonic()
        stream = self.cluster.watch(
            self.kind, self.namespace, self.resource_version, timeout_seconds=self.watch_seconds
        )
        self.counters.watches += 1
        self._stream = stream
        if self._stopped.is_set():
            # Stopped while the watch was being opened: `stop()` found no stream to close, and
            # a quiet watch may send nothing for a minute.
            self._stream = None
            stream.close()
            return True
        if self.error is not None:
            self.error = None
            self._emit("SYNCED", None)
        seen = False
        try:
            for line in stream:
                if self._stopped.is_set():
                    return True
                if line.strip():
                    seen = True
                    self._apply(json.loads(line))
        finally:
            self._stream = None
            stream.close()
        return seen or time.monotonic() - started >= SHORT_WATCH

    def _apply(self, event: Obj) -> None:
        type_ = event.get("type")
        obj: Obj = event.get("object") or {}
        if type_ == "ERROR":
            if obj.get("code") == 410:
                raise Expired(str(obj.get("message", "too old resource version")))
            raise Unavailable("cluster", f"the watch failed: {obj.get('message', obj)}")
        version = _version(obj)
        if type_ == "BOOKMARK":
            self.resource_version = version or self.resource_version
            return
        obj.setdefault("kind", self.kind.kind)
        obj.setdefault("apiVersion", self.kind.api_version)
        redact(self.kind, obj)
        uid = uid_of(obj)
        with self._lock:
            if type_ == "DELETED":
                self._objects.pop(uid, None)
            else:
                self._objects[uid] = obj
            if self._rows is not None:
                self._rows.apply(str(type_), uid, obj)
            self.generation += 1
            self.resource_version = version or self.resource_version
            listeners = list(self._listeners)
        for listener in listeners:
            listener(str(type_), obj)

    def _emit(self, type_: str, obj: Obj | None) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(type_, obj)


def _version(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class Subscription:
    """A listener on one informer; `close()` it when the view goes away."""

    def __init__(self, cache: WatchCache, informer: Informer, listener: Listener) -> None:
        self._cache = cache
        self.informer = informer
        self._listener = listener
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._cache._release(self.informer, self._listener)


class WatchCache:
    """Informers shared by every browser tab, magic and widget of one server or kernel."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        idle_seconds: float = 300.0,
        max_informers: int = MAX_INFORMERS,
    ) -> None:
        self.cluster = cluster
        self.idle_seconds = idle_seconds
        self.max_informers = max_informers
        self._informers: dict[tuple[Kind, str | None], Informer] = {}
        self._idle_timers: dict[tuple[Kind, str | None], threading.Timer] = {}
        self._last_used: dict[tuple[Kind, str | None], float] = {}
        self._access: dict[tuple[str, str], tuple[float, MLOpsError | None]] = {}
        self._lock = threading.Lock()

    def informer(self, kind: Kind, namespace: str | None) -> Informer:
        """The informer of (kind, namespace), started on first use.

        Each use restarts its idle countdown; the countdown only stops it if nobody listens
        when it runs out, so a table read now and then stays cached while it is being read.
        A new one is started only for a namespace that may be watched (`BadInput`,
        `NotFound` or `Forbidden` otherwise), and only while fewer than `max_informers` run.
        """
        key = (kind, check_namespace(namespace) if kind.namespaced and namespace else None)
        with self._lock:
            known = key in self._informers
        if not known and key[1] is not None and key[1] != self.cluster.namespace:
            self._check_access(kind, key[1])
        with self._lock:
            informer = self._informers.get(key)
            if informer is None:
                self._make_room()
                informer = Informer(self.cluster, kind, key[1], on_give_up=self._given_up)
                self._informers[key] = informer
                informer.start()
            self._arm_idle(key, informer)
            return informer

    def _check_access(self, kind: Kind, namespace: str) -> None:
        """Refuse a namespace that does not exist or whose `kind` this identity may not list.

        The answer is kept for `ACCESS_TTL` seconds, so asking again costs the API nothing.
        """
        key = (kind.plural, namespace)
        with self._lock:
            cached = self._access.get(key)
        if cached is not None and time.monotonic() - cached[0] < ACCESS_TTL:
            if cached[1] is not None:
                raise cached[1]
            return
        refusal: MLOpsError | None = None
        if not self.cluster.can_i("list", kind.plural, namespace):
            refusal = Forbidden(
                f"not allowed to list {kind.plural} in namespace {namespace!r}: it needs a "
                f"Role there with verbs ['list', 'watch'] on {kind.plural!r}",
                verb="list",
                resource=kind.plural,
            )
        else:
            try:
                self.cluster.get(find_kind("namespaces"), namespace)
            except NotFound:
                refusal = NotFound(f"namespace {namespace!r} does not exist")
            except Forbidden:
                pass  # rights granted by a RoleBinding in it: it exists
        with self._lock:
            if len(self._access) > 4 * self.max_informers:
                self._access.clear()
            self._access[key] = (time.monotonic(), refusal)
        if refusal is not None:
            raise refusal

    def _make_room(self) -> None:
        """Stop an informer nobody listens to when the bound is reached (lock held)."""
        if len(self._informers) < self.max_informers:
            return
        for key, informer in list(self._informers.items()):
            if informer.listener_count() == 0:
                del self._informers[key]
                timer = self._idle_timers.pop(key, None)
                if timer is not None:
                    timer.cancel()
                informer.stop()
                return
        raise Unavailable(
            "cluster",
            f"this server already watches {self.max_informers} tables, each of them in view; "
            "close a view and try again",
        )

    def _given_up(self, informer: Informer) -> None:
        """Forget an informer that stopped because its requests kept failing unheard."""
        with self._lock:
            key = (informer.kind, informer.namespace)
            if self._informers.get(key) is informer:
                del self._informers[key]
                timer = self._idle_timers.pop(key, None)
                if timer is not None:
                    timer.cancel()

    def running(self, kind: Kind, namespace: str | None) -> Informer | None:
        """The informer of (kind, namespace) if one runs already; none is started."""
        with self._lock:
            return self._informers.get((kind, namespace))

    def subscribe(self, kind: Kind, namespace: str | None, listener: Listener) -> Subscription:
        informer = self.informer(kind, namespace)
        informer.add_listener(listener)
        return Subscription(self, informer, listener)

    def objects(self, kind: Kind, namespace: str | None, timeout: float = 10.0) -> list[Obj]:
        """The cached objects, waiting for the first list if the informer is new."""
        return self.informer(kind, namespace).wait_synced(timeout)

    def informers(self) -> list[Informer]:
        with self._lock:
            return list(self._informers.values())

    def close(self) -> None:
        with self._lock:
            for timer in self._idle_timers.values():
                timer.cancel()
            for informer in self._informers.values():
                informer.stop()
            self._informers.clear()
            self._idle_timers.clear()

    def _release(self, informer: Informer, listener: Listener) -> None:
        if informer.remove_listener(listener) == 0:
            with self._lock:
                key = (informer.kind, informer.namespace)
                if self._informers.get(key) is informer:
                    self._arm_idle(key, informer)

    def _arm_idle(self, key: tuple[Kind, str | None], informer: Informer) -> None:
        """Stop the informer if still nobody listens `idle_seconds` after its last use (lock
        held). One timer per informer, not per use: a use only notes the time, and the timer
        waits on for what is left of the countdown."""
        self._last_used[key] = time.monotonic()
        if key not in self._idle_timers:
            self._start_idle_timer(key, informer, self.idle_seconds)

    def _start_idle_timer(
        self, key: tuple[Kind, str | None], informer: Informer, seconds: float
    ) -> None:
        def expire() -> None:
            with self._lock:
                if self._idle_timers.get(key) is not timer:
                    return
                del self._idle_timers[key]
                left = self._last_used.get(key, 0.0) + self.idle_seconds - time.monotonic()
                if self._informers.get(key) is not informer:
                    return
                if left > 0:
                    self._start_idle_timer(key, informer, left)
                elif informer.listener_count() == 0:
                    del self._informers[key]
                    self._last_used.pop(key, None)
                    informer.stop()

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        self._idle_timers[key] = timer
        timer.start()
