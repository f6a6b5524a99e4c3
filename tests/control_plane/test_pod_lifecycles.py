"""The pod lifecycles users meet, played by kwok's Stages as a kubelet reports them
(jupyter_mlops.testing.control_plane.LIFECYCLE_STAGES): kubectl's STATUS, READY and RESTARTS
read as for a real kubelet, and the product's pods table row says the same.

kubectl prints what the real API server's table says of the pod; the product's row is worked
out from the same version of the pod (its resourceVersion did not move while kubectl printed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyter_mlops.kube.rows import row
from jupyter_mlops.testing.control_plane import (
    CONFIG_ERROR,
    CRASH_LOOP,
    FAIL_LABEL,
    IMAGE_PULL_ERROR,
    INIT_FAILS,
    INIT_RUNS,
    LIVENESS_FAILING,
    OOM_KILLED,
    READINESS_FAILING,
    SUCCEED,
    lifecycle,
)

from .conftest import Namespace, wait_for

Obj = dict[str, Any]
Columns = dict[str, str]
IMAGE = "python:3.11"


def pod(name: str, meta: Obj, *containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **meta},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def container(name: str = "main", image: str = IMAGE, **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def observe(
    ns: Namespace, name: str, wanted: Callable[[Columns], bool], timeout: float = 60
) -> tuple[Columns, Obj]:
    """kubectl's columns for pod `name` once `wanted(columns)`, and the pod they print."""

    def once() -> tuple[Columns, Obj] | None:
        before = ns.get("pod", name)
        cells = ns.columns("pod", name)
        after = ns.get("pod", name)
        same = before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]
        return (cells, after) if same and wanted(cells) else None

    return wait_for(f"pod {name} to be as wanted", once, timeout)


def restarts(cells: Columns) -> int:
    """kubectl's RESTARTS: `3 (5s ago)` is 3."""
    return int(cells["RESTARTS"].split()[0])


def status(word: str, least_restarts: int = 0) -> Callable[[Columns], bool]:
    return lambda cells: cells["STATUS"] == word and restarts(cells) >= least_restarts


def assert_row_agrees(cells: Columns, obj: Obj) -> None:
    mine = row("pods", obj)
    theirs = {"status": cells["STATUS"], "ready": cells["READY"], "restarts": restarts(cells)}
    assert {k: mine[k] for k in theirs} == theirs


def state(obj: Obj, which: str = "state", field: str = "containerStatuses") -> Obj:
    return dict(obj["status"][field][0][which])


def condition(obj: Obj, kind: str) -> Obj:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def event_messages(ns: Namespace, name: str) -> list[str]:
    events = ns.get("events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [f"{e['type']} {e['reason']}: {e['message']}" for e in events]


# -- run, then end ---------------------------------------------------------------------------


def test_a_program_that_ends_well_completes(namespace: Namespace) -> None:
    namespace.apply(pod("report", lifecycle(SUCCEED, run_for="500ms"), restartPolicy="Never"))

    cells, obj = observe(namespace, "report", status("Completed"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert obj["status"]["phase"] == "Succeeded"
    ended = state(obj)["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (0, "Completed")
    assert condition(obj, "Ready")["reason"] == "PodCompleted"
    assert_row_agrees(cells, obj)


def test_a_program_that_fails_ends_in_error_with_its_exit_code(namespace: Namespace) -> None:
    meta = lifecycle(CRASH_LOOP, exit_code=3, run_for="500ms")
    namespace.apply(pod("train", meta, restartPolicy="Never"))

    cells, obj = observe(namespace, "train", status("Error"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert obj["status"]["phase"] == "Failed"
    ended = state(obj)["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (3, "Error")
    assert condition(obj, "Ready")["reason"] == "PodFailed"
    assert_row_agrees(cells, obj)


def test_kwoks_own_failure_stage_still_fails_a_pod(namespace: Namespace) -> None:
    meta = {
        "labels": {FAIL_LABEL: "true"},
        "annotations": {f"{FAIL_LABEL}/reason": "Error", f"{FAIL_LABEL}/exit-code": "2"},
    }
    namespace.apply(pod("chaos", meta))

    cells, obj = observe(namespace, "chaos", status("Error"))
    assert obj["status"]["phase"] == "Failed"
    assert state(obj)["terminated"]["exitCode"] == 2
    assert_row_agrees(cells, obj)


# -- crashes ---------------------------------------------------------------------------------


def test_a_crash_loop_counts_restarts_and_keeps_the_last_run(namespace: Namespace) -> None:
    namespace.apply(pod("crasher", lifecycle(CRASH_LOOP, run_for="300ms", back_off="2s")))

    first, _ = observe(namespace, "crasher", status("CrashLoopBackOff", 1))
    cells, obj = observe(
        namespace, "crasher", status("CrashLoopBackOff", restarts(first) + 1), timeout=90
    )
    assert cells["READY"] == "0/1"
    assert cells["RESTARTS"].endswith(" ago)")  # kubectl: when the last run ended
    assert obj["status"]["phase"] == "Running"
    waiting = state(obj)["waiting"]
    uid = obj["metadata"]["uid"]
    assert waiting["message"] == (
        f"back-off 2s restarting failed container=main pod=crasher_{namespace.name}({uid})"
    )
    last = state(obj, "lastState")["terminated"]
    assert (last["exitCode"], last["reason"]) == (1, "Error")
    assert last["startedAt"] <= last["finishedAt"]
    assert condition(obj, "Ready")["message"] == "containers with unready status: [main]"
    assert_row_agrees(cells, obj)

    # Between two back-offs it runs again, with its restarts kept.
    cells, obj = observe(namespace, "crasher", status("Running", restarts(cells)))
    assert cells["READY"] == "1/1"
    assert state(obj, "lastState")["terminated"]["exitCode"] == 1
    assert_row_agrees(cells, obj)


def test_only_the_named_container_crashes(namespace: Namespace) -> None:
    meta = lifecycle(CRASH_LOOP, container="worker", run_for="300ms")
    namespace.apply(pod("pair", meta, container("web"), container("worker")))

    cells, obj = observe(namespace, "pair", status("CrashLoopBackOff", 1))
    assert cells["READY"] == "1/2"
    by_name = {c["name"]: c for c in obj["status"]["containerStatuses"]}
    assert by_name["web"]["ready"] and "running" in by_name["web"]["state"]
    assert by_name["worker"]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert_row_agrees(cells, obj)


def test_a_container_killed_for_memory_is_oom_killed(namespace: Namespace) -> None:
    limits = {"limits": {"memory": "512Mi"}}
    namespace.apply(
        pod(
            "hungry",
            lifecycle(OOM_KILLED, run_for="300ms"),
            container(resources=limits),
            restartPolicy="Never",
        )
    )

    cells, obj = observe(namespace, "hungry", status("OOMKilled"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    ended = state(obj)["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (137, "OOMKilled")
    assert_row_agrees(cells, obj)


def test_an_oom_killed_container_that_restarts_crash_loops(namespace: Namespace) -> None:
    namespace.apply(pod("hungry", lifecycle(OOM_KILLED, run_for="300ms")))

    cells, obj = observe(namespace, "hungry", status("CrashLoopBackOff", 1))
    last = state(obj, "lastState")["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "OOMKilled")
    assert_row_agrees(cells, obj)


# -- images and configuration ----------------------------------------------------------------


def test_a_missing_image_is_err_image_pull_then_image_pull_back_off(namespace: Namespace) -> None:
    image = "registry.example.com/team/trainer:v9"
    meta = lifecycle(IMAGE_PULL_ERROR, run_for="1500ms", back_off="3s")
    namespace.apply(pod("trainer", meta, container(image=image)))

    cells, obj = observe(namespace, "trainer", status("ErrImagePull"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert obj["status"]["phase"] == "Pending"
    pulled = state(obj)["waiting"]["message"]
    # containerd's answer, naming the image of the spec.
    assert pulled == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )
    assert_row_agrees(cells, obj)

    cells, obj = observe(namespace, "trainer", status("ImagePullBackOff"))
    assert state(obj)["waiting"]["message"] == (
        f'Back-off pulling image "{image}": ErrImagePull: {pulled}'
    )
    assert_row_agrees(cells, obj)
    # The kubelet's Failed events for both (their wording names nothing of the pod).
    wanted = {"Warning Failed: Error: ErrImagePull", "Warning Failed: Error: ImagePullBackOff"}
    wait_for(
        "the kubelet's Failed events",
        lambda: wanted <= set(event_messages(namespace, "trainer")),
    )

    # And it tries again.
    cells, obj = observe(namespace, "trainer", status("ErrImagePull"))
    assert state(obj)["waiting"]["message"] == pulled


def test_an_image_of_docker_hub_is_named_as_containerd_resolves_it(
    namespace: Namespace,
) -> None:
    meta = lifecycle(IMAGE_PULL_ERROR, run_for="30s")
    namespace.apply(pod("typo", meta, container(image="pyhton:3.11")))

    cells, obj = observe(namespace, "typo", status("ErrImagePull"))
    ref = "docker.io/library/pyhton:3.11"
    assert state(obj)["waiting"]["message"] == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )
    assert obj["status"]["containerStatuses"][0]["image"] == "pyhton:3.11"
    assert_row_agrees(cells, obj)


def test_a_missing_config_map_key_is_create_container_config_error(
    namespace: Namespace,
) -> None:
    env = [{"name": "LR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "lr"}}}]
    namespace.apply(pod("tuner", lifecycle(CONFIG_ERROR), container(env=env)))

    cells, obj = observe(namespace, "tuner", status("CreateContainerConfigError"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert obj["status"]["phase"] == "Pending"
    assert state(obj)["waiting"]["message"] == (
        f"couldn't find key lr in ConfigMap {namespace.name}/settings"
    )
    assert_row_agrees(cells, obj)


def test_a_missing_secret_is_create_container_config_error(namespace: Namespace) -> None:
    env_from = [{"secretRef": {"name": "db-credentials"}}]
    namespace.apply(pod("app", lifecycle(CONFIG_ERROR), container(envFrom=env_from)))

    cells, obj = observe(namespace, "app", status("CreateContainerConfigError"))
    assert state(obj)["waiting"]["message"] == 'secret "db-credentials" not found'
    assert_row_agrees(cells, obj)


# -- init containers -------------------------------------------------------------------------


def test_init_containers_run_one_after_the_other_then_the_app(namespace: Namespace) -> None:
    inits = [container("fetch", "busybox:1.36"), container("unpack", "busybox:1.36")]
    namespace.apply(
        pod("staged", lifecycle(INIT_RUNS, run_for="2s"), container(), initContainers=inits)
    )

    cells, obj = observe(namespace, "staged", status("Init:0/2"))
    assert cells["READY"] == "0/1"
    assert obj["status"]["phase"] == "Pending"
    assert condition(obj, "Initialized")["message"] == (
        "containers with incomplete status: [fetch unpack]"
    )
    assert_row_agrees(cells, obj)

    cells, obj = observe(namespace, "staged", status("Init:1/2"))
    assert state(obj, field="initContainerStatuses")["terminated"]["reason"] == "Completed"
    assert_row_agrees(cells, obj)

    cells, obj = observe(namespace, "staged", status("Running"))
    assert cells["READY"] == "1/1"
    assert condition(obj, "Initialized")["status"] == "True"
    assert_row_agrees(cells, obj)


def test_a_failing_init_container_fails_a_pod_that_never_restarts(namespace: Namespace) -> None:
    meta = lifecycle(INIT_FAILS, run_for="300ms", exit_code=2)
    namespace.apply(
        pod(
            "setup",
            meta,
            initContainers=[container("migrate", "busybox:1.36")],
            restartPolicy="Never",
        )
    )

    cells, obj = observe(namespace, "setup", status("Init:Error"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert obj["status"]["phase"] == "Failed"
    ended = state(obj, field="initContainerStatuses")["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (2, "Error")
    assert state(obj)["waiting"]["reason"] == "PodInitializing"
    assert_row_agrees(cells, obj)


def test_a_failing_init_container_crash_loops(namespace: Namespace) -> None:
    meta = lifecycle(INIT_FAILS, run_for="300ms")
    namespace.apply(pod("setup", meta, initContainers=[container("migrate", "busybox:1.36")]))

    cells, obj = observe(namespace, "setup", status("Init:CrashLoopBackOff", 2), timeout=90)
    assert cells["READY"] == "0/1"
    assert obj["status"]["phase"] == "Pending"
    last = state(obj, "lastState", "initContainerStatuses")["terminated"]
    assert (last["exitCode"], last["reason"]) == (1, "Error")
    assert_row_agrees(cells, obj)


# -- probes ----------------------------------------------------------------------------------


def test_a_failing_readiness_probe_keeps_the_pod_running_but_not_ready(
    namespace: Namespace,
) -> None:
    probe = {"httpGet": {"path": "/healthz", "port": 8080}}
    namespace.apply(pod("server", lifecycle(READINESS_FAILING), container(readinessProbe=probe)))

    cells, obj = observe(namespace, "server", status("Running"))
    assert (cells["READY"], cells["RESTARTS"]) == ("0/1", "0")
    assert condition(obj, "Ready")["status"] == "False"
    assert condition(obj, "Ready")["reason"] == "ContainersNotReady"
    assert obj["status"]["containerStatuses"][0]["started"] is True
    assert_row_agrees(cells, obj)
    wait_for(
        "the kubelet's Unhealthy event",
        lambda: (
            "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: "
            "503" in event_messages(namespace, "server")
        ),
    )


def test_a_failing_liveness_probe_restarts_the_container(namespace: Namespace) -> None:
    probe = {"httpGet": {"path": "/healthz", "port": 8080}}
    meta = lifecycle(LIVENESS_FAILING, run_for="500ms", back_off="1s")
    namespace.apply(pod("server", meta, container(livenessProbe=probe)))

    cells, obj = observe(namespace, "server", status("Running", 2), timeout=90)
    last = state(obj, "lastState")["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "Error")
    assert_row_agrees(cells, obj)
    assert (
        "Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"
        in event_messages(namespace, "server")
    )
