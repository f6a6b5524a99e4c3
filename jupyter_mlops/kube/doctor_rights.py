"""The doctor's rule for rights: an action the API server refused a program, read from its log,
with what this identity may do there (SelfSubjectRulesReview) and the Role rule that allows it."""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass

from ..errors import MLOpsError
from .cluster import Cluster, Obj
from .doctor import Evidence, Reading

# The authorizer's words, as the API server sends them (quotes escaped inside a JSON body).
_DENIED = re.compile(
    r'User \\?"(?P<user>[^"\\]+)\\?" cannot (?P<verb>[a-z]+) resource \\?"(?P<resource>[^"\\]+)'
    r'\\?" in API group \\?"(?P<group>[^"\\]*)\\?"'
    r'(?: in the namespace \\?"(?P<namespace>[^"\\]+)\\?"| at the cluster scope)?'
)


@dataclass(frozen=True)
class Denial:
    user: str
    verb: str
    resource: str
    group: str
    namespace: str | None  # None: at the cluster scope

    @property
    def what(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


def denial_in(text: str) -> Denial | None:
    """The last refusal of the API server quoted in a program's output."""
    found = list(_DENIED.finditer(text))
    if not found:
        return None
    m = found[-1]
    sub = m.group("resource")
    return Denial(m.group("user"), m.group("verb"), sub, m.group("group"), m.group("namespace"))


_RULES: weakref.WeakKeyDictionary[Cluster, dict[str, tuple[str, list[Obj]]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _cluster(reading: Reading) -> Cluster | None:
    source = reading.source
    cluster = getattr(source, "cluster", None)
    if cluster is None:
        cluster = getattr(getattr(source, "cache", None), "cluster", None)
    return cluster if isinstance(cluster, Cluster) else None


def own_rules(reading: Reading) -> tuple[str, list[Obj]] | None:
    """(this identity's user name, its resource rules in the namespace), asked once per
    cluster and namespace; None when the API server does not answer them."""
    cluster = _cluster(reading)
    if cluster is None:
        return None
    with _LOCK:
        known = _RULES.setdefault(cluster, {})
        if reading.namespace in known:
            return known[reading.namespace]
    try:
        who = cluster.request(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        review = cluster.request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "spec": {"namespace": reading.namespace},
            },
        )
    except MLOpsError:
        return None
    user = str(((who.get("status") or {}).get("userInfo") or {}).get("username") or "")
    rules = [r for r in (review.get("status") or {}).get("resourceRules") or [] if r]
    with _LOCK:
        known[reading.namespace] = (user, rules)
    return user, rules


def _covers(values: list[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def verbs_on(rules: list[Obj], denial: Denial) -> list[str]:
    """The verbs the rules give on the refused resource."""
    verbs: set[str] = set()
    for rule in rules:
        if _covers(list(rule.get("apiGroups") or []), denial.group) and _covers(
            list(rule.get("resources") or []), denial.resource
        ):
            verbs.update(rule.get("verbs") or [])
    return sorted(verbs)


def forbidden(reading: Reading, text: str, sa: str) -> tuple[str, str, list[Evidence]] | None:
    """(what, fix, evidence) when the program's output shows a refusal of the API server."""
    denial = denial_in(text)
    if denial is None:
        return None
    ns = denial.namespace or reading.namespace
    where = f"in namespace {ns}" if denial.namespace else "at the cluster scope"
    what = f"{denial.user} may not {denial.verb} {denial.resource} ({denial.group or 'core'})"
    evidence: list[Evidence] = []
    mine = own_rules(reading) if denial.namespace else None
    if mine is not None and mine[0] == denial.user:
        may = verbs_on(mine[1], denial)
        evidence.append(
            Evidence(
                source="status",
                text=f"SelfSubjectRulesReview of {denial.user} {where}: {len(mine[1])} rules, "
                f"none allows {denial.verb} on {denial.what}"
                + (f" (it may: {', '.join(may)})" if may else ""),
            )
        )
    role_kind = "Role" if denial.namespace else "ClusterRole"
    name = f"{denial.verb}-{denial.resource}".replace("/", "-")
    account = denial.user.removeprefix("system:serviceaccount:")
    scope = f"-n {ns} " if denial.namespace else ""
    binding = "rolebinding" if denial.namespace else "clusterrolebinding"
    subject = (
        f"--serviceaccount={account}"
        if denial.user.startswith("system:serviceaccount:")
        else f"--user={denial.user}"
    )
    rule = (
        f'apiGroups: ["{denial.group}"], resources: ["{denial.resource}"], verbs: [{denial.verb}]'
    )
    fix = (
        f"Ask an administrator of {'namespace ' + ns if denial.namespace else 'the cluster'} for "
        f"a {role_kind} with the rule {{{rule}}} bound to {sa or denial.user}: kubectl "
        f"{scope}create {role_kind.lower()} {name} --verb={denial.verb} "
        f"--resource={denial.what} && kubectl {scope}create {binding} {name} "
        f"--{role_kind.lower()}={name} {subject}; or do without the call in the program."
    )
    return what, fix, evidence
