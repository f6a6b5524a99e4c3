"""The pods table's STATUS, READY and RESTARTS: the words `kubectl get pod` prints, case by case.

Each case is a pod as the API server holds it, with the STATUS kubectl's printer gives for it.
"""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.kube.rows import row

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
    metadata: dict[str, Any] = {"name": "p", "namespace": "team", "uid": "u"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {
            "containers": [{"name": f"main-{i}"} for i in range(max(len(containers), 1))],
            "initContainers": init_specs,
        },
        "status": status,
    }


CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # (case, pod, STATUS, READY, health)
    ("pending, not yet scheduled", pod("Pending"), "Pending", "0/1", "progress"),
    (
        "unschedulable: kubectl still says Pending",
        pod("Pending", conditions={"PodScheduled": "False"}),
        "Pending",
        "0/1",
        "error",
    ),
    (
        "container being created",
        pod("Pending", [{"state": waiting("ContainerCreating")}]),
        "ContainerCreating",
        "0/1",
        "progress",
    ),
    (
        "init containers done, main one starting",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": DONE}]),
        "PodInitializing",
        "0/1",
        "progress",
    ),
    (
        "second of three init containers running",
        pod(
            "Pending",
            [{"state": waiting("PodInitializing")}],
            [{"state": DONE}, {"state": RUNNING}, {"state": waiting("PodInitializing")}],
        ),
        "Init:1/3",
        "0/1",
        "progress",
    ),
    (
        "init container failed",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": ended(1, "Error")}]),
        "Init:Error",
        "0/1",
        "error",
    ),
    (
        "init container failed without a reason",
        pod("Pending", [{"state": waiting("PodInitializing")}], [{"state": ended(3)}]),
        "Init:ExitCode:3",
        "0/1",
        "error",
    ),
    (
        "init container crash-looping",
        pod(
            "Pending",
            [{"state": waiting("PodInitializing")}],
            [{"state": waiting("CrashLoopBackOff"), "restarts": 4}],
        ),
        "Init:CrashLoopBackOff",
        "0/1",
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
        "Running",
        "1/1",
        "ok",
    ),
    (
        "running, one of two containers not ready",
        pod("Running", [{"state": RUNNING, "ready": True}, {"state": RUNNING}]),
        "Running",
        "1/2",
        "progress",
    ),
    (
        "one container completed while another runs, pod not ready",
        pod("Running", [{"state": DONE}, {"state": RUNNING, "ready": True}]),
        "NotReady",
        "1/2",
        "warning",
    ),
    (
        "one container completed while another runs, pod ready",
        pod(
            "Running",
            [{"state": DONE}, {"state": RUNNING, "ready": True}],
            conditions={"Ready": "True"},
        ),
        "Running",
        "1/2",
        "ok",
    ),
    ("succeeded", pod("Succeeded", [{"state": DONE}]), "Completed", "0/1", "done"),
    ("failed", pod("Failed", [{"state": ended(1, "Error")}]), "Error", "0/1", "error"),
    (
        "out of memory",
        pod("Running", [{"state": ended(137, "OOMKilled"), "restarts": 1}]),
        "OOMKilled",
        "0/1",
        "error",
    ),
    ("killed by a signal", pod("Failed", [{"state": ended(0, "", 9)}]), "Signal:9", "0/1", "error"),
    (
        "crash loop",
        pod("Running", [{"state": waiting("CrashLoopBackOff"), "restarts": 5}]),
        "CrashLoopBackOff",
        "0/1",
        "error",
    ),
    (
        "image pull back-off",
        pod("Pending", [{"state": waiting("ImagePullBackOff")}]),
        "ImagePullBackOff",
        "0/1",
        "error",
    ),
    (
        "missing config",
        pod("Pending", [{"state": waiting("CreateContainerConfigError")}]),
        "CreateContainerConfigError",
        "0/1",
        "error",
    ),
    (
        "being deleted",
        pod("Running", [{"state": RUNNING, "ready": True}], deleting=True),
        "Terminating",
        "1/1",
        "progress",
    ),
    (
        "deleted after it ended",
        pod("Succeeded", [{"state": DONE}], deleting=True),
        "Completed",
        "0/1",
        "done",
    ),
    ("evicted", pod("Failed", reason="Evicted"), "Evicted", "0/1", "error"),
    (
        "node lost, being deleted",
        pod("Running", [{"state": RUNNING, "ready": True}], reason="NodeLost", deleting=True),
        "Unknown",
        "1/1",
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
        "Running",
        "2/2",
        "ok",
    ),
]


@pytest.mark.parametrize(
    ("case", "obj", "status", "ready", "health"), CASES, ids=[c[0] for c in CASES]
)
def test_pod_status_reads_as_kubectl_prints_it(
    case: str, obj: dict[str, Any], status: str, ready: str, health: str
) -> None:
    shown = row("pods", obj)
    assert (shown["status"], shown["ready"], shown["health"]) == (status, ready, health)


def test_restarts_add_up_over_containers_and_finished_init_containers() -> None:
    crashed = pod(
        "Running",
        [
            {"state": RUNNING, "ready": True, "restarts": 2},
            {"state": RUNNING, "ready": True, "restarts": 3},
        ],
        [{"state": DONE, "restarts": 1}],
        conditions={"Initialized": "True"},
    )
    # Once initialised, kubectl counts the containers' restarts (and sidecars'), not the inits'.
    assert row("pods", crashed)["restarts"] == 5
