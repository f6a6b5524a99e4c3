"""A Kubeflow profile on the real control plane: its `default-editor` acts with a real
TokenRequest token, bound to `kubeflow-edit` as kube-controller-manager aggregates it from
Kubeflow's component roles; it works in its profile and is refused everywhere else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlops.errors import Forbidden
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kubeflow_plane import CLUSTER_ROLES, CRDS

from ..plane import ProfileNamespace, fresh_profile
from .manifests import pod

Obj = dict[str, Any]
AGGREGATE = "rbac.authorization.kubeflow.org/aggregate-to-"


def notebook(name: str, api_version: str = "kubeflow.org/v1") -> Obj:
    return {
        "apiVersion": api_version,
        "kind": "Notebook",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "serviceAccountName": "default-editor",
                    "containers": [{"name": name, "image": "jupyter-scipy:v1.10.0"}],
                }
            }
        },
    }


def inference_service(name: str) -> Obj:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name},
        "spec": {
            "predictor": {
                "serviceAccountName": "default-editor",
                "model": {
                    "modelFormat": {"name": "mlflow"},
                    "protocolVersion": "v2",
                    "runtime": "kserve-mlserver",
                    "storageUri": "s3://mlflow/1/models/m-1/artifacts/",
                },
            }
        },
    }


def experiment(name: str) -> Obj:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [
                {
                    "name": "lr",
                    "parameterType": "double",
                    "feasibleSpace": {"min": "0.01", "max": "0.1"},
                }
            ],
        },
    }


def pod_default(name: str) -> Obj:
    return {
        "apiVersion": "kubeflow.org/v1alpha1",
        "kind": "PodDefault",
        "metadata": {"name": name},
        "spec": {
            "desc": "Allow access to MLflow",
            "selector": {"matchLabels": {name: "true"}},
            "env": [{"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow.mlflow:5000"}],
        },
    }


def editor_pod(name: str) -> Obj:
    body = pod(name)
    body["spec"]["serviceAccountName"] = "default-editor"
    return body


def roles_file() -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(CLUSTER_ROLES.read_text()) if doc]


def rules_aggregated_into(role: str, roles: list[Obj]) -> list[Obj]:
    """Every rule the aggregation controller must put into `role`, read from the roles file:
    the rules of each role its labels select, through nested aggregated roles."""
    by_name = {r["metadata"]["name"]: r for r in roles}
    selectors = by_name[role]["aggregationRule"]["clusterRoleSelectors"]
    rules: list[Obj] = []
    for other in roles:
        labels = other["metadata"].get("labels") or {}
        if not any(all(labels.get(k) == v for k, v in s["matchLabels"].items()) for s in selectors):
            continue
        if "aggregationRule" in other:
            rules += rules_aggregated_into(other["metadata"]["name"], roles)
        rules += other.get("rules") or []
    return rules


def key(rule: Obj) -> str:
    return json.dumps({k: rule[k] for k in ("apiGroups", "resources", "verbs")}, sort_keys=True)


# -- the editor's identity and rights -----------------------------------------------------------


def test_the_editor_acts_with_its_serviceaccount_token(profile: ProfileNamespace) -> None:
    # kubectl asks the API server who the token is (a SelfSubjectReview).
    me = json.loads(profile.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert me["username"] == f"system:serviceaccount:{profile.name}:default-editor"
    assert f"system:serviceaccounts:{profile.name}" in me["groups"]
    assert profile.token.count(".") == 2  # a signed JWT, not the plane's static admin token
    assert profile.token != profile.plane.token


@pytest.mark.parametrize(
    ("plural", "make"),
    [
        ("pods", editor_pod),
        ("notebooks", notebook),
        ("inferenceservices", inference_service),
        ("experiments", experiment),
        ("poddefaults", pod_default),
    ],
)
def test_the_editor_creates_and_lists_in_its_profile(
    profile: ProfileNamespace, plural: str, make: Any
) -> None:
    created = profile.kubectl("create", "-f", str(profile.manifest(make("mine"))), "-o", "name")
    assert created.stdout.strip().endswith("/mine")
    listed = profile.get(plural)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["mine"]


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (
            ("get", "namespaces"),
            'cannot list resource "namespaces" in API group "" at the cluster scope',
        ),
        (("get", "nodes"), 'cannot list resource "nodes" in API group "" at the cluster scope'),
        (("get", "clusterroles"), 'cannot list resource "clusterroles"'),
    ],
)
def test_the_editor_is_refused_cluster_wide(
    profile: ProfileNamespace, args: tuple[str, ...], what: str
) -> None:
    refused = profile.kubectl(*args, check=False)
    assert refused.returncode != 0
    assert "Error from server (Forbidden)" in refused.stderr
    assert what in refused.stderr


def test_the_editor_may_read_its_own_namespace_only(profile: ProfileNamespace) -> None:
    # kubeflow-kubernetes-view grants namespaces get/list, which a RoleBinding narrows to one.
    own = profile.get("namespace", profile.name)
    assert own["metadata"]["labels"]["app.kubernetes.io/part-of"] == "kubeflow-profile"
    assert own["metadata"]["annotations"]["owner"] == profile.owner
    refused = profile.kubectl("get", "namespace", "default", check=False)
    assert 'cannot get resource "namespaces"' in refused.stderr


def test_the_editor_is_refused_in_another_profile(
    kubeflow_plane: ControlPlane, profile: ProfileNamespace, tmp_path: Path
) -> None:
    with fresh_profile(kubeflow_plane, tmp_path / "other") as other:
        other.apply(editor_pod("theirs"))
        assert [p["metadata"]["name"] for p in other.get("pods")["items"]] == ["theirs"]
        refused = profile.kubectl("get", "pods", "-n", other.name, check=False)
        assert refused.returncode != 0
        assert (
            f'cannot list resource "pods" in API group "" in the namespace "{other.name}"'
            in refused.stderr
        )


def test_the_editor_may_not_change_rbac_but_the_owner_may(profile: ProfileNamespace) -> None:
    # kubeflow-kubernetes-admin aggregates into kubeflow-admin only.
    editor = profile.kubectl("auth", "can-i", "create", "rolebindings", check=False)
    owner = profile.admin.kubectl(
        "auth", "can-i", "create", "rolebindings", f"--as={profile.owner}", check=False
    )
    assert (editor.stdout.strip(), owner.stdout.strip()) == ("no", "yes")


def test_a_profile_quota_is_enforced(kubeflow_plane: ControlPlane, tmp_path: Path) -> None:
    """A Profile's resourceQuotaSpec becomes the ResourceQuota kf-resource-quota."""
    with fresh_profile(kubeflow_plane, tmp_path, resource_quota={"pods": "1"}) as quota:
        quota.kubectl("create", "-f", str(quota.manifest(editor_pod("first"))))
        second = str(quota.manifest(editor_pod("second")))
        refused = quota.kubectl("create", "-f", second, check=False)
        assert "exceeded quota: kf-resource-quota" in refused.stderr
        assert "requested: pods=1, used: pods=1, limited: pods=1" in refused.stderr


# -- aggregation, as kube-controller-manager does it -------------------------------------------


@pytest.mark.parametrize("role", ["kubeflow-view", "kubeflow-edit", "kubeflow-admin"])
def test_the_aggregated_roles_hold_their_components_rules(
    kubeflow_plane: ControlPlane, role: str
) -> None:
    """The roles file gives kubeflow-* no rules; the controller fills them from the labels."""
    roles = roles_file()
    assert next(r for r in roles if r["metadata"]["name"] == role)["rules"] == []
    expected = {key(rule) for rule in rules_aggregated_into(role, roles)}
    stored = json.loads(kubeflow_plane.kubectl("get", "clusterrole", role, "-o", "json").stdout)
    assert expected and expected <= {key(rule) for rule in stored["rules"]}


def test_can_i_list_shows_the_aggregated_rules(profile: ProfileNamespace) -> None:
    listed = profile.kubectl("auth", "can-i", "--list").stdout
    rows = {line.split()[0]: line for line in listed.splitlines()[1:] if line.strip()}
    for rule in rules_aggregated_into("kubeflow-edit", roles_file()):
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                base, _, sub = resource.partition("/")
                name = f"{base}.{group}" if group else base
                name += f"/{sub}" if sub else ""
                assert name in rows, name
    # Only the editor's own namespace: nothing of kubeflow-admin's RBAC rules.
    assert "rolebindings.rbac.authorization.k8s.io" not in rows


# -- the product as the editor -----------------------------------------------------------------


@pytest.mark.parametrize("in_cluster", [False, True], ids=["kubeconfig", "in-cluster"])
def test_the_product_lists_what_the_editor_may(profile: ProfileNamespace, in_cluster: bool) -> None:
    profile.apply(editor_pod("p"), notebook("nb"), experiment("tune"))
    cluster = profile.cluster(in_cluster=in_cluster)
    assert cluster.namespace == profile.name
    assert [p["metadata"]["name"] for p in cluster.list("pods").items] == ["p"]
    assert [n["metadata"]["name"] for n in cluster.list("notebooks").items] == ["nb"]
    assert [e["metadata"]["name"] for e in cluster.list("experiments").items] == ["tune"]


@pytest.mark.parametrize("in_cluster", [False, True], ids=["kubeconfig", "in-cluster"])
def test_the_product_says_which_permission_is_missing(
    profile: ProfileNamespace, in_cluster: bool
) -> None:
    cluster = profile.cluster(in_cluster=in_cluster)
    user = f"system:serviceaccount:{profile.name}:default-editor"
    with pytest.raises(Forbidden) as nodes:
        cluster.list("nodes")
    assert (nodes.value.verb, nodes.value.resource) == ("list", "nodes")
    assert "(cluster-wide)" in nodes.value.message and user in nodes.value.message
    assert "a ClusterRole with apiGroups: [''], resources: ['nodes']" in nodes.value.message
    with pytest.raises(Forbidden) as elsewhere:
        cluster.list("pods", namespace="kube-system")
    assert "in namespace 'kube-system'" in elsewhere.value.message


def test_access_reviews_answer_as_kubectl_does(profile: ProfileNamespace) -> None:
    """SelfSubjectAccessReview (the product's can_i) agrees with kubectl's auth can-i."""
    cluster = profile.cluster()
    questions = [
        ("create", "notebooks"),
        ("create", "poddefaults"),
        ("patch", "poddefaults"),  # Kubeflow grants editors create and delete only
        ("delete", "inferenceservices"),
        ("get", "pods/log"),
        ("list", "nodes"),
        ("create", "rolebindings"),
    ]
    answers = {}
    for verb, resource in questions:
        kubectl = profile.kubectl("auth", "can-i", verb, resource, check=False).stdout.strip()
        answers[(verb, resource)] = cluster.can_i(verb, resource)
        assert answers[(verb, resource)] == (kubectl == "yes"), (verb, resource)
    assert answers[("create", "notebooks")] and not answers[("list", "nodes")]


def test_the_rules_review_lists_the_editors_rules(profile: ProfileNamespace) -> None:
    cluster = profile.cluster()
    review = cluster.request(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        body={
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": profile.name},
        },
    )["status"]
    assert review["incomplete"] is False
    held = {key(rule) for rule in review["resourceRules"]}
    edit = json.loads(
        profile.admin.kubectl("get", "clusterrole", "kubeflow-edit", "-o", "json").stdout
    )
    assert {key(rule) for rule in edit["rules"]} <= held
    # Every authenticated identity may ask (system:basic-user), beside kubeflow-edit's rules.
    assert any("selfsubjectaccessreviews" in rule["resources"] for rule in review["resourceRules"])


# -- served versions ---------------------------------------------------------------------------


def served_versions(crd_name: str) -> list[str]:
    crd = next(
        d for d in yaml.safe_load_all(CRDS.read_text()) if d and d["metadata"]["name"] == crd_name
    )
    return [v["name"] for v in crd["spec"]["versions"] if v["served"]]


@pytest.mark.parametrize("version", served_versions("notebooks.kubeflow.org"))
def test_each_served_notebook_version_answers(profile: ProfileNamespace, version: str) -> None:
    profile.apply(notebook("nb"))
    got = profile.get(f"notebooks.{version}.kubeflow.org", "nb")
    assert got["apiVersion"] == f"kubeflow.org/{version}"
    containers = got["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["nb"]
    # Written in this version, read back in the storage version.
    written = profile.kubectl(
        "create",
        "-f",
        str(profile.manifest(notebook("nb2", f"kubeflow.org/{version}"))),
        "-o",
        "json",
    )
    assert json.loads(written.stdout)["apiVersion"] == f"kubeflow.org/{version}"
    assert profile.get("notebooks.v1.kubeflow.org", "nb2")["apiVersion"] == "kubeflow.org/v1"
