"""Each task of a run is a pod on the real control plane: created as Argo creates it, placed by
the real scheduler, run by kwok; KFP/Argo labels, phases, exit codes and logs."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import kfp
import kubernetes
import pytest

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kfp import KfpEmulator
from tests.plane import ProfileNamespace

T = TypeVar("T")


@pytest.fixture
def pipelines(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, token: str
) -> Iterator[KfpEmulator]:
    with KfpEmulator(
        control_plane=kubeflow_plane, token=token, step_seconds=0.05, namespaces=(profile.name,)
    ) as emulator:
        yield emulator


@pytest.fixture
def core(kubeflow_plane: ControlPlane) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration(
        host=kubeflow_plane.url,
        api_key={"authorization": f"Bearer {kubeflow_plane.token}"},
    )
    configuration.ssl_ca_cert = str(kubeflow_plane.ca_file)
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


@pytest.fixture
def client(pipelines: KfpEmulator, token: str, profile: ProfileNamespace) -> kfp.Client:
    return kfp.Client(host=pipelines.url, existing_token=token, namespace=profile.name)


def eventually(what: str, check: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_every_task_runs_as_a_labelled_pod_that_ends_succeeded(
    client: kfp.Client,
    pipelines: KfpEmulator,
    core: kubernetes.client.CoreV1Api,
    pipeline_package: Path,
    profile: ProfileNamespace,
) -> None:
    ns = profile.name
    run_id = client.create_run_from_pipeline_package(str(pipeline_package), run_name="r").run_id

    assert pipelines.wait_for_run_state(run_id) == "SUCCEEDED"
    details = client.get_run(run_id).run_details.task_details

    def all_succeeded() -> Any:
        pods = core.list_namespaced_pod(ns, label_selector=f"pipeline/runid={run_id}")
        done = all(p.status.phase == "Succeeded" for p in pods.items)
        return pods if pods.items and done else None

    # kwok ends the containers once the emulator marks the task's program as exited.
    pods = eventually("every task pod Succeeded", all_succeeded)

    # Task details name no pods (as a real server's): each executor node has one pod.
    assert len(pods.items) == [t.display_name for t in details].count("executor") == 3
    for pod in pods.items:
        assert pod.spec.node_name in ("cpu-1", "cpu-2")  # the real scheduler placed it
        assert {c.name: c.state.terminated.exit_code for c in pod.status.container_statuses} == {
            "wait": 0,
            "main": 0,
        }
        assert pod.metadata.labels["pipelines.kubeflow.org/v2_component"] == "true"
        assert pod.metadata.labels["workflows.argoproj.io/completed"] == "true"
        workflow = pod.metadata.labels["workflows.argoproj.io/workflow"]
        node = pod.metadata.annotations["workflows.argoproj.io/node-name"]
        task = node.split(".")[-2]
        assert node == f"{workflow}.root.{task}.executor"
        # The task's DAG detail lists the executor's node id; the pod is named from it.
        node_id = pod.metadata.annotations["workflows.argoproj.io/node-id"]
        assert any(
            t.display_name == task and node_id in [c.pod_name for c in t.child_tasks or []]
            for t in details
        )
        assert pod.metadata.name == f"{workflow}-system-container-impl-{node_id.rsplit('-', 1)[1]}"
        assert [c.name for c in pod.spec.containers] == ["wait", "main"]
        # Owned by the run's real Workflow object, so the garbage collector keeps the pod.
        (owner,) = pod.metadata.owner_references
        stored = kubernetes.client.CustomObjectsApi(core.api_client).get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", ns, "workflows", workflow
        )
        assert (owner.kind, owner.uid) == ("Workflow", stored["metadata"]["uid"])
        log = core.read_namespaced_pod_log(pod.metadata.name, ns, container="main")
        assert f"task {task} completed successfully" in log
    assert pipelines.kube_errors == []


def pods_of(core: kubernetes.client.CoreV1Api, ns: str, run_id: str, task: str) -> list[Any]:
    pods = core.list_namespaced_pod(ns, label_selector=f"pipeline/runid={run_id}")
    return [
        p
        for p in pods.items
        if p.metadata.annotations["workflows.argoproj.io/node-name"].endswith(f".{task}.executor")
    ]


def test_a_running_task_has_a_running_pod_and_a_failed_one_a_failed_pod(
    client: kfp.Client,
    pipelines: KfpEmulator,
    core: kubernetes.client.CoreV1Api,
    pipeline_package: Path,
    profile: ProfileNamespace,
) -> None:
    ns = profile.name
    pipelines.set_task_seconds("train-model", 30)
    failing = client.create_run_from_pipeline_package(str(pipeline_package), run_name="bad")
    pipelines.fail_task(failing.run_id, "load-data")
    slow = client.create_run_from_pipeline_package(str(pipeline_package), run_name="slow")

    pipelines.wait_for_task_state(slow.run_id, "train-model", "RUNNING")
    running = eventually(
        "the training pod Running",
        lambda: [
            p for p in pods_of(core, ns, slow.run_id, "train-model") if p.status.phase == "Running"
        ],
    )
    assert len(running) == 1
    assert pipelines.wait_for_run_state(failing.run_id) == "FAILED"
    failed = client.get_run(failing.run_id).run_details.task_details

    # The tasks after the failed one never started: omitted (no state), and no pod.
    assert [t.state for t in failed if t.display_name == "train-model"] == [None]
    assert pods_of(core, ns, failing.run_id, "train-model") == []
    (pod,) = eventually(
        "the load-data pod Failed",
        lambda: [
            p for p in pods_of(core, ns, failing.run_id, "load-data") if p.status.phase == "Failed"
        ],
    )
    main = next(c for c in pod.status.container_statuses if c.name == "main")
    assert main.state.terminated.exit_code == 1
    log = core.read_namespaced_pod_log(pod.metadata.name, ns, container="main")
    assert "RuntimeError: task load-data failed" in log
    assert pipelines.kube_errors == []
