"""On the real control plane with KServe's CRDs: `serve` builds and server-side applies the
InferenceService, checks what would make it fail, and waits for Ready while the test plays
the KServe controller (status through the status subresource, the predictor's pods)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.errors import Conflict, Forbidden, Invalid, ReadOnly
from jupyter_mlops.serving import FIELD_MANAGER, Plan, Progress, Service, Serving
from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import (
    DESTINATION,
    MeshRefusal,
    Namespace,
    Registered,
    cluster_settings,
    ready_status,
    s3_account,
    serving_for,
    wait_for,
    write_status,
)


def isvc(namespace: Namespace, name: str) -> dict[str, Any]:
    """kubectl's answer for the InferenceService, with the field managers."""
    return namespace.get("inferenceservice", name, "--show-managed-fields")


def findings(plan: Plan, check: str) -> list[str]:
    return [f"{f.severity}: {f.message}" for f in plan.findings if f.check == check]


@pytest.fixture
def on_cluster(kserve: ControlPlane, namespace: Namespace, registered: Registered) -> Any:
    with serving_for(cluster_settings(registered, namespace)) as serving:
        yield serving


def test_serve_applies_the_inference_service_server_side(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    shown: list[Plan] = []

    def confirm(plan: Plan) -> bool:
        shown.append(plan)
        return True

    service = on_cluster.serve(
        registered.name, "champion", service_account="models", confirm=confirm, wait=False
    )

    assert service is not None and not service.ready
    plan = shown[0]
    assert not plan.blocked, plan.findings
    assert json.loads(json.dumps(plan.to_json()))["manifest"] == plan.manifest
    stored = isvc(namespace, plan.name)
    assert stored["apiVersion"] == "serving.kserve.io/v1beta1"
    model = stored["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "mlflow"
    assert model["protocolVersion"] == "v2"
    assert model["runtime"] == "kserve-mlserver"
    # mlflow-artifacts:/ became the tracking server's store, and the URI ends in a slash.
    relative = plan.model.download_uri.removeprefix("mlflow-artifacts:/")
    assert model["storageUri"] == f"{DESTINATION}/{relative}/"
    assert (registered.artifacts_dir / relative / "MLmodel").is_file()
    assert stored["spec"]["predictor"]["serviceAccountName"] == "models"
    annotations = stored["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert annotations["jupyter-mlops/registered-model"] == registered.name
    assert annotations["jupyter-mlops/model-version"] == registered.version
    managers = {(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]}
    assert (FIELD_MANAGER, "Apply") in managers
    # The runtime lists mlflow 1 and 2; the model was logged with MLflow 3.
    skew = findings(plan, "requirements")
    assert len(skew) == 1 and "mlflow 3." in skew[0] and skew[0].startswith("warning")


def test_serve_waits_while_kserve_makes_it_ready(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    steps: list[Progress] = []
    result: dict[str, Service | None] = {}

    def serve() -> None:
        result["service"] = on_cluster.serve(
            registered.name,
            "champion",
            service_account="models",
            timeout=120,
            progress=steps.append,
        )

    worker = threading.Thread(target=serve)
    worker.start()
    name = wait_for(
        "the InferenceService to be applied",
        lambda: namespace.kubectl("get", "isvc", "-o", "name").stdout.strip(),
        timeout=60,
    ).split("/")[-1]
    generation = isvc(namespace, name)["metadata"]["generation"]
    # KServe's steps: the predictor is being made, then everything is Ready.
    write_status(
        namespace,
        name,
        {
            "observedGeneration": generation,
            "conditions": [
                {
                    "type": "PredictorReady",
                    "status": "False",
                    "reason": "MinimumReplicasUnavailable",
                    "message": "Deployment does not have minimum availability.",
                },
                {"type": "Ready", "status": "False", "reason": "MinimumReplicasUnavailable"},
            ],
        },
    )
    wait_for("serve to see the predictor starting", lambda: len(steps) >= 2, timeout=60)
    predictor_pod(namespace, name)
    address = f"http://{name}-predictor.{namespace.name}.svc.cluster.local"
    url = f"http://{name}-{namespace.name}.example.com"
    write_status(
        namespace,
        name,
        ready_status(name, namespace.name, address=address, url=url, generation=generation),
    )
    worker.join(120)

    service = result["service"]
    assert service is not None and service.ready
    assert service.url == url  # outside the cluster: the ingress address
    messages = [s.message for s in steps]
    assert "MinimumReplicasUnavailable" in messages[1]
    assert messages[-1] == f"{name} is Ready"
    listed = wait_for(
        "the predictor pod to be Ready",
        lambda: (s := on_cluster.service(name)).pods and all(p.ready for p in s.pods) and s,
        timeout=90,
    )
    assert [p.name.startswith(f"{name}-predictor-") for p in listed.pods] == [True]
    assert (listed.model, listed.version) == (registered.name, registered.version)


def predictor_pod(namespace: Namespace, name: str) -> None:
    """The predictor Deployment KServe makes in Standard mode; its pod runs on a kwok node."""
    labels = {
        "app": f"isvc.{name}-predictor",
        "component": "predictor",
        "serving.kserve.io/inferenceservice": name,
    }
    namespace.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"{name}-predictor", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": labels["app"]}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "kserve-container",
                                "image": "docker.io/seldonio/mlserver:1.5.0",
                                "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                            }
                        ]
                    },
                },
            },
        }
    )


def test_a_missing_runtime_blocks_the_apply(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    plan = on_cluster.plan(
        registered.name, "champion", runtime="no-such-runtime", service_account="models"
    )
    assert plan.blocked
    (missing,) = findings(plan, "runtime")
    assert missing.startswith("error") and "'no-such-runtime'" in missing
    with pytest.raises(Invalid, match="no-such-runtime"):
        on_cluster.apply(plan)
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.strip() == ""


def test_storage_credentials_are_checked(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    missing = on_cluster.plan(registered.name, "champion", service_account="nobody")
    assert findings(missing, "service-account") == [
        f"error: the ServiceAccount 'nobody' does not exist in namespace {namespace.name}"
    ]
    assert missing.blocked

    namespace.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bare"}})
    bare = on_cluster.plan(registered.name, "champion", service_account="bare")
    (no_secret,) = findings(bare, "service-account")
    assert no_secret.startswith("error") and "lists no secrets" in no_secret

    s3_account(namespace, "aws", endpoint=False)
    aws = on_cluster.plan(registered.name, "champion", service_account="aws")
    (no_endpoint,) = findings(aws, "service-account")
    assert no_endpoint.startswith("warning") and "serving.kserve.io/s3-endpoint" in no_endpoint
    assert not aws.blocked

    unnamed = on_cluster.plan(registered.name, "champion")
    (warning,) = findings(unnamed, "service-account")
    assert warning.startswith("warning") and "no ServiceAccount is named" in warning


def quota(namespace: Namespace, hard: dict[str, str]) -> None:
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute"},
            "spec": {"hard": hard},
        }
    )
    wait_for(
        "the quota controller to count the quota",
        lambda: (namespace.get("resourcequota", "compute").get("status") or {}).get("hard"),
    )


def test_quota_room_is_checked(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    quota(namespace, {"requests.cpu": "500m", "requests.memory": "4Gi"})

    # The runtime asks for 1 CPU, more than the quota leaves.
    full = on_cluster.plan(registered.name, "champion", service_account="models")
    (no_room,) = findings(full, "quota")
    assert no_room.startswith("error") and "requests.cpu needs 1 more" in no_room
    assert "0 of 500m is used" in no_room

    small = on_cluster.plan(
        registered.name, "champion", service_account="models", resources={"cpu": "250m"}
    )
    assert findings(small, "quota") == []
    assert small.manifest["spec"]["predictor"]["model"]["resources"] == {
        "requests": {"cpu": "250m"},
        "limits": {"cpu": "250m"},
    }


def _editor(namespace: Namespace) -> Path:
    """A kubeconfig of a namespace-only identity with Kubeflow's edit rights on KServe's
    namespaced kinds (no cluster-wide reads, so no ClusterServingRuntimes)."""
    everything = ["get", "list", "watch", "create", "update", "patch", "delete"]
    namespace.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default-editor"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "kubeflow-edit"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "secrets", "serviceaccounts", "resourcequotas"],
                    "verbs": everything,
                },
                {
                    "apiGroups": ["serving.kserve.io"],
                    "resources": ["inferenceservices", "servingruntimes"],
                    "verbs": everything,
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "default-editor"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "kubeflow-edit",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "default-editor", "namespace": namespace.name}
            ],
        },
    )
    token = namespace.kubectl("create", "token", "default-editor").stdout.strip()
    return namespace.plane.write_kubeconfig(
        namespace.tmp_path / "editor.kubeconfig", namespace=namespace.name, token=token
    )


def test_an_unreadable_runtime_is_said_to_be_unchecked(
    kserve: ControlPlane, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    settings = cluster_settings(registered, namespace, kubeconfig=_editor(namespace))
    with serving_for(settings) as editor:
        plan = editor.plan(registered.name, "champion", service_account="models")
    (unchecked,) = findings(plan, "runtime")
    assert unchecked.startswith("info: could not check that the runtime 'kserve-mlserver'")
    assert "clusterservingruntimes" in unchecked and "forbidden" in unchecked
    assert findings(plan, "requirements") == []  # nothing to compare against
    assert not plan.blocked


def test_a_namespace_runtime_is_chosen_first(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    namespace.apply(
        {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ServingRuntime",
            "metadata": {"name": "team-mlserver"},
            "spec": {
                "supportedModelFormats": [{"name": "mlflow", "version": "3", "autoSelect": True}],
                "protocolVersions": ["v2"],
                "containers": [{"name": "kserve-container", "image": "team/mlserver:mlflow3"}],
            },
        }
    )
    plan = on_cluster.plan(registered.name, "champion", service_account="models")
    assert plan.runtime == "team-mlserver"
    assert plan.manifest["spec"]["predictor"]["model"]["runtime"] == "team-mlserver"
    assert findings(plan, "requirements") == []  # it serves MLflow 3 models


def test_another_managers_change_is_not_overwritten_unasked(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    first = on_cluster.serve(registered.name, "champion", service_account="models", wait=False)
    assert first is not None
    # A colleague points the service at another runtime with kubectl.
    namespace.kubectl(
        "patch",
        "isvc",
        first.name,
        "--type=merge",
        "--field-manager=colleague",
        "-p",
        json.dumps({"spec": {"predictor": {"model": {"runtime": "their-runtime"}}}}),
    )
    with pytest.raises(Conflict, match="force=True"):
        on_cluster.serve(registered.name, "champion", service_account="models", wait=False)
    assert isvc(namespace, first.name)["spec"]["predictor"]["model"]["runtime"] == "their-runtime"

    on_cluster.serve(registered.name, "champion", service_account="models", wait=False, force=True)
    assert isvc(namespace, first.name)["spec"]["predictor"]["model"]["runtime"] == "kserve-mlserver"


def test_read_only_refuses_serving_and_deleting_on_the_cluster(
    kserve: ControlPlane, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    with serving_for(cluster_settings(registered, namespace)) as writer:
        served = writer.serve(registered.name, "champion", service_account="models", wait=False)
    assert served is not None
    with serving_for(cluster_settings(registered, namespace, read_only=True)) as reader:
        with pytest.raises(ReadOnly):
            reader.serve(registered.name, "champion", name="second", wait=False)
        with pytest.raises(ReadOnly):
            reader.delete(served.name)
        # Looking is allowed: the plan is made and shown, nothing is written.
        assert reader.plan(registered.name, "champion", name="second").name == "second"
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.split() == [
        f"inferenceservice.serving.kserve.io/{served.name}"
    ]


def test_list_and_delete(on_cluster: Serving, namespace: Namespace, registered: Registered) -> None:
    s3_account(namespace)
    served = on_cluster.serve(registered.name, "champion", service_account="models", wait=False)
    local = on_cluster.serve(registered.name, "champion", mode="local", name="on-laptop")
    assert served is not None and local is not None

    everything = on_cluster.list()
    listed = {(s.name, s.mode) for s in everything.services}
    assert listed == {(served.name, "cluster"), ("on-laptop", "local")}
    assert len(json.loads(json.dumps(everything.to_json()))["services"]) == 2

    gone = on_cluster.delete(served.name)
    assert gone.reason == "deleted" and gone.namespace == namespace.name
    wait_for(
        "the InferenceService to be gone",
        lambda: namespace.kubectl("get", "isvc", "-o", "name").stdout.strip() == "",
    )
    assert {(s.name, s.mode) for s in on_cluster.list().services} == {("on-laptop", "local")}


# -- predictions: in the cluster's network, which is not reachable here -----------------------


def test_predict_calls_the_in_cluster_address_inside_a_pod(
    kserve: ControlPlane, namespace: Namespace, registered: Registered
) -> None:
    """Inside a pod `predict` goes to `.status.address.url`; outside, to `.status.url`. The
    in-cluster address is played by a real local model server of the same version, the
    outside one by an address that does not answer."""
    s3_account(namespace)
    with serving_for(cluster_settings(registered, namespace, in_pod=True)) as notebook:
        served = notebook.serve(registered.name, "champion", service_account="models", wait=False)
        # Served under the same name, as KServe's MLServer knows the model by the service's.
        local = notebook.serve(registered.name, "champion", mode="local", name=served.name)
        assert served is not None and local is not None and local.url is not None
        generation = isvc(namespace, served.name)["metadata"]["generation"]
        write_status(
            namespace,
            served.name,
            ready_status(
                served.name,
                namespace.name,
                address=local.url,
                url="http://127.0.0.1:9",  # the discard port: nothing answers there
                generation=generation,
            ),
        )
        answer = notebook.predict(served.name, registered.test, mode="cluster")
        assert answer.url == local.url
        assert answer.data.tolist() == registered.model.predict(registered.test).tolist()

    with serving_for(cluster_settings(registered, namespace)) as laptop:
        assert laptop.service(served.name).url == "http://127.0.0.1:9"


def test_istio_refusal_is_explained(
    on_cluster: Serving, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    served = on_cluster.serve(
        registered.name,
        "champion",
        service_account="models",
        deployment_mode="Knative",
        wait=False,
    )
    assert served is not None
    stored = isvc(namespace, served.name)
    assert stored["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    with MeshRefusal() as mesh:
        write_status(
            namespace,
            served.name,
            ready_status(
                served.name,
                namespace.name,
                address=mesh.url,
                url=mesh.url,
                generation=stored["metadata"]["generation"],
            ),
        )
        with pytest.raises(Forbidden) as refused:
            on_cluster.predict(served.name, registered.test)
    message = refused.value.message
    assert "RBAC: access denied" in message and "istio-system" in message
    assert f"http://{served.name}-predictor.{namespace.name}.svc.cluster.local" in message
    assert "deployment_mode='Standard'" in message
    assert "AuthorizationPolicy" in message
