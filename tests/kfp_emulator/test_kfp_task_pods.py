"""Each task of a run is a pod in the Kubernetes emulator: KFP/Argo labels, phases and logs."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp
import kubernetes
import pytest

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator
from jupyter_mlops.testing.kube import KubeEmulator


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(port=0) as emulator:
        emulator.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": DEFAULT_NAMESPACE}}
        )
        yield emulator


@pytest.fixture
def pipelines(kube: KubeEmulator, token: str) -> Iterator[KfpEmulator]:
    with KfpEmulator(
        kube_url=kube.url, kube_token=kube.admin_token, token=token, step_seconds=0.05
    ) as emulator:
        yield emulator


@pytest.fixture
def core(kube: KubeEmulator) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration(
        host=kube.url, api_key={"authorization": f"Bearer {kube.admin_token}"}
    )
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


@pytest.fixture
def client(pipelines: KfpEmulator, token: str) -> kfp.Client:
    return kfp.Client(host=pipelines.url, existing_token=token, namespace=DEFAULT_NAMESPACE)


def test_every_task_runs_as_a_labelled_pod_that_ends_succeeded(
    client: kfp.Client,
    pipelines: KfpEmulator,
    core: kubernetes.client.CoreV1Api,
    pipeline_package: Path,
) -> None:
    run_id = client.create_run_from_pipeline_package(str(pipeline_package), run_name="r").run_id

    assert pipelines.wait_for_run_state(run_id) == "SUCCEEDED"
    details = client.get_run(run_id).run_details.task_details
    pods = core.list_namespaced_pod(DEFAULT_NAMESPACE, label_selector=f"pipeline/runid={run_id}")

    # Task details name no pods (as a real server's): each executor node has one pod.
    assert len(pods.items) == [t.display_name for t in details].count("executor") == 3
    for pod in pods.items:
        assert pod.status.phase == "Succeeded"
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
        log = core.read_namespaced_pod_log(pod.metadata.name, DEFAULT_NAMESPACE, container="main")
        assert f"task {task} completed successfully" in log
    assert pipelines.kube_errors == []


def pods_of(core: kubernetes.client.CoreV1Api, run_id: str, task: str) -> list[Any]:
    pods = core.list_namespaced_pod(DEFAULT_NAMESPACE, label_selector=f"pipeline/runid={run_id}")
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
) -> None:
    pipelines.set_task_seconds("train-model", 30)
    failing = client.create_run_from_pipeline_package(str(pipeline_package), run_name="bad")
    pipelines.fail_task(failing.run_id, "load-data")
    slow = client.create_run_from_pipeline_package(str(pipeline_package), run_name="slow")

    pipelines.wait_for_task_state(slow.run_id, "train-model", "RUNNING")
    (train_pod,) = pods_of(core, slow.run_id, "train-model")
    assert pipelines.wait_for_run_state(failing.run_id) == "FAILED"
    failed = client.get_run(failing.run_id).run_details.task_details

    assert train_pod.status.phase == "Running"
    # The tasks after the failed one never started: omitted (no state), and no pod.
    assert [t.state for t in failed if t.display_name == "train-model"] == [None]
    assert pods_of(core, failing.run_id, "train-model") == []
    (pod,) = pods_of(core, failing.run_id, "load-data")
    assert pod.status.phase == "Failed"
    main = next(c for c in pod.status.container_statuses if c.name == "main")
    assert main.state.terminated.exit_code == 1
    log = core.read_namespaced_pod_log(pod.metadata.name, DEFAULT_NAMESPACE, container="main")
    assert "RuntimeError: task load-data failed" in log
