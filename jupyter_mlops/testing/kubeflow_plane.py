"""Kubeflow's shape on the real control plane: its CRDs, its aggregated ClusterRoles, and
profile namespaces as Kubeflow's profile controller makes them, acting with real tokens.

>>> install_kubeflow(plane)                     # once per plane: CRDs and ClusterRoles
>>> profile = create_profile(plane, "kubeflow-user-ada", owner="ada@example.org")
>>> profile.write_kubeconfig(tmp / "editor")    # kubectl as default-editor, a TokenRequest token
>>> profile.delete()

What is real: the API server validates custom resources against the CRDs' schemas, the
clusterrole-aggregation controller of kube-controller-manager fills `kubeflow-admin`, `-edit`
and `-view` from the component roles (`kubeflow_roles.yaml`, as Kubeflow's manifests define
them), the RBAC authorizer decides every request, and tokens come from the TokenRequest API.
No Kubeflow controller runs: a Profile is only an object, and its namespace, ServiceAccounts
and RoleBindings are made here, shaped as the profile controller shapes them.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jupyter_mlops.config import SERVICEACCOUNT_DIR
from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.kubeflow_roles import CLUSTER_ROLES

__all__ = [
    "CLUSTER_ROLES",
    "CRDS",
    "DEFAULT_OWNER",
    "EDITOR",
    "PROFILE_LABELS",
    "VIEWER",
    "Profile",
    "ProfileError",
    "create_profile",
    "install_kubeflow",
]

#: The Kubeflow CRDs (shared with the emulator's fixtures) and Kubeflow's ClusterRoles.
CRDS = Path(str(resources.files("jupyter_mlops.testing.kubeflow") / "manifests" / "crds.yaml"))

EDITOR = "default-editor"
VIEWER = "default-viewer"
DEFAULT_OWNER = "user@example.com"

#: The labels the profile controller puts on a profile's namespace: its default
#: namespace-labels.yaml, and the sidecar mode's `istio-injection`.
PROFILE_LABELS: Mapping[str, str] = {
    "app.kubernetes.io/part-of": "kubeflow-profile",
    "katib.kubeflow.org/metrics-collector-injection": "enabled",
    "serving.kubeflow.org/inferenceservice": "enabled",
    "pipelines.kubeflow.org/enabled": "true",
    "istio-injection": "enabled",
}

_RBAC = "rbac.authorization.k8s.io"
Obj = dict[str, Any]


class ProfileError(RuntimeError):
    """The API server refused part of Kubeflow's shape, or it did not settle in time."""


# -- install ---------------------------------------------------------------------------------


def install_kubeflow(plane: ControlPlane, *, timeout: float = 60.0) -> None:
    """Serve the Kubeflow CRDs and install Kubeflow's ClusterRoles; return once the CRDs are
    established and the aggregated roles hold their components' rules. Idempotent."""
    deadline = time.monotonic() + timeout
    # Server-side, forcing: the aggregation controller owns the aggregated roles' rules.
    for path in (CRDS, CLUSTER_ROLES):
        plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    crds = [doc["metadata"]["name"] for doc in _documents(CRDS)]
    _wait("the Kubeflow CRDs to be established", deadline, lambda: _established(plane, crds))
    aggregated = [
        doc["metadata"]["name"] for doc in _documents(CLUSTER_ROLES) if "aggregationRule" in doc
    ]
    _wait(
        "the aggregated Kubeflow ClusterRoles to hold their components' rules",
        deadline,
        lambda: _aggregated(plane, aggregated),
    )


def _documents(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _established(plane: ControlPlane, names: Iterable[str]) -> bool:
    for name in names:
        crd = plane.api("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        conditions = (crd.get("status") or {}).get("conditions") or []
        if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return False
    return True


def _aggregated(plane: ControlPlane, names: Iterable[str]) -> bool:
    """Whether each aggregated role holds every rule of the roles its selectors pick."""
    roles = plane.api("GET", f"/apis/{_RBAC}/v1/clusterroles")["items"]
    by_name = {role["metadata"]["name"]: role for role in roles}
    for name in names:
        role = by_name.get(name)
        if role is None:
            return False
        held = {_rule_key(rule) for rule in role.get("rules") or []}
        for picked in _picked(role, roles):
            if not {_rule_key(rule) for rule in picked.get("rules") or []} <= held:
                return False
    return True


def _picked(role: Obj, roles: list[Obj]) -> list[Obj]:
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    wanted = [s.get("matchLabels") or {} for s in selectors]
    picked = []
    for other in roles:
        labels = other["metadata"].get("labels") or {}
        if any(all(labels.get(k) == v for k, v in want.items()) for want in wanted):
            picked.append(other)
    return picked


def _rule_key(rule: Obj) -> str:
    return json.dumps(rule, sort_keys=True)


def _wait(what: str, deadline: float, check: Callable[[], bool]) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise ProfileError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- profiles --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """One Kubeflow profile on the plane: its namespace, owner and two ServiceAccounts."""

    plane: ControlPlane
    name: str
    owner: str

    @property
    def namespace(self) -> str:
        return self.name

    def token(self, account: str = EDITOR, *, seconds: int = 3600) -> str:
        """A new token of `account` from the TokenRequest API (the API server's audience)."""
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds},
        }
        path = f"/api/v1/namespaces/{self.name}/serviceaccounts/{account}/token"
        answer = _call(self.plane, "POST", path, request)
        return str(answer["status"]["token"])

    def write_kubeconfig(
        self, path: Path, account: str = EDITOR, *, token: str | None = None
    ) -> Path:
        """A kubeconfig acting as `account` (a new token unless `token`) in the profile."""
        return self.plane.write_kubeconfig(
            path, namespace=self.name, token=token or self.token(account)
        )

    def write_serviceaccount_dir(
        self, root: Path, account: str = EDITOR, *, token: str | None = None
    ) -> Path:
        """Under `root`, what a pod of `account` finds in its ServiceAccount directory
        (`token`, `namespace`, `ca.crt`, as the kubelet projects them); returns the directory."""
        directory = root / SERVICEACCOUNT_DIR
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "token").write_text(token or self.token(account))
        (directory / "namespace").write_text(self.name)
        (directory / "ca.crt").write_bytes(self.plane.ca_file.read_bytes())
        return directory

    def in_cluster_env(self) -> dict[str, str]:
        """The variables the kubelet gives every pod to reach the API server."""
        return {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(self.plane.port),
        }

    def delete(self) -> None:
        """Delete the namespace and the Profile, without waiting for the namespace to go."""
        for path in (
            f"/api/v1/namespaces/{self.name}",
            f"/apis/kubeflow.org/v1/profiles/{self.name}",
        ):
            try:
                self.plane.api("DELETE", path)
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise


def create_profile(
    plane: ControlPlane,
    name: str,
    *,
    owner: str = DEFAULT_OWNER,
    resource_quota: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Profile:
    """A Profile and what the profile controller makes for it; return once its editor's
    rights are in force and pods can be created. Needs `install_kubeflow` first.

    The namespace carries `PROFILE_LABELS` and the `owner` annotation; ServiceAccounts
    `default-editor` and `default-viewer` are bound to `kubeflow-edit` and `kubeflow-view`,
    the owner (a User) to `kubeflow-admin` by the RoleBinding `namespaceAdmin`; with
    `resource_quota` (`{"cpu": "4", ...}`) the ResourceQuota `kf-resource-quota`. Everything
    is owned by the Profile, so the garbage collector would remove it with the Profile.
    """
    spec: Obj = {"owner": {"apiGroup": _RBAC, "kind": "User", "name": owner}}
    if resource_quota:
        spec["resourceQuotaSpec"] = {"hard": dict(resource_quota)}
    created = _call(
        plane,
        "POST",
        "/apis/kubeflow.org/v1/profiles",
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Profile",
            "metadata": {"name": name},
            "spec": spec,
        },
    )
    owned = {"ownerReferences": [_owner_reference(created)]}
    profile = Profile(plane, name, owner)
    try:
        for path, body in _profile_objects(name, owner, owned, resource_quota):
            _call(plane, "POST", path, body)
        deadline = time.monotonic() + timeout
        _wait(
            f"the RBAC authorizer to grant {EDITOR} of {name} kubeflow-edit",
            deadline,
            lambda: _editor_may(plane, name, "create", "kubeflow.org", "notebooks"),
        )
        # Pods that name no ServiceAccount need the one the serviceaccount controller makes.
        _wait(
            f"the ServiceAccount {name}/default",
            deadline,
            lambda: plane.exists(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
        )
        if resource_quota:
            # Admission counts against a quota once the quota controller has written its status.
            quota = f"/api/v1/namespaces/{name}/resourcequotas/kf-resource-quota"
            _wait(
                f"the quota controller to count {name}",
                deadline,
                lambda: bool((plane.api("GET", quota).get("status") or {}).get("hard")),
            )
    except BaseException:
        profile.delete()
        raise
    return profile


def _owner_reference(profile: Obj) -> Obj:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "name": profile["metadata"]["name"],
        "uid": profile["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _profile_objects(
    name: str, owner: str, owned: Obj, resource_quota: Mapping[str, str] | None
) -> list[tuple[str, Obj]]:
    """(collection path, body) of every object the profile controller makes, in order."""
    ns_path = f"/api/v1/namespaces/{name}"
    bindings = f"/apis/{_RBAC}/v1/namespaces/{name}/rolebindings"
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": dict(PROFILE_LABELS),
            "annotations": {"owner": owner},
            **owned,
        },
    }
    objects: list[tuple[str, Obj]] = [("/api/v1/namespaces", namespace)]
    for account, role in ((EDITOR, "kubeflow-edit"), (VIEWER, "kubeflow-view")):
        objects.append(
            (
                f"{ns_path}/serviceaccounts",
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": account, **owned},
                },
            )
        )
        subject = {"kind": "ServiceAccount", "name": account, "namespace": name}
        objects.append((bindings, _role_binding(account, role, subject, owned)))
    admin = _role_binding(
        "namespaceAdmin",
        "kubeflow-admin",
        {"apiGroup": _RBAC, "kind": "User", "name": owner},
        {**owned, "annotations": {"user": owner, "role": "admin"}},
    )
    objects.append((bindings, admin))
    if resource_quota:
        quota = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "kf-resource-quota", **owned},
            "spec": {"hard": dict(resource_quota)},
        }
        objects.append((f"{ns_path}/resourcequotas", quota))
    return objects


def _role_binding(name: str, cluster_role: str, subject: Obj, metadata: Obj) -> Obj:
    return {
        "apiVersion": f"{_RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, **metadata},
        "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": cluster_role},
        "subjects": [subject],
    }


def _editor_may(plane: ControlPlane, namespace: str, verb: str, group: str, resource: str) -> bool:
    """The authorizer's own answer for the profile's editor (a SubjectAccessReview)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"system:serviceaccount:{namespace}:{EDITOR}",
            "groups": [
                "system:serviceaccounts",
                f"system:serviceaccounts:{namespace}",
                "system:authenticated",
            ],
            "resourceAttributes": {
                "namespace": namespace,
                "verb": verb,
                "group": group,
                "resource": resource,
            },
        },
    }
    answer = _call(plane, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    return bool((answer.get("status") or {}).get("allowed"))


def _call(plane: ControlPlane, method: str, path: str, body: Obj) -> Obj:
    """An admin request; a refusal raised as ProfileError with the server's message."""
    try:
        return plane.api(method, path, body)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("message", detail)
        raise ProfileError(f"{method} {path}: HTTP {exc.code}: {detail}") from None
