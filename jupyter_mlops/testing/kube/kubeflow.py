"""Kubeflow on the emulator: its CRDs, its roles, and profile namespaces as a notebook sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rbac import kubeflow_edit_rules

if TYPE_CHECKING:
    from .emulator import KubeEmulator

Obj = dict[str, Any]

DEFAULT_PROFILE = "kubeflow-user-example-com"
DEFAULT_OWNER = "user@example.com"

_OPEN_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _crd(
    group: str,
    kind: str,
    plural: str,
    versions: list[str],
    *,
    scope: str = "Namespaced",
    short_names: tuple[str, ...] = (),
    status: bool = True,
    columns: tuple[tuple[str, str, str], ...] = (),
    categories: tuple[str, ...] = (),
) -> Obj:
    version_entries = []
    for index, version in enumerate(versions):
        entry: Obj = {
            "name": version,
            "served": True,
            "storage": index == 0,
            "schema": _OPEN_SCHEMA,
        }
        if status:
            entry["subresources"] = {"status": {}}
        if columns:
            entry["additionalPrinterColumns"] = [
                {"name": name, "type": type_, "jsonPath": path} for name, type_, path in columns
            ]
        version_entries.append(entry)
    names: Obj = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
    }
    if short_names:
        names["shortNames"] = list(short_names)
    if categories:
        names["categories"] = list(categories)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": scope, "versions": version_entries},
    }


def crds() -> list[Obj]:
    """The custom resources a Kubeflow install serves (notebooks, profiles, KServe, Katib...)."""
    age = ("Age", "date", ".metadata.creationTimestamp")
    return [
        _crd(
            "kubeflow.org",
            "Notebook",
            "notebooks",
            ["v1", "v1beta1"],
            columns=(age,),
        ),
        _crd("kubeflow.org", "PodDefault", "poddefaults", ["v1alpha1"], status=False),
        _crd("kubeflow.org", "Profile", "profiles", ["v1", "v1beta1"], scope="Cluster"),
        _crd(
            "kubeflow.org",
            "Experiment",
            "experiments",
            ["v1beta1"],
            columns=(("Type", "string", ".status.conditions[-1:].type"), age),
            categories=("all", "kubeflow", "katib"),
        ),
        _crd(
            "kubeflow.org", "Trial", "trials", ["v1beta1"], categories=("all", "kubeflow", "katib")
        ),
        _crd("kubeflow.org", "Suggestion", "suggestions", ["v1beta1"]),
        _crd("kubeflow.org", "PyTorchJob", "pytorchjobs", ["v1"], categories=("all", "kubeflow")),
        _crd("kubeflow.org", "TFJob", "tfjobs", ["v1"], categories=("all", "kubeflow")),
        _crd(
            "serving.kserve.io",
            "InferenceService",
            "inferenceservices",
            ["v1beta1"],
            short_names=("isvc",),
            columns=(("URL", "string", ".status.url"), age),
        ),
        _crd("serving.kserve.io", "ServingRuntime", "servingruntimes", ["v1alpha1"]),
        _crd(
            "tensorboard.kubeflow.org",
            "Tensorboard",
            "tensorboards",
            ["v1alpha1"],
        ),
        _crd(
            "argoproj.io",
            "Workflow",
            "workflows",
            ["v1alpha1"],
            short_names=("wf",),
            columns=(("Status", "string", ".status.phase"), age),
        ),
        _crd(
            "sparkoperator.k8s.io",
            "SparkApplication",
            "sparkapplications",
            ["v1beta2"],
            short_names=("sparkapp",),
        ),
    ]


def _cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "kubeflow"}},
        "rules": rules,
    }


def cluster_roles() -> list[Obj]:
    """`kubeflow-edit` (what a profile's default-editor gets) and `kubeflow-admin`."""
    edit = [
        {"apiGroups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
        for r in kubeflow_edit_rules("any")
    ]
    admin = [
        *edit,
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["roles", "rolebindings"],
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
    ]
    return [_cluster_role("kubeflow-edit", edit), _cluster_role("kubeflow-admin", admin)]


def _binding(namespace: str, name: str, role: str, subject: Obj) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }


def profile(namespace: str = DEFAULT_PROFILE, owner: str = DEFAULT_OWNER) -> list[Obj]:
    """What the profile controller makes for one user: namespace, accounts, bindings, defaults."""
    return [
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Profile",
            "metadata": {"name": namespace},
            "spec": {"owner": {"kind": "User", "name": owner}},
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "annotations": {"owner": owner},
                "labels": {
                    "app.kubernetes.io/part-of": "kubeflow-profile",
                    "katib.kubeflow.org/metrics-collector-injection": "enabled",
                    "pipelines.kubeflow.org/enabled": "true",
                    "serving.kubeflow.org/inferenceservice": "enabled",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default-editor", "namespace": namespace},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default-viewer", "namespace": namespace},
        },
        _binding(
            namespace,
            "default-editor",
            "kubeflow-edit",
            {"kind": "ServiceAccount", "name": "default-editor", "namespace": namespace},
        ),
        _binding(
            namespace,
            "namespaceAdmin",
            "kubeflow-admin",
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": owner},
        ),
        {
            "apiVersion": "kubeflow.org/v1alpha1",
            "kind": "PodDefault",
            "metadata": {"name": "access-ml-pipeline", "namespace": namespace},
            "spec": {
                "desc": "Allow access to Kubeflow Pipelines",
                "selector": {"matchLabels": {"access-ml-pipeline": "true"}},
                "env": [
                    {
                        "name": "KF_PIPELINES_SA_TOKEN_PATH",
                        "value": "/var/run/secrets/kubeflow/pipelines/token",
                    }
                ],
            },
        },
    ]


def notebook(
    namespace: str = DEFAULT_PROFILE,
    name: str = "my-notebook",
    image: str = "kubeflownotebookswg/jupyter-scipy:v1.9.0",
) -> list[Obj]:
    """A Notebook and the StatefulSet and Service the notebook controller makes for it."""
    labels = {"app": name, "notebook-name": name, "statefulset": name, "access-ml-pipeline": "true"}
    container = {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8888, "name": "notebook-port", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
        "env": [{"name": "NB_PREFIX", "value": f"/notebook/{namespace}/{name}"}],
    }
    template = {
        "metadata": {"labels": labels},
        "spec": {"serviceAccountName": "default-editor", "containers": [container]},
    }
    return [
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"template": {"spec": template["spec"]}},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": 1,
                "serviceName": "",
                "selector": {"matchLabels": {"statefulset": name}},
                "template": template,
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "selector": {"statefulset": name},
                "ports": [
                    {"name": f"http-{name}", "port": 80, "targetPort": 8888, "protocol": "TCP"}
                ],
            },
        },
    ]


def install(
    emulator: KubeEmulator,
    profiles: tuple[str, ...] = (DEFAULT_PROFILE,),
    owner: str = DEFAULT_OWNER,
    with_notebook: bool = False,
) -> dict[str, str]:
    """Install Kubeflow's CRDs, roles and profiles; returns {profile: default-editor token}.

    The tokens carry no rules of their own: their rights come from the stored RoleBinding
    to `kubeflow-edit`, as in a real cluster.
    """
    for obj in [*crds(), *cluster_roles()]:
        emulator.apply(obj)
    if emulator.get("v1", "Namespace", "kubeflow") is None:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow"}})
    tokens: dict[str, str] = {}
    for namespace in profiles:
        for obj in profile(namespace, owner):
            emulator.apply(obj)
        token = f"{namespace}-editor-token"
        emulator.add_token(token, f"system:serviceaccount:{namespace}:default-editor")
        tokens[namespace] = token
        if with_notebook:
            for obj in notebook(namespace):
                emulator.apply(obj)
    return tokens
