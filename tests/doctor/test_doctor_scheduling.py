"""Why a pod is not scheduled: resources, taints, selectors and claims."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, Doctor, event, pod


def test_insufficient_cpu_from_the_emulated_scheduler_quotes_request_and_node(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.create(pod("greedy", resources={"requests": {"cpu": "64"}}))

    found = doctor.finding("insufficient-cpu", "greedy")

    assert "No node has enough cpu free for this pod (it requests cpu 64)" in found.summary
    assert "emulated-node, has 4 cpu allocatable" in found.summary
    assert {e.source for e in found.evidence} >= {"condition", "event", "spec"}
    assert any("Insufficient cpu" in e.text for e in found.evidence if e.source == "event")
    assert "kubectl -n team get pod greedy -o yaml" in found.fix
    assert found.severity == "error" and found.certainty == "certain"


def test_insufficient_cpu_is_still_found_from_the_condition_once_the_event_expired(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.controllers = False
    made = pod("notebook-0", resources={"requests": {"cpu": "500m"}})
    # As kube-scheduler writes it; its FailedScheduling event has expired (1 h TTL).
    made["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu. no new claims to "
                "deallocate, preemption: 0/1 nodes are available: 1 No preemption victims "
                "found for incoming pod.",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
    }
    kube.create(made)

    found = doctor.finding("insufficient-cpu", "notebook-0")

    assert "(it requests cpu 500m)" in found.summary
    assert [e.source for e in found.evidence if e.source == "event"] == []
    assert any(e.time == "2024-05-01T10:00:00Z" for e in found.evidence)


def test_insufficient_memory(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.create(pod("big", resources={"requests": {"memory": "64Gi"}}))

    found = doctor.finding("insufficient-memory", "big")

    assert "it requests memory 64Gi" in found.summary
    assert "16Gi memory allocatable" in found.summary
    assert "requests.memory" in found.fix


def _gpu_node(kube: KubeEmulator) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "gpu-node", "labels": {"accelerator": "a100"}},
            "spec": {
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
            },
            "status": {
                "allocatable": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "1", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )


def _unschedulable(kube: KubeEmulator, made: Any, message: str) -> None:
    """The pod as kube-scheduler leaves it: condition and FailedScheduling event."""
    made["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
    }
    created = kube.create(made)
    kube.create(event(created, "FailedScheduling", message, component="default-scheduler"))


def test_insufficient_gpu_quotes_the_largest_gpu_node(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    _gpu_node(kube)
    wants = pod("train", resources={"limits": {"nvidia.com/gpu": "2"}})
    wants["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    _unschedulable(
        kube,
        wants,
        "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. no new claims to "
        "deallocate, preemption: 0/2 nodes are "
        "available: 2 No preemption victims found for incoming pod.",
    )

    found = doctor.finding("insufficient-gpu", "train")

    assert "it requests nvidia.com/gpu 2" in found.summary
    assert "gpu-node, has 1 nvidia.com/gpu allocatable" in found.summary
    assert "limits.nvidia.com/gpu" in found.fix


def test_a_gpu_pod_without_toleration_names_the_taint_and_the_toleration(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.controllers = False
    _gpu_node(kube)
    deployment = kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "trainer", "namespace": NAMESPACE},
            "spec": {
                "selector": {"matchLabels": {"app": "trainer"}},
                "template": {
                    "metadata": {"labels": {"app": "trainer"}},
                    "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
                },
            },
        }
    )
    rs = kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": "trainer-5d4f",
                "namespace": NAMESPACE,
                "ownerReferences": [_ref(deployment)],
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "trainer"}},
                "template": deployment["spec"]["template"],
            },
        }
    )
    _unschedulable(
        kube,
        pod("trainer-5d4f-x2x9q", owner=rs, resources={"limits": {"nvidia.com/gpu": "1"}}),
        # kube-scheduler 1.35 no longer names the taint ("taint(s)"); the nodes do.
        "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated "
        "taint(s). no new claims to deallocate, preemption: 0/2 nodes are available: 2 "
        "Preemption is not helpful for scheduling.",
    )

    found = doctor.finding("untolerated-taint", "trainer-5d4f-x2x9q")

    assert [(o.kind, o.name) for o in found.owners] == [
        ("ReplicaSet", "trainer-5d4f"),
        ("Deployment", "trainer"),
    ]
    assert "nvidia.com/gpu=present:NoSchedule" in found.summary
    assert found.fix.startswith("kubectl -n team patch deployment trainer --type merge -p")
    assert '"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists"' in found.fix


def _ref(owner: Any) -> Any:
    from .conftest import controller_ref

    return controller_ref(owner)


def test_a_node_selector_no_node_matches(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    picky = pod("picky")
    picky["spec"]["nodeSelector"] = {"accelerator": "h100"}
    _unschedulable(
        kube,
        picky,
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is "
        "not helpful for scheduling.",
    )

    found = doctor.finding("node-selector-mismatch", "picky")

    assert "no node has the label accelerator=h100" in found.summary
    assert any("nodeSelector" in e.text for e in found.evidence if e.source == "spec")
    assert "kubectl label node NODE accelerator=h100" in found.fix


def _no_default_class(kube: KubeEmulator) -> None:
    kube.apply(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
            },
            "provisioner": "rancher.io/local-path",
        }
    )


def _claim(name: str, **spec: Any) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "10Gi"}},
            **spec,
        },
    }


def _with_claim(name: str, claim: str) -> Any:
    made = pod(name)
    made["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return made


def test_a_claim_unbound_because_there_is_no_default_storage_class(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    _no_default_class(kube)
    kube.create(_claim("workspace"))
    kube.create(_with_claim("notebook-0", "workspace"))

    claim = doctor.finding("unbound-claim-no-default-class", "workspace")
    on_pod = doctor.finding("unbound-claim-no-default-class", "notebook-0")

    assert "the cluster had no default StorageClass" in claim.summary
    assert "StorageClasses: standard; still no default" in claim.summary
    assert "spec.storageClassName: standard" in claim.fix
    assert "kubectl -n team delete pvc workspace" in claim.fix
    assert "Pod notebook-0 waits for its claim workspace" in on_pod.summary
    assert any("unbound immediate PersistentVolumeClaims" in e.text for e in on_pod.evidence)


def test_a_claim_naming_a_class_that_does_not_exist(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.create(_claim("fast-data", storageClassName="fast-ssd"))

    found = doctor.finding("unbound-claim-class-missing", "fast-data")

    assert "StorageClass 'fast-ssd', which does not exist (StorageClasses: standard)" in (
        found.summary
    )
    assert "storageClassName (standard)" in found.fix


def test_a_claim_for_a_pre_made_volume_that_no_volume_matches(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.create(_claim("static", storageClassName=""))

    found = doctor.finding("unbound-claim-no-matching-pv", "static")

    assert "no free one matches" in found.summary
    assert "PersistentVolume" in found.fix


def test_a_healthy_namespace_has_no_finding(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.create(pod("fine", resources={"requests": {"cpu": "100m"}}))
    kube.create(_claim("data"))

    def settled(report: Any) -> bool:
        pods = doctor.cache.objects(doctor.cache.cluster.kind("pods"), NAMESPACE)
        return any((p.get("status") or {}).get("phase") == "Running" for p in pods)

    doctor.wait(settled)
    assert doctor.report().findings == []
