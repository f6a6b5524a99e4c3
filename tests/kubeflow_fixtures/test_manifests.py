"""The Kubeflow fixtures render into objects the official client's models accept, offline."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from kubernetes.client import ApiClient

from jupyter_mlops.testing.kubeflow import (
    KINDS,
    SCENARIOS,
    KubeflowFixtureError,
    render_manifests,
)

NOW = datetime(2026, 3, 14, 12, 0, 0, tzinfo=timezone.utc)

# The official client's model for every built-in kind the fixtures hold.
MODELS = {
    "Namespace": "V1Namespace",
    "Node": "V1Node",
    "PersistentVolume": "V1PersistentVolume",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Pod": "V1Pod",
    "Service": "V1Service",
    "ServiceAccount": "V1ServiceAccount",
    "Event": "CoreV1Event",
    "StorageClass": "V1StorageClass",
    "ClusterRole": "V1ClusterRole",
    "RoleBinding": "V1RoleBinding",
    "Deployment": "V1Deployment",
    "ReplicaSet": "V1ReplicaSet",
    "StatefulSet": "V1StatefulSet",
    "Job": "V1Job",
    "CustomResourceDefinition": "V1CustomResourceDefinition",
}


class _Response:
    """The one attribute ApiClient.deserialize reads from an HTTP response."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.data = json.dumps(document)


def _lost_keys(sent: Any, back: Any, path: str = "") -> list[str]:
    if isinstance(sent, dict):
        lost = []
        for key, value in sent.items():
            if key not in back:
                lost.append(f"{path}/{key}")
            else:
                lost += _lost_keys(value, back[key], f"{path}/{key}")
        return lost
    if isinstance(sent, list):
        return [x for a, b in zip(sent, back, strict=True) for x in _lost_keys(a, b, path + "[]")]
    return []


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render_manifests(now=NOW)


def test_builtin_kinds_round_trip_through_the_client_models(docs: list[dict[str, Any]]) -> None:
    api = ApiClient()
    checked = 0
    for doc in docs:
        model = MODELS.get(doc["kind"])
        if model is None:
            continue
        obj = api.deserialize(_Response(doc), model)
        back = api.sanitize_for_serialization(obj)
        assert _lost_keys(doc, back) == [], f"{doc['kind']}/{doc['metadata']['name']}"
        checked += 1
    assert checked > 40


def test_every_kind_is_known_and_every_placeholder_resolved(docs: list[dict[str, Any]]) -> None:
    text = json.dumps(docs)
    assert {d["kind"] for d in docs} <= set(KINDS)
    assert not re.search(r"\$\{(namespace|user|ago|uid|uuid|hex|sha)\b", text)
    # Katib's own trial template syntax is left for Katib.
    assert "${trialParameters.learningRate}" in text


def test_objects_live_in_the_profile_namespace() -> None:
    docs = render_manifests(namespace="kubeflow-user-ada", user="ada@example.org", now=NOW)
    namespace = _find(docs, "Namespace", "kubeflow-user-ada")
    assert namespace["metadata"]["annotations"]["owner"] == "ada@example.org"
    pod = _find(docs, "Pod", "my-notebook-0")
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["NB_PREFIX"] == "/notebook/kubeflow-user-ada/my-notebook"
    assert all(
        d["metadata"].get("namespace", "kubeflow-user-ada") == "kubeflow-user-ada" for d in docs
    )


def test_timestamps_are_relative_to_now(docs: list[dict[str, Any]]) -> None:
    event = next(
        d
        for d in docs
        if d["kind"] == "Event" and d["reason"] == "BackOff" and d["type"] == "Warning"
    )
    last = datetime.strptime(event["lastTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert NOW - last.replace(tzinfo=timezone.utc) == timedelta(seconds=25)
    pod = _find(docs, "Pod", "my-notebook-0")
    started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    assert started == "2026-03-14T10:00:00Z"


def test_namespace_and_profile_carry_the_profile_controller_labels(
    docs: list[dict[str, Any]],
) -> None:
    labels = _find(docs, "Namespace", "kubeflow-user-example-com")["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "kubeflow-profile"
    assert labels["katib.kubeflow.org/metrics-collector-injection"] == "enabled"
    assert labels["serving.kubeflow.org/inferenceservice"] == "enabled"
    assert labels["pipelines.kubeflow.org/enabled"] == "true"
    binding = _find(docs, "RoleBinding", "default-editor")
    assert binding["roleRef"]["name"] == "kubeflow-edit"
    assert binding["subjects"][0] == {
        "kind": "ServiceAccount",
        "name": "default-editor",
        "namespace": "kubeflow-user-example-com",
    }


def test_notebook_pod_mounts_the_pipelines_token_from_the_poddefault(
    docs: list[dict[str, Any]],
) -> None:
    poddefault = _find(docs, "PodDefault", "access-ml-pipeline")
    pod = _find(docs, "Pod", "my-notebook-0")
    assert pod["metadata"]["labels"]["notebook-name"] == "my-notebook"
    assert pod["metadata"]["labels"]["statefulset"] == "my-notebook"
    for key, value in poddefault["spec"]["selector"]["matchLabels"].items():
        assert pod["metadata"]["labels"][key] == value
    container = pod["spec"]["containers"][0]
    assert container["name"] == "my-notebook"
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    token_volume = poddefault["spec"]["volumes"][0]
    assert (
        volumes[token_volume["name"]]["projected"]["sources"]
        == token_volume["projected"]["sources"]
    )
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/var/run/secrets/kubeflow/pipelines"] == token_volume["name"]
    claim = volumes["my-notebook-workspace"]["persistentVolumeClaim"]["claimName"]
    assert claim == "my-notebook-workspace"


def test_pipeline_run_pods_name_their_argo_nodes(docs: list[dict[str, Any]]) -> None:
    workflow = next(d for d in docs if d["kind"] == "Workflow")
    run_id = workflow["metadata"]["labels"]["pipeline/runid"]
    pods = [
        d
        for d in docs
        if d["kind"] == "Pod" and d["metadata"]["labels"].get("pipeline/runid") == run_id
    ]
    assert len(pods) == 7  # the root driver, then a driver and an impl pod per task
    nodes = workflow["status"]["nodes"]
    for pod in pods:
        annotations = pod["metadata"]["annotations"]
        node = nodes[annotations["workflows.argoproj.io/node-id"]]
        assert node["name"] == annotations["workflows.argoproj.io/node-name"]
        assert node["phase"] == pod["status"]["phase"]
        assert pod["metadata"]["name"].startswith(workflow["metadata"]["name"] + "-")
        assert pod["metadata"]["labels"]["pipelines.kubeflow.org/v2_component"] == "true"
    impl = [p for p in pods if "-system-container-impl-" in p["metadata"]["name"]]
    assert sorted(p["status"]["phase"] for p in impl) == ["Running", "Succeeded", "Succeeded"]
    launchers = {p["spec"]["initContainers"][1]["name"] for p in impl}
    assert launchers == {"kfp-launcher"}


def test_storage_variants_follow_the_default_storage_class() -> None:
    without = render_manifests(now=NOW, default_storage_class=False)
    with_default = render_manifests(now=NOW, default_storage_class=True)
    pending = _find(without, "PersistentVolumeClaim", "new-notebook-workspace")
    assert "storageClassName" not in pending["spec"]
    assert pending["status"]["phase"] == "Pending"
    event = next(
        d
        for d in without
        if d["kind"] == "Event" and d["involvedObject"]["name"] == "new-notebook-workspace"
    )
    assert event["reason"] == "FailedBinding"
    assert event["message"] == (
        "no persistent volumes available for this claim and no storage class is set"
    )
    annotation = "storageclass.kubernetes.io/is-default-class"
    assert annotation not in _find(without, "StorageClass", "standard")["metadata"].get(
        "annotations", {}
    )
    classes = _find(with_default, "StorageClass", "standard")
    assert classes["metadata"]["annotations"][annotation] == "true"
    claimed = _find(with_default, "PersistentVolumeClaim", "new-notebook-workspace")
    assert claimed["spec"]["storageClassName"] == "standard"


def test_scenarios_choose_what_is_rendered() -> None:
    docs = render_manifests(now=NOW, scenarios=("katib",), cluster_objects=False)
    kinds = {d["kind"] for d in docs}
    assert {"Experiment", "Trial", "Suggestion", "Profile", "CustomResourceDefinition"} <= kinds
    assert not kinds & {"Node", "StorageClass", "ClusterRole", "Pod", "Workflow"}
    with pytest.raises(KubeflowFixtureError, match="unknown scenario"):
        render_manifests(scenarios=("notebooks",))
    assert "katib" in SCENARIOS


def test_owners_come_before_the_objects_they_own(docs: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    owned = 0
    for doc in docs:
        for owner in doc["metadata"].get("ownerReferences", []):
            assert (owner["kind"], owner["name"]) in seen, doc["metadata"]["name"]
            owned += 1
        seen.add((doc["kind"], doc["metadata"]["name"]))
    assert owned > 20
