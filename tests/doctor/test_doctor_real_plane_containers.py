"""The doctor's container causes reproduced on the real control plane.

kwok's lifecycle Stages (jupyter_mlops.testing.control_plane.LIFECYCLE_STAGES), selected by the
pod's label, write the pod's status as the kubelet reports it (waiting reasons and messages,
lastState, restartCount, conditions) and the kubelet's events whose wording is fixed ("Error:
ErrImagePull", "Readiness probe failed: ..."). The containers' logs are served by kwok's kubelet
endpoint through the real kube-apiserver (`ControlPlane.append_log`). The doctor reads it all
through the product's WatchCache and `Cluster.logs`.

kwok's events are fixed strings, so the one kubelet event that names the pod's own image
("Failed to pull image ...") is written by the test, exactly as the kubelet's event recorder
writes it (source kubelet, the node as host, the container's fieldPath).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlops.kube.doctor import Finding
from jupyter_mlops.testing.control_plane import (
    CONFIG_ERROR,
    CRASH_LOOP,
    IMAGE_PULL_ERROR,
    LIVENESS_FAILING,
    OOM_KILLED,
    READINESS_FAILING,
    lifecycle,
)

from .conftest import Namespace, wait_for
from .test_doctor_real_plane import RealDoctor, causes, texts

Obj = dict[str, Any]
IMAGE = "registry.example.com/team/trainer:v9"
PROBE = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}


@pytest.fixture
def doctor(namespace: Namespace) -> Iterator[RealDoctor]:
    real = RealDoctor(namespace.cluster(), namespace.name)
    yield real
    real.close()


def pod(name: str, meta: Obj, *containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **meta},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def container(name: str = "main", image: str = "python:3.11", **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def kubelet_event(ns: Namespace, name: str, reason: str, message: str) -> None:
    """A core/v1 Event about container main of pod `name`, as the kubelet's recorder writes it."""

    def scheduled() -> Obj | None:
        found = ns.get("pod", name)
        return found if found["spec"].get("nodeName") else None

    obj = wait_for(f"pod {name} on a node", scheduled)
    node, now = obj["spec"]["nodeName"], dt.datetime.now(dt.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": ns.name},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": name,
            "namespace": ns.name,
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "fieldPath": "spec.containers{main}",
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "source": {"component": "kubelet", "host": node},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": "kubelet",
        "reportingInstance": node,
    }
    ns.plane.api("POST", f"/api/v1/namespaces/{ns.name}/events", event)


def logs(found: Finding) -> list[str]:
    return [e.text for e in found.evidence if e.source == "log"]


# -- crashes ---------------------------------------------------------------------------------

TRACEBACK = (
    "loading data from /data/train.parquet",
    "Traceback (most recent call last):",
    '  File "/app/train.py", line 12, in <module>',
    "    raise ValueError(f'learning rate must be positive, got {lr}')",
    "ValueError: learning rate must be positive, got -0.01",
)


def test_a_crash_loop_quotes_the_previous_containers_log(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    namespace.plane.append_log(namespace.name, "trainer", "main", *TRACEBACK, previous=True)
    namespace.plane.append_log(namespace.name, "trainer", "main", "loading data")
    namespace.apply(pod("trainer", lifecycle(CRASH_LOOP, run_for="300ms", back_off="3s")))

    found = doctor.wait(
        "a crash-loop finding while backing off",
        lambda r: next(
            (
                f
                for f in r.findings
                if f.cause == "crash-loop" and f.object.name == "trainer" and f.severity == "error"
            ),
            None,
        ),
    )
    assert found.summary.startswith("Container main keeps crashing (exit code 1, ")
    assert found.summary.endswith(
        "Read its previous log. Its previous log ends: "
        "ValueError: learning rate must be positive, got -0.01"
    )
    assert logs(found) == list(TRACEBACK)  # the last lines of the run that crashed
    assert any(t.startswith("terminated: reason Error, exit code 1") for t in texts(found))
    assert found.fix.startswith(f"kubectl -n {namespace.name} logs trainer -c main --previous")


def test_a_failed_task_names_the_programs_exception_not_the_launchers_last_words(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    # A KFP task's main container: the component's traceback, then the launcher's own line.
    launcher = (
        "F1201 15:20:41.123456      18 main.go:58] failed to execute component: exit status 1"
    )
    said = (*TRACEBACK, launcher)
    namespace.plane.append_log(namespace.name, "task", "main", *said, previous=True)
    namespace.apply(pod("task", lifecycle(CRASH_LOOP, run_for="300ms", back_off="3s")))

    found = doctor.finding("crash-loop", "task")
    assert found.summary.endswith(
        "Its previous log says: ValueError: learning rate must be positive, got -0.01 "
        f"(and ends: {launcher})"
    )
    assert logs(found)[-1] == launcher


def test_a_crash_loop_stays_found_while_the_container_runs_between_crashes(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    namespace.apply(pod("flaky", lifecycle(CRASH_LOOP, run_for="2s", back_off="1s")))
    doctor.finding("crash-loop", "flaky")

    # Over more than one loop (back-off, running, ended) the finding never goes away.
    seen = set()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        pod_now = namespace.get("pod", "flaky")["status"]["containerStatuses"][0]["state"]
        report = doctor.report()
        assert "crash-loop" in causes(report, "flaky"), (pod_now, report)
        seen.add(next(iter(pod_now)))
        time.sleep(0.3)
    assert {"waiting", "running"} <= seen


def test_a_missing_python_module_is_named_from_the_previous_log(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    namespace.plane.append_log(
        namespace.name,
        "step",
        "main",
        "Traceback (most recent call last):",
        '  File "/app/step.py", line 1, in <module>',
        "    import torch",
        "ModuleNotFoundError: No module named 'torch'",
        previous=True,
        stream="stderr",
    )
    namespace.apply(pod("step", lifecycle(CRASH_LOOP, run_for="300ms")))

    found = doctor.finding("python-module-not-found", "step")
    assert "Python cannot import 'torch'" in found.summary
    assert "ModuleNotFoundError: No module named 'torch'" in logs(found)
    assert "pip install torch" in found.fix


def test_oom_killed_quotes_the_memory_limit(namespace: Namespace, doctor: RealDoctor) -> None:
    resources = {"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}
    namespace.apply(
        pod(
            "loader",
            lifecycle(OOM_KILLED, run_for="300ms"),
            container(resources=resources),
            restartPolicy="Never",
        )
    )

    found = doctor.finding("oom-killed", "loader")
    assert found.severity == "error"
    assert found.summary == (
        "Container main ran out of memory and was killed (OOMKilled, exit code 137, 0 restarts): "
        "it used more than its memory limit 512Mi, request 256Mi."
    )
    assert any(t.startswith("terminated: reason OOMKilled, exit code 137") for t in texts(found))
    assert "container main: limits.memory=512Mi, requests.memory=256Mi" in texts(found)
    assert "set resources.limits.memory: 1024Mi on container main" in found.fix


def test_a_container_oom_killed_again_and_again(namespace: Namespace, doctor: RealDoctor) -> None:
    resources = {"limits": {"memory": "1Gi"}}
    meta = lifecycle(OOM_KILLED, run_for="300ms")
    namespace.apply(pod("loader", meta, container(resources=resources)))

    found = doctor.wait(
        "an OOM finding after restarts",
        lambda r: next(
            (
                f
                for f in r.findings
                if f.cause == "oom-killed"
                and f.object.name == "loader"
                and "0 restarts" not in f.summary
            ),
            None,
        ),
    )
    # The API server made the request of the limit, as for every container with only a limit.
    assert "it used more than its memory limit 1Gi, request 1Gi" in found.summary
    assert "crash-loop" not in causes(doctor.report(), "loader")  # told once, as OOM


# -- images ----------------------------------------------------------------------------------


def test_an_image_pull_names_the_spec_image_and_quotes_the_kubelet_event(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    meta = lifecycle(IMAGE_PULL_ERROR, run_for="1s", back_off="2s")
    namespace.apply(pod("trainer", meta, container(image=IMAGE)))
    why = (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{IMAGE}": '
        f'failed to resolve reference "{IMAGE}": {IMAGE}: not found'
    )
    kubelet_event(namespace, "trainer", "Failed", f'Failed to pull image "{IMAGE}": {why}')

    found = doctor.wait(
        "the kubelet's event quoted",
        lambda r: next(
            (
                f
                for f in r.findings
                if f.cause == "image-not-found"
                and f.object.name == "trainer"
                and any("Failed to pull image" in t for t in texts(f))
            ),
            None,
        ),
    )
    assert found.summary == (
        f"Container main cannot pull its image {IMAGE!r}: the registry has no such image or "
        "tag ('v9')."
    )
    assert texts(found)[0] == f"container main: image: {IMAGE}"
    assert f'Warning Failed: Failed to pull image "{IMAGE}": {why}' in texts(found)
    # The kubelet's later "Error: ImagePullBackOff" says less: the event that says why is quoted.
    wait_for(
        "kwok's Failed events",
        lambda: len(namespace.get("events", "--field-selector", "reason=Failed")["items"]) >= 3,
    )
    again = doctor.finding("image-not-found", "trainer")
    assert f'Warning Failed: Failed to pull image "{IMAGE}": {why}' in texts(again)
    assert "docker manifest inspect" in again.fix


def test_a_private_registry_without_a_pull_secret(namespace: Namespace, doctor: RealDoctor) -> None:
    # containerd's answer for a registry that wants credentials, as the kubelet reports it.
    refused = (
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{IMAGE}": failed to '
        f'resolve reference "{IMAGE}": failed to authorize: failed to fetch anonymous token: '
        "unexpected status from GET request to https://registry.example.com/token: 401 Unauthorized"
    )
    meta = lifecycle(IMAGE_PULL_ERROR, pull_error=refused)
    namespace.apply(pod("trainer", meta, container(image=IMAGE)))

    found = doctor.finding("image-pull-unauthorized", "trainer")
    assert found.summary == (
        f"Container main cannot pull its image {IMAGE!r}: the registry registry.example.com "
        "needs credentials and the pod has no imagePullSecrets."
    )
    # The status it read, in whichever turn of pull and back-off the kubelet was.
    assert {
        f"waiting: ErrImagePull: {refused}",
        f'waiting: ImagePullBackOff: Back-off pulling image "{IMAGE}": ErrImagePull: {refused}',
    } & set(texts(found))
    # The kubelet's own events (kwok counts repeats: "Warning Failed (x3): ...").
    kubelet = re.compile(r"Warning Failed( \(x\d+\))?: Error: (ErrImagePull|ImagePullBackOff)")
    assert any(kubelet.fullmatch(t) for t in texts(found))
    assert f"kubectl -n {namespace.name} create secret docker-registry regcred" in found.fix
    assert "--docker-server=registry.example.com" in found.fix


# -- configuration ---------------------------------------------------------------------------


def test_a_missing_config_map_key_names_the_key_and_the_config_map(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"batch_size": "64"},
        }
    )
    env = [{"name": "LR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "lr"}}}]
    namespace.apply(pod("tuner", lifecycle(CONFIG_ERROR), container(env=env)))

    found = doctor.finding("missing-configmap-key", "tuner")
    assert found.summary == (
        "Container main cannot start: ConfigMap settings has no key lr (it has: batch_size)."
    )
    assert (
        f"waiting: CreateContainerConfigError: couldn't find key lr in ConfigMap "
        f"{namespace.name}/settings"
    ) in texts(found)
    assert found.fix.startswith(
        f'kubectl -n {namespace.name} patch configmap settings --type merge -p \'{{"data": '
        '{"lr": "VALUE"}}\''
    )


def test_a_missing_secret(namespace: Namespace, doctor: RealDoctor) -> None:
    env_from = [{"secretRef": {"name": "db-credentials"}}]
    namespace.apply(pod("app", lifecycle(CONFIG_ERROR), container(envFrom=env_from)))

    found = doctor.finding("missing-secret", "app")
    assert found.summary == (
        "Container main cannot start: the Secret db-credentials it uses does not exist."
    )
    assert found.fix.startswith(
        f"kubectl -n {namespace.name} create secret generic db-credentials --from-literal="
    )


# -- probes ----------------------------------------------------------------------------------


def test_a_failing_readiness_probe(namespace: Namespace, doctor: RealDoctor) -> None:
    namespace.apply(pod("model", lifecycle(READINESS_FAILING), container(readinessProbe=PROBE)))

    found = doctor.finding("readiness-probe-failing", "model")
    assert found.severity == "warning"
    assert found.summary == (
        "Container main fails its readiness probe, so it gets no traffic: "
        "Readiness probe failed: HTTP probe failed with statuscode: 503"
    )
    # With the probe's fields the API server defaulted.
    assert (
        "readinessProbe: httpGet {'path': '/healthz', 'port': 8080, 'scheme': 'HTTP'}, "
        "periodSeconds=5, timeoutSeconds=1, failureThreshold=3"
    ) in texts(found)
    assert "readinessProbe.initialDelaySeconds: 30" in found.fix
    assert causes(doctor.report(), "model") == {"readiness-probe-failing"}


def test_liveness_restarts_are_the_probes_not_a_crash(
    namespace: Namespace, doctor: RealDoctor
) -> None:
    meta = lifecycle(LIVENESS_FAILING, run_for="500ms", back_off="1s")
    namespace.apply(pod("api", meta, container(livenessProbe=PROBE)))

    found = doctor.wait(
        "a liveness finding with restarts",
        lambda r: next(
            (
                f
                for f in r.findings
                if f.cause == "liveness-probe-failing"
                and f.object.name == "api"
                and "(0 restarts)" not in f.summary
            ),
            None,
        ),
        timeout=40,
    )
    assert found.severity == "error"
    assert "fails its liveness probe, so the kubelet restarts it (" in found.summary
    assert found.summary.endswith(": Liveness probe failed: HTTP probe failed with statuscode: 500")
    assert "livenessProbe.initialDelaySeconds: 30" in found.fix
    # Whatever the container is doing now, the program is not blamed.
    for _ in range(10):
        assert not causes(doctor.report(), "api") & {"crash-loop", "container-failed"}
        time.sleep(0.3)
