"""The resource types the emulator serves: built-in kinds, CRD kinds, and discovery documents."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CREATE_ONLY = ["create"]


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the API and what it is called."""

    group: str
    versions: tuple[str, ...]
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    # Subresources served besides the object itself: "status", "scale", "log".
    subresources: tuple[str, ...] = ()
    # Paths of the replica fields for the scale subresource of custom resources.
    scale_paths: tuple[str, str, str] = (".spec.replicas", ".status.replicas", "")
    # Whether objects are stored at all (reviews are answered, never kept).
    stored: bool = True
    custom: bool = False
    printer_columns: tuple[tuple[str, str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: the same objects whatever version they are served at."""
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        """`PodList` and the like."""
        return self.kind + "List"

    @property
    def has_status(self) -> bool:
        """Whether `status` is written only through the status subresource."""
        return "status" in self.subresources

    def api_version(self, version: str | None = None) -> str:
        """`v1`, `apps/v1`: the apiVersion objects carry when served at a version."""
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version


def _core(plural: str, kind: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    singular = kw.pop("singular", kind.lower())
    return ResourceType("", ("v1",), plural, singular, kind, namespaced, **kw)


def _grp(
    group: str, plural: str, kind: str, namespaced: bool = True, version: str = "v1", **kw: Any
) -> ResourceType:
    singular = kw.pop("singular", kind.lower())
    return ResourceType(group, (version,), plural, singular, kind, namespaced, **kw)


BUILTIN: tuple[ResourceType, ...] = (
    _core("pods", "Pod", short_names=("po",), categories=("all",), subresources=("status", "log")),
    _core(
        "services", "Service", short_names=("svc",), categories=("all",), subresources=("status",)
    ),
    _core("configmaps", "ConfigMap", short_names=("cm",)),
    _core("secrets", "Secret"),
    _core(
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        short_names=("pvc",),
        subresources=("status",),
    ),
    _core(
        "persistentvolumes",
        "PersistentVolume",
        False,
        short_names=("pv",),
        subresources=("status",),
    ),
    _core("events", "Event", short_names=("ev",)),
    _core("namespaces", "Namespace", False, short_names=("ns",), subresources=("status",)),
    _core("nodes", "Node", False, short_names=("no",), subresources=("status",)),
    _core("serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _core("endpoints", "Endpoints", singular="endpoints", short_names=("ep",)),
    _core("resourcequotas", "ResourceQuota", short_names=("quota",), subresources=("status",)),
    _core("limitranges", "LimitRange", short_names=("limits",)),
    _grp(
        "apps",
        "deployments",
        "Deployment",
        short_names=("deploy",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _grp(
        "apps",
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _grp(
        "apps",
        "statefulsets",
        "StatefulSet",
        short_names=("sts",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _grp(
        "apps",
        "daemonsets",
        "DaemonSet",
        short_names=("ds",),
        categories=("all",),
        subresources=("status",),
    ),
    _grp("batch", "jobs", "Job", categories=("all",), subresources=("status",)),
    _grp(
        "batch",
        "cronjobs",
        "CronJob",
        short_names=("cj",),
        categories=("all",),
        subresources=("status",),
    ),
    _grp("storage.k8s.io", "storageclasses", "StorageClass", False, short_names=("sc",)),
    _grp("rbac.authorization.k8s.io", "roles", "Role"),
    _grp("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    _grp("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
    _grp("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
    _grp(
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=tuple(CREATE_ONLY),
        stored=False,
    ),
    _grp(
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        False,
        verbs=tuple(CREATE_ONLY),
        stored=False,
    ),
    _grp(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        short_names=("crd", "crds"),
        subresources=("status",),
    ),
)

SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
}


@dataclass
class Registry:
    """Every served resource type, built-in or defined by a CRD at run time."""

    _types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _crd_types: dict[str, list[ResourceType]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for rt in BUILTIN:
            for version in rt.versions:
                self._types[(rt.group, version, rt.plural)] = rt

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at /apis/group/version/plural, or None."""
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type for an object's apiVersion and kind."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            for (g, v, _p), rt in self._types.items():
                if g == group and v == version and rt.kind == kind:
                    return rt
        return None

    def all_types(self) -> list[ResourceType]:
        """Each served type once."""
        with self._lock:
            seen: dict[tuple[str, str], ResourceType] = {}
            for rt in self._types.values():
                seen.setdefault(rt.key, rt)
            return list(seen.values())

    def define(self, crd: Obj) -> list[ResourceType]:
        """Serve what a CustomResourceDefinition declares (replacing an earlier definition)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = str(spec.get("group", ""))
        versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
        storage_first = sorted(versions, key=lambda v: not v.get("storage", False))
        version_names = tuple(str(v["name"]) for v in storage_first)
        first = storage_first[0] if storage_first else {}
        sub = first.get("subresources") or {}
        subresources: list[str] = []
        if "status" in sub:
            subresources.append("status")
        scale_paths = (".spec.replicas", ".status.replicas", "")
        if "scale" in sub:
            subresources.append("scale")
            scale = sub["scale"] or {}
            scale_paths = (
                str(scale.get("specReplicasPath", ".spec.replicas")),
                str(scale.get("statusReplicasPath", ".status.replicas")),
                str(scale.get("labelSelectorPath", "")),
            )
        columns = tuple(
            (str(c.get("name", "")), str(c.get("type", "string")), str(c.get("jsonPath", "")))
            for c in first.get("additionalPrinterColumns") or []
        )
        plural = str(names.get("plural", ""))
        rt = ResourceType(
            group=group,
            versions=version_names,
            plural=plural,
            singular=str(names.get("singular") or names.get("kind", "").lower()),
            kind=str(names.get("kind", "")),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(subresources),
            scale_paths=scale_paths,
            custom=True,
            printer_columns=columns,
        )
        crd_name = str((crd.get("metadata") or {}).get("name", ""))
        self.forget(crd_name)
        with self._lock:
            for version in version_names:
                self._types[(group, version, plural)] = rt
            self._crd_types[crd_name] = [rt]
        return [rt]

    def forget(self, crd_name: str) -> list[ResourceType]:
        """Stop serving what a deleted CRD declared."""
        with self._lock:
            gone = self._crd_types.pop(crd_name, [])
            for rt in gone:
                for version in rt.versions:
                    self._types.pop((rt.group, version, rt.plural), None)
        return gone

    # Discovery documents, shaped as the real server's.

    def api_versions(self, server_address: str) -> Obj:
        """GET /api."""
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
            ],
        }

    def groups(self) -> list[tuple[str, list[str]]]:
        """(group, versions with the preferred first) for every named group."""
        found: dict[str, list[str]] = {}
        for rt in self.all_types():
            if not rt.group:
                continue
            versions = found.setdefault(rt.group, [])
            for version in rt.versions:
                if version not in versions:
                    versions.append(version)
        return sorted(found.items())

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> Obj:
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def api_group_list(self) -> Obj:
        """GET /apis."""
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g, vs) for g, vs in self.groups()],
        }

    def api_group(self, group: str) -> Obj | None:
        """GET /apis/<group>."""
        for g, versions in self.groups():
            if g == group:
                return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(g, versions)}
        return None

    def api_resource_list(self, group: str, version: str) -> Obj | None:
        """GET /api/v1 or /apis/<group>/<version>."""
        with self._lock:
            types = [rt for (g, v, _p), rt in self._types.items() if g == group and v == version]
        if not types:
            return None
        resources: list[Obj] = []
        for rt in sorted(types, key=lambda t: t.plural):
            entry: Obj = {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            resources.append(entry)
            for sub in rt.subresources:
                sub_entry: Obj = {
                    "name": f"{rt.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": SUBRESOURCE_VERBS[sub],
                }
                if sub == "scale":
                    sub_entry.update(group="autoscaling", version="v1", kind="Scale")
                resources.append(sub_entry)
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    # A minimal OpenAPI v3: enough for kubectl to see that the server validates fields
    # itself (the fieldValidation parameter), without schemas.

    def openapi_index(self) -> Obj:
        """GET /openapi/v3: one entry per served group-version."""
        with self._lock:
            versions = sorted({(g, v) for (g, v, _p) in self._types})
        paths: Obj = {}
        for group, version in versions:
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            paths[key] = {
                "serverRelativeURL": f"/openapi/v3/{key}?hash={self._hash(group, version)}"
            }
        return {"paths": paths}

    def _hash(self, group: str, version: str) -> str:
        with self._lock:
            names = sorted(p for (g, v, p) in self._types if g == group and v == version)
        return format(abs(hash((group, version, tuple(names)))), "X")

    def openapi_document(self, group: str, version: str) -> Obj | None:
        """GET /openapi/v3/api/v1 and /openapi/v3/apis/<group>/<version>."""
        with self._lock:
            types = [rt for (g, v, _p), rt in self._types.items() if g == group and v == version]
        if not types:
            return None
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        validation = {
            "name": "fieldValidation",
            "in": "query",
            "schema": {"type": "string", "uniqueItems": True},
        }
        paths: Obj = {}
        for rt in types:
            gvk = {"group": group, "version": version, "kind": rt.kind}
            base = (
                f"{prefix}/namespaces/{{namespace}}/{rt.plural}"
                if rt.namespaced
                else f"{prefix}/{rt.plural}"
            )
            operation = {
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [validation],
                "responses": {"200": {"description": "OK"}},
            }
            paths[base] = {"post": {**operation, "operationId": f"create{rt.kind}"}}
            paths[f"{base}/{{name}}"] = {
                "patch": {**operation, "operationId": f"patch{rt.kind}"},
                "put": {**operation, "operationId": f"replace{rt.kind}"},
            }
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.31.0"},
            "paths": paths,
            "components": {"schemas": {}},
        }
