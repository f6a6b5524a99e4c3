"""The shared watch cache on the real API server: one watch per (kind, namespace), resume,
no lost or doubled rows. (A restart of the API server: test_watch_restart.py.)"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.kinds import find_kind
from jupyter_mlops.kube.watch import Informer, WatchCache
from tests.plane import Namespace, wait_for

from .helpers import counted, identity, pod, rule

PODS = find_kind("pods")
WAIT = 60.0


class View:
    """What a browser tab would hold: rows by uid, kept up to date from the events."""

    def __init__(self, cache: WatchCache, namespace: str) -> None:
        self.rows: dict[str, str] = {}
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        self.duplicates = 0
        self.subscription = cache.subscribe(PODS, namespace, self.on_event)
        for obj in self.subscription.informer.wait_synced(WAIT):
            self.rows.setdefault(obj["metadata"]["uid"], obj["metadata"]["name"])

    def on_event(self, type_: str, obj: dict[str, Any] | None) -> None:
        with self.lock:
            if obj is not None:
                uid = obj["metadata"]["uid"]
                if type_ == "ADDED" and uid in self.rows:
                    self.duplicates += 1
                if type_ == "DELETED":
                    self.rows.pop(uid, None)
                else:
                    self.rows[uid] = obj["metadata"]["name"]
        self.events.put((type_, obj))

    def names(self) -> set[str]:
        with self.lock:
            return set(self.rows.values())


def eventually(what: str, predicate: Any, timeout: float = WAIT) -> None:
    wait_for(what, lambda: bool(predicate()), timeout)


def test_changes_reach_every_view_through_one_list_and_one_watch(namespace: Namespace) -> None:
    namespace.apply(pod("before"))
    settings = resolve(
        configure(kubeconfig=str(identity(namespace, "reader", "view"))),
        env={},
        root=namespace.tmp_path,
    )
    reader = Cluster(settings)
    ns = namespace.name
    try:
        with counted(
            namespace,
            "reader",
            lambda: reader.can_i("list", "pods"),
            lists=rule(verbs=("list",), resources=("pods",), namespaces=(ns,)),
            watches=rule(verbs=("watch",), resources=("pods",), namespaces=(ns,)),
        ) as asked:
            cache = WatchCache(reader)
            views = [View(cache, ns) for _ in range(5)]
            namespace.apply(pod("after"))
            eventually(
                "every view to see both pods",
                lambda: all(v.names() == {"before", "after"} for v in views),
            )
            # Counted by the API server: one list and one watch for the five views.
            assert asked.since() == {"lists": 1, "watches": 1, "other": 0}
            cache.close()
    finally:
        reader.close()


def test_phase_changes_arrive_as_modifications(namespace: Namespace, cluster: Cluster) -> None:
    cache = WatchCache(cluster)
    view = View(cache, namespace.name)
    namespace.apply(pod("runner"))
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + WAIT
    while ("MODIFIED", "Running") not in seen and time.monotonic() < deadline:
        type_, obj = view.events.get(timeout=WAIT)
        if obj is not None and obj["metadata"]["name"] == "runner":
            seen.append((type_, obj.get("status", {}).get("phase", "")))
    # Created Pending; kwok, as the kubelet, makes it Running: a modification.
    assert seen[0] == ("ADDED", "Pending")
    assert ("MODIFIED", "Running") in seen
    cache.close()


def test_a_watch_that_ends_resumes_from_its_version_without_relisting(
    namespace: Namespace, cluster: Cluster
) -> None:
    # Each watch asks the API server to end it after a second: it resumes from the last
    # version it saw, and what changed in between reaches the view once.
    namespace.apply(pod("a"), pod("b"))
    informer = Informer(cluster, PODS, namespace.name, watch_seconds=1)
    view: dict[str, int] = {}
    added: list[str] = []

    def listener(type_: str, obj: dict[str, Any] | None) -> None:
        if obj is None:
            return
        name = obj["metadata"]["name"]
        if type_ == "ADDED":
            added.append(name)
        if type_ == "DELETED":
            view.pop(name, None)
        else:
            view[name] = 1

    informer.add_listener(listener)
    informer.start()
    try:
        view.update({o["metadata"]["name"]: 1 for o in informer.wait_synced(WAIT)})
        eventually("a second watch", lambda: informer.counters.watches >= 2)
        namespace.apply(pod("c"))
        namespace.kubectl("delete", "pod", "a")
        eventually("a third watch", lambda: informer.counters.watches >= 3)
        eventually("the view to follow", lambda: set(view) == {"b", "c"})
        assert added == ["c"]
        assert (informer.counters.lists, informer.counters.relists) == (1, 0)
        assert informer.error is None
    finally:
        informer.stop()


def test_an_informer_nobody_listens_to_stops(cluster: Cluster, namespace: Namespace) -> None:
    cache = WatchCache(cluster, idle_seconds=0.2)
    view = View(cache, namespace.name)
    assert len(cache.informers()) == 1
    view.subscription.close()
    eventually("the informer to stop", lambda: cache.informers() == [])
    again = View(cache, namespace.name)
    assert len(cache.informers()) == 1 and again.names() == set()
    cache.close()


def test_an_informer_read_without_listeners_stops_once_nobody_reads_it(
    cluster: Cluster, namespace: Namespace
) -> None:
    cache = WatchCache(cluster, idle_seconds=0.3)
    cache.objects(PODS, namespace.name)
    cache.objects(PODS, namespace.name)  # a second read restarts the countdown, never cancels it
    assert len(cache.informers()) == 1
    eventually("the informer to stop", lambda: cache.informers() == [])
    cache.close()
