"""The demo namespace tells one consistent story, in which every diagnosis can be seen.

The seed is loaded as the demo loads it, into an emulator whose controllers then run (the
scheduler looks at every pending pod again, the Deployment controllers at their ReplicaSets),
and what the user would read is checked: states, times, events, diagnoses and logs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.demo.__main__ import EDITOR_TOKEN, NAMESPACE, start_cluster
from jupyter_mlops.demo.cluster import PodLogs, build
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.describe import describe
from jupyter_mlops.kube.rows import row
from jupyter_mlops.testing.kube import KubeEmulator

Obj = dict[str, Any]
TRACEBACK_END = re.compile(r"^[A-Za-z_.]*(Error|Exception): .+")


def _wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    # The emulator's controllers and kubelet act on their own loop; poll what they write.
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _time(text: object) -> datetime:
    assert isinstance(text, str), text
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def _start_demo_emulator() -> tuple[KubeEmulator, PodLogs, datetime]:
    emulator, _ = build(None, profiles=[(NAMESPACE, EDITOR_TOKEN)])
    started = datetime.now(timezone.utc).replace(microsecond=0)
    emulator.start()
    logs = PodLogs(emulator)

    def scheduler_looked_again() -> bool:
        return any(
            e.get("reason") == "FailedScheduling"
            and (e.get("source") or {}).get("component") == "default-scheduler"
            and _time(e.get("firstTimestamp")) >= started
            for e in emulator.objects("v1", "Event", NAMESPACE)
        )

    _wait_for(scheduler_looked_again, "the scheduler's pass over the pending pods")
    return emulator, logs, started


@pytest.fixture(scope="module")
def demo() -> Iterator[KubeEmulator]:
    emulator, logs, _ = _start_demo_emulator()
    yield emulator
    logs.close()
    emulator.stop()


@pytest.fixture(scope="module")
def cluster(demo: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    kubeconfig = demo.write_kubeconfig(
        tmp_path_factory.mktemp("kube") / "config", token=EDITOR_TOKEN, namespace=NAMESPACE
    )
    root = tmp_path_factory.mktemp("root")
    product = Cluster(resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=root))
    yield product
    product.close()


def _pods(demo: KubeEmulator) -> list[Obj]:
    return demo.objects("v1", "Pod", NAMESPACE)


def _events_about(demo: KubeEmulator, name: str) -> list[Obj]:
    return [
        e for e in demo.objects("v1", "Event", NAMESPACE) if e["involvedObject"]["name"] == name
    ]


def _condition(obj: Obj, type_: str) -> Obj | None:
    return next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_),
        None,
    )


def _ran(status: Obj) -> bool:
    state = status.get("state") or {}
    return bool(
        state.get("running")
        or state.get("terminated")
        or (status.get("lastState") or {}).get("terminated")
    )


# Consistency.


def test_no_running_pod_failed_scheduling_after_it_was_scheduled(demo: KubeEmulator) -> None:
    contradictions = []
    for pod in _pods(demo):
        if pod["status"].get("phase") != "Running":
            continue
        scheduled = _condition(pod, "PodScheduled")
        assert scheduled is not None and scheduled["status"] == "True", pod["metadata"]["name"]
        for event in _events_about(demo, pod["metadata"]["name"]):
            if event["reason"] == "FailedScheduling" and _time(event["lastTimestamp"]) >= _time(
                scheduled["lastTransitionTime"]
            ):
                contradictions.append(pod["metadata"]["name"])
    assert contradictions == []


def test_every_ready_inference_service_has_a_running_predictor(demo: KubeEmulator) -> None:
    services = demo.objects("serving.kserve.io/v1beta1", "InferenceService", NAMESPACE)
    ready = [s for s in services if (_condition(s, "Ready") or {}).get("status") == "True"]
    assert ready, "the demo serves a model"
    for service in ready:
        name = service["metadata"]["name"]
        predictors = [
            p
            for p in _pods(demo)
            if (p["metadata"].get("labels") or {}).get("serving.kserve.io/inferenceservice") == name
            and p["metadata"]["labels"].get("component") == "predictor"
        ]
        assert predictors, name
        assert [p["status"]["phase"] for p in predictors] == ["Running"] * len(predictors)
        assert all((_condition(p, "Ready") or {}).get("status") == "True" for p in predictors)


def test_nothing_happened_before_it_was_created_or_after_the_load(demo: KubeEmulator) -> None:
    now = datetime.now(timezone.utc) + timedelta(seconds=2)
    created: dict[str, datetime] = {}
    wrong: list[str] = []
    kinds = [
        ("v1", "Pod"),
        ("v1", "PersistentVolumeClaim"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "Job"),
        ("kubeflow.org/v1", "Notebook"),
        ("serving.kserve.io/v1beta1", "InferenceService"),
        ("kubeflow.org/v1beta1", "Experiment"),
        ("kubeflow.org/v1beta1", "Trial"),
        ("sparkoperator.k8s.io/v1beta2", "SparkApplication"),
        ("argoproj.io/v1alpha1", "Workflow"),
    ]
    objects = [o for api, kind in kinds for o in demo.objects(api, kind, NAMESPACE)]
    for obj in objects:
        meta = obj["metadata"]
        label = f"{obj['kind']}/{meta['name']}"
        birth = _time(meta["creationTimestamp"])
        created[meta["uid"]] = birth
        if birth > now:
            wrong.append(f"{label} created in the future")
        for condition in (obj.get("status") or {}).get("conditions") or []:
            for key in ("lastTransitionTime", "lastUpdateTime", "lastProbeTime"):
                if condition.get(key) and not birth <= _time(condition[key]) <= now:
                    wrong.append(f"{label} condition {condition.get('type')} {key}")
        statuses = (obj.get("status") or {}).get("containerStatuses") or []
        for status in statuses + ((obj.get("status") or {}).get("initContainerStatuses") or []):
            for state in (status.get("state") or {}, status.get("lastState") or {}):
                for detail in state.values():
                    for key in ("startedAt", "finishedAt"):
                        if (detail or {}).get(key) and not birth <= _time(detail[key]) <= now:
                            wrong.append(f"{label} container {status['name']} {key}")
    for obj in objects:
        for owner in obj["metadata"].get("ownerReferences") or []:
            if owner["uid"] in created and created[owner["uid"]] > created[obj["metadata"]["uid"]]:
                wrong.append(f"{obj['kind']}/{obj['metadata']['name']} older than its owner")
    for event in demo.objects("v1", "Event", NAMESPACE):
        about = created.get(event["involvedObject"].get("uid", ""))
        first, last = _time(event["firstTimestamp"]), _time(event["lastTimestamp"])
        if about is not None and not about <= first <= last <= now:
            wrong.append(f"event {event['reason']} about {event['involvedObject']['name']}")
    assert wrong == []


# Every diagnosis the product knows, visible in the demo.


def test_a_claim_pending_because_there_is_no_default_storage_class(cluster: Cluster) -> None:
    answer = describe(cluster, "pvc", "new-notebook-workspace")
    assert answer["row"]["status"] == "Pending"
    assert any("no default StorageClass" in line for line in answer["diagnosis"])


def test_a_notebook_pod_asking_for_more_cpu_than_any_node_has_free(
    demo: KubeEmulator, cluster: Cluster
) -> None:
    [pod] = [
        p
        for p in _pods(demo)
        if p["status"].get("phase") == "Pending" and not p["spec"].get("nodeName")
    ]
    assert pod["metadata"]["labels"]["notebook-name"] == "training-notebook"
    messages = {e["message"] for e in _events_about(demo, pod["metadata"]["name"])}
    assert all(m.startswith("0/1 nodes are available: 1 Insufficient cpu.") for m in messages)
    answer = describe(cluster, "pod", pod["metadata"]["name"])
    assert any(line.startswith("No node has enough cpu free") for line in answer["diagnosis"])


def test_an_image_that_does_not_pull(demo: KubeEmulator, cluster: Cluster) -> None:
    pulling = [
        p
        for p in _pods(demo)
        if any(
            (s.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
            for s in p["status"].get("containerStatuses") or []
        )
    ]
    assert len(pulling) == 1
    name = pulling[0]["metadata"]["name"]
    kubelet = {e["message"] for e in _events_about(demo, name) if e["type"] == "Warning"}
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff"} <= kubelet
    assert any(m.startswith('Failed to pull image "registry.example.com/') for m in kubelet)
    assert row("pods", pulling[0])["status"] == "ImagePullBackOff"
    answer = describe(cluster, "pod", name)
    assert any("cannot pull its image" in line for line in answer["diagnosis"])


def test_a_crash_loop_with_restarts(demo: KubeEmulator, cluster: Cluster) -> None:
    [pod] = [p for p in _pods(demo) if row("pods", p)["status"] == "CrashLoopBackOff"]
    assert pod["status"]["containerStatuses"][0]["restartCount"] > 0
    answer = describe(cluster, "pod", pod["metadata"]["name"])
    assert any("keeps crashing" in line and "previous log" in line for line in answer["diagnosis"])


def test_a_healthy_training_deployment(demo: KubeEmulator) -> None:
    deployment = demo.get("apps/v1", "Deployment", "iris-trainer", NAMESPACE)
    assert deployment is not None
    assert (_condition(deployment, "Available") or {}).get("status") == "True"
    pods = [p for p in _pods(demo) if p["metadata"]["labels"].get("app") == "iris-trainer"]
    assert len(pods) == deployment["spec"]["replicas"] == 2
    assert {row("pods", p)["status"] for p in pods} == {"Running"}


def test_pipeline_task_pods_running_and_completed_after_their_init_containers(
    demo: KubeEmulator,
) -> None:
    tasks = [
        p
        for p in _pods(demo)
        if p["metadata"]["labels"].get("pipelines.kubeflow.org/v2_component") == "true"
    ]
    statuses = sorted(row("pods", p)["status"] for p in tasks)
    assert statuses == ["Completed"] * 6 + ["Running"]
    for pod in tasks:
        inits = pod["status"]["initContainerStatuses"]
        assert all(s["state"]["terminated"]["reason"] == "Completed" for s in inits)


def test_katib_trials_and_a_spark_application(demo: KubeEmulator) -> None:
    [experiment] = demo.objects("kubeflow.org/v1beta1", "Experiment", NAMESPACE)
    trials = demo.objects("kubeflow.org/v1beta1", "Trial", NAMESPACE)
    assert len(trials) == 3
    assert all(
        t["metadata"]["ownerReferences"][0]["uid"] == experiment["metadata"]["uid"] for t in trials
    )
    [spark] = demo.objects("sparkoperator.k8s.io/v1beta2", "SparkApplication", NAMESPACE)
    assert spark["status"]["applicationState"]["state"] == "COMPLETED"


# Logs.


@pytest.fixture(scope="module")
def core(
    demo: KubeEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[client.CoreV1Api]:
    kubeconfig = demo.write_kubeconfig(
        tmp_path_factory.mktemp("core") / "config", token=EDITOR_TOKEN, namespace=NAMESPACE
    )
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        yield client.CoreV1Api(api)


def test_every_container_that_ran_has_a_log(demo: KubeEmulator, core: client.CoreV1Api) -> None:
    empty = []
    checked = 0
    for pod in _pods(demo):
        status = pod["status"]
        for container in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        ):
            if not _ran(container):
                continue
            text = core.read_namespaced_pod_log(
                pod["metadata"]["name"], NAMESPACE, container=container["name"]
            )
            checked += 1
            if not text.strip():
                empty.append(f"{pod['metadata']['name']}/{container['name']}")
    assert empty == []
    assert checked > 20


def test_the_crash_loop_previous_log_ends_with_a_traceback(
    demo: KubeEmulator, core: client.CoreV1Api
) -> None:
    [pod] = [p for p in _pods(demo) if row("pods", p)["status"] == "CrashLoopBackOff"]
    text = core.read_namespaced_pod_log(pod["metadata"]["name"], NAMESPACE, previous=True)
    lines = text.rstrip("\n").splitlines()
    assert "Traceback (most recent call last):" in lines
    assert TRACEBACK_END.match(lines[-1]), lines[-1]
    assert "NumPy" in text


def test_training_logs_print_metrics_as_katib_reads_them(
    demo: KubeEmulator, core: client.CoreV1Api
) -> None:
    pod = next(p for p in _pods(demo) if p["metadata"]["labels"].get("app") == "iris-trainer")
    text = core.read_namespaced_pod_log(pod["metadata"]["name"], NAMESPACE, tail_lines=3)
    for line in text.splitlines():
        assert re.fullmatch(r"epoch=\d+ loss=\d\.\d{4} accuracy=\d\.\d{4}", line), line


def test_pods_made_again_get_a_log_and_the_job_crashes_again() -> None:
    emulator, logs, _ = _start_demo_emulator()
    try:
        seeded = {p["metadata"]["name"] for p in _pods(emulator)}
        trainer = next(n for n in seeded if n.startswith("iris-trainer-"))
        emulator.delete("v1", "Pod", trainer, NAMESPACE)
        emulator.delete("v1", "Pod", "mnist-train-5xk2p", NAMESPACE)

        def replacement(prefix: str) -> Callable[[], str | None]:
            def find() -> str | None:
                for pod in _pods(emulator):
                    name = pod["metadata"]["name"]
                    if name.startswith(prefix) and name not in seeded:
                        buffer = emulator.logs.buffer(
                            NAMESPACE, name, pod["spec"]["containers"][0]["name"], True
                        )
                        current = emulator.logs.buffer(
                            NAMESPACE, name, pod["spec"]["containers"][0]["name"], False
                        )
                        if (
                            current is not None
                            and current.lines
                            and (prefix != "mnist-train-" or (buffer is not None and buffer.lines))
                        ):
                            return name
                return None

            return find

        new_trainer = _wait_for(replacement("iris-trainer-"), "a new trainer pod with a log")
        new_crash = _wait_for(replacement("mnist-train-"), "the Job's new pod crashing")
        pod = emulator.get("v1", "Pod", new_crash, NAMESPACE)
        assert pod is not None and row("pods", pod)["status"] == "CrashLoopBackOff"
        assert new_trainer != trainer
    finally:
        logs.close()
        emulator.stop()


# Starting again.


def _pod_names(kubeconfig: Path) -> set[str]:
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        pods = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items
        return {p.metadata.name for p in pods}


def _delete_and_stop(kubeconfig: Path, process: Any, name: str) -> None:
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        client.CoreV1Api(api).delete_namespaced_pod(name, NAMESPACE)
    _wait_for(lambda: name not in _pod_names(kubeconfig), f"{name} to be gone")
    process.terminate()
    process.wait(timeout=30)


def test_the_demo_starts_from_its_seed_again_unless_asked_to_keep_state(tmp_path: Path) -> None:
    workspace = tmp_path / "demo-workspace"
    process, kubeconfig = start_cluster(workspace)
    seeded = _pod_names(kubeconfig)
    assert "mnist-train-5xk2p" in seeded
    _delete_and_stop(kubeconfig, process, "mnist-train-5xk2p")

    process, kubeconfig = start_cluster(workspace)
    try:
        assert _pod_names(kubeconfig) == seeded
    finally:
        _delete_and_stop(kubeconfig, process, "mnist-train-5xk2p")

    process, kubeconfig = start_cluster(workspace, keep_state=True)
    try:
        kept = _pod_names(kubeconfig)
        assert "mnist-train-5xk2p" not in kept
        assert any(n.startswith("mnist-train-") for n in kept), "the Job made another pod"
    finally:
        process.terminate()
        process.wait(timeout=30)
