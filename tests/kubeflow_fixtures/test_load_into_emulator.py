"""The Kubeflow fixtures load into an API server and read back through the official clients."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from kubernetes import client, dynamic

from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.testing.kubeflow import (
    DEFAULT_NAMESPACE,
    KubeflowFixtureError,
    LoadedObjects,
    load_kubeflow,
    render_manifests,
)

NS = DEFAULT_NAMESPACE


def _custom(api_client: client.ApiClient, group: str, version: str, plural: str, name: str) -> Any:
    return client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        group, version, NS, plural, name
    )


def _events_about(api_client: client.ApiClient, kind: str, name: str) -> list[client.CoreV1Event]:
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    events = client.CoreV1Api(api_client).list_namespaced_event(NS, field_selector=selector)
    return list(events.items)


def test_every_object_is_created_once_with_a_server_uid(loaded: LoadedObjects) -> None:
    assert len(loaded) == len(render_manifests())
    # The emulator starts with a "standard" StorageClass of its own, as kind and minikube do.
    kept = [(o.kind, o.name) for o in loaded if not o.created]
    assert kept == [("StorageClass", "standard")]
    uids = [obj.uid for obj in loaded]
    assert all(uids) and len(set(uids)) == len(uids)


def test_loading_again_keeps_what_is_there(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    again = load_kubeflow(api_client)
    assert again.created == []
    assert [(o.kind, o.name, o.uid) for o in again] == [(o.kind, o.name, o.uid) for o in loaded]
    pods = client.CoreV1Api(api_client).list_namespaced_pod(NS)
    assert len(pods.items) == len(loaded.of_kind("Pod"))


def test_custom_resources_are_discoverable(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    discovery = dynamic.DynamicClient(api_client)
    expected = {
        ("kubeflow.org/v1", "Notebook"): {"my-notebook", "training-notebook"},
        ("kubeflow.org/v1alpha1", "PodDefault"): {"access-ml-pipeline"},
        ("serving.kserve.io/v1beta1", "InferenceService"): {"sklearn-iris"},
        ("kubeflow.org/v1beta1", "Experiment"): {"random-search"},
        ("kubeflow.org/v1beta1", "Trial"): set(loaded.names("Trial")),
        ("kubeflow.org/v1beta1", "Suggestion"): {"random-search"},
        ("sparkoperator.k8s.io/v1beta2", "SparkApplication"): {"spark-pi"},
        ("argoproj.io/v1alpha1", "Workflow"): set(loaded.names("Workflow")),
    }
    for (api_version, kind), names in expected.items():
        resource = discovery.resources.get(api_version=api_version, kind=kind)
        assert resource.namespaced
        listed = resource.get(namespace=NS)
        assert {item.metadata.name for item in listed.items} == names, kind
    profile = discovery.resources.get(api_version="kubeflow.org/v1", kind="Profile")
    assert not profile.namespaced
    assert profile.get(name=NS).spec.owner.name == "user@example.com"


def test_profile_namespace_and_service_accounts(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    core = client.CoreV1Api(api_client)
    namespace = core.read_namespace(NS)
    assert namespace.metadata.labels["app.kubernetes.io/part-of"] == "kubeflow-profile"
    assert namespace.metadata.owner_references[0].uid == loaded.uid("Profile", NS)
    accounts = {sa.metadata.name for sa in core.list_namespaced_service_account(NS).items}
    assert {"default-editor", "default-viewer"} <= accounts
    rbac = client.RbacAuthorizationV1Api(api_client)
    binding = rbac.read_namespaced_role_binding("default-editor", NS)
    assert binding.role_ref.name == "kubeflow-edit"


def test_notebook_pod_is_running_with_the_pipelines_token(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    core = client.CoreV1Api(api_client)
    pods = core.list_namespaced_pod(NS, label_selector="notebook-name=my-notebook").items
    assert [p.metadata.name for p in pods] == ["my-notebook-0"]
    pod = pods[0]
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].ready
    assert pod.metadata.owner_references[0].uid == loaded.uid("StatefulSet", "my-notebook")
    container = pod.spec.containers[0]
    assert container.image == "kubeflownotebookswg/jupyter-scipy:v1.8.0"
    env = {e.name: e.value for e in container.env}
    assert env["KF_PIPELINES_SA_TOKEN_PATH"] == "/var/run/secrets/kubeflow/pipelines/token"
    assert env["NB_PREFIX"] == f"/notebook/{NS}/my-notebook"
    token = next(v for v in pod.spec.volumes if v.name == "volume-kf-pipeline-token")
    assert token.projected.sources[0].service_account_token.audience == "pipelines.kubeflow.org"
    notebook = _custom(api_client, "kubeflow.org", "v1", "notebooks", "my-notebook")
    assert notebook["status"]["readyReplicas"] == 1
    service = core.read_namespaced_service("my-notebook", NS)
    assert service.spec.ports[0].name == "http-my-notebook"


def test_pipeline_run_pods_select_by_run_and_completion(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    [workflow_name] = loaded.names("Workflow")
    workflow = _custom(api_client, "argoproj.io", "v1alpha1", "workflows", workflow_name)
    assert workflow["status"]["phase"] == "Running"
    run_id = workflow["metadata"]["labels"]["pipeline/runid"]
    core = client.CoreV1Api(api_client)
    run_pods = core.list_namespaced_pod(NS, label_selector=f"pipeline/runid={run_id}").items
    assert len(run_pods) == 7
    running = core.list_namespaced_pod(
        NS,
        label_selector=f"pipeline/runid={run_id},workflows.argoproj.io/completed=false",
    ).items
    assert len(running) == 1
    assert running[0].status.phase == "Running"
    node_name = running[0].metadata.annotations["workflows.argoproj.io/node-name"]
    assert node_name == f"{workflow_name}.root.evaluate-model.executor"
    assert [c.name for c in running[0].spec.init_containers] == ["init", "kfp-launcher"]
    assert all(
        p.metadata.owner_references[0].uid == loaded.uid("Workflow", workflow_name)
        for p in run_pods
    )


def test_inference_service_is_ready_with_its_predictor(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    isvc = _custom(api_client, "serving.kserve.io", "v1beta1", "inferenceservices", "sklearn-iris")
    status = isvc["status"]
    assert status["url"] == f"http://sklearn-iris-{NS}.example.com"
    ready = {c["type"]: c["status"] for c in status["conditions"]}
    assert ready["Ready"] == "True"
    assert "predictor" in status["components"]
    deployment = client.AppsV1Api(api_client).read_namespaced_deployment(
        "sklearn-iris-predictor", NS
    )
    assert deployment.metadata.owner_references[0].uid == loaded.uid(
        "InferenceService", "sklearn-iris"
    )
    pods = client.CoreV1Api(api_client).list_namespaced_pod(
        NS, label_selector="serving.kserve.io/inferenceservice=sklearn-iris,component=predictor"
    )
    assert [p.status.phase for p in pods.items] == ["Running"]


def test_katib_experiment_counts_its_trials(api_client: client.ApiClient) -> None:
    experiment = _custom(api_client, "kubeflow.org", "v1beta1", "experiments", "random-search")
    status = experiment["status"]
    assert (status["trialsSucceeded"], status["trialsRunning"], status["trialsFailed"]) == (1, 1, 1)
    best = status["currentOptimalTrial"]
    assert best["bestTrialName"] in status["succeededTrialList"]
    trials = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        "kubeflow.org",
        "v1beta1",
        NS,
        "trials",
        label_selector="katib.kubeflow.org/experiment=random-search",
    )["items"]
    outcome = {}
    for trial in trials:
        last = trial["status"]["conditions"][-1]
        outcome[trial["metadata"]["name"]] = last["type"]
    assert sorted(outcome.values()) == ["Failed", "Running", "Succeeded"]
    assert outcome[best["bestTrialName"]] == "Succeeded"


def test_spark_application_completed(api_client: client.ApiClient) -> None:
    app = _custom(api_client, "sparkoperator.k8s.io", "v1beta2", "sparkapplications", "spark-pi")
    assert app["status"]["applicationState"]["state"] == "COMPLETED"
    assert app["status"]["driverInfo"]["podName"] == "spark-pi-driver"


def test_claims_bound_and_pending_without_a_default_class(
    api_client: client.ApiClient, loaded: LoadedObjects
) -> None:
    core = client.CoreV1Api(api_client)
    bound = core.read_namespaced_persistent_volume_claim("my-notebook-workspace", NS)
    assert bound.status.phase == "Bound"
    assert bound.spec.storage_class_name == "standard"
    volume = core.read_persistent_volume(bound.spec.volume_name)
    assert volume.spec.claim_ref.uid == bound.metadata.uid
    assert volume.status.phase == "Bound"
    pending = core.read_namespaced_persistent_volume_claim("new-notebook-workspace", NS)
    assert pending.status.phase == "Pending"
    assert pending.spec.storage_class_name is None
    [event] = _events_about(api_client, "PersistentVolumeClaim", "new-notebook-workspace")
    assert event.reason == "FailedBinding"
    assert "no storage class is set" in event.message
    classes = client.StorageV1Api(api_client).list_storage_class().items
    assert [c.metadata.name for c in classes] == ["standard"]
    assert not (classes[0].metadata.annotations or {}).get(
        "storageclass.kubernetes.io/is-default-class"
    )


def test_unschedulable_notebook_pod_and_the_full_node(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    pod = core.read_namespaced_pod("training-notebook-0", NS)
    assert pod.status.phase == "Pending"
    assert pod.spec.node_name is None
    assert pod.spec.containers[0].resources.requests["cpu"] == "500m"
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    [event] = _events_about(api_client, "Pod", "training-notebook-0")
    assert (event.type, event.reason) == ("Warning", "FailedScheduling")
    assert event.message.startswith("0/1 nodes are available: 1 Insufficient cpu.")
    [node] = core.list_node().items
    assert node.status.allocatable["cpu"] == "2"
    assert node.status.capacity["pods"] == "110"


def test_crashing_and_unpullable_pods_with_their_warnings(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    crashing = core.read_namespaced_pod("mnist-train-5xk2p", NS).status.container_statuses[0]
    assert crashing.state.waiting.reason == "CrashLoopBackOff"
    assert crashing.restart_count == 13
    assert crashing.last_state.terminated.exit_code == 1
    backoff = _events_about(api_client, "Pod", "mnist-train-5xk2p")
    assert [(e.type, e.reason) for e in backoff] == [("Warning", "BackOff")]
    pulling = core.list_namespaced_pod(NS, label_selector="app=model-server").items[0]
    assert pulling.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    warnings = core.list_namespaced_event(
        NS, field_selector=f"involvedObject.name={pulling.metadata.name},type=Warning"
    ).items
    assert {e.message for e in warnings} >= {"Error: ErrImagePull", "Error: ImagePullBackOff"}


def test_default_storage_class_variant_on_a_fresh_server() -> None:
    with KubeEmulator(port=0, controllers=False, nodes=0) as kube:
        configuration = client.Configuration(host=kube.url)
        configuration.api_key = {"authorization": kube.admin_token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        with client.ApiClient(configuration) as api_client:
            load_kubeflow(api_client, default_storage_class=True, scenarios=("storage",))
            classes = client.StorageV1Api(api_client).list_storage_class().items
            annotations = classes[0].metadata.annotations
            assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
            claim = client.CoreV1Api(api_client).read_namespaced_persistent_volume_claim(
                "new-notebook-workspace", NS
            )
            assert claim.spec.storage_class_name == "standard"
            [event] = _events_about(api_client, "PersistentVolumeClaim", claim.metadata.name)
            assert event.reason == "WaitForFirstConsumer"


def test_loads_where_controllers_run() -> None:
    # Controllers replace what they did not make (a ReplicaSet's surplus pod), as on a real
    # cluster; the load still completes and reports every object.
    with KubeEmulator(port=0, controllers=True, nodes=0) as kube:
        configuration = client.Configuration(host=kube.url)
        configuration.api_key = {"authorization": kube.admin_token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        with client.ApiClient(configuration) as api_client:
            loaded = load_kubeflow(api_client, scenarios=("storage", "serving", "storage"))
            assert len(loaded) == len(render_manifests(scenarios=("storage", "serving")))
            isvc = _custom(
                api_client, "serving.kserve.io", "v1beta1", "inferenceservices", "sklearn-iris"
            )
            assert isvc["status"]["url"] == f"http://sklearn-iris-{NS}.example.com"


def test_refusals_are_reported_with_the_server_message(kube: KubeEmulator) -> None:
    configuration = client.Configuration(host=kube.url)
    configuration.api_key = {"authorization": "not-a-token"}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    with (
        client.ApiClient(configuration) as api_client,
        pytest.raises(KubeflowFixtureError, match="401"),
    ):
        load_kubeflow(api_client, scenarios=())


def test_command_line_seeds_a_second_profile(
    kube: KubeEmulator, api_client: client.ApiClient
) -> None:
    namespace = "kubeflow-user-cli"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_mlops.testing.kubeflow",
            "--server",
            kube.url,
            "--token",
            kube.admin_token,
            "--namespace",
            namespace,
            "--scenario",
            "spark",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"for namespace {namespace}" in result.stdout
    app = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        "sparkoperator.k8s.io", "v1beta2", namespace, "sparkapplications", "spark-pi"
    )
    assert app["status"]["applicationState"]["state"] == "COMPLETED"
