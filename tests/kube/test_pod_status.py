"""The pods table's STATUS, READY and RESTARTS: the words `kubectl get pod` prints, case by case.

Each case is a pod status as a kubelet reports it, for the states kwok does not play (OOM kills,
signals, evictions, sidecars, init containers in each state). This test is about reading those
statuses, so it writes each through the status subresource, as the kubelet does, on a pod bound
to a node that has no kubelet (nothing else then touches it), and the expected STATUS, READY and
RESTARTS are the real API server's own table cells for it (what `kubectl get pod` prints).
tests/control_plane/test_pod_status.py covers the states the real scheduler and kwok make.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.rows import row
from jupyter_mlops.testing.control_plane import ControlPlane
from tests.plane import Namespace, fresh_namespace

#: A node no kubelet reports for: a pod bound to it keeps the status written to it.
NO_KUBELET = "no-kubelet"
Obj = dict[str, Any]
RUNNING = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
DONE = {"terminated": {"exitCode": 0, "reason": "Completed"}}


def waiting(reason: str) -> dict[str, Any]:
    return {"waiting": {"reason": reason}}


def ended(code: int, reason: str = "", signal: int = 0) -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": reason, "signal": signal}}


def pod(
    phase: str,
    containers: list[dict[str, Any]] | None = None,
    inits: list[dict[str, Any]] | None = None,
    *,
    conditions: dict[str, str] | None = None,
    reason: str | None = None,
    deleting: bool = False,
    sidecar: bool = False,
) -> dict[str, Any]:
    """A pod whose containers (and init containers) are in the given states."""
    containers = containers or []
    inits = inits or []
    init_specs = [{"name": f"init-{i}", "image": "busybox"} for i in range(len(inits))]
    if sidecar and init_specs:
        init_specs[0]["restartPolicy"] = "Always"
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {
                "type": kind,
                "status": value,
                **({"reason": "Unschedulable"} if value == "False" else {}),
            }
            for kind, value in (conditions or {}).items()
        ],
        "containerStatuses": [
            {
                "name": f"main-{i}",
                "image": "busybox",
                "imageID": "",
                "ready": bool(c.get("ready")),
                "restartCount": c.get("restarts", 0),
                "state": c["state"],
                **({"started": c["started"]} if "started" in c else {}),
            }
            for i, c in enumerate(containers)
        ],
        "initContainerStatuses": [
            {
                "name": f"init-{i}",
                "image": "busybox",
                "imageID": "",
                "ready": bool(c.get("ready")),
                "restartCount": c.get("restarts", 0),
                "state": c["state"],
                **({"started": c["started"]} if "started" in c else {}),
            }
            for i, c in enumerate(inits)
        ],
    }
    if reason:
        status["reason"] = reason
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"deleting": deleting},
        "spec": {
            "nodeName": NO_KUBELET,
            "containers": [
                {"name": f"main-{i}", "image": "busybox"} for i in range(max(len(containers), 1))
            ],
            "initContainers": init_specs,
        },
        "status": status,
    }


CASES: list[tuple[str, dict[str, Any], str]] = [
    # (case, pod, health): the STATUS and READY to expect are the API server's.
    ("pending, not yet scheduled", pod("Pending"), "progress"),
    (
        "unschedulable: kubectl still says Pending",
        pod("Pending", conditions={"PodScheduled": "False"}),
        "error",
    ),
    (
        "container being created",
        pod("Pending", [{"state": waiting("ContainerCreating")}]),
        "progress",
    ),
    (
        "init containers done, main one starting",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": DONE}]),
        "progress",
    ),
    (
        "second of three init containers running",
        pod(
            "Pending",
            [{"state": waiting("PodInitializing")}],
            [{"state": DONE}, {"state": RUNNING}, {"state": waiting("PodInitializing")}],
        ),
        "progress",
    ),
    (
        "init container failed",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": ended(1, "Error")}]),
        "error",
    ),
    (
        "init container failed without a reason",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": ended(3)}]),
        "error",
    ),
    (
        "init container crash-looping",
        pod(
            "Pending",
            [{"state": waiting("PodInitializing")}],
            [{"state": waiting("CrashLoopBackOff"), "restarts": 4}],
        ),
        "error",
    ),
    (
        "running after init containers finished (every KFP v2 task pod)",
        pod(
            "Running",
            [{"state": RUNNING, "ready": True}],
            [{"state": DONE}, {"state": DONE}],
            conditions={"Initialized": "True", "Ready": "True"},
        ),
        "ok",
    ),
    (
        "running, one of two containers not ready",
        pod("Running", [{"state": RUNNING, "ready": True}, {"state": RUNNING}]),
        "progress",
    ),
    (
        "one container completed while another runs, pod not ready",
        pod("Running", [{"state": DONE}, {"state": RUNNING, "ready": True}]),
        "warning",
    ),
    (
        "one container completed while another runs, pod ready",
        pod(
            "Running",
            [{"state": DONE}, {"state": RUNNING, "ready": True}],
            conditions={"Ready": "True"},
        ),
        "ok",
    ),
    ("succeeded", pod("Succeeded", [{"state": DONE}]), "done"),
    ("failed", pod("Failed", [{"state": ended(1, "Error")}]), "error"),
    ("out of memory", pod("Running", [{"state": ended(137, "OOMKilled"), "restarts": 1}]), "error"),
    ("killed by a signal", pod("Failed", [{"state": ended(0, "", 9)}]), "error"),
    (
        "crash loop",
        pod("Running", [{"state": waiting("CrashLoopBackOff"), "restarts": 5}]),
        "error",
    ),
    ("image pull back-off", pod("Pending", [{"state": waiting("ImagePullBackOff")}]), "error"),
    ("missing config", pod("Pending", [{"state": waiting("CreateContainerConfigError")}]), "error"),
    (
        "being deleted",
        pod("Running", [{"state": RUNNING, "ready": True}], deleting=True),
        "progress",
    ),
    ("deleted after it ended", pod("Succeeded", [{"state": DONE}], deleting=True), "done"),
    ("evicted", pod("Failed", reason="Evicted"), "error"),
    (
        "node lost, being deleted",
        pod("Running", [{"state": RUNNING, "ready": True}], reason="NodeLost", deleting=True),
        "error",
    ),
    (
        "sidecar running beside the main container",
        pod(
            "Running",
            [{"state": RUNNING, "ready": True}],
            [{"state": RUNNING, "ready": True, "started": True}],
            conditions={"Initialized": "True", "Ready": "True"},
            sidecar=True,
        ),
        "ok",
    ),
]


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
HOLD = "jupyter-mlops.test/hold"


def table_row(plane: ControlPlane, namespace: str, name: str) -> tuple[dict[str, str], Obj]:
    """The API server's table row of one pod ({column: cell}) and the pod itself, from one
    answer: the cells kubectl prints and the object they were printed from."""
    request = urllib.request.Request(
        f"{plane.url}/api/v1/namespaces/{namespace}/pods/{name}?includeObject=Object",
        headers={"Authorization": f"Bearer {plane.token}", "Accept": TABLE},
    )
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
        table = json.loads(answer.read())
    [only] = table["rows"]
    names = [c["name"] for c in table["columnDefinitions"]]
    return dict(zip(names, only["cells"], strict=True)), only["object"]


def write(ns: Namespace, name: str, manifest: Obj) -> None:
    """Create the pod, then report its status through the status subresource (as a kubelet),
    then delete it if the case is about a pod being deleted (no kubelet finishes that)."""
    plane, path = ns.plane, f"/api/v1/namespaces/{ns.name}/pods"
    deleting = manifest["metadata"]["deleting"]
    # A pod that has ended is deleted at once, unless a finalizer holds it (as the Job
    # controller's does on its pods).
    body = {**manifest, "metadata": {"name": name, "finalizers": [HOLD] if deleting else []}}
    status = body.pop("status")
    created = plane.api("POST", path, body)
    plane.api("PUT", f"{path}/{name}/status", {**created, "status": status})
    if deleting:
        plane.api("DELETE", f"{path}/{name}")


@pytest.fixture(scope="module")
def written(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Namespace]:
    """Every case's pod, in one namespace; removed at once afterwards (no kubelet would)."""
    with fresh_namespace(control_plane, tmp_path_factory.mktemp("pod-status")) as ns:
        for n, (_, manifest, *_) in enumerate(CASES):
            write(ns, f"case-{n:02d}", manifest)
        write(ns, "restarts", RESTARTED)
        yield ns
        for n, (_, manifest, *_) in enumerate(CASES):
            if manifest["metadata"]["deleting"]:
                ns.kubectl(
                    "patch",
                    "pod",
                    f"case-{n:02d}",
                    "--type=json",
                    "-p",
                    '[{"op": "remove", "path": "/metadata/finalizers"}]',
                )
        ns.kubectl("delete", "pods", "--all", "--grace-period=0", "--force", "--wait=false")


@pytest.mark.parametrize(
    ("n", "case", "health"),
    [(n, c[0], c[2]) for n, c in enumerate(CASES)],
    ids=[c[0] for c in CASES],
)
def test_pod_status_reads_as_kubectl_prints_it(
    written: Namespace, n: int, case: str, health: str
) -> None:
    cells, obj = table_row(written.plane, written.name, f"case-{n:02d}")
    shown = row("pods", obj)
    assert (shown["status"], shown["ready"]) == (cells["Status"], cells["Ready"])
    assert shown["health"] == health


RESTARTED = pod(
    "Running",
    [
        {"state": RUNNING, "ready": True, "restarts": 2},
        {"state": RUNNING, "ready": True, "restarts": 3},
    ],
    [{"state": DONE, "restarts": 1}],
    conditions={"Initialized": "True"},
)


def test_restarts_add_up_over_containers_and_finished_init_containers(
    written: Namespace,
) -> None:
    cells, obj = table_row(written.plane, written.name, "restarts")
    # Once initialised, kubectl counts the containers' restarts (and sidecars'), not the inits'.
    assert row("pods", obj)["restarts"] == int(cells["Restarts"]) == 5
