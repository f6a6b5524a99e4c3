"""What the watch cache asks of the real API server while views are open, and once closed.

The API server counts the requests (`counted`: FlowSchemas matching only the product's
ServiceAccount), and its `apiserver_longrunning_requests` gauge counts the watches open in a
namespace (the controllers and kwok watch cluster-wide, so namespaced watches are the test's).
"""

from __future__ import annotations

import re
import time

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.kinds import find_kind
from jupyter_mlops.kube.watch import WatchCache
from tests.plane import Namespace, wait_for

from .helpers import Requests, counted, identity, metrics, pod, rule

PODS, EVENTS = find_kind("pods"), find_kind("events")
IDLE = 2.0
# Long enough for a repeated LIST or a re-watch to show, were there any.
QUIET = 8.0
_WATCHING = re.compile(
    r'^apiserver_longrunning_requests\{([^}]*verb="WATCH"[^}]*)\} (\S+)$',
    re.M,
)


def namespaced_watches(namespace: Namespace) -> dict[str, int]:
    """Watches open now in any namespace, by resource, as the API server counts them."""
    open_: dict[str, int] = {}
    for labels, value in _WATCHING.findall(metrics(namespace.plane)):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if fields.get("scope") == "namespace":
            resource = fields["resource"]
            open_[resource] = open_.get(resource, 0) + int(float(value))
    return open_


def quiet_for(asked: Requests, seconds: float) -> int:
    """Requests the product made during `seconds` of waiting."""
    before = asked.total()
    time.sleep(seconds)
    return asked.total() - before


def test_one_watch_per_kind_in_view_no_relist_and_nothing_once_idle(
    namespace: Namespace,
) -> None:
    kubeconfig = identity(namespace, "notebook", "view")
    settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=namespace.tmp_path)
    notebook = Cluster(settings)
    ns = namespace.name
    try:
        with counted(
            namespace,
            "notebook",
            lambda: notebook.can_i("list", "pods"),
            lists=rule(verbs=("list",), namespaces=(ns,)),
            watches=rule(verbs=("watch",), namespaces=(ns,)),
        ) as asked:
            watches_before = namespaced_watches(namespace)
            cache = WatchCache(notebook, idle_seconds=IDLE)
            seen: list[str] = []
            # Two views of the pods and one of the events: one LIST and one WATCH per kind.
            views = [
                cache.subscribe(PODS, ns, lambda t, o: seen.append(t)),
                cache.subscribe(PODS, ns, lambda t, o: None),
                cache.subscribe(EVENTS, ns, lambda t, o: None),
            ]
            wait_for(
                "both informers to watch",
                lambda: all(i.synced and i.counters.watches for i in cache.informers()),
            )
            assert asked.since() == {"lists": 2, "watches": 2, "other": 0}
            opened = namespaced_watches(namespace)
            for resource in ("pods", "events"):
                assert opened.get(resource, 0) - watches_before.get(resource, 0) == 1, opened

            # Objects change (as the admin): the open watches bring them, nothing is asked.
            namespace.apply(pod("one"), pod("two"))
            wait_for("the pods' ADDED events", lambda: seen.count("ADDED") >= 2, timeout=60)
            assert quiet_for(asked, QUIET) == 0
            assert asked.since() == {"lists": 2, "watches": 2, "other": 0}

            for view in views:
                view.close()
            wait_for("the idle informers to stop", lambda: not cache.informers(), IDLE + 30)
            wait_for(
                "their watches to close",
                lambda: all(
                    namespaced_watches(namespace).get(r, 0) <= watches_before.get(r, 0)
                    for r in ("pods", "events")
                ),
                timeout=60,
            )
            assert quiet_for(asked, QUIET) == 0
            cache.close()
    finally:
        notebook.close()
