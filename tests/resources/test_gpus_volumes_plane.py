"""GPUs and volumes on the real plane: kwok's gpu-1 node with two `nvidia.com/gpu`, free per
node as `kubectl describe node` counts it; claims with the pods that mount them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jupyter_mlops.kube.resources import gpus, my_pod, volumes
from jupyter_mlops.kube.top import top
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import GPU_TAINT
from tests.plane import Namespace, ProfileNamespace, wait_for

from .conftest import notebook_cluster, on_node, pod, sized

Obj = dict[str, Any]
TOLERATE_GPU = [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}]


def gpu_pod(name: str, count: str = "1") -> Obj:
    return pod(name, sized("100m", gpu=count), tolerations=TOLERATE_GPU)


def allocated_gpus(ns: Namespace, node: str) -> float:
    """What `kubectl describe node` lists as requested of nvidia.com/gpu on the node."""
    text = ns.plane.kubectl("describe", "node", node).stdout
    found = re.search(r"^\s+nvidia\.com/gpu\s+(\d+)\s+(\d+)", text, re.M)
    assert found, text
    return float(found.group(1))


def test_free_gpus_per_node_are_allocatable_minus_requests_with_the_product(
    namespace: Namespace, admin_cache: WatchCache
) -> None:
    namespace.apply(gpu_pod("train"))
    node = on_node(namespace, "train")
    described = json.loads(namespace.plane.kubectl("get", "node", node, "-o", "json").stdout)
    product = described["metadata"]["labels"]["accelerator"]

    def agreed() -> Any:
        found = [g for g in gpus(admin_cache).nodes if g.node == node]
        return found and found[0].requested == allocated_gpus(namespace, node) and found[0]

    shown = wait_for("the cache to count the GPU pod as the node does", agreed, timeout=60)
    assert shown.resource == "nvidia.com/gpu" and shown.product == product
    assert shown.free == shown.allocatable - shown.requested and shown.requested >= 1
    mine = gpus(admin_cache).requested
    assert [(u.pod, u.resource, u.count) for u in mine] == [("train", "nvidia.com/gpu", 1.0)]
    # Nodes without extended resources are not rows.
    assert {g.node for g in gpus(admin_cache).nodes} == {node}


def test_the_editor_sees_its_gpu_requests_and_is_told_nodes_are_unreadable(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    refused = profile.kubectl("get", "nodes", check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()
    profile.apply(gpu_pod("tune"))
    shown = wait_for("the GPU pod", lambda: gpus(editor_cache).requested and gpus(editor_cache))
    assert not shown.nodes_readable and shown.nodes == []
    assert "not readable" in (shown.note or "")
    assert [(u.pod, u.count) for u in shown.requested] == [("tune", 1.0)]
    view = top("gpus", editor_cache)
    assert view.rows == [] and any("not readable" in n for n in view.notes)


def claim(name: str, *modes: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": "2Gi"}}},
    }


def mounting(name: str, claim_name: str, node: str) -> Obj:
    spec = pod(name, sized("10m"), nodeName=node)
    spec["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]
    spec["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return spec


def used_by(ns: Namespace, name: str) -> set[str]:
    """The pods `kubectl describe pvc` lists under "Used By"."""
    text = ns.kubectl("describe", "pvc", name).stdout
    block = re.search(r"^Used By:\s+(.*?)^\S", text, re.M | re.S)
    assert block, text
    return {w for w in block.group(1).split() if w != "<none>"}


def test_claims_show_size_modes_mounting_pods_and_a_read_write_once_conflict(
    profile: ProfileNamespace, editor_cache: WatchCache
) -> None:
    profile.apply(
        claim("shared", "ReadWriteOnce"),
        claim("scratch", "ReadWriteMany"),
        claim("unused", "ReadWriteOnce"),
        mounting("w1", "shared", "cpu-1"),
        mounting("w2", "shared", "cpu-2"),
        mounting("r1", "scratch", "cpu-1"),
        mounting("r2", "scratch", "cpu-2"),
    )

    def all_shown() -> Any:
        found = {v.claim: v for v in volumes(editor_cache)}
        return len(found) == 3 and sum(len(v.pods) for v in found.values()) == 4 and found

    shown = wait_for("the claims and pods in the cache", all_shown)
    for name, volume in shown.items():
        assert {p.name for p in volume.pods} == used_by(profile, name)
        assert volume.size == 2 * 2**30
    assert shown["shared"].access_modes == ["ReadWriteOnce"]
    assert {(p.name, p.node) for p in shown["shared"].pods} == {("w1", "cpu-1"), ("w2", "cpu-2")}
    warning = shown["shared"].warning or ""
    assert "ReadWriteOnce" in warning and "cpu-1" in warning and "cpu-2" in warning
    assert shown["scratch"].warning is None and shown["unused"].warning is None
    view = top("volumes", editor_cache)
    assert [n for n in view.notes if n.startswith("warning: shared ")]
    assert {r["name"]: r["capacity"] for r in view.rows} == dict.fromkeys(shown, "2Gi")


def test_my_notebook_pod_shows_its_requests_and_this_process_use(
    profile: ProfileNamespace, tmp_path: Path
) -> None:
    profile.apply(pod("mynb-0", sized("500m", "1Gi", limit_cpu="1", limit_memory="2Gi")))
    cache = WatchCache(notebook_cluster(profile, "mynb-0", tmp_path))
    try:
        mine = wait_for("my pod", lambda: (m := my_pod(cache, interval=0.1)).pod and m)
    finally:
        cache.close()
        cache.cluster.close()
    assert mine.name == "mynb-0" and mine.namespace == profile.name
    assert mine.pod is not None
    assert mine.pod.requests == {"cpu": 0.5, "memory": 2**30}
    assert mine.pod.limits == {"cpu": 1.0, "memory": 2 * 2**30}
    assert mine.usage.memory_bytes and mine.usage.memory_bytes > 0
    assert mine.usage.cpu_cores is not None and mine.note is None
