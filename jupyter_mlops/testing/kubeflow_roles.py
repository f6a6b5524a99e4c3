"""Kubeflow's ClusterRoles (`kubeflow_roles.yaml`), and their rules once aggregated.

The real plane installs the file and lets kube-controller-manager's clusterrole-aggregation
controller fill `kubeflow-admin`, `-edit` and `-view`. The emulator has no such controller, so
it is given the roles as that controller leaves them: one source for both, so a rule granted
in the demo is one that real Kubeflow grants.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CLUSTER_ROLES = Path(__file__).with_name("kubeflow_roles.yaml")

Obj = dict[str, Any]


@cache
def _documents() -> tuple[Obj, ...]:
    text = CLUSTER_ROLES.read_text(encoding="utf-8")
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def _selects(role: Obj, other: Obj) -> bool:
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    labels = other["metadata"].get("labels") or {}
    return any(
        all(labels.get(k) == v for k, v in (s.get("matchLabels") or {}).items()) for s in selectors
    )


def aggregated_cluster_roles() -> list[Obj]:
    """Every role of the file; the aggregated ones hold the rules of the roles they select,
    transitively (kubeflow-view is selected into kubeflow-edit, -edit into -admin)."""
    roles = [dict(doc) for doc in _documents()]
    changed = True
    while changed:  # to a fixed point, as the controller's repeated reconciles reach one
        changed = False
        for role in roles:
            if "aggregationRule" not in role:
                continue
            rules = list(role.get("rules") or [])
            for other in roles:
                if other is not role and _selects(role, other):
                    rules += [r for r in other.get("rules") or [] if r not in rules]
            if rules != list(role.get("rules") or []):
                role["rules"] = rules
                changed = True
    return roles


def rules_of(name: str) -> list[Obj]:
    """The rules of one ClusterRole after aggregation."""
    for role in aggregated_cluster_roles():
        if role["metadata"]["name"] == name:
            return list(role.get("rules") or [])
    raise KeyError(f"no ClusterRole {name!r} in {CLUSTER_ROLES.name}")
