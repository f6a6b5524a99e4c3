"""InferenceServices on the cluster: server-side apply, the watch to Ready, their status read as
a `Service`, and the address a prediction is sent to."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, NotFound, Unavailable
from ..kube.cluster import Expired
from ..kube.kinds import find_kind
from ..policy import refuse_writes
from .manifest import DEPLOYMENT_MODE, FIELD_MANAGER, MODEL_ANNOTATIONS
from .models import Condition, PredictorPod, Progress, Service, Traffic
from .preflight import INFERENCE_SERVICES

if TYPE_CHECKING:
    from ..kube.cluster import Cluster, Obj

#: The label KServe puts on every pod of an InferenceService.
ISVC_LABEL = "serving.kserve.io/inferenceservice"
APPLY = "application/apply-patch+yaml"


def apply(cluster: Cluster, manifest: Obj, *, force: bool = False) -> Obj:
    """Server-side apply under the product's field manager; the object as stored.

    Without `force`, fields another manager set (a `kubectl edit`) are a `Conflict` naming
    them, so nobody's change is overwritten unasked.
    """
    meta = manifest["metadata"]
    refuse_writes(cluster.settings, "serving models on the cluster")
    path = INFERENCE_SERVICES.path(meta["namespace"], meta["name"])
    query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": force or None}
    try:
        answer: Obj = cluster.request("PATCH", path, query=query, body=manifest, content_type=APPLY)
    except Conflict as exc:
        raise Conflict(
            f"{exc.message}. Another manager set these fields of InferenceService "
            f"{meta['name']}; serve again with force=True to take them over"
        ) from None
    return answer


def delete(cluster: Cluster, name: str, namespace: str) -> None:
    """Delete the InferenceService; KServe removes its predictor with it."""
    refuse_writes(cluster.settings, "deleting InferenceServices")
    cluster.request("DELETE", INFERENCE_SERVICES.path(namespace, name))


def get(cluster: Cluster, name: str, namespace: str) -> Obj:
    """The InferenceService; `NotFound` naming it."""
    try:
        return cluster.get(INFERENCE_SERVICES, name, namespace)
    except NotFound:
        raise NotFound(f"no InferenceService named {name!r} in namespace {namespace}") from None


def is_ready(obj: Obj) -> bool:
    """Ready, for the spec as it is now (a status left from the previous spec does not count)."""
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed is not None and int(observed) < int(generation):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def conditions(obj: Obj) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
        )
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def why_not_ready(obj: Obj) -> str:
    """In a line: what KServe says keeps the service from Ready."""
    if is_ready(obj):
        return ""
    shown = conditions(obj)
    if not shown:
        return "KServe has not reported on it yet"
    failing = [c for c in shown if c.status != "True"]
    if not failing:
        return "KServe has not reconciled the new spec yet"
    first = next((c for c in failing if c.type != "Ready"), failing[0])
    words = ": ".join(w for w in (first.reason, first.message) if w)
    return f"{first.type} is {first.status}" + (f" ({words})" if words else "")


def progress_of(obj: Obj) -> Progress:
    name = obj["metadata"]["name"]
    ready = is_ready(obj)
    message = f"{name} is Ready" if ready else f"{name}: {why_not_ready(obj)}"
    return Progress(name=name, ready=ready, message=message, conditions=conditions(obj))


def wait_ready(
    cluster: Cluster,
    obj: Obj,
    *,
    timeout: float,
    progress: Callable[[Progress], None] | None = None,
) -> Obj:
    """Watch the InferenceService (one object, by field selector) until it is Ready or
    `timeout` seconds pass; the last state seen. `progress` hears each change."""
    meta = obj["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    deadline = time.monotonic() + timeout
    last = progress_of(obj)
    if progress is not None:
        progress(last)
    version = str(meta.get("resourceVersion") or "")
    while not is_ready(obj):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            for event in _watch(cluster, name, namespace, version, remaining):
                if event.get("type") in ("ADDED", "MODIFIED"):
                    obj = event["object"]
                    version = str(obj["metadata"].get("resourceVersion") or version)
                elif event.get("type") == "BOOKMARK":
                    version = str(
                        (event.get("object") or {}).get("metadata", {}).get("resourceVersion")
                        or version
                    )
                    continue
                elif event.get("type") == "DELETED":
                    raise NotFound(f"InferenceService {name!r} was deleted while starting")
                now = progress_of(obj)
                if progress is not None and now.message != last.message:
                    progress(now)
                last = now
                if now.ready:
                    return obj
        except Expired:
            obj = get(cluster, name, namespace)
            version = str(obj["metadata"].get("resourceVersion") or "")
    return obj


def _watch(cluster: Cluster, name: str, namespace: str, version: str, seconds: float) -> Any:
    query = {
        "watch": True,
        "fieldSelector": f"metadata.name={name}",
        "resourceVersion": version or None,
        "allowWatchBookmarks": True,
        "timeoutSeconds": max(1, int(seconds)),
    }
    path = INFERENCE_SERVICES.path(namespace)
    for line in cluster.stream_lines(path, query, seconds + 15):
        if not line.strip():
            continue
        event = json.loads(line)
        if event.get("type") == "ERROR":
            status = event.get("object") or {}
            if status.get("code") == 410:
                raise Expired(str(status.get("message") or "watch expired"))
            raise Unavailable("cluster", f"the watch of {name} failed: {status.get('message')}")
        yield event


def endpoint(obj: Obj, *, in_pod: bool) -> str:
    """Where predictions go: inside the cluster `.status.address.url` (the in-cluster address),
    outside it `.status.url` (through the ingress), each falling back on the other."""
    status = obj.get("status") or {}
    predictor = (status.get("components") or {}).get("predictor") or {}
    inside = (status.get("address") or {}).get("url") or (predictor.get("address") or {}).get("url")
    outside = status.get("url") or predictor.get("url")
    for url in (inside, outside) if in_pod else (outside, inside):
        if url:
            return str(url).rstrip("/")
    name = obj["metadata"]["name"]
    raise Unavailable(
        "serving", f"InferenceService {name!r} has no address yet: {why_not_ready(obj) or 'no URL'}"
    )


def to_service(obj: Obj, pods: list[Obj] | None = None, *, in_pod: bool = False) -> Service:
    """An InferenceService as the serving API shows it."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    status = obj.get("status") or {}
    spec = (obj.get("spec") or {}).get("predictor") or {}
    model = spec.get("model") or {}
    predictor = (status.get("components") or {}).get("predictor") or {}
    try:
        url: str | None = endpoint(obj, in_pod=in_pod)
    except Unavailable:
        url = None
    canary = spec.get("canaryTrafficPercent")
    return Service(
        name=str(meta.get("name")),
        mode="cluster",
        ready=is_ready(obj),
        url=url,
        reason=why_not_ready(obj),
        namespace=meta.get("namespace"),
        model=annotations.get(MODEL_ANNOTATIONS["model"]),
        version=annotations.get(MODEL_ANNOTATIONS["version"]),
        alias=annotations.get(MODEL_ANNOTATIONS["alias"]),
        model_format=str((model.get("modelFormat") or {}).get("name") or ""),
        storage_uri=model.get("storageUri"),
        runtime=model.get("runtime"),
        deployment_mode=status.get("deploymentMode") or annotations.get(DEPLOYMENT_MODE),
        conditions=conditions(obj),
        traffic=tuple(
            Traffic(
                revision=str(t.get("revisionName") or ""),
                percent=int(t.get("percent") or 0),
                tag=str(t.get("tag") or ""),
                latest=bool(t.get("latestRevision")),
            )
            for t in predictor.get("traffic") or []
        ),
        canary_percent=int(canary) if canary is not None else None,
        pods=tuple(_pod(p) for p in pods or []),
        created=meta.get("creationTimestamp"),
    )


def _pod(pod: Obj) -> PredictorPod:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return PredictorPod(
        name=pod["metadata"]["name"], phase=str(status.get("phase", "")), ready=ready
    )


def predictor_pods(cluster: Cluster, namespace: str) -> dict[str, list[Obj]]:
    """Every InferenceService's pods in the namespace, by service name, in one list call."""
    pods = cluster.list_all(find_kind("pods"), namespace, selector=ISVC_LABEL).items
    grouped: dict[str, list[Obj]] = {}
    for pod in pods:
        owner = ((pod.get("metadata") or {}).get("labels") or {}).get(ISVC_LABEL, "")
        grouped.setdefault(owner, []).append(pod)
    return grouped
