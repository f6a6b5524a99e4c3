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
    for resource in sorted(set(_INSUFFICIENT.findall(message))):
        insufficient(pod, resource, evidence)
    if _TAINT.search(message):
        untolerated(pod, message, evidence)
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


def insufficient(pod: Pod, resource: str, evidence: list[Evidence]) -> None:
    wanted, container = _wanted(pod, resource)
    largest = ""
    suggestion = "less"
    if pod.reading.readable("nodes"):
        best: tuple[float, str, str] | None = None
        for node in pod.reading.objects("nodes"):
            status = node.get("status") or {}
            have = (status.get("allocatable") or status.get("capacity") or {}).get(resource)
            amount = quantity(have) if have is not None else 0.0
            if best is None or amount > best[0]:
                best = (amount, name_of(node), str(have or 0))
        if best is not None:
            largest = (
                f"; the largest node, {best[1]}, has {best[2]} {resource} allocatable in all, "
                "before other pods' requests"
            )
            suggestion = f"well under {best[2]}"
            evidence.append(
                Evidence(source="status", text=f"node {best[1]}: allocatable {resource}={best[2]}")
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


def untolerated(pod: Pod, message: str, evidence: list[Evidence]) -> None:
    taints: list[Obj] = []
    for match in _TAINT.finditer(message):
        if match.group(1):
            key, _, value = match.group(1).partition(":")
            taints.append({"key": key.strip(), "value": value.strip(), "effect": "NoSchedule"})
    if not taints and pod.reading.readable("nodes"):
        for node in pod.reading.objects("nodes"):
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
        + ".",
        evidence,
        template_fix(
            pod.namespace, pod.name, pod.owners, {"tolerations": tolerations}, "a toleration"
        ),
        certainty="certain" if words else "likely",
    )


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
