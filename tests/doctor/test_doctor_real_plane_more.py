"""More of the doctor's causes on the real Kubernetes 1.35 control plane.

Made by real components: the persistentvolume-controller's FailedBinding and
ExternalProvisioning events, the scheduler's events.k8s.io/v1 events, the pvc-protection
controller's finalizer, the pod garbage collector, kwok's lifecycle Stages playing the kubelet
(crash loops, init containers) and the kube-apiserver's authorizer (SelfSubjectRulesReview).

Written by the test where no real component runs here, each as that component writes it and
named where it is written: the kubelet's FailedMount event (kwok writes none), the KServe
controller's InferenceService status and the Katib controller's Trial status (both through the
status subresource), and the programs' own log lines (the storage initializer's, Python's).
"""

import datetime as dt
import secrets
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp
import pytest

from jupyter_mlops.kube.doctor import examine_task
from jupyter_mlops.testing.control_plane import (
    CRASH_LOOP,
    IMAGE_PULL_ERROR,
    INIT_FAILS,
    lifecycle,
    node,
)
from jupyter_mlops.testing.kfp import KfpEmulator
from tests.kfp_pipelines import compiled, two_steps
from tests.plane import ProfileNamespace

from .conftest import Namespace, wait_for
from .test_doctor_real_plane import RealDoctor, _pick, causes, texts

Obj = dict[str, Any]


@pytest.fixture
def doctor(namespace: Namespace) -> Iterator[RealDoctor]:
    real = RealDoctor(namespace.cluster(), namespace.name)
    yield real
    real.close()


def pod(name: str, meta: Obj | None = None, **spec: Any) -> Obj:
    containers = spec.pop("containers", [{"name": "main", "image": "python:3.11"}])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **(meta or {})},
        "spec": {"containers": containers, **spec},
    }


def claim(name: str, modes: list[str], class_name: str | None) -> Obj:
    spec: Obj = {"accessModes": modes, "resources": {"requests": {"storage": "1Gi"}}}
    if class_name is not None:
        spec["storageClassName"] = class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": spec,
    }


def logs(found: Any) -> list[str]:
    return [e.text for e in found.evidence if e.source == "log"]


@pytest.fixture
def cluster_objects(namespace: Namespace) -> Iterator[list[str]]:
    """API paths of cluster-scoped objects a test made (its own nodes, PVs, classes): removed
    afterwards. The session's cpu-1, cpu-2 and gpu-1 are never touched."""
    made: list[str] = []
    yield made
    for path in made:
        try:
            namespace.plane.api("DELETE", path)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise


def volume(namespace: Namespace, made: list[str], modes: list[str]) -> str:
    name = f"pv-{secrets.token_hex(4)}"
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": modes,
            "hostPath": {"path": f"/data/{name}"},
            "persistentVolumeReclaimPolicy": "Retain",
        },
    }
    namespace.plane.api("POST", "/api/v1/persistentvolumes", body)
    made.append(f"/api/v1/persistentvolumes/{name}")
    return name


# -- claims: the real persistentvolume-controller --------------------------------------------


def test_a_claim_whose_access_mode_no_volume_offers(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    # A free volume of the right size and (empty) class, but only ReadWriteOnce.
    pv = volume(namespace, cluster_objects, ["ReadWriteOnce"])
    wait_for(
        "the PV Available",
        lambda: (
            (namespace.plane.api("GET", f"/api/v1/persistentvolumes/{pv}").get("status") or {}).get(
                "phase"
            )
            == "Available"
        ),
    )
    namespace.apply(claim("shared", ["ReadWriteMany"], ""))

    found = doctor.wait(
        "an access-mode finding with the PV controller's event",
        lambda r: (
            (f := _pick(r, "unbound-claim-access-mode", "shared"))
            and any("FailedBinding" in t for t in texts(f))
            and f
        ),
    )
    assert (
        "Normal FailedBinding: no persistent volumes available for this claim and no storage "
        "class is set" in texts(found)
    )
    assert "asks for access modes ['ReadWriteMany']" in found.summary
    assert "the free volumes offer only ['ReadWriteOnce']" in found.summary
    assert "accessModes ['ReadWriteOnce']" in found.fix
    # The PV controller left both as they were.
    assert namespace.get("pvc", "shared")["status"]["phase"] == "Pending"


def test_a_storage_class_whose_provisioner_nobody_runs(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    sc = f"nfs-{secrets.token_hex(4)}"
    body = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": sc},
        "provisioner": "nfs.example.com/provisioner",
        "volumeBindingMode": "Immediate",
    }
    namespace.plane.api("POST", "/apis/storage.k8s.io/v1/storageclasses", body)
    cluster_objects.append(f"/apis/storage.k8s.io/v1/storageclasses/{sc}")
    namespace.apply(claim("datasets", ["ReadWriteOnce"], sc))

    found = doctor.wait(
        "a provisioner finding with the PV controller's event",
        lambda r: (
            (f := _pick(r, "provisioner-not-acting", "datasets"))
            and any("ExternalProvisioning" in t for t in texts(f))
            and f
        ),
        timeout=40,
    )
    # The persistentvolume-controller's own words (kube 1.35), as a Normal event.
    waiting = (
        "Waiting for a volume to be created either by the external provisioner "
        "'nfs.example.com/provisioner' or manually by the system administrator. If volume "
        "creation is delayed, please verify that the provisioner is running and correctly "
        "registered."
    )
    assert any(t.startswith("Normal ExternalProvisioning") and waiting in t for t in texts(found))
    assert found.summary.startswith(
        f"Claim datasets waits for the provisioner of StorageClass {sc!r}, which has not made "
        "a volume: Waiting for a volume to be created"
    )
    assert found.certainty == "likely"
    assert f"StorageClass {sc}" in found.fix


# -- events: the scheduler writes events.k8s.io/v1 -------------------------------------------


def test_the_schedulers_events_k8s_io_event_is_quoted_once(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    big = [{"name": "main", "image": "python:3.11", "resources": {"requests": {"cpu": "16"}}}]
    namespace.apply(pod("big", containers=big))

    found = doctor.finding("insufficient-cpu", "big")
    path = f"/apis/events.k8s.io/v1/namespaces/{namespace.name}/events"
    new_api = wait_for(
        "the scheduler's event on events.k8s.io/v1",
        lambda: [
            e
            for e in namespace.plane.api("GET", path)["items"]
            if e["regarding"]["name"] == "big" and e["reason"] == "FailedScheduling"
        ],
    )
    assert new_api[0]["reportingController"] == "default-scheduler"
    assert "Insufficient cpu" in new_api[0]["note"]
    # The same event is served on core/v1 too (one store): quoted once, with its time.
    quoted = [e for e in found.evidence if e.text.startswith("Warning FailedScheduling")]
    assert len(quoted) == 1
    assert new_api[0]["note"] in quoted[0].text
    assert quoted[0].time and quoted[0].time.startswith(new_api[0]["eventTime"][:19])


# -- deletion: the pvc-protection controller's finalizer, a node gone and the pod GC --------


def test_a_claim_stuck_terminating_on_its_protection_finalizer(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    volume(namespace, cluster_objects, ["ReadWriteOnce"])
    namespace.apply(
        claim("scratch", ["ReadWriteOnce"], ""),
        pod(
            "user",
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "scratch"}}],
        ),
    )
    wait_for(
        "the pod running on its bound claim",
        lambda: namespace.get("pod", "user")["status"].get("phase") == "Running",
        timeout=60,
    )
    namespace.kubectl("delete", "pvc", "scratch", "--wait=false")

    found = doctor.finding("stuck-terminating-finalizers", "scratch", timeout=90)
    assert found.object.kind == "PersistentVolumeClaim"
    assert "finalizers: ['kubernetes.io/pvc-protection']" in texts(found)
    assert "kubernetes.io/pvc-protection" in found.summary
    assert "Pod user still uses it" in found.summary
    assert f"kubectl -n {namespace.name} delete pod user" in found.fix


def test_a_pod_whose_node_was_deleted(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    name = f"spot-{secrets.token_hex(3)}"
    taint = {"key": "test/own-node", "value": name, "effect": "NoSchedule"}
    namespace.plane.api("POST", "/api/v1/nodes", node(name, "2", "8Gi", taints=[taint]))
    cluster_objects.append(f"/api/v1/nodes/{name}")
    wait_for(
        "kwok to play the node",
        lambda: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in namespace.plane.api("GET", f"/api/v1/nodes/{name}")["status"].get(
                "conditions", []
            )
        ),
    )
    tolerate = [{"key": "test/own-node", "operator": "Exists", "effect": "NoSchedule"}]
    namespace.apply(pod("worker", nodeName=name, tolerations=tolerate))
    wait_for(
        "the pod running on the node",
        lambda: namespace.get("pod", "worker")["status"].get("phase") == "Running",
    )
    namespace.plane.api("DELETE", f"/api/v1/nodes/{name}")

    gone = doctor.finding("node-gone", "worker")
    assert f"node {name}: gone" in texts(gone)
    assert f"its node {name} no longer exists" in gone.summary

    # Deleted now, no kubelet is there to end it: it stays Terminating past its grace period.
    namespace.kubectl("delete", "pod", "worker", "--grace-period=1", "--wait=false")
    stuck = doctor.finding("stuck-terminating-node-gone", "worker", timeout=30)
    assert f"its node {name} no longer exists" in stuck.summary
    assert stuck.fix == f"kubectl -n {namespace.name} delete pod worker --grace-period=0 --force"

    # The real pod garbage collector removes pods of a node gone, after its quarantine.
    wait_for(
        "the pod GC to remove the pod",
        lambda: not namespace.get("pods")["items"],
        timeout=150,
    )
    assert "worker" not in {f.object.name for f in doctor.report().findings}


# -- mounts: the kubelet's FailedMount event -------------------------------------------------

MOUNT_FAILED = 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'


def test_a_volume_of_a_missing_config_map(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    # A node nobody plays: its pod stays Pending with a node, as a kubelet failing a mount
    # leaves it (kwok would run it regardless of the volume).
    name = f"quiet-{secrets.token_hex(3)}"
    body = node(name, "2", "8Gi")
    body["metadata"]["annotations"] = {}
    namespace.plane.api("POST", "/api/v1/nodes", body)
    cluster_objects.append(f"/api/v1/nodes/{name}")
    volumes = [{"name": "config", "configMap": {"name": "app-config"}}]
    namespace.apply(pod("web", nodeName=name, volumes=volumes))
    obj = namespace.get("pod", "web")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Written as the kubelet's event recorder writes it (source kubelet, the node as host).
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"web.{secrets.token_hex(8)}", "namespace": namespace.name},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "web",
            "namespace": namespace.name,
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
        },
        "reason": "FailedMount",
        "message": MOUNT_FAILED,
        "type": "Warning",
        "source": {"component": "kubelet", "host": name},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": "kubelet",
        "reportingInstance": name,
    }
    namespace.plane.api("POST", f"/api/v1/namespaces/{namespace.name}/events", event)

    found = doctor.finding("missing-configmap", "web")
    assert (
        found.summary == "Pod web cannot mount a volume: the ConfigMap app-config does not exist."
    )
    assert (
        'Warning FailedMount: MountVolume.SetUp failed for volume "config" : configmap '
        '"app-config" not found'
    ) in texts(found)
    assert f"Create ConfigMap app-config in namespace {namespace.name}" in found.fix


# -- Python failures named from the previous log (kwok's crash loop) -------------------------


@pytest.mark.parametrize(
    ("lines", "cause", "words"),
    [
        (
            (
                "A module that was compiled using NumPy 1.x cannot be run in",
                "NumPy 2.0.2 as it may crash. To support both 1.x and 2.x",
                "ImportError: numpy.core.multiarray failed to import",
            ),
            "numpy-abi-mismatch",
            "NumPy ABI mismatch",
        ),
        (
            (
                "Traceback (most recent call last):",
                '  File "/app/train.py", line 40, in <module>',
                "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 "
                "has a total capacity of 15.77 GiB of which 1.06 GiB is free.",
            ),
            "cuda-out-of-memory",
            "the GPU ran out of memory",
        ),
        (
            (
                '  File "/app/serve.py", line 3, in <module>',
                "    from jinja2 import Markup",
                "ImportError: cannot import name 'Markup' from 'jinja2' "
                "(/usr/local/lib/python3.11/site-packages/jinja2/__init__.py)",
            ),
            "python-import-error",
            "a Python import fails",
        ),
    ],
)
def test_python_failures_named_from_the_previous_log(
    namespace: Namespace, doctor: RealDoctor, lines: tuple[str, ...], cause: str, words: str
) -> None:
    namespace.plane.append_log(namespace.name, "step", "main", *lines, previous=True)
    namespace.apply(pod("step", lifecycle(CRASH_LOOP, run_for="300ms")))

    found = doctor.finding(cause, "step")
    assert words in found.summary
    assert logs(found)[-1] == lines[-1]
    assert "crash-loop" not in causes(doctor.report(), "step")  # named, not a bare crash loop


# -- Kubeflow: objects as KServe and Katib write them ---------------------------------------


def test_an_inference_service_with_a_bad_storage_uri(
    profile: ProfileNamespace, kubeflow_plane: Any
) -> None:
    admin, ns = profile.admin, profile.name
    uri = "gs://models-example/iris/v9"
    admin.apply(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "iris"},
            "spec": {
                "predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": uri}}
            },
        }
    )
    # The KServe controller's status for a predictor that is not up (status subresource).
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    down = {"status": "False", "lastTransitionTime": now}
    status = {
        "status": {
            "conditions": [
                {"type": "PredictorReady", **down, "reason": "RevisionMissing"},
                {"type": "Ready", **down, "reason": "RevisionMissing"},
            ]
        }
    }
    kubeflow_plane.api(
        "PATCH",
        f"/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices/iris/status",
        status,
        content_type="application/merge-patch+json",
    )

    editor = RealDoctor(profile.cluster(), ns)
    try:
        # Before its predictor pod exists, the controller's own condition is all there is.
        alone = editor.finding("inferenceservice-not-ready", "iris", timeout=40)
        assert alone.summary == "InferenceService iris is not Ready: PredictorReady RevisionMissing"
        assert alone.certainty == "likely"

        # The storage initializer's own words for a path with nothing under it.
        said = (
            f"INFO:root:Copying contents of {uri} to local",
            f"RuntimeError: Failed to fetch model. No model found in {uri}.",
        )
        pod_name = "iris-predictor-7d9f8-abcde"
        for previous in (True, False):
            kubeflow_plane.append_log(ns, pod_name, "storage-initializer", *said, previous=previous)
        meta = lifecycle(INIT_FAILS, run_for="300ms", back_off="2s")
        meta["labels"]["serving.kserve.io/inferenceservice"] = "iris"
        init = [{"name": "storage-initializer", "image": "kserve/storage-initializer:v0.14.1"}]
        admin.apply(pod(pod_name, meta, initContainers=init))
        on_pod = editor.finding("bad-storage-uri", pod_name, timeout=40)
        found = editor.wait(
            "the InferenceService's finding from its predictor pod",
            lambda r: (
                (f := _pick(r, "inferenceservice-not-ready", "iris"))
                and "storageUri" in f.summary
                and f
            ),
        )
    finally:
        editor.close()
    assert "Ready=False RevisionMissing" in texts(found)
    assert "the model could not be downloaded from its storageUri" in found.summary
    assert said[-1] in logs(found) or said[-1] in found.summary
    assert logs(on_pod)[-1] == said[-1]
    assert [(o.kind, o.name) for o in on_pod.owners] == [("InferenceService", "iris")]
    assert "storageUri" in found.fix


def test_an_inference_service_whose_predictor_crash_loops(
    profile: ProfileNamespace, kubeflow_plane: Any
) -> None:
    admin, ns = profile.admin, profile.name
    admin.apply(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {
                "name": "iris",
                "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"},
            },
            "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}},
        }
    )
    isvc = admin.get("inferenceservice", "iris")
    # The KServe controller's status and, in its raw deployment mode, its predictor
    # Deployment, owned by the InferenceService; the real deployment controller and kwok do
    # the rest.
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    down = {"status": "False", "lastTransitionTime": now, "reason": "MinimumReplicasUnavailable"}
    kubeflow_plane.api(
        "PATCH",
        f"/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices/iris/status",
        {
            "status": {
                "conditions": [
                    {"type": "PredictorReady", **down},
                    {"type": "Ready", **down},
                ]
            }
        },
        content_type="application/merge-patch+json",
    )
    labels = {
        "serving.kserve.io/inferenceservice": "iris",
        "component": "predictor",
        "app": "isvc.iris-predictor",
    }
    meta = lifecycle(CRASH_LOOP, run_for="300ms", back_off="2s")
    meta["labels"].update(labels)
    owner = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "name": "iris",
        "uid": isvc["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    admin.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "iris-predictor", "labels": labels, "ownerReferences": [owner]},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "isvc.iris-predictor"}},
                "template": {
                    "metadata": meta,
                    "spec": {
                        "containers": [
                            {"name": "kserve-container", "image": "kserve/sklearnserver:v0.14.1"}
                        ]
                    },
                },
            },
        }
    )
    predictor = wait_for(
        "the predictor pod the deployment controller makes",
        lambda: next(iter(admin.kubectl("get", "pods", "-o", "name").stdout.split()), None),
    ).removeprefix("pod/")
    said = (
        "Traceback (most recent call last):",
        "ModuleNotFoundError: No module named 'xgboost'",
    )
    kubeflow_plane.append_log(ns, predictor, "kserve-container", *said, previous=True)

    editor = RealDoctor(profile.cluster(), ns)
    try:
        found = editor.wait(
            "the InferenceService's finding from its crash-looping predictor",
            lambda r: (
                (f := _pick(r, "inferenceservice-not-ready", "iris"))
                and "xgboost" in f.summary
                and f
            ),
            timeout=60,
        )
        report = editor.report()
    finally:
        editor.close()
    assert found.summary.startswith("InferenceService iris is not Ready because of its pod")
    assert "Python cannot import 'xgboost'" in found.summary
    assert "Ready=False MinimumReplicasUnavailable" in texts(found)
    assert "xgboost" in found.fix
    (on_pod,) = [f for f in report.findings if f.object.name == predictor]
    assert on_pod.cause == "python-module-not-found"
    chain = [(o.kind, o.name) for o in on_pod.owners]
    assert chain[1:] == [("Deployment", "iris-predictor"), ("InferenceService", "iris")]
    assert chain[0][0] == "ReplicaSet" and chain[0][1].startswith("iris-predictor-")


def test_a_katib_trial_pod_kept_running_by_the_mesh_sidecar(
    namespace: Namespace, doctor: RealDoctor, cluster_objects: list[str]
) -> None:
    # A node nobody plays: the pod's status is the kubelet's, written as it writes it once the
    # training container has exited and Istio's proxy goes on (status subresource).
    quiet = f"quiet-{secrets.token_hex(3)}"
    body = node(quiet, "2", "8Gi")
    body["metadata"]["annotations"] = {}
    namespace.plane.api("POST", "/api/v1/nodes", body)
    cluster_objects.append(f"/api/v1/nodes/{quiet}")
    containers = [
        {"name": "training-container", "image": "python:3.11"},
        {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"},
    ]
    labels = {"katib.kubeflow.org/trial": "tune-lr-x7k2"}
    namespace.apply(
        pod(
            "tune-lr-x7k2-abcde",
            {"labels": labels},
            containers=containers,
            nodeName=quiet,
            restartPolicy="Never",
        )
    )
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}
    statuses = [
        {
            "name": "training-container",
            "image": "python:3.11",
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": {"terminated": done},
        },
        {
            "name": "istio-proxy",
            "image": "docker.io/istio/proxyv2:1.24.2",
            "imageID": "",
            "ready": True,
            "restartCount": 0,
            "started": True,
            "state": {"running": {"startedAt": stamp}},
        },
    ]
    namespace.plane.api(
        "PATCH",
        f"/api/v1/namespaces/{namespace.name}/pods/tune-lr-x7k2-abcde/status",
        {"status": {"phase": "Running", "containerStatuses": statuses}},
        content_type="application/merge-patch+json",
    )

    found = doctor.finding("sidecar-keeps-pod-running", "tune-lr-x7k2-abcde", timeout=40)
    assert found.summary == (
        "Pod tune-lr-x7k2-abcde keeps running after training-container ended: istio-proxy "
        "still runs, so Katib trial tune-lr-x7k2 never completes and its metrics are never "
        "collected."
    )
    assert 'sidecar.istio.io/inject: "false"' in found.fix and "trialTemplate" in found.fix
    assert [(o.kind, o.name) for o in found.owners] == [("Trial", "tune-lr-x7k2")]
    assert "crash-loop" not in causes(doctor.report(), "tune-lr-x7k2-abcde")


def test_a_katib_trial_without_metrics(profile: ProfileNamespace, kubeflow_plane: Any) -> None:
    admin, ns = profile.admin, profile.name
    admin.apply(
        {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Trial",
            "metadata": {"name": "tune-lr-x7k2"},
            "spec": {"objective": {"type": "maximize", "objectiveMetricName": "accuracy"}},
        }
    )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # As the Katib trial controller writes a trial whose job succeeded without the metric.
    status = {
        "status": {
            "startTime": now,
            "completionTime": now,
            "conditions": [
                {
                    "type": "Created",
                    "status": "True",
                    "reason": "TrialCreated",
                    "message": "Trial is created",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "MetricsUnavailable",
                    "status": "True",
                    "reason": "MetricsUnavailable",
                    "message": "Metrics are not available",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
            ],
        }
    }
    kubeflow_plane.api(
        "PATCH",
        f"/apis/kubeflow.org/v1beta1/namespaces/{ns}/trials/tune-lr-x7k2/status",
        status,
        content_type="application/merge-patch+json",
    )

    editor = RealDoctor(profile.cluster(), ns)
    try:
        found = editor.finding("katib-trial-no-metrics", "tune-lr-x7k2")
    finally:
        editor.close()
    assert found.summary == (
        "Trial tune-lr-x7k2 reported no metrics: MetricsUnavailable: Metrics are not available"
    )
    assert "MetricsUnavailable=True MetricsUnavailable: Metrics are not available" in texts(found)
    assert "objectiveMetricName" in found.fix


# -- rights: the profile's default-editor and the real authorizer ----------------------------


def test_an_action_the_notebooks_service_account_may_not_do(profile: ProfileNamespace) -> None:
    ns = profile.name
    # What the apiserver answers the editor for a RoleBinding (its real words).
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "share"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "friend@example.com"}],
    }
    refused = profile.kubectl("create", "-f", str(profile.manifest(body)), check=False)
    assert refused.returncode != 0
    denial = refused.stderr.strip().removeprefix("Error from server (Forbidden): error when ")
    denial = denial[denial.index("rolebindings.rbac") :]
    assert 'cannot create resource "rolebindings"' in denial
    # The notebook's program met the same answer and crashed on it.
    profile.plane.append_log(
        ns,
        "share",
        "main",
        "kubernetes.client.exceptions.ApiException: (403)",
        "Reason: Forbidden",
        f"HTTP response body: {denial}",
        previous=True,
    )
    profile.admin.apply(
        pod("share", lifecycle(CRASH_LOOP, run_for="300ms"), serviceAccountName="default-editor")
    )

    editor = RealDoctor(profile.cluster(), ns)
    try:
        found = editor.finding("forbidden", "share", timeout=40)
    finally:
        editor.close()
    assert found.summary.startswith("Container main keeps crashing (exit code 1, ")
    assert (
        f"the API server refused it: system:serviceaccount:{ns}:default-editor may not create "
        "rolebindings (rbac.authorization.k8s.io)"
    ) in found.summary
    # What the authorizer says of the editor's rights, kubectl's answer as the reference.
    assert profile.kubectl("auth", "can-i", "create", "rolebindings", check=False).stdout == "no\n"
    rules = [e.text for e in found.evidence if e.text.startswith("SelfSubjectRulesReview")]
    assert rules and rules[0].startswith(
        f"SelfSubjectRulesReview of system:serviceaccount:{ns}:default-editor in namespace {ns}: "
    )
    assert "none allows create on rolebindings.rbac.authorization.k8s.io" in rules[0]
    assert "verbs: [create]" in found.fix
    assert 'apiGroups: ["rbac.authorization.k8s.io"]' in found.fix
    assert 'resources: ["rolebindings"]' in found.fix
    assert (
        f"kubectl -n {ns} create role create-rolebindings --verb=create "
        "--resource=rolebindings.rbac.authorization.k8s.io"
    ) in found.fix
    assert f"--serviceaccount={ns}:default-editor" in found.fix


# -- KFP: a failed task's pod, put on the plane as Argo creates it (the KFP emulator) --------

KFP_TOKEN = "doctor-kfp-token"


def test_a_failed_kfp_task_then_its_pod_gone(
    kubeflow_plane: Any, profile: ProfileNamespace, tmp_path: Path
) -> None:
    ns = profile.name
    package = compiled(two_steps, tmp_path)
    with KfpEmulator(
        control_plane=kubeflow_plane, token=KFP_TOKEN, step_seconds=0.05, namespaces=(ns,)
    ) as pipelines:
        client = kfp.Client(host=pipelines.url, existing_token=KFP_TOKEN, namespace=ns)
        run_id = client.create_run_from_pipeline_package(str(package), run_name="bad").run_id
        pipelines.fail_task(run_id, "load-data")
        assert pipelines.wait_for_run_state(run_id) == "FAILED"
        details = client.get_run(run_id).run_details.task_details
        # The emulator ends the pod a little after the task's node: wait for the pod's own end.
        wait_for(
            "the task pod Failed",
            lambda: [
                p
                for p in profile.admin.get("pods", "-l", f"pipeline/runid={run_id}")["items"]
                if p["status"].get("phase") == "Failed"
            ],
        )
    task = next(t for t in details if t.display_name == "load-data")
    state, finished = str(task.state), task.end_time.strftime("%Y-%m-%dT%H:%M:%SZ")

    cluster = profile.cluster()
    findings = wait_for(
        "the task pod's finding",
        lambda: examine_task(cluster, run_id, "load-data", last_state=state).findings,
    )
    # Argo's wait sidecar fails too, because main did: the program is told once, on main.
    (found,) = findings
    assert found.cause == "container-failed"
    assert ("PipelineRun", run_id) in [(o.kind, o.name) for o in found.owners]
    assert "RuntimeError: task load-data failed" in logs(found)
    assert found.summary.startswith("Container main failed (exit code 1)")

    # Argo's pod GC removes the pods of a finished run (done here by the admin in its place).
    pod_name = found.object.name
    profile.admin.kubectl("delete", "pod", pod_name, "--grace-period=0", "--force")
    wait_for(
        "the pod gone",
        lambda: not profile.admin.get("pods", "-l", f"pipeline/runid={run_id}")["items"] or None,
    )
    gone = examine_task(
        cluster, run_id, "load-data", last_state=state, finished_at=finished
    ).findings
    assert [f.cause for f in gone] == ["task-pod-gone"]
    assert gone[0].summary.startswith(
        f"Task load-data of run {run_id} failed, and its pod is gone, so the cluster no longer "
        f"says why: its last known state is {state} (finished {finished})"
    )
    assert f"KFP task load-data: state {state}, finished {finished}" in texts(gone[0])


# -- scheduling: the real kube-scheduler, for memory, GPUs and affinity ----------------------


def test_insufficient_memory(namespace: Namespace, doctor: RealDoctor) -> None:
    big = [{"name": "main", "image": "python:3.11", "resources": {"requests": {"memory": "128Gi"}}}]
    namespace.apply(pod("loader", containers=big))

    found = doctor.finding("insufficient-memory", "loader")
    assert "it requests memory 128Gi" in found.summary
    assert any("2 Insufficient memory" in t for t in texts(found))
    # gpu-1 has 64Gi: tolerating its taint would not help, so the taint is not blamed.
    assert "untolerated-taint" not in causes(doctor.report(), "loader")
    assert "requests.memory" in found.fix or "--requests=memory" in found.fix


def test_insufficient_gpu_on_the_gpu_node(namespace: Namespace, doctor: RealDoctor) -> None:
    wants = [
        {"name": "main", "image": "python:3.11", "resources": {"limits": {"nvidia.com/gpu": "4"}}}
    ]
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    namespace.apply(pod("train", containers=wants, tolerations=tolerate))

    found = doctor.finding("insufficient-gpu", "train")
    assert "it requests nvidia.com/gpu 4" in found.summary
    assert "gpu-1, has 2 nvidia.com/gpu allocatable" in found.summary
    assert any("3 Insufficient nvidia.com/gpu" in t for t in texts(found))


def test_required_node_affinity_matching_no_node(namespace: Namespace, doctor: RealDoctor) -> None:
    term = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["eu-west-9"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    namespace.apply(pod("pinned", affinity=affinity))

    found = doctor.finding("node-selector-mismatch", "pinned")
    assert any("2 node(s) didn't match Pod's node affinity/selector" in t for t in texts(found))
    assert any(t.startswith("nodeAffinity: {'requiredDuringScheduling") for t in texts(found))
    # gpu-1 has no zone label either: its taint is not the cause.
    assert "untolerated-taint" not in causes(doctor.report(), "pinned")


# -- images: a registry's rate limit, as containerd reports it through the kubelet -----------


def test_an_image_pull_refused_by_a_rate_limit(namespace: Namespace, doctor: RealDoctor) -> None:
    image = "docker.io/library/python:3.11"
    limited = (
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": failed to '
        f"copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io"
        "/v2/library/python/manifests/3.11: 429 Too Many Requests - Server message: "
        "toomanyrequests: You have reached your pull rate limit."
    )
    meta = lifecycle(IMAGE_PULL_ERROR, pull_error=limited)
    namespace.apply(pod("fetch", meta, containers=[{"name": "main", "image": image}]))

    found = doctor.finding("image-pull-rate-limited", "fetch")
    assert "the registry docker.io refuses: too many pulls (rate limit)" in found.summary
    assert "create secret docker-registry regcred" in found.fix


# -- eviction: the kubelet's eviction manager (kwok evicts nothing) --------------------------


def test_a_pod_evicted_for_ephemeral_storage(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(pod("scratchy"))
    wait_for(
        "the pod running",
        lambda: namespace.get("pod", "scratchy")["status"].get("phase") == "Running",
    )
    # The status the kubelet's eviction manager writes (status subresource), its words.
    message = (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: "
        "9Gi. Container main was using 60Gi, request is 0, has larger consumption of "
        "ephemeral-storage. "
    )
    status = {"status": {"phase": "Failed", "reason": "Evicted", "message": message}}
    namespace.plane.api(
        "PATCH",
        f"/api/v1/namespaces/{namespace.name}/pods/scratchy/status",
        status,
        content_type="application/merge-patch+json",
    )

    found = doctor.finding("evicted-ephemeral-storage", "scratchy")
    assert found.summary == f"Pod scratchy was evicted from its node: {message}"
    assert f"kubectl -n {namespace.name} delete pod scratchy" in found.fix


# -- a Notebook that never starts: its StatefulSet as the notebook controller makes it -------


def test_a_notebook_that_never_starts(profile: ProfileNamespace) -> None:
    admin = profile.admin
    container = {
        "name": "lab",
        "image": "kubeflownotebookswg/jupyter-scipy:v1.9.0",
        "resources": {"requests": {"cpu": "16"}},
    }
    admin.apply(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "lab"},
            "spec": {"template": {"spec": {"containers": [container]}}},
        }
    )
    notebook = admin.get("notebook", "lab")
    owner = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "name": "lab",
        "uid": notebook["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    labels = {"statefulset": "lab", "notebook-name": "lab"}
    # The notebook controller's StatefulSet; the real statefulset controller and scheduler go on.
    admin.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "lab", "ownerReferences": [owner]},
            "spec": {
                "replicas": 1,
                "serviceName": "",
                "selector": {"matchLabels": {"statefulset": "lab"}},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
    )

    editor = RealDoctor(profile.cluster(), profile.name)
    try:
        found = editor.finding("notebook-not-starting", "lab", timeout=40)
        on_pod = editor.finding("insufficient-cpu", "lab-0")
    finally:
        editor.close()
    assert found.summary.startswith("Notebook lab does not start: ")
    assert "it requests cpu 16" in found.summary
    assert ("Notebook", "lab") in [(o.kind, o.name) for o in on_pod.owners]
