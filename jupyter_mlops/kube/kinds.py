"""The kinds of object the product knows by name, and how a user may spell them."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from ..errors import BadInput
from .names import check_name, check_namespace


@dataclass(frozen=True)
class Kind:
    """One resource type of the Kubernetes API, e.g. pods (core/v1) or deployments (apps/v1)."""

    plural: str
    kind: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True
    short_names: tuple[str, ...] = field(default=(), compare=False)
    custom: bool = field(default=False, compare=False)
    singular_name: str = field(default="", compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    def names(self) -> set[str]:
        """Every name kubectl takes for this kind, lower case: plural, singular, short names
        and Kind, each also followed by `.group` and `.version.group`."""
        plain = {self.plural, self.singular, self.kind.lower(), *self.short_names}
        if not self.group:
            return plain
        return (
            plain
            | {f"{n}.{self.group}" for n in plain}
            | {f"{n}.{self.version}.{self.group}" for n in plain}
        )

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        """The REST path of the collection, or of one object and one of its subresources.

        The namespace and the name are checked as the API server checks them, and every
        segment is quoted, so no value can reach another path or add a query.
        """
        segments = ["apis", self.group, self.version] if self.group else ["api", self.version]
        if self.namespaced and namespace:
            segments += ["namespaces", check_namespace(namespace)]
        segments.append(self.plural)
        if name is not None:
            segments.append(check_name(name, self.plural))
            if sub:
                segments.append(sub)
        return "/" + "/".join(quote(segment, safe="") for segment in segments)


BUILTIN: tuple[Kind, ...] = (
    Kind("pods", "Pod", short_names=("po",)),
    Kind("deployments", "Deployment", "apps", short_names=("deploy",)),
    Kind("replicasets", "ReplicaSet", "apps", short_names=("rs",)),
    Kind("statefulsets", "StatefulSet", "apps", short_names=("sts",)),
    Kind("jobs", "Job", "batch"),
    Kind("cronjobs", "CronJob", "batch", short_names=("cj",)),
    Kind("services", "Service", short_names=("svc",)),
    Kind("persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",)),
    Kind("events", "Event", short_names=("ev",)),
    Kind("configmaps", "ConfigMap", short_names=("cm",)),
    Kind("secrets", "Secret"),
    Kind("serviceaccounts", "ServiceAccount", short_names=("sa",)),
    Kind("persistentvolumes", "PersistentVolume", namespaced=False, short_names=("pv",)),
    Kind("storageclasses", "StorageClass", "storage.k8s.io", namespaced=False, short_names=("sc",)),
    Kind("nodes", "Node", namespaced=False, short_names=("no",)),
    Kind("namespaces", "Namespace", namespaced=False, short_names=("ns",)),
)

# Groups served by Kubernetes itself; anything else found by discovery is a custom resource.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "storage.k8s.io",
        "rbac.authorization.k8s.io",
        "authorization.k8s.io",
        "authentication.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "admissionregistration.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "node.k8s.io",
        "scheduling.k8s.io",
        "resource.k8s.io",
        "internal.apiserver.k8s.io",
        "storagemigration.k8s.io",
    }
)


def find_kind(word: str, extra: tuple[Kind, ...] = ()) -> Kind:
    """The kind a user means by `word`: plural, singular, short name or Kind, any case.

    `extra` holds the kinds found by discovery; `name.group` picks one of those when two
    groups share a name.
    """
    wanted = word.strip().lower()
    for kind in BUILTIN + extra:
        if wanted in kind.names():
            return kind
    known = ", ".join(k.plural for k in BUILTIN)
    shown = word if len(word) <= 80 else word[:77] + "..."
    raise BadInput(
        f"unknown kind {shown!r}; known kinds: {known}, or any kind the cluster serves "
        "(see `kubectl api-resources`)"
    )
