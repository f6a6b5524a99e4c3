"""Identities behind bearer tokens and the RBAC decisions the emulator makes for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..kubeflow_roles import rules_of
from .status import ApiError, qualified

Obj = dict[str, Any]


def _tuple(value: Iterable[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class Rule:
    """Verbs on resources of API groups, in some namespaces or (namespaces=None) everywhere."""

    verbs: tuple[str, ...]
    resources: tuple[str, ...]
    api_groups: tuple[str, ...] = ("",)
    namespaces: tuple[str, ...] | None = None
    resource_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists and single strings from callers; store tuples so rules stay hashable.
        object.__setattr__(self, "verbs", _tuple(self.verbs))
        object.__setattr__(self, "resources", _tuple(self.resources))
        object.__setattr__(self, "api_groups", _tuple(self.api_groups))
        object.__setattr__(self, "resource_names", _tuple(self.resource_names))
        if self.namespaces is not None:
            object.__setattr__(self, "namespaces", _tuple(self.namespaces))

    def in_namespace(self, namespace: str) -> bool:
        """Whether the rule applies to requests in a namespace ("" = cluster scope)."""
        if self.namespaces is None:
            return True
        return bool(namespace) and namespace in self.namespaces

    def allows(self, attrs: Attributes) -> bool:
        """Whether this rule grants the request."""
        if not self.in_namespace(attrs.namespace):
            return False
        if "*" not in self.verbs and attrs.verb not in self.verbs:
            return False
        if "*" not in self.api_groups and attrs.group not in self.api_groups:
            return False
        if self.resource_names and attrs.name not in self.resource_names:
            return False
        wanted = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
        for resource in self.resources:
            if resource in ("*", wanted):
                return True
            if attrs.subresource and resource in (
                f"*/{attrs.subresource}",
                f"{attrs.resource}/*",
            ):
                return True
        return False

    def as_resource_rule(self) -> Obj:
        """This rule as a `resourceRules` entry of a SelfSubjectRulesReview."""
        entry: Obj = {
            "verbs": list(self.verbs),
            "apiGroups": list(self.api_groups),
            "resources": list(self.resources),
        }
        if self.resource_names:
            entry["resourceNames"] = list(self.resource_names)
        return entry


@dataclass(frozen=True)
class Attributes:
    """What a request does, in the terms RBAC decides on."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""


@dataclass
class Identity:
    """A user, its groups, and the rules its token grants directly."""

    user: str
    groups: tuple[str, ...] = ()
    rules: list[Rule] = field(default_factory=list)


def admin_rules() -> list[Rule]:
    """Everything, everywhere."""
    return [Rule(("*",), ("*",), ("*",))]


def kubeflow_edit_rules(namespace: str) -> list[Rule]:
    """What Kubeflow's aggregated `kubeflow-edit` ClusterRole grants, bound in one profile
    namespace (the rules of jupyter_mlops.testing.kubeflow_roles, as the real plane gets them)."""
    return [
        Rule(
            tuple(rule.get("verbs") or ()),
            tuple(rule.get("resources") or ()),
            tuple(rule.get("apiGroups") or ("",)),
            (namespace,),
            tuple(rule.get("resourceNames") or ()),
        )
        for rule in rules_of("kubeflow-edit")
        if rule.get("resources")  # nonResourceURLs mean nothing in a namespace
    ]


def _basic_user_rules() -> list[Rule]:
    # Every authenticated user may ask what it is allowed to do (system:basic-user).
    return [
        Rule(
            ("create",),
            ("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
            ("authorization.k8s.io",),
        )
    ]


def _subject_matches(subject: Obj, binding_namespace: str, identity: Identity) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return bool(name == identity.user)
    if kind == "Group":
        return name in identity.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return identity.user == f"system:serviceaccount:{namespace}:{name}"
    return False


def _rules_of_role(role: Obj | None, namespaces: tuple[str, ...] | None) -> list[Rule]:
    rules: list[Rule] = []
    for rule in (role or {}).get("rules") or []:
        if rule.get("nonResourceURLs"):
            continue
        rules.append(
            Rule(
                tuple(rule.get("verbs") or ()),
                tuple(rule.get("resources") or ()),
                tuple(rule.get("apiGroups") or ()),
                namespaces,
                tuple(rule.get("resourceNames") or ()),
            )
        )
    return rules


# Reads stored RBAC objects: (group, plural), namespace or None for all -> objects.
ListObjects = Callable[[tuple[str, str], str | None], list[Obj]]
GetObject = Callable[[tuple[str, str], str, str], Obj | None]

RBAC = "rbac.authorization.k8s.io"


def effective_rules(
    identity: Identity, namespace: str, list_objects: ListObjects, get_object: GetObject
) -> list[Rule]:
    """The token's own rules plus those granted by stored (Cluster)RoleBindings."""
    rules = list(identity.rules) + _basic_user_rules()
    for binding in list_objects((RBAC, "clusterrolebindings"), None):
        if any(_subject_matches(s, "", identity) for s in binding.get("subjects") or []):
            ref = binding.get("roleRef") or {}
            rules += _rules_of_role(
                get_object((RBAC, "clusterroles"), "", str(ref.get("name"))), None
            )
    if namespace:
        for binding in list_objects((RBAC, "rolebindings"), namespace):
            if any(_subject_matches(s, namespace, identity) for s in binding.get("subjects") or []):
                ref = binding.get("roleRef") or {}
                if ref.get("kind") == "ClusterRole":
                    role = get_object((RBAC, "clusterroles"), "", str(ref.get("name")))
                else:
                    role = get_object((RBAC, "roles"), namespace, str(ref.get("name")))
                rules += _rules_of_role(role, (namespace,))
    return rules


def forbidden(identity: Identity, attrs: Attributes) -> ApiError:
    """403 worded as the real RBAC authorizer words it."""
    wanted = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    subject = qualified(attrs.resource, attrs.group) + (f' "{attrs.name}"' if attrs.name else "")
    scope = f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{identity.user}" cannot {attrs.verb} resource '
        f'"{wanted}" in API group "{attrs.group}"{scope}'
    )
    details: Obj = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.group:
        details["group"] = attrs.group
    details["kind"] = attrs.resource
    return ApiError(403, "Forbidden", message, details)
