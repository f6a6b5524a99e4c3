"""What the watch cache asks of the real API server while views are open, and once closed.

The API server counts the requests (`counted`: FlowSchemas matching only the product's
ServiceAccount), and its `apiserver_longrunning_requests` gauge counts the watches open in a
namespace (the controllers and kwok watch cluster-wide, so namespaced watches are the test's).
"""

from __future__ import annotations

import re
import time
from typing import Any

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.connect import watch_cache_of
from jupyter_mlops.kube.kinds import find_kind
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.serving import Serving
from jupyter_mlops.testing.kubeflow_plane import EDITOR
from jupyter_mlops.tuning import Tuner
from tests.plane import Namespace, ProfileNamespace, wait_for

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


def inference_service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name},
        "spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "mlflow"}, "storageUri": "s3://models/churn"}
            }
        },
    }


def experiment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random"},
            "maxTrialCount": 2,
            "parameters": [
                {
                    "name": "lr",
                    "parameterType": "double",
                    "feasibleSpace": {"min": "0.01", "max": "0.1"},
                }
            ],
        },
    }


def test_serving_and_tuning_read_again_ask_the_api_server_nothing(
    profile: ProfileNamespace,
) -> None:
    """The sidebar's Serving and Tuning sections read every few seconds: the first read lists
    and watches each kind once, later reads (and the objects' changes) ask for nothing."""
    settings = resolve(configure(kubeconfig=str(profile.kubeconfig)), env={}, root=profile.tmp_path)
    notebook = Cluster(settings)
    serving, tuner = Serving(settings, cluster=notebook), Tuner(settings, cluster=notebook)
    try:
        with counted(
            profile.admin,  # FlowSchemas are the admin's to make
            EDITOR,
            lambda: notebook.can_i("list", "pods"),
            lists=rule(verbs=("list",)),
            watches=rule(verbs=("watch",)),
        ) as asked:
            assert serving.list().errors == {}
            assert tuner.list(cluster=True) == ([], {})
            cache = watch_cache_of(notebook)
            wait_for(
                "every informer to watch",
                lambda: all(i.synced and i.counters.watches for i in cache.informers()),
            )
            watched = sorted(i.kind.plural for i in cache.informers())
            assert watched == ["experiments", "inferenceservices", "pods", "trials"]
            first = asked.since()
            # One list and one watch per kind; a watch the server ends early is resumed (a
            # busy machine's API server may), which is not a read.
            assert first["lists"] == 4 and first["watches"] >= 4, first

            # Made meanwhile (as the admin): the second reads show them from the watches.
            profile.admin.apply(inference_service("churn"), experiment("search"))
            wait_for(
                "the new objects in both reads",
                lambda: (
                    [s.name for s in serving.list().services] == ["churn"]
                    and [t.name for t in tuner.list(cluster=True)[0]] == ["search"]
                ),
                timeout=60,
            )
            later = asked.since()
            assert (later["lists"], later["other"]) == (first["lists"], first["other"]), later
    finally:
        tuner.close()
        serving.close()
        watch_cache_of(notebook).close()
        notebook.close()
