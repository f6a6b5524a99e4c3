"""The doctor's rules for pods the scheduler cannot place: resources, taints, selectors, claims."""

from __future__ import annotations

from .cluster import Obj
from .doctor import (
    Evidence,
    condition,
    condition_evidence,
    event_evidence,
    event_message,
    name_of,
)
from .doctor_fixes import resources_fix, template_fix
from .doctor_pods import (
    _CLAIM_MISSING,
    _INSUFFICIENT,
    _TAINT,
    Pod,
    quantity,
)

# -- scheduling ----------------------------------------------------------------------------


def scheduling(pod: Pod) -> None:
    cond = condition(pod.obj, "PodScheduled")
    evidence: list[Evidence] = []
    message = ""
    if cond and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
        message = str(cond.get("message") or "")
        evidence.append(condition_evidence(cond))
    failed = pod.events_for("FailedScheduling")
    if failed:
        evidence.append(event_evidence(failed[-1]))
        message = event_message(failed[-1]) or message
    if not message:
        return
    before = len(pod.found)
    nodes = pod.reading.objects("nodes") if pod.reading.readable("nodes") else None
    resources = sorted(set(_INSUFFICIENT.findall(message)))
    tainted = _TAINT.search(message) is not None
    # The scheduler names one reason per node, the first filter that fails: a dedicated node's
    # taint comes before its resources and labels. The taint is the cause only where the pod
    # would fit that node once tolerated (the GPU node for a GPU pod, not for a 16-CPU one).
    fits_if_tolerated: list[str] = []
    if nodes is not None:
        fits_if_tolerated = [
            name_of(n) for n in nodes if _untolerated_taints(pod, n) and _would_fit(pod, n)
        ]
    for resource in resources:
        if nodes is not None and tainted and _only_on_tainted(pod, nodes, resource):
            continue  # the nodes with enough of it are the tainted ones: the taint says why
        insufficient(pod, resource, evidence, nodes)
    if tainted:
        others = bool(resources) or "didn't match" in message or "unbound" in message
        extended = any("/" in r for r in _requested(pod))
        if nodes is not None:
            if fits_if_tolerated:
                untolerated(pod, message, evidence, fits_if_tolerated)
        elif extended or not others:
            untolerated(pod, message, evidence, [])
    if "didn't match Pod's node affinity/selector" in message:
        selector_mismatch(pod, evidence)
    if ("unbound" in message and "PersistentVolumeClaim" in message) or _CLAIM_MISSING.search(
        message
    ):
        unbound_claims(pod, evidence)
    if len(pod.found) == before:
        pod.add(
            "unschedulable",
            f"The scheduler cannot place pod {pod.name}: {message}",
            evidence,
            "Read the scheduler's message: it names, per node, what does not fit.",
        )


def _requested(pod: Pod) -> dict[str, float]:
    """What the pod asks of a node, per resource: its containers' requests summed (a limit
    stands for a missing request, as the API server defaults it), or the largest init one."""
    total: dict[str, float] = {}
    for c in pod.spec.get("containers") or []:
        resources = c.get("resources") or {}
        asked = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        for key, value in asked.items():
            total[key] = total.get(key, 0.0) + quantity(value)
    for c in pod.spec.get("initContainers") or []:
        resources = c.get("resources") or {}
        asked = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        for key, value in asked.items():
            total[key] = max(total.get(key, 0.0), quantity(value))
    return total


def _allocatable(node: Obj, resource: str) -> str | None:
    status = node.get("status") or {}
    have = (status.get("allocatable") or status.get("capacity") or {}).get(resource)
    return None if have is None else str(have)


def _selected(pod: Pod, node: Obj) -> bool:
    """Whether the node has the labels of the pod's nodeSelector and its required affinity."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    selector = pod.spec.get("nodeSelector") or {}
    if not all(labels.get(k) == v for k, v in selector.items()):
        return False
    required = ((pod.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    # The terms are ORed, the expressions within one ANDed, as the scheduler reads them.
    return not terms or any(_term_matches(t, node, labels) for t in terms)


def _term_matches(term: Obj, node: Obj, labels: dict[str, str]) -> bool:
    fields = {"metadata.name": name_of(node)}
    checks = [(e, labels) for e in term.get("matchExpressions") or []]
    checks += [(e, fields) for e in term.get("matchFields") or []]
    return bool(checks) and all(_expression_matches(e, have) for e, have in checks)


def _expression_matches(expr: Obj, have: dict[str, str]) -> bool:
    key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in have and have[key] in values
    if op == "NotIn":
        return key not in have or have[key] not in values
    if op == "Exists":
        return key in have
    if op == "DoesNotExist":
        return key not in have
    if op in ("Gt", "Lt") and key in have and values:
        try:
            mine, bound = int(have[key]), int(values[0])
        except ValueError:
            return False
        return mine > bound if op == "Gt" else mine < bound
    return False


def _untolerated_taints(pod: Pod, node: Obj) -> list[Obj]:
    return [
        t
        for t in (node.get("spec") or {}).get("taints") or []
        if t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(pod, t)
    ]


def _would_fit(pod: Pod, node: Obj) -> bool:
    """Whether the node has, in all, what the pod asks and the labels it selects."""
    if not _selected(pod, node):
        return False
    for resource, amount in _requested(pod).items():
        have = _allocatable(node, resource)
        if have is None and amount > 0 and resource not in ("cpu", "memory"):
            return False
        if have is not None and quantity(have) < amount:
            return False
    return True


def _usable(pod: Pod, nodes: list[Obj]) -> list[Obj]:
    """The nodes the pod may go to: no taint it does not tolerate, its node selector matched."""
    return [n for n in nodes if not _untolerated_taints(pod, n) and _selected(pod, n)]


def _only_on_tainted(pod: Pod, nodes: list[Obj], resource: str) -> bool:
    """Whether every node with enough of the resource is one whose taint the pod lacks."""
    amount = _requested(pod).get(resource, 0.0)
    enough = [n for n in nodes if quantity(_allocatable(n, resource) or 0) >= amount > 0]
    return bool(enough) and all(_untolerated_taints(pod, n) for n in enough)


def _wanted(pod: Pod, resource: str) -> tuple[str, str]:
    """(the request as the spec says it, the container asking the most) for a resource."""
    parts: list[tuple[str, str]] = []
    for c in pod.spec.get("containers") or []:
        resources = c.get("resources") or {}
        value = (resources.get("requests") or {}).get(resource) or (
            resources.get("limits") or {}
        ).get(resource)
        if value is not None:
            parts.append((str(c.get("name")), str(value)))
    if not parts:
        return "?", str(((pod.spec.get("containers") or [{}])[0]).get("name", ""))
    if len(parts) == 1:
        return parts[0][1], parts[0][0]
    return ", ".join(f"{n}: {v}" for n, v in parts), parts[0][0]


def _cause_word(resource: str) -> str:
    if resource.endswith("/gpu"):
        return "gpu"
    return resource.replace("/", "-").replace(".", "-")


def insufficient(
    pod: Pod, resource: str, evidence: list[Evidence], nodes: list[Obj] | None
) -> None:
    wanted, container = _wanted(pod, resource)
    largest = ""
    suggestion = "less"
    if nodes:
        usable = _usable(pod, nodes)
        best = min(
            usable or nodes,
            key=lambda n: (-quantity(_allocatable(n, resource) or 0), name_of(n)),
        )
        have = _allocatable(best, resource) or "0"
        which = "the largest node it may use" if usable else "the largest node"
        largest = (
            f"; {which}, {name_of(best)}, has {have} {resource} allocatable in all, "
            "before other pods' requests"
        )
        suggestion = f"well under {have}"
        evidence.append(
            Evidence(source="status", text=f"node {name_of(best)}: allocatable {resource}={have}")
        )
    gpu = resource.endswith("/gpu")
    pod.add(
        f"insufficient-{_cause_word(resource)}",
        f"No node has enough {resource} free for this pod (it requests {resource} {wanted})"
        f"{largest}.",
        [Evidence(source="spec", text=f"container {container}: {resource}: {wanted}"), *evidence],
        resources_fix(
            pod.namespace,
            pod.name,
            pod.owners,
            container,
            "limits." + resource if gpu else "requests." + resource,
            suggestion,
        )
        + (
            ""
            if not gpu
            else "; or ask an administrator whether GPU nodes exist and are free "
            "(kubectl get nodes -o custom-columns=NAME:.metadata.name,"
            "GPU:.status.allocatable.nvidia\\.com/gpu)"
        ),
    )


def _tolerated(pod: Pod, taint: Obj) -> bool:
    for t in pod.spec.get("tolerations") or []:
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if (
            t.get("key") == taint.get("key")
            and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
            and (not t.get("effect") or t.get("effect") == taint.get("effect"))
        ):
            return True
    return False


def untolerated(pod: Pod, message: str, evidence: list[Evidence], fitting: list[str]) -> None:
    """`fitting`: the tainted nodes the pod would fit once it tolerates their taints."""
    taints: list[Obj] = []
    for match in _TAINT.finditer(message):
        if match.group(1):
            key, _, value = match.group(1).partition(":")
            taints.append({"key": key.strip(), "value": value.strip(), "effect": "NoSchedule"})
    if not taints and pod.reading.readable("nodes"):
        for node in pod.reading.objects("nodes"):
            if fitting and name_of(node) not in fitting:
                continue
            for t in (node.get("spec") or {}).get("taints") or []:
                fresh = not any(x.get("key") == t.get("key") for x in taints)
                if (
                    fresh
                    and t.get("effect") in ("NoSchedule", "NoExecute")
                    and not _tolerated(pod, t)
                ):
                    taints.append(t)
                    evidence.append(
                        Evidence(
                            source="spec",
                            text=f"node {name_of(node)} taint {t.get('key')}="
                            f"{t.get('value', '')}:{t.get('effect')}",
                        )
                    )
    words = ", ".join(f"{t['key']}={t.get('value') or ''}:{t.get('effect')}" for t in taints)
    tolerations = [
        {"key": t["key"], "operator": "Exists", "effect": t.get("effect") or "NoSchedule"}
        for t in taints
    ] or [{"key": "KEY", "operator": "Exists", "effect": "NoSchedule"}]
    gpu = any("gpu" in str(t.get("key")) for t in taints)
    what = (
        f"the nodes it could use are tainted ({words})"
        if words
        else "the nodes it could use "
        "are tainted, and this identity cannot read the nodes to say with what"
    )
    pod.add(
        "untolerated-taint",
        f"Pod {pod.name} has no toleration for a taint: {what}"
        + (", as GPU nodes usually are" if gpu else "")
        + _fitting_words(pod, fitting)
        + ".",
        evidence,
        template_fix(
            pod.namespace, pod.name, pod.owners, {"tolerations": tolerations}, "a toleration"
        ),
        certainty="certain" if words else "likely",
    )


def _fitting_words(pod: Pod, fitting: list[str]) -> str:
    if not fitting:
        return ""
    names = ", ".join(fitting)
    extended = sorted(r for r in _requested(pod) if "/" in r)
    verb = "has" if len(fitting) == 1 else "have"
    if extended:
        return f"; {names} {verb} the {', '.join(extended)} it asks for"
    return f"; {names} would otherwise fit it"


def selector_mismatch(pod: Pod, evidence: list[Evidence]) -> None:
    selector = pod.spec.get("nodeSelector") or {}
    affinity = (pod.spec.get("affinity") or {}).get("nodeAffinity")
    shown = list(evidence)
    if selector:
        shown.append(Evidence(source="spec", text=f"nodeSelector: {selector}"))
    if affinity:
        shown.append(Evidence(source="spec", text=f"nodeAffinity: {affinity}"))
    missing = ""
    if selector and pod.reading.readable("nodes"):
        labels = [
            (n.get("metadata") or {}).get("labels") or {} for n in pod.reading.objects("nodes")
        ]
        absent = [
            f"{k}={v}" for k, v in selector.items() if not any(lb.get(k) == v for lb in labels)
        ]
        if absent:
            missing = f"; no node has the label {', '.join(absent)}"
    pod.add(
        "node-selector-mismatch",
        f"No node matches pod {pod.name}'s node selector or affinity{missing}.",
        shown,
        template_fix(
            pod.namespace,
            pod.name,
            pod.owners,
            {"nodeSelector": None} if selector else {"affinity": None},
            "a node selector that existing nodes match",
        )
        + " (that patch removes it; or an administrator labels a node: kubectl label node "
        "NODE " + (" ".join(f"{k}={v}" for k, v in selector.items()) or "KEY=VALUE") + ")",
    )


def unbound_claims(pod: Pod, evidence: list[Evidence]) -> None:
    from .doctor_workloads import diagnose_claim

    for volume in pod.spec.get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        pvc = pod.reading.by_name("persistentvolumeclaims", str(claim))
        if pvc is None:
            pod.add(
                "missing-claim",
                f"Pod {pod.name} mounts claim {claim}, which does not exist.",
                evidence,
                f"Create the PersistentVolumeClaim {claim} in namespace {pod.namespace}, or "
                f"remove volume {volume.get('name')} from the pod spec.",
            )
            continue
        pvc.setdefault("kind", "PersistentVolumeClaim")
        for f in diagnose_claim(pod.reading, pvc):
            pod.add(
                f.cause,
                f"Pod {pod.name} waits for its claim {claim}, which is not bound: {f.summary}",
                [*evidence, *f.evidence],
                f.fix,
                certainty=f.certainty,
            )
