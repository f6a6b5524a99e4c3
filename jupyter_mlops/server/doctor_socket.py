"""The doctor's live channel on `mlops/api/ws`: one namespace's findings, kept up to date.

`{"op": "watch-doctor", "id", "namespace"}` is answered with `{"id", "type": "findings",
"snapshot": true, "findings": {KEY: Finding}, "gone": [], "unreadable": [...]}`, then, as the
informers the doctor reads change, with the same message without `snapshot`: only the findings
added or changed, the keys of those gone, and what could not be read. A key is
`Kind/name/cause` (`#2`, `#3`… for a second finding of the same cause on one object).

Every socket watching one namespace shares one `DoctorChannel`: a burst of changes waits
`BATCH_SECONDS` and is examined once, in the cluster pool, and each push is encoded once for
all of them. The channel keeps its last `Examination`, so only the pods a change touched are
diagnosed again. With no watcher the channel is gone and its listeners with it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any

from ..errors import MLOpsError
from .socket import INTERNAL, _with_id

if TYPE_CHECKING:
    from ..kube.doctor import DoctorReport, Examination
    from ..kube.watch import Subscription, WatchCache
    from .socket import LiveSocket
    from .state import ServerState

#: Changes that come within this time of the first are examined together.
BATCH_SECONDS = 0.25


def finding_keys(report: DoctorReport) -> dict[str, str]:
    """Each finding of the report, encoded, under a key stable across examinations."""
    keyed: dict[str, str] = {}
    for finding in report.findings:
        base = f"{finding.object.kind}/{finding.object.name}/{finding.cause}"
        key, n = base, 1
        while key in keyed:
            n += 1
            key = f"{base}#{n}"
        keyed[key] = finding.model_dump_json()
    return keyed


def _push(findings: dict[str, str], gone: list[str], unreadable: str, snapshot: bool) -> str:
    """A `findings` message without its id (see `socket._with_id`), from encoded parts."""
    body = ", ".join(f"{json.dumps(key)}: {value}" for key, value in findings.items())
    head = '{"type": "findings", ' + ('"snapshot": true, ' if snapshot else "")
    return f'{head}"findings": {{{body}}}, "gone": {json.dumps(gone)}, "unreadable": {unreadable}}}'


class DoctorChannel:
    """One namespace's findings shown by any number of sockets, examined once per change.

    Joining and every push happen under `lock`, so a watcher's snapshot precedes the changes
    after it; examining happens outside it, one examination at a time.
    """

    def __init__(self, state: ServerState, cache: WatchCache, namespace: str) -> None:
        self.state, self.cache, self.namespace = state, cache, namespace
        self.loop: asyncio.AbstractEventLoop | None = None
        self.viewers: dict[DoctorView, None] = {}
        self.lock = threading.Lock()
        # Guards only `dirty` and `pending`: an informer never waits for an examination.
        self.flags = threading.Lock()
        self.closed = False
        self.started = False
        # The last examination failed: the watchers were sent an error.
        self.failing = False
        self.subscriptions: list[Subscription] = []
        self.findings: dict[str, str] = {}
        #: What the last examination worked out (set by the first).
        self.examination: Examination | None = None
        self.unreadable = "[]"
        self.snapshot: str | None = None
        # Set by a change, cleared when an examination starts; `pending` while one is due.
        self.dirty = False
        self.pending = False
        #: Examinations made and pushes encoded, whatever the number of watchers (tests read them).
        self.examinations = 0
        self.pushes = 0

    @classmethod
    def join(
        cls, state: ServerState, cache: WatchCache, namespace: str, socket: LiveSocket, sid: str
    ) -> DoctorView:
        """`socket` watching the findings of `namespace` as `sid`, its snapshot queued
        (blocking: the first watcher waits for the first examination)."""
        key = ("doctor", namespace)
        while True:
            with state.live_tables_lock:
                channel = state.live_tables.get(key)
                if channel is None or channel.closed:
                    channel = cls(state, cache, namespace)
                    channel.loop = socket.loop
                    state.live_tables[key] = channel
            view = channel._add(socket, sid)
            if view is not None:
                return view

    def _add(self, socket: LiveSocket, sid: str) -> DoctorView | None:
        with self.lock:
            if self.closed:
                return None
            if not self.started:
                self.started = True
                try:
                    self._listen()
                    report = self._examine()
                except BaseException:
                    self._close()  # the next watcher starts afresh
                    raise
                self._apply(report)
                self._unlisten({u.kind for u in report.unreadable})
            if self.snapshot is None:
                self.snapshot = _push(self.findings, [], self.unreadable, snapshot=True)
            view = DoctorView(self, socket, sid)
            self.viewers[view] = None
            socket.send_encoded(_with_id(sid, self.snapshot))
            return view

    def _listen(self) -> None:
        """A listener on every informer the doctor reads that this identity may watch."""
        from ..kube.doctor import CLUSTER_WIDE, CUSTOM, NAMESPACED

        for plural in NAMESPACED + CLUSTER_WIDE + CUSTOM:
            try:
                kind = self.cache.cluster.kind(plural)
                scope = self.namespace if kind.namespaced else None
                self.subscriptions.append(self.cache.subscribe(kind, scope, self._changed))
            except MLOpsError:
                continue  # not served or not readable: the report names what that leaves out

    def _unlisten(self, unreadable: set[str]) -> None:
        """Stop listening to kinds this identity may not read: their informers, heard by
        nobody else, then give up instead of retrying while the doctor is watched."""
        kept: list[Subscription] = []
        for subscription in self.subscriptions:
            kind = subscription.informer.kind
            names = {kind.plural, f"{kind.plural}.{kind.group}"}
            if names & unreadable:
                subscription.close()
            else:
                kept.append(subscription)
        self.subscriptions = kept

    def _examine(self) -> DoctorReport:
        from ..kube.doctor import Examination, examine

        if self.examination is None:
            self.examination = Examination()
        self.examinations += 1
        return examine(self.cache, self.namespace, examination=self.examination)

    def _apply(self, report: DoctorReport, *, force: bool = False) -> str | None:
        """Take the report as the channel's state (lock held); the push of what changed
        (even of nothing, with `force`: it tells the watchers an error is over)."""
        keyed = finding_keys(report)
        unreadable = json.dumps([u.model_dump(mode="json") for u in report.unreadable])
        changed = {k: v for k, v in keyed.items() if self.findings.get(k) != v}
        gone = [k for k in self.findings if k not in keyed]
        if not changed and not gone and unreadable == self.unreadable and not force:
            return None
        self.findings, self.unreadable, self.snapshot = keyed, unreadable, None
        self.pushes += 1
        return _push(changed, gone, unreadable, snapshot=False)

    def _changed(self, type_: str, obj: dict[str, Any] | None) -> None:
        """An informer's change (any thread): examine again once the batch is in."""
        if obj is None and type_ != "AGAIN":
            # SYNCED and ERROR: a relist tells what changed object by object, and a broken
            # watch alone changes no finding.
            return
        with self.flags:
            self.dirty = True
            if self.pending or self.closed or self.loop is None:
                return
            self.pending = True
        self.loop.call_soon_threadsafe(self.loop.call_later, BATCH_SECONDS, self._submit)

    def _submit(self) -> None:
        try:
            self.state.pools["cluster"].submit(self._again)
        except RuntimeError:  # the server is stopping
            with self.flags:
                self.pending = False

    def _again(self) -> None:
        """Examine the namespace and push what changed to every watcher (in the pool)."""
        with self.flags:
            self.dirty = False
            if self.closed:
                self.pending = False
                return
        report: DoctorReport | None = None
        failure = ""
        try:
            report = self._examine()
        except MLOpsError as exc:
            # The next change tries again; the watchers keep what they have, told why.
            failure = json.dumps({"type": "error", **exc.to_json()})
        except Exception:
            self.state.log.exception("mlops/api/ws: examining %s failed", self.namespace)
            failure = json.dumps({"type": "error", **INTERNAL})
        with self.lock:
            push: str | None = None
            if self.closed:
                pass
            elif report is None:
                push, self.failing = failure, True
            else:
                push, self.failing = self._apply(report, force=self.failing), False
            if push is not None:
                for view in self.viewers:
                    view.socket.send_encoded(_with_id(view.sid, push))
        with self.flags:
            self.pending = False
            again = self.dirty and not self.closed
        if again:
            self._changed("AGAIN", None)  # what changed while examining

    def leave(self, view: DoctorView) -> None:
        with self.lock:
            self.viewers.pop(view, None)
            if self.viewers or self.closed:
                return
            self._close()

    def _close(self) -> None:
        """Stop listening and let the server forget the channel (lock held)."""
        self.closed = True
        subscriptions, self.subscriptions = self.subscriptions, []
        for subscription in subscriptions:
            subscription.close()
        with self.state.live_tables_lock:
            key = ("doctor", self.namespace)
            if self.state.live_tables.get(key) is self:
                del self.state.live_tables[key]


class DoctorView:
    """One socket's watch of a `DoctorChannel`; `close()` it when the view goes away."""

    def __init__(self, channel: DoctorChannel, socket: LiveSocket, sid: str) -> None:
        self.channel, self.socket, self.sid = channel, socket, sid

    def close(self) -> None:
        """Leave the channel (blocking: it may wait for an examination's push)."""
        self.channel.leave(self)
