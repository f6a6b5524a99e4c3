"""The pods table's STATUS, READY and NODE against kubectl's, for states the real scheduler and
kwok produce. kubectl's value is the expected one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.kube.rows import row
from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import Namespace, fresh_namespace, wait_for
from .manifests import IMAGE, container, pod

Obj = dict[str, Any]
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}

JOB: Obj = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "job"},
    "spec": {
        "backoffLimit": 0,
        "template": {
            "metadata": {"labels": {"test": "job"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": IMAGE, "command": ["true"]}],
            },
        },
    },
}

# name -> (manifest, what the pod settles into: a phase, or "unscheduled")
CASES: dict[str, tuple[Obj, str]] = {
    "running": (pod("running"), "Running"),
    "two-containers": (pod("two-containers", container("a"), container("b")), "Running"),
    "init": (
        pod("init", container(), initContainers=[{"name": "setup", "image": IMAGE}]),
        "Running",
    ),
    "too-much-cpu": (pod("too-much-cpu", container(cpu="100")), "unscheduled"),
    "gpu-without-toleration": (
        pod("gpu-without-toleration", container(**{"nvidia.com/gpu": "1"})),
        "unscheduled",
    ),
    "gpu": (
        pod("gpu", container(**{"nvidia.com/gpu": "1"}), tolerations=[GPU_TOLERATION]),
        "Running",
    ),
    # Bound by hand to a node that does not exist: no kubelet ever reports on it.
    "ghost-node": (pod("ghost-node", nodeName="ghost"), "Pending"),
    "no-such-node-label": (
        pod("no-such-node-label", nodeSelector={"disktype": "ssd"}),
        "unscheduled",
    ),
}


def _settled(ns: Namespace, name: str, want: str) -> Obj | None:
    obj = ns.get("pod", name) if name != "job" else ns.get("pods", "-l", "job-name=job")["items"]
    if isinstance(obj, list):
        if not obj:
            return None
        obj = obj[0]
    status = obj.get("status") or {}
    if want == "unscheduled":
        conds = [c for c in status.get("conditions") or [] if c["type"] == "PodScheduled"]
        return obj if conds and conds[0]["status"] == "False" else None
    return obj if status.get("phase") == want else None


@pytest.fixture(scope="module")
def pods(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Namespace, dict[str, Obj]]]:
    """Every case's pod, created at once in one namespace, each waited for until it settles."""
    tmp: Path = tmp_path_factory.mktemp("pod-status")
    with fresh_namespace(control_plane, tmp) as ns:
        ns.apply(*(manifest for manifest, _ in CASES.values()), JOB)
        settled = {
            name: wait_for(f"pod {name} to be {want}", lambda n=name, w=want: _settled(ns, n, w))
            for name, (_, want) in {**CASES, "job": (JOB, "Succeeded")}.items()
        }
        yield ns, settled


# kubectl's STATUS for each case: what the product's table must show.
@pytest.mark.parametrize("name", [*CASES, "job"])
def test_status_ready_and_node_match_kubectl(
    pods: tuple[Namespace, dict[str, Obj]], name: str
) -> None:
    ns, settled = pods
    obj = ns.cluster().get("pods", settled[name]["metadata"]["name"])
    theirs = ns.columns("pod", obj["metadata"]["name"], "-o", "wide")
    mine = row("pods", obj)
    assert {"status": mine["status"], "ready": mine["ready"], "node": mine["node"] or "<none>"} == {
        "status": theirs["STATUS"],
        "ready": theirs["READY"],
        "node": theirs["NODE"],
    }


def test_scheduler_places_gpu_pods_only_on_the_tainted_gpu_node(
    pods: tuple[Namespace, dict[str, Obj]],
) -> None:
    _, settled = pods
    assert settled["gpu"]["spec"]["nodeName"] == "gpu-1"
    assert settled["running"]["spec"]["nodeName"] in ("cpu-1", "cpu-2")
    assert settled["job"]["spec"]["nodeName"] in ("cpu-1", "cpu-2")


def test_failed_scheduling_says_why(pods: tuple[Namespace, dict[str, Obj]]) -> None:
    ns, _ = pods
    cluster = ns.cluster()
    # The 1.35 scheduler does not name the taint: "untolerated taint(s)".
    taint = "untolerated taint(s)"

    def message(name: str) -> str:
        events = wait_for(
            f"a FailedScheduling event about {name}",
            lambda: [
                e
                for e in cluster.events(involving=cluster.get("pods", name), warnings=True)
                if e["reason"] == "FailedScheduling"
            ],
        )
        assert events[-1]["source"].get(
            "component", "default-scheduler"
        ) == "default-scheduler" or (events[-1].get("reportingComponent") == "default-scheduler")
        return str(events[-1]["message"])

    assert message("too-much-cpu").startswith(
        f"0/3 nodes are available: 1 node(s) had {taint}, 2 Insufficient cpu."
    )
    assert message("gpu-without-toleration").startswith(
        f"0/3 nodes are available: 1 node(s) had {taint}, 2 Insufficient nvidia.com/gpu."
    )
    assert message("no-such-node-label").startswith(
        f"0/3 nodes are available: 1 node(s) had {taint}, "
        "2 node(s) didn't match Pod's node affinity/selector."
    )
