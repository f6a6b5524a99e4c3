"""Owners' findings: quotas on FailedCreate, Jobs, Deployments, InferenceServices, Notebooks;
and what a namespace-only identity still learns."""

from __future__ import annotations

import time
from typing import Any

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, Doctor, controller_ref, event, now, on_node, pod, waiting

Obj = dict[str, Any]


def _deployment_and_rs(kube: KubeEmulator, name: str) -> tuple[Obj, Obj]:
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    deployment = kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
        }
    )
    rs = kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-7c9f",
                "namespace": NAMESPACE,
                "ownerReferences": [controller_ref(deployment)],
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
        }
    )
    return deployment, rs


def test_quota_exceeded_on_a_deployment(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": NAMESPACE},
            "spec": {"hard": {"requests.cpu": "4"}},
            "status": {"hard": {"requests.cpu": "4"}, "used": {"requests.cpu": "3"}},
        }
    )
    _, rs = _deployment_and_rs(kube, "web")
    message = (
        'pods "web-7c9f-abcde" is forbidden: exceeded quota: compute, requested: '
        "requests.cpu=2, used: requests.cpu=3, limited: requests.cpu=4"
    )
    # As the replicaset controller reports it: a condition and a FailedCreate event.
    kube.apply(
        {
            **rs,
            "status": {
                "replicas": 0,
                "conditions": [
                    {
                        "type": "ReplicaFailure",
                        "status": "True",
                        "reason": "FailedCreate",
                        "message": message,
                        "lastTransitionTime": now(-60),
                    }
                ],
            },
        }
    )
    kube.create(
        event(rs, "FailedCreate", f"Error creating: {message}", component="replicaset-controller")
    )

    found = doctor.finding("quota-exceeded", "web-7c9f")

    assert [(o.kind, o.name) for o in found.owners] == [("Deployment", "web")]
    assert "ResourceQuota compute would be exceeded (requested requests.cpu=2" in found.summary
    assert any("requests.cpu used 3 of 4" in e.text for e in found.evidence)
    assert "kubectl -n team set resources deployment/web" in found.fix
    assert "describe resourcequota compute" in found.fix
    assert [f.cause for f in doctor.of("deployment", "web").findings] == ["quota-exceeded"]


def test_a_missing_request_under_quota_on_a_statefulset(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    sts = kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": NAMESPACE},
            "spec": {
                "replicas": 1,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
                },
            },
        }
    )
    kube.create(
        event(
            sts,
            "FailedCreate",
            'Create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: failed '
            "quota: compute: must specify limits.cpu for: postgres; requests.cpu for: postgres",
            component="statefulset-controller",
        )
    )

    found = doctor.finding("quota-missing-request", "db")

    assert "ResourceQuota (compute) on limits.cpu, requests.cpu" in found.summary
    assert "container postgres does not" in found.summary
    assert found.fix.startswith(
        "kubectl -n team set resources statefulset/db -c postgres --limits=cpu=VALUE "
        "--requests=cpu=VALUE"
    )


def test_a_job_past_its_backoff_limit_with_its_pods_log(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "train", "namespace": NAMESPACE},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "python:3.11"}],
                    }
                },
            },
        }
    )
    deadline = time.monotonic() + 10
    pods: list[Obj] = []
    while time.monotonic() < deadline and not pods:
        pods = [
            p
            for p in kube.objects("v1", "Pod", NAMESPACE)
            if (p.get("status") or {}).get("phase") == "Running"
        ]
        time.sleep(0.05)
    name = pods[0]["metadata"]["name"]
    kube.append_log(NAMESPACE, name, "main", ["loading data", "KeyError: 'label'"])
    kube.finish_pod(NAMESPACE, name, exit_code=1)  # the job controller then fails the Job

    found = doctor.finding("job-backoff-limit", "train")

    assert "Job train failed: its pods failed 1 times, past backoffLimit 0" in found.summary
    assert "Its last failed pod: Container main failed (exit code 1)" in found.summary
    assert "KeyError: 'label'" in found.summary
    assert any(e.text.startswith("Failed=True BackoffLimitExceeded") for e in found.evidence)
    assert "kubectl -n team delete job train" in found.fix
    pod_finding = doctor.finding("container-failed", name)
    assert [(o.kind, o.name) for o in pod_finding.owners] == [("Job", "train")]


def test_a_job_past_its_deadline(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    # As the job controller records it.
    kube.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "slow", "namespace": NAMESPACE},
            "spec": {
                "activeDeadlineSeconds": 600,
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "x"}]}
                },
            },
            "status": {
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "DeadlineExceeded",
                        "message": "Job was active longer than specified deadline",
                        "lastTransitionTime": now(-30),
                    }
                ]
            },
        }
    )

    found = doctor.finding("job-deadline-exceeded", "slow")

    assert "it ran longer than activeDeadlineSeconds 600" in found.summary
    assert "Raise spec.activeDeadlineSeconds of Job slow" in found.fix


def test_a_deployment_not_progressing_because_its_image_does_not_pull(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.controllers = False
    deployment, rs = _deployment_and_rs(kube, "shop")
    # As the deployment controller reports a rollout past its progress deadline.
    kube.apply(
        {
            **deployment,
            "status": {
                "conditions": [
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "shop-7c9f" has timed out progressing.',
                    }
                ]
            },
        }
    )
    stuck = pod("shop-7c9f-q8w2e", image="nginx:1.277", owner=rs)
    created = kube.create(on_node(stuck, waiting("ImagePullBackOff", "Back-off pulling image")))
    kube.create(
        event(
            created,
            "Failed",
            'Failed to pull image "nginx:1.277": rpc error: code = NotFound desc = failed to pull '
            'and unpack image "docker.io/library/nginx:1.277": not found',
            component="kubelet",
            container="main",
        )
    )

    found = doctor.finding("deployment-not-progressing", "shop")

    assert "ProgressDeadlineExceeded" in found.summary
    assert "Its pods: Container main cannot pull its image 'nginx:1.277'" in found.summary
    assert "Correct the image of container main (nginx:1.277)" in found.fix


def test_an_inference_service_whose_predictor_crash_loops(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.controllers = False
    kube.create(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "iris", "namespace": NAMESPACE},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}},
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "RevisionMissing",
                        "message": 'Revision "iris-predictor-00001" failed with message: .',
                    }
                ]
            },
        }
    )
    labels = {"serving.kserve.io/inferenceservice": "iris", "component": "predictor"}
    kube.create(
        on_node(
            pod("iris-predictor-00001-deployment-6b8f-x", labels=labels),
            waiting(
                "CrashLoopBackOff",
                "back-off",
                restarts=3,
                last={"terminated": {"exitCode": 1, "reason": "Error"}},
            ),
        )
    )
    kube.append_log(
        NAMESPACE,
        "iris-predictor-00001-deployment-6b8f-x",
        "main",
        ["ModuleNotFoundError: No module named 'xgboost'"],
        previous=True,
    )

    found = doctor.finding("inferenceservice-not-ready", "iris")

    assert "InferenceService iris is not Ready because of its pod" in found.summary
    assert "Python cannot import 'xgboost'" in found.summary
    assert any(e.text.startswith("Ready=False RevisionMissing") for e in found.evidence)
    assert "xgboost" in found.fix


def test_a_notebook_whose_pod_never_starts(kube: KubeEmulator, doctor: Doctor) -> None:
    notebook = kube.create(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "lab", "namespace": NAMESPACE},
            "spec": {"template": {"spec": {"containers": [{"name": "lab", "image": "jupyter"}]}}},
        }
    )
    kube.controllers = False
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": "lab",
                "namespace": NAMESPACE,
                "ownerReferences": [controller_ref(notebook)],
            },
            "spec": {
                "replicas": 1,
                "serviceName": "lab",
                "selector": {"matchLabels": {"statefulset": "lab"}},
                "template": {
                    "metadata": {"labels": {"statefulset": "lab", "notebook-name": "lab"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "lab",
                                "image": "jupyter",
                                "resources": {"requests": {"cpu": "6"}},
                            }
                        ]
                    },
                },
            },
        }
    )
    kube.controllers = True  # the emulated StatefulSet controller and scheduler take over

    found = doctor.finding("notebook-not-starting", "lab")

    assert "Notebook lab does not start: No node has enough cpu free" in found.summary
    assert "kubectl -n team edit notebook lab" in found.fix
    pod_finding = doctor.finding("insufficient-cpu", "lab-0")
    assert [(o.kind, o.name) for o in pod_finding.owners] == [
        ("StatefulSet", "lab"),
        ("Notebook", "lab"),
    ]


def test_a_namespace_only_identity_still_gets_findings_and_says_what_it_could_not_read(
    kube: KubeEmulator, editor_doctor: Doctor
) -> None:
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
    kube.create(pod("greedy", resources={"requests": {"cpu": "64"}}))
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "workspace", "namespace": NAMESPACE},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )

    cpu = editor_doctor.finding("insufficient-cpu", "greedy")
    claim = editor_doctor.finding("unbound-claim-no-default-class", "workspace")
    report = editor_doctor.report()

    assert "(it requests cpu 64)." in cpu.summary and "largest node" not in cpu.summary
    assert "the cluster had no default StorageClass" in claim.summary
    unreadable = {u.kind: u for u in report.unreadable}
    assert {"nodes", "storageclasses", "persistentvolumes"} <= set(unreadable)
    assert unreadable["nodes"].reason.startswith("could not read nodes: not allowed to list")
    assert "node allocatable" in unreadable["nodes"].limits
    assert "inferred from the claims" in unreadable["storageclasses"].limits
    assert "pods" not in unreadable and "events" not in unreadable


def test_one_object_of_a_kind_that_does_not_exist_is_not_found(doctor: Doctor) -> None:
    import pytest

    from jupyter_mlops.errors import NotFound

    with pytest.raises(NotFound):
        doctor.of("pod", "ghost")


def test_crash_loop_log_is_read_once_per_restart(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    kube.create(
        on_node(
            pod("flaky"),
            waiting(
                "CrashLoopBackOff",
                "back-off",
                restarts=2,
                last={"terminated": {"exitCode": 2, "reason": "Error", "finishedAt": now(-5)}},
            ),
        )
    )
    kube.append_log(NAMESPACE, "flaky", "main", ["usage: train.py [-h]"], previous=True)
    doctor.finding("crash-loop", "flaky")
    kube.reset_requests()
    for _ in range(3):
        doctor.report()
    assert kube.request_count(path_prefix="/api/v1/namespaces/team/pods/flaky/log") == 0
