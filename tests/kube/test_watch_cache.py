"""The shared watch cache: one watch per (kind, namespace), resume, relist, no lost rows."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.kinds import find_kind
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, cluster_for, pod

PODS = find_kind("pods")


class View:
    """What a browser tab would hold: rows by uid, kept up to date from the events."""

    def __init__(self, cache: WatchCache) -> None:
        self.rows: dict[str, str] = {}
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        self.duplicates = 0
        self.subscription = cache.subscribe(PODS, NAMESPACE, self.on_event)
        for obj in self.subscription.informer.wait_synced(10):
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


def eventually(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_changes_reach_every_view_through_one_list_and_one_watch(
    kube: KubeEmulator, cluster: Cluster
) -> None:
    kube.create(pod("before"))
    kube.reset_requests()
    cache = WatchCache(cluster)
    views = [View(cache) for _ in range(5)]
    kube.create(pod("after"))
    eventually(lambda: all(v.names() == {"before", "after"} for v in views))
    assert kube.request_count(verb="list", path_prefix=f"/api/v1/namespaces/{NAMESPACE}/pods") == 1
    assert kube.request_count(verb="watch") == 1
    cache.close()


def test_phase_changes_arrive_as_modifications(kube: KubeEmulator, cluster: Cluster) -> None:
    cache = WatchCache(cluster)
    view = View(cache)
    kube.create(pod("runner"))
    phases: list[str] = []
    deadline = time.monotonic() + 10
    while "Running" not in phases and time.monotonic() < deadline:
        _, obj = view.events.get(timeout=10)
        if obj is not None and obj["metadata"]["name"] == "runner":
            phases.append(obj.get("status", {}).get("phase", ""))
    assert "Running" in phases
    cache.close()


def test_an_api_server_restart_loses_and_doubles_nothing(
    kube: KubeEmulator, cluster: Cluster
) -> None:
    for name in ("a", "b", "c"):
        kube.create(pod(name))
    cache = WatchCache(cluster)
    view = View(cache)
    assert view.names() == {"a", "b", "c"}

    kube.stop()
    eventually(lambda: cache.informers()[0].error is not None)
    kube.restart()
    kube.create(pod("d"))
    kube.delete("v1", "Pod", "a", NAMESPACE)

    eventually(lambda: view.names() == {"b", "c", "d"}, timeout=20)
    assert view.duplicates == 0
    assert cache.informers()[0].error is None
    cache.close()


def test_an_expired_version_relists_and_sends_only_the_difference(tmp_path: Path) -> None:
    with KubeEmulator(port=0, history=5) as kube:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        kube.controllers = False
        for name in ("keep", "gone"):
            kube.create(pod(name))
        cluster = cluster_for(kube, tmp_path)
        cache = WatchCache(cluster)
        view = View(cache)
        informer = cache.informers()[0]

        kube.stop()
        eventually(lambda: informer.error is not None)
        kube.restart()
        # More writes than the history keeps: resuming from the old version answers 410.
        for i in range(10):
            kube.create(pod(f"new-{i}"))
        kube.delete("v1", "Pod", "gone", NAMESPACE)

        eventually(lambda: informer.counters.relists >= 1, timeout=20)
        eventually(lambda: view.names() == {"keep"} | {f"new-{i}" for i in range(10)})
        assert view.duplicates == 0
        cache.close()
        cluster.close()


def test_an_informer_nobody_listens_to_stops(kube: KubeEmulator, cluster: Cluster) -> None:
    cache = WatchCache(cluster, idle_seconds=0.2)
    view = View(cache)
    assert len(cache.informers()) == 1
    view.subscription.close()
    eventually(lambda: cache.informers() == [])
    again = View(cache)
    assert len(cache.informers()) == 1 and again.names() == set()
    cache.close()


def test_an_informer_read_without_listeners_stops_once_nobody_reads_it(
    kube: KubeEmulator, cluster: Cluster
) -> None:
    cache = WatchCache(cluster, idle_seconds=0.3)
    cache.objects(PODS, NAMESPACE)
    cache.objects(PODS, NAMESPACE)  # a second read restarts the countdown, never cancels it
    assert len(cache.informers()) == 1
    eventually(lambda: cache.informers() == [])
    cache.close()
