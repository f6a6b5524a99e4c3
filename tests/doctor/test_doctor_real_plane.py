"""The doctor against the real Kubernetes 1.35 control plane: each cause reproduced for real.

The objects are made by the real kube-scheduler (FailedScheduling, PodScheduled), the real
kube-controller-manager (replicaset-, deployment-, statefulset-, job- and persistentvolume-
controller), the real admission plugins (ResourceQuota, LimitRanger) and kwok's Stages playing
the kubelet. A Job's failing container is kwok's own chaos Stage pod-container-running-failed
(jupyter_mlops.testing.control_plane.KWOK_POD_STAGES), selected by its label: it writes the
terminated state and phase Failed as the kubelet would. Nothing here is written by the test in
a component's place. The doctor reads it all through the product's WatchCache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.doctor import DoctorReport, Finding, examine
from jupyter_mlops.kube.watch import WatchCache
from jupyter_mlops.testing.control_plane import FAIL_LABEL
from tests.plane import ProfileNamespace

from .conftest import Namespace, wait_for

Obj = dict[str, Any]

SCHEDULER_TAIL = (
    "no new claims to deallocate, preemption: 0/3 nodes are available: "
    "3 Preemption is not helpful for scheduling."
)


class RealDoctor:
    """The doctor over one WatchCache of the test's namespace."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cache = WatchCache(cluster)
        self.namespace = namespace

    def report(self) -> DoctorReport:
        return examine(self.cache, self.namespace)

    def finding(self, cause: str, name: str, timeout: float = 20.0) -> Finding:
        return self.wait(
            f"a {cause} finding about {name}", lambda r: _pick(r, cause, name), timeout
        )

    def wait(self, what: str, check: Callable[[DoctorReport], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        last: DoctorReport | None = None
        while time.monotonic() < deadline:
            last = self.report()
            got = check(last)
            if got:
                return got
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the doctor said: {last!r}")

    def close(self) -> None:
        self.cache.close()


def _pick(report: DoctorReport, cause: str, name: str) -> Finding | None:
    return next((f for f in report.findings if f.cause == cause and f.object.name == name), None)


def causes(report: DoctorReport, name: str) -> set[str]:
    return {f.cause for f in report.findings if f.object.name == name}


def texts(finding: Finding) -> list[str]:
    return [e.text for e in finding.evidence]


@pytest.fixture
def doctor(namespace: Namespace) -> Iterator[RealDoctor]:
    real = RealDoctor(namespace.cluster(), namespace.name)
    yield real
    real.close()


# -- manifests ---------------------------------------------------------------------------------


def container(name: str = "main", **resources: Obj) -> Obj:
    body: Obj = {"name": name, "image": "python:3.11"}
    if resources:
        body["resources"] = resources
    return body


def pod(name: str, *containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def deployment(name: str, replicas: int, *containers: Obj, deadline: int = 600, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": deadline,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": list(containers) or [container()], **spec},
            },
        },
    }


def job(name: str, template: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {**spec, "template": template},
    }


def claim(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def quota(namespace: Namespace, name: str, hard: dict[str, str]) -> None:
    """A ResourceQuota, once the resourcequota controller has written its status (before that
    the ResourceQuota admission plugin cannot count against it)."""
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": name},
            "spec": {"hard": hard},
        }
    )
    wait_for(
        f"the quota controller to count quota {name}",
        lambda: (namespace.get("resourcequota", name).get("status") or {}).get("hard"),
    )


# -- scheduling: the real kube-scheduler -----------------------------------------------------


def test_insufficient_cpu(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(deployment("trainer", 1, container("main", requests={"cpu": "16"})))
    ns = namespace.name
    pod_name = wait_for(
        "the replicaset-controller's pod",
        lambda: [p["metadata"]["name"] for p in namespace.get("pods")["items"]],
    )[0]

    found = doctor.finding("insufficient-cpu", pod_name)
    assert [(o.kind, o.name) for o in found.owners][1] == ("Deployment", "trainer")
    # The CPU nodes are the largest the pod may use (gpu-1 is tainted); 16 fits none.
    assert "it requests cpu 16" in found.summary
    assert "the largest node it may use, cpu-1, has 4 cpu allocatable" in found.summary
    message = (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
        + SCHEDULER_TAIL
    )
    assert f"PodScheduled=False Unschedulable: {message}" in texts(found)
    assert any(t.startswith("Warning FailedScheduling") and message in t for t in texts(found))
    assert "container main: cpu: 16" in texts(found)
    assert found.fix == (
        f"kubectl -n {ns} set resources deployment/trainer -c main --requests=cpu=well under 4"
    )
    # The GPU node's taint is not why: tolerating it, 16 CPU would not fit its 8 either.
    assert "untolerated-taint" not in causes(doctor.report(), pod_name)


def test_gpu_pod_without_a_toleration(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(pod("gpu-train", container("main", limits={"nvidia.com/gpu": "1"})))

    found = doctor.finding("untolerated-taint", "gpu-train")
    message = (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient "
        "nvidia.com/gpu. " + SCHEDULER_TAIL
    )
    assert f"PodScheduled=False Unschedulable: {message}" in texts(found)
    assert any(t.startswith("Warning FailedScheduling") and message in t for t in texts(found))
    assert "node gpu-1 taint nvidia.com/gpu=present:NoSchedule" in texts(found)
    assert "nvidia.com/gpu=present:NoSchedule" in found.summary
    assert "as GPU nodes usually are" in found.summary
    assert "gpu-1 has the nvidia.com/gpu it asks for" in found.summary
    assert '"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}]' in (
        found.fix
    )
    assert f"kubectl -n {namespace.name} get pod gpu-train -o yaml" in found.fix
    # The CPU nodes have no GPU at all; the one that has them is the taint's: no resource to cut.
    assert "insufficient-gpu" not in causes(doctor.report(), "gpu-train")


def test_node_selector_matching_no_node(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(pod("a100", nodeSelector={"accelerator": "nvidia-a100"}))

    found = doctor.finding("node-selector-mismatch", "a100")
    message = (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't match "
        "Pod's node affinity/selector. " + SCHEDULER_TAIL
    )
    assert f"PodScheduled=False Unschedulable: {message}" in texts(found)
    assert "nodeSelector: {'accelerator': 'nvidia-a100'}" in texts(found)
    assert "no node has the label accelerator=nvidia-a100" in found.summary
    assert "kubectl label node NODE accelerator=nvidia-a100" in found.fix
    # gpu-1 (accelerator=nvidia-tesla-t4) would not match either: its taint is not the cause.
    assert "untolerated-taint" not in causes(doctor.report(), "a100")


def test_claim_pending_without_a_default_storage_class(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    namespace.apply(
        claim("workspace"),
        pod(
            "notebook-0",
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "workspace"}}],
        ),
    )
    ns = namespace.name
    on_claim = doctor.finding("unbound-claim-no-default-class", "workspace")
    # The real persistentvolume-controller's event (it is of type Normal).
    binding = (
        "Normal FailedBinding: no persistent volumes available for this claim and no storage "
        "class is set"
    )
    on_claim = doctor.wait(
        "the PV controller's event quoted",
        lambda r: (
            (f := _pick(r, "unbound-claim-no-default-class", "workspace"))
            and any(binding in t for t in texts(f))
            and f
        ),
    )
    assert "storageClassName: (not set)" in texts(on_claim)
    assert "the cluster had no default StorageClass" in on_claim.summary
    assert "StorageClasses: none; still no default" in on_claim.summary
    assert f"kubectl -n {ns} get pvc workspace -o yaml > workspace.yaml" in on_claim.fix

    on_pod = doctor.finding("unbound-claim-no-default-class", "notebook-0")
    assert on_pod.summary.startswith("Pod notebook-0 waits for its claim workspace")
    assert (
        "PodScheduled=False Unschedulable: 0/3 nodes are available: pod has unbound immediate "
        "PersistentVolumeClaims. not found"
    ) in texts(on_pod)


# -- quota and limits: the real admission plugins, seen on the controllers' FailedCreate -------


def test_quota_exceeded_on_a_deployment(namespace: Namespace, doctor: RealDoctor) -> None:
    quota(namespace, "compute", {"pods": "1", "requests.cpu": "2"})
    namespace.apply(deployment("web", 3, container("main", requests={"cpu": "500m"})))

    found = doctor.finding(
        "quota-exceeded",
        wait_for(
            "the ReplicaSet",
            lambda: [r["metadata"]["name"] for r in namespace.get("replicasets")["items"]],
        )[0],
    )
    rs = found.object.name
    assert found.object.kind == "ReplicaSet"
    assert [(o.kind, o.name) for o in found.owners] == [("Deployment", "web")]
    assert (
        "ResourceQuota compute would be exceeded (requested pods=1, used pods=1, limited pods=1)"
        in found.summary
    )
    condition = next(t for t in texts(found) if t.startswith("ReplicaFailure=True FailedCreate"))
    assert f'pods "{rs}-' in condition
    assert condition.endswith(
        "is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1"
    )
    assert any(
        t.startswith("Warning FailedCreate") and f'Error creating: pods "{rs}-' in t
        for t in texts(found)
    )
    assert "ResourceQuota compute: pods used 1 of 1, requests.cpu used 500m of 2" in texts(found)
    assert f"kubectl -n {namespace.name} set resources deployment/web" in found.fix
    assert "raise quota compute" in found.fix
    # The Deployment's own ReplicaFailure is the same cause: told once, on the ReplicaSet.
    assert "quota-exceeded" not in causes(doctor.report(), "web")


def test_missing_request_under_a_quota_on_a_statefulset(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    quota(namespace, "compute", {"requests.cpu": "2"})
    namespace.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 1,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [container("postgres")]},
                },
            },
        }
    )

    found = doctor.finding("quota-missing-request", "db")
    assert found.object.kind == "StatefulSet"
    event = (
        'Create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: failed quota: '
        "compute: must specify requests.cpu for: postgres"
    )
    assert any(t.startswith("Warning FailedCreate") and event in t for t in texts(found))
    assert "ResourceQuota (compute) on requests.cpu" in found.summary
    assert "container postgres does not" in found.summary
    assert found.fix.startswith(
        f"kubectl -n {namespace.name} set resources statefulset/db -c postgres --requests=cpu=VALUE"
    )


def test_limit_range_violation(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "limits"},
            "spec": {"limits": [{"type": "Container", "max": {"cpu": "1", "memory": "2Gi"}}]},
        }
    )
    two = {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}}
    # A pod made directly: the LimitRanger admission plugin refuses it, nothing is stored.
    path = namespace.tmp_path / "toobig.json"
    path.write_text(json.dumps(pod("toobig", container("main", **two))))
    refused = namespace.kubectl("create", "-f", str(path), check=False)
    assert refused.returncode != 0
    assert (
        'pods "toobig" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
        in refused.stderr
    )

    namespace.apply(deployment("big", 1, container("main", **two)))
    rs = wait_for(
        "the ReplicaSet",
        lambda: [r["metadata"]["name"] for r in namespace.get("replicasets")["items"]],
    )[0]
    found = doctor.finding("limitrange-violation", rs)
    assert [(o.kind, o.name) for o in found.owners] == [("Deployment", "big")]
    assert "allows a maximum of 1 cpu per Container, and the pod asks 2" in found.summary
    assert any(
        t.startswith("Warning FailedCreate")
        and "is forbidden: maximum cpu usage per Container is 1, but limit is 2" in t
        for t in texts(found)
    )
    assert f"kubectl -n {namespace.name} set resources deployment/big" in found.fix


# -- workloads: the real job- and deployment-controller -----------------------------------------


def test_job_past_its_backoff_limit(namespace: Namespace, doctor: RealDoctor) -> None:
    # kwok's chaos Stage fails the container as the kubelet reports a program exiting 1.
    template = {
        "metadata": {
            "labels": {FAIL_LABEL: "true"},
            "annotations": {f"{FAIL_LABEL}/reason": "Error", f"{FAIL_LABEL}/delay": "200ms"},
        },
        "spec": {"restartPolicy": "Never", "containers": [container("train")]},
    }
    namespace.apply(job("train", template, backoffLimit=1))

    found = doctor.finding("job-backoff-limit", "train", timeout=40)
    assert "Failed=True BackoffLimitExceeded: Job has reached the specified backoff limit" in (
        texts(found)
    )
    assert "its pods failed 2 times, past backoffLimit 1" in found.summary
    assert "Its last failed pod: Container train failed (exit code 1)" in found.summary
    assert any(t.startswith("terminated: reason Error, exit code 1") for t in texts(found))
    assert f"kubectl -n {namespace.name} logs train-" in found.fix
    assert f"kubectl -n {namespace.name} delete job train" in found.fix


def test_job_past_its_deadline(namespace: Namespace, doctor: RealDoctor) -> None:
    # Its pod waits for a node that does not exist until the job-controller's deadline.
    template = {
        "spec": {
            "restartPolicy": "Never",
            "nodeSelector": {"accelerator": "nvidia-a100"},
            "containers": [container("train")],
        }
    }
    namespace.apply(job("slow", template, activeDeadlineSeconds=2))

    found = doctor.finding("job-deadline-exceeded", "slow")
    assert "Failed=True DeadlineExceeded: Job was active longer than specified deadline" in (
        texts(found)
    )
    assert "it ran longer than activeDeadlineSeconds 2" in found.summary
    assert "Raise spec.activeDeadlineSeconds of Job slow" in found.fix
    assert f"kubectl -n {namespace.name} delete job slow" in found.fix


def test_deployment_not_progressing(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(deployment("stuck", 1, deadline=2, nodeSelector={"accelerator": "nvidia-a100"}))

    found = doctor.finding("deployment-not-progressing", "stuck", timeout=30)
    rs = next(r["metadata"]["name"] for r in namespace.get("replicasets")["items"])
    condition = (
        f'Progressing=False ProgressDeadlineExceeded: ReplicaSet "{rs}" has timed out progressing.'
    )
    assert condition in texts(found)
    assert found.summary.startswith(
        f'Deployment stuck is not progressing: ReplicaSet "{rs}" has timed out progressing '
        "(ProgressDeadlineExceeded). Its pods: No node matches pod"
    )
    assert found.fix.startswith(
        f"kubectl -n {namespace.name} patch deployment stuck --type merge "
        '-p \'{"spec":{"template":{"spec":{"nodeSelector":null}}}}\''
    )


# -- rights: a Kubeflow profile's default-editor, its token from the TokenRequest API ---------


def test_namespace_only_identity(profile: ProfileNamespace) -> None:
    """As the notebook's identity in Kubeflow: the profile's default-editor, bound to the real
    aggregated kubeflow-edit (no nodes, no PersistentVolumes; StorageClasses it may read)."""
    namespace = profile
    cluster = profile.cluster()
    namespace.apply(
        pod("big", container("main", requests={"cpu": "16"})),
        claim("workspace"),
    )
    editor = RealDoctor(cluster, namespace.name)
    try:
        report = editor.wait(
            "findings as the namespace editor",
            lambda r: (
                _pick(r, "insufficient-cpu", "big")
                and _pick(r, "unbound-claim-no-default-class", "workspace")
                and r
            ),
        )
    finally:
        editor.close()
        cluster.close()
    unreadable = {u.kind: u for u in report.unreadable}
    assert {"nodes", "storageclasses", "persistentvolumes"} <= set(unreadable)
    assert 'nodes is forbidden: User "system:serviceaccount:' in unreadable["nodes"].reason
    assert 'cannot list resource "nodes"' in unreadable["nodes"].reason
    assert "the scheduler's own message is quoted instead" in unreadable["nodes"].limits
    assert "storageclasses" in unreadable["storageclasses"].reason
    big = _pick(report, "insufficient-cpu", "big")
    assert big is not None
    assert "it requests cpu 16" in big.summary
    assert "largest node" not in big.summary  # the nodes are not readable
    assert any("2 Insufficient cpu" in t for t in texts(big))
    claim_finding = _pick(report, "unbound-claim-no-default-class", "workspace")
    assert claim_finding is not None and "StorageClasses:" not in claim_finding.summary
