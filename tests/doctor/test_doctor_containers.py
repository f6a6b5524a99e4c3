"""Why a container does not run: images, config, crashes with their log, memory, probes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, Doctor, event, now, on_node, pod, waiting

IMAGE = "registry.example.com/team/trainer:v7"


def _pull_failure(kube: KubeEmulator, kubelet_says: str) -> None:
    """A pod whose image does not pull, and the kubelet's Failed event saying why."""
    kube.controllers = False
    made = on_node(
        pod("trainer", image=IMAGE),
        waiting("ImagePullBackOff", f'Back-off pulling image "{IMAGE}"', image=IMAGE),
    )
    created = kube.create(made)
    kube.create(event(created, "Failed", kubelet_says, component="kubelet", container="main"))


@pytest.mark.parametrize(
    ("cause", "kubelet_says", "words"),
    [
        (
            "image-not-found",
            f'Failed to pull image "{IMAGE}": rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{IMAGE}": failed to resolve reference "{IMAGE}": '
            f"{IMAGE}: not found",
            "no such image or tag ('v7')",
        ),
        (
            "image-pull-unauthorized",
            f'Failed to pull image "{IMAGE}": rpc error: code = Unknown desc = failed to pull and '
            f'unpack image "{IMAGE}": failed to resolve reference "{IMAGE}": failed to authorize: '
            "failed to fetch anonymous token: unexpected status from GET request: 401 Unauthorized",
            "needs credentials and the pod has no imagePullSecrets",
        ),
        (
            "image-pull-rate-limited",
            f'Failed to pull image "{IMAGE}": rpc error: code = Unknown desc = failed to pull and '
            "unpack image: 429 Too Many Requests - Server message: toomanyrequests: You have "
            "reached your pull rate limit.",
            "too many pulls (rate limit)",
        ),
    ],
)
def test_image_pull_failures_told_apart_from_the_kubelet_event(
    kube: KubeEmulator, doctor: Doctor, cause: str, kubelet_says: str, words: str
) -> None:
    _pull_failure(kube, kubelet_says)

    found = doctor.finding(cause, "trainer")

    assert f"Container main cannot pull its image {IMAGE!r}" in found.summary
    assert words in found.summary
    assert any(e.source == "event" and kubelet_says in e.text for e in found.evidence)
    assert f"image: {IMAGE}" in found.evidence[0].text  # from the pod's spec
    if cause != "image-not-found":
        assert "kubectl -n team create secret docker-registry regcred" in found.fix
        assert "--docker-server=registry.example.com" in found.fix
        assert "patch serviceaccount default" in found.fix


def test_a_missing_configmap(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    kube.create(
        on_node(
            pod("web"),
            waiting("CreateContainerConfigError", 'configmap "app-settings" not found'),
        )
    )

    found = doctor.finding("missing-configmap", "web")

    assert "the ConfigMap app-settings it uses does not exist" in found.summary
    assert "kubectl -n team create configmap app-settings" in found.fix


def test_a_missing_secret_key_lists_the_keys_the_secret_has(
    kube: KubeEmulator, doctor: Doctor
) -> None:
    kube.controllers = False
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": NAMESPACE},
            "stringData": {"username": "app", "pass": "x"},
        }
    )
    kube.create(
        on_node(
            pod("api"),
            waiting(
                "CreateContainerConfigError", f"couldn't find key password in Secret {NAMESPACE}/db"
            ),
        )
    )

    found = doctor.finding("missing-secret-key", "api")

    assert "Secret db has no key password (it has: pass, username)" in found.summary
    assert "kubectl -n team patch secret db --type merge" in found.fix
    assert '"stringData": {"password": "VALUE"}' in found.fix


def _crash_looping(
    kube: KubeEmulator, name: str, log: list[str], exit_code: int = 1, **kw: Any
) -> None:
    """As the kubelet reports a crash loop, with the previous container's log."""
    kube.controllers = False
    last = {
        "terminated": {
            "exitCode": exit_code,
            "reason": kw.pop("reason", "Error"),
            "startedAt": now(-70),
            "finishedAt": now(-60),
        }
    }
    kube.create(
        on_node(
            pod(name, **kw),
            waiting(
                "CrashLoopBackOff",
                f"back-off 5m0s restarting failed container=main pod={name}",
                restarts=6,
                last=last,
            ),
        )
    )
    kube.append_log(NAMESPACE, name, "main", log, previous=True)


@pytest.mark.parametrize(
    ("cause", "log", "words", "fix"),
    [
        (
            "python-module-not-found",
            [
                "Traceback (most recent call last):",
                '  File "/app/train.py", line 3, in <module>',
                "    import sklearn.ensemble",
                "ModuleNotFoundError: No module named 'sklearn'",
            ],
            "Python cannot import 'sklearn'",
            "packages_to_install=['sklearn']",
        ),
        (
            "numpy-abi-mismatch",
            [
                "A module that was compiled using NumPy 1.x cannot be run in",
                "NumPy 2.0.1 as it may crash. To support both 1.x and 2.x",
                "ImportError: numpy.core.multiarray failed to import",
            ],
            "NumPy ABI mismatch",
            "image/",
        ),
        (
            "cuda-out-of-memory",
            [
                "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 "
                "has a total capacity of 15.77 GiB of which 1.12 GiB is free."
            ],
            "the GPU ran out of memory",
            "batch size",
        ),
    ],
)
def test_crash_loops_name_the_python_failure_from_the_previous_log(
    kube: KubeEmulator, doctor: Doctor, cause: str, log: list[str], words: str, fix: str
) -> None:
    _crash_looping(kube, "trainer", log)

    found = doctor.finding(cause, "trainer")

    assert "Container main keeps crashing (exit code 1, 6 restarts)" in found.summary
    assert words in found.summary and "Read its previous log." in found.summary
    assert [e.text for e in found.evidence if e.source == "log"] == log[-5:]
    assert fix in found.fix


def test_a_plain_crash_loop_quotes_exit_code_and_log(kube: KubeEmulator, doctor: Doctor) -> None:
    _crash_looping(kube, "worker", ["starting", "sh: train: not found"], exit_code=127)

    found = doctor.finding("crash-loop", "worker")

    assert "exit code 127" in found.summary and "not found in the image" in found.summary
    assert "Its previous log ends: sh: train: not found" in found.summary
    assert found.fix.startswith("kubectl -n team logs worker -c main --previous")


def test_oom_killed_quotes_limit_and_request(kube: KubeEmulator, doctor: Doctor) -> None:
    _crash_looping(
        kube,
        "loader",
        [],
        exit_code=137,
        reason="OOMKilled",
        resources={"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    )

    found = doctor.finding("oom-killed", "loader")

    assert "its memory limit 512Mi, request 256Mi" in found.summary
    assert "limits.memory: 1024Mi" in found.fix


def test_failing_liveness_probe_with_restarts(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    made = on_node(
        pod(
            "api", livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}
        ),
        {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "image": "python:3.11",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "Error"}},
                }
            ],
        },
    )
    created = kube.create(made)
    # As the kubelet's prober and its container manager write them.
    kube.create(
        event(
            created,
            "Unhealthy",
            'Liveness probe failed: Get "http://10.244.0.7:8080/healthz": dial tcp '
            "10.244.0.7:8080: connect: connection refused",
            component="kubelet",
            container="main",
            count=12,
        )
    )
    kube.create(
        event(
            created,
            "Killing",
            "Container main failed liveness probe, will be restarted",
            component="kubelet",
            type_="Normal",
            container="main",
        )
    )

    found = doctor.finding("liveness-probe-failing", "api")

    assert "fails its liveness probe, so the kubelet restarts it (4 restarts)" in found.summary
    assert "connection refused" in found.summary
    assert any("httpGet" in e.text for e in found.evidence if e.source == "spec")
    assert "livenessProbe.initialDelaySeconds: 30" in found.fix
    assert doctor.report().findings[0].cause == "liveness-probe-failing"  # not a crash loop


def test_failing_readiness_probe(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    made = on_node(
        pod("model", readinessProbe={"httpGet": {"path": "/ready", "port": 8080}}),
        {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now(-300)}},
                }
            ],
        },
    )
    created = kube.create(made)
    kube.create(
        event(
            created,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            component="kubelet",
            container="main",
        )
    )

    found = doctor.finding("readiness-probe-failing", "model")

    assert found.severity == "warning"
    assert "so it gets no traffic: Readiness probe failed: HTTP probe failed" in found.summary


def test_an_evicted_pod(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    message = (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: "
        "512Mi. Container main was using 9Gi, request is 0, has larger consumption of "
        "ephemeral-storage."
    )
    # As the kubelet's eviction manager leaves it.
    kube.create(on_node(pod("etl"), {"phase": "Failed", "reason": "Evicted", "message": message}))

    found = doctor.finding("evicted-ephemeral-storage", "etl")

    assert message in found.summary
    assert "kubectl -n team delete pod etl" in found.fix
    assert "PersistentVolumeClaim" in found.fix


def test_a_pod_stuck_terminating_on_a_finalizer(kube: KubeEmulator, doctor: Doctor) -> None:
    kube.controllers = False
    made = on_node(pod("stuck"), {"phase": "Running"})
    made["metadata"]["finalizers"] = ["example.com/cleanup"]
    kube.create(made)
    kube.delete("v1", "Pod", "stuck", NAMESPACE)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)

    found = doctor.finding("stuck-terminating-finalizers", "stuck", now=later)

    assert "waits for its finalizers example.com/cleanup" in found.summary
    assert "kubectl -n team patch pod stuck --type merge" in found.fix
    assert any(e.text.startswith("deletionTimestamp") for e in found.evidence)
