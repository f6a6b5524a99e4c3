"""What my notebook and my pods ask for, use and may still get: requests, limits, live use,
quota, LimitRange defaults, GPUs and volumes, read from the shared watch cache.

Amounts are numbers: CPU in cores, memory and storage in bytes, everything else in units.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from ..errors import BadInput, Forbidden, NotFound, Unavailable
from .cgroup import CgroupReader, pod_name
from .cluster import Obj
from .kinds import Kind, find_kind
from .notebook_owner import NotebookOwner, notebook_owner
from .quantity import amount, parse_quantity
from .watch import WatchCache

Amounts = dict[str, float]

QUOTAS = Kind("resourcequotas", "ResourceQuota", short_names=("quota",))
LIMIT_RANGES = Kind("limitranges", "LimitRange", short_names=("limits",))
POD_METRICS = Kind("pods", "PodMetrics", "metrics.k8s.io", "v1beta1")
#: Node labels naming a GPU's model, the most specific first.
PRODUCT_LABELS = (
    "nvidia.com/gpu.product",
    "accelerator",
    "cloud.google.com/gke-accelerator",
    "node.kubernetes.io/instance-type",
)
NO_METRICS = (
    "live use of pods needs the metrics.k8s.io API, which this cluster does not serve; "
    "metrics-server (kubernetes-sigs/metrics-server) serves it. %k8s top me reads this "
    "notebook's own use without it."
)
FINISHED = ("Succeeded", "Failed")


# -- models -------------------------------------------------------------------------------


class ContainerResources(BaseModel):
    name: str
    init: bool = False
    sidecar: bool = False
    requests: Amounts = Field(default_factory=dict)
    limits: Amounts = Field(default_factory=dict)
    usage: Amounts | None = None


class PodResources(BaseModel):
    """A pod's requests and limits as the scheduler counts them, and its live use if known."""

    name: str
    node: str | None = None
    phase: str = ""
    requests: Amounts = Field(default_factory=dict)
    limits: Amounts = Field(default_factory=dict)
    usage: Amounts | None = None
    containers: list[ContainerResources] = Field(default_factory=list)


class Metrics(BaseModel):
    """Whether live use of pods could be read, and why not."""

    served: bool
    note: str | None = None


class MyUsage(BaseModel):
    """This process's cgroup: CPU cores used lately, memory used, and the cgroup's limits."""

    cgroup_version: int | None
    cpu_cores: float | None
    memory_bytes: int | None
    cpu_limit_cores: float | None
    memory_limit_bytes: int | None


class MyPod(BaseModel):
    """My notebook pod: what it asks for (if it is found) and what it uses now."""

    name: str | None
    namespace: str | None
    pod: PodResources | None = None
    owner: NotebookOwner | None = Field(
        default=None, description="The Notebook (v1) or Workspace (Notebooks 2.0) it runs for."
    )
    usage: MyUsage
    note: str | None = None


class QuotaLine(BaseModel):
    quota: str
    resource: str
    used: float
    hard: float
    free: float


class LimitDefault(BaseModel):
    limit_range: str
    type: str
    resource: str
    default: float | None = None
    default_request: float | None = None
    min: float | None = None
    max: float | None = None


class GpuNode(BaseModel):
    node: str
    product: str | None
    resource: str
    allocatable: float
    requested: float
    free: float


class GpuUse(BaseModel):
    pod: str
    resource: str
    count: float


class Gpus(BaseModel):
    """Extended resources my pods ask for, and what each node has left (when readable)."""

    requested: list[GpuUse] = Field(default_factory=list)
    nodes_readable: bool
    nodes: list[GpuNode] = Field(default_factory=list)
    note: str | None = None


class VolumePod(BaseModel):
    name: str
    node: str | None


class Volume(BaseModel):
    claim: str
    phase: str
    size: float | None
    access_modes: list[str]
    storage_class: str | None
    pods: list[VolumePod] = Field(default_factory=list)
    warning: str | None = None


class NextPodHits(BaseModel):
    """Why a one-container pod of `size` would be refused in the namespace (empty: it fits)."""

    namespace: str
    size: Amounts
    refusals: list[str]


class ResourcesReport(BaseModel):
    """Everything `%k8s top` and the resources route show for one namespace."""

    namespace: str
    pods: list[PodResources]
    metrics: Metrics
    quotas: list[QuotaLine]
    limit_ranges: list[LimitDefault]
    gpus: Gpus
    volumes: list[Volume]


# -- requests and limits ------------------------------------------------------------------


def _amounts(values: dict[str, object] | None) -> Amounts:
    return {key: parse_quantity(value) for key, value in (values or {}).items()}


def _add(total: Amounts, more: Amounts) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0.0) + value


def _at_least(total: Amounts, candidate: Amounts) -> None:
    for key, value in candidate.items():
        total[key] = max(total.get(key, 0.0), value)


def _effective(spec: Obj, field: str) -> Amounts:
    """A pod's `requests` or `limits` as the scheduler counts them: the containers and the
    sidecars (init containers that keep running) summed, or more if an init container (with
    the sidecars started before it) needs more; then the pod's overhead."""
    running: Amounts = {}
    for c in spec.get("containers") or []:
        _add(running, _amounts((c.get("resources") or {}).get(field)))
    sidecars: Amounts = {}
    init_peak: Amounts = {}
    for c in spec.get("initContainers") or []:
        own = _amounts((c.get("resources") or {}).get(field))
        if c.get("restartPolicy") == "Always":
            _add(sidecars, own)
            _at_least(init_peak, sidecars)
        else:
            during = dict(sidecars)
            _add(during, own)
            _at_least(init_peak, during)
    _add(running, sidecars)
    _at_least(running, init_peak)
    _add(running, _amounts(spec.get("overhead")))
    return running


def _containers(spec: Obj) -> list[ContainerResources]:
    shown = []
    for init, field in ((True, "initContainers"), (False, "containers")):
        for c in spec.get(field) or []:
            resources = c.get("resources") or {}
            shown.append(
                ContainerResources(
                    name=str(c.get("name", "")),
                    init=init,
                    sidecar=init and c.get("restartPolicy") == "Always",
                    requests=_amounts(resources.get("requests")),
                    limits=_amounts(resources.get("limits")),
                )
            )
    return shown


def pod_resources(pod: Obj, metrics: Obj | None = None) -> PodResources:
    """One pod's requests and limits (scheduler's rule), with its PodMetrics' use if given."""
    spec = pod.get("spec") or {}
    shown = PodResources(
        name=str((pod.get("metadata") or {}).get("name", "")),
        node=spec.get("nodeName"),
        phase=str((pod.get("status") or {}).get("phase", "")),
        requests=_effective(spec, "requests"),
        limits=_effective(spec, "limits"),
        containers=_containers(spec),
    )
    if metrics is not None:
        shown.usage = {}
        by_name = {c.name: c for c in shown.containers}
        for c in metrics.get("containers") or []:
            use = _amounts(c.get("usage"))
            _add(shown.usage, use)
            if c.get("name") in by_name:
                by_name[c["name"]].usage = use
    return shown


# -- reading ------------------------------------------------------------------------------


def _namespace(cache: WatchCache, namespace: str | None) -> str:
    return namespace or cache.cluster.namespace


def pod_metrics(cache: WatchCache, namespace: str | None = None) -> tuple[dict[str, Obj], Metrics]:
    """PodMetrics by pod name, from metrics.k8s.io (it cannot be watched: one list a call,
    and none where discovery says the API is not served)."""
    from .connect import served

    try:
        if not served(cache.cluster, POD_METRICS):
            raise NotFound(NO_METRICS)
        items = cache.cluster.list(POD_METRICS, _namespace(cache, namespace)).items
    except NotFound:
        return {}, Metrics(served=False, note=NO_METRICS)
    except Forbidden:
        note = (
            "not allowed to read metrics.k8s.io pods in this namespace: live use needs a Role "
            "with verbs ['get', 'list'] on pods.metrics.k8s.io"
        )
        return {}, Metrics(served=False, note=note)
    except Unavailable as exc:
        return {}, Metrics(served=False, note=f"metrics.k8s.io did not answer: {exc.message}")
    found = {str((m.get("metadata") or {}).get("name")): m for m in items}
    return found, Metrics(served=True)


def namespace_pods(
    cache: WatchCache, namespace: str | None = None
) -> tuple[list[PodResources], Metrics]:
    """Every pod of the namespace with requests, limits and (when served) live use."""
    pods = cache.objects(find_kind("pods"), _namespace(cache, namespace))
    metrics, served = pod_metrics(cache, namespace)
    shown = [pod_resources(p, metrics.get(str(p["metadata"]["name"]))) for p in pods]
    return sorted(shown, key=lambda p: p.name), served


def my_pod(
    cache: WatchCache | None, reader: CgroupReader | None = None, interval: float = 0.5
) -> MyPod:
    """My notebook pod's requests and limits (the pod $HOSTNAME names, in the settings'
    namespace) and this process's live use from its own cgroup, no metrics API needed.
    Without a cluster (`cache` None) only the use is shown."""
    reader = reader if reader is not None else CgroupReader(Path("/"))
    sample, cpu = reader.usage(interval)
    usage = MyUsage(
        cgroup_version=reader.version,
        cpu_cores=cpu,
        memory_bytes=sample.memory_bytes,
        cpu_limit_cores=sample.cpu_limit_cores,
        memory_limit_bytes=sample.memory_limit_bytes,
    )
    if cache is None:
        return MyPod(name=None, namespace=None, usage=usage, note="no cluster: use only")
    settings = cache.cluster.settings
    name = pod_name(dict(settings.env)) if settings.in_pod else None
    shown = MyPod(name=name, namespace=cache.cluster.namespace, usage=usage)
    if name is None:
        shown.note = "not running in a pod: only this process's own use is shown"
        return shown
    pods = cache.objects(find_kind("pods"), shown.namespace)
    mine = [p for p in pods if p["metadata"]["name"] == name]
    if not mine:
        shown.note = f"no pod {name} in namespace {shown.namespace}: only its use is shown"
        return shown
    shown.pod = pod_resources(mine[0])
    shown.owner = notebook_owner(cache.cluster, mine[0])
    return shown


def quota_lines(cache: WatchCache, namespace: str | None = None) -> list[QuotaLine]:
    """Each ResourceQuota's used against hard, per resource, as its admission counted them."""
    lines = []
    for quota in cache.objects(QUOTAS, _namespace(cache, namespace)):
        status = quota.get("status") or {}
        hard, used = _amounts(status.get("hard")), _amounts(status.get("used"))
        name = str(quota["metadata"]["name"])
        for resource in sorted(hard):
            left = hard[resource] - used.get(resource, 0.0)
            lines.append(
                QuotaLine(
                    quota=name,
                    resource=resource,
                    used=used.get(resource, 0.0),
                    hard=hard[resource],
                    free=left,
                )
            )
    return lines


def limit_defaults(cache: WatchCache, namespace: str | None = None) -> list[LimitDefault]:
    """Each LimitRange's defaults, default requests, minimums and maximums per resource."""
    shown = []
    for item in cache.objects(LIMIT_RANGES, _namespace(cache, namespace)):
        for limit in (item.get("spec") or {}).get("limits") or []:
            fields = {
                key: _amounts(limit.get(key)) for key in ("default", "defaultRequest", "min", "max")
            }
            for resource in sorted(set().union(*fields.values())):
                shown.append(
                    LimitDefault(
                        limit_range=str(item["metadata"]["name"]),
                        type=str(limit.get("type", "")),
                        resource=resource,
                        default=fields["default"].get(resource),
                        default_request=fields["defaultRequest"].get(resource),
                        min=fields["min"].get(resource),
                        max=fields["max"].get(resource),
                    )
                )
    return shown


# -- what the next pod would hit ----------------------------------------------------------


def after_limit_range(
    cache: WatchCache,
    requests: Amounts,
    limits: Amounts | None = None,
    namespace: str | None = None,
) -> tuple[Amounts, Amounts]:
    """A one-container pod's (requests, limits) as admitted in the namespace."""
    return _defaulted(requests, limits or {}, limit_defaults(cache, namespace))


def _defaulted(
    requests: Amounts, limits: Amounts, defaults: list[LimitDefault]
) -> tuple[Amounts, Amounts]:
    """A one-container pod's amounts after LimitRange admission and the API server's
    defaulting: missing limits from `default`, missing requests from `defaultRequest`, then
    from the limit."""
    requests, limits = dict(requests), dict(limits)
    for d in defaults:
        if d.type != "Container":
            continue
        if d.resource not in limits and d.default is not None:
            limits[d.resource] = d.default
        if d.resource not in requests and d.default_request is not None:
            requests[d.resource] = d.default_request
    for resource, value in limits.items():
        requests.setdefault(resource, value)
    return requests, limits


def _charge(resource: str, requests: Amounts, limits: Amounts) -> float | None:
    """What one pod adds to a quota's `resource`; None if the quota does not count pods."""
    if resource in ("pods", "count/pods"):
        return 1.0
    if resource.startswith("limits."):
        return limits.get(resource.removeprefix("limits."), 0.0)
    name = resource.removeprefix("requests.")
    if name in ("cpu", "memory", "ephemeral-storage") or "/" in name:
        return requests.get(name, 0.0)
    return None


def next_pod_hits(
    cache: WatchCache,
    requests: Amounts,
    limits: Amounts | None = None,
    namespace: str | None = None,
) -> list[str]:
    """Why a new one-container pod of this size would be refused: by the LimitRange (a
    request above its limit, a bound crossed) or by the quota, in the words of the
    admission that refuses it (empty when it fits)."""
    defaults = limit_defaults(cache, namespace)
    asked, capped = _defaulted(requests, limits or {}, defaults)
    refusals = _limit_range_refusals(asked, capped, defaults)
    for line in quota_lines(cache, namespace):
        charge = _charge(line.resource, asked, capped)
        if charge is None:
            continue
        base = line.resource.removeprefix("limits.").removeprefix("requests.")
        bound = capped if line.resource.startswith("limits.") else asked
        # The quota admission insists on cpu and memory being set; an extended resource a
        # pod leaves out is charged nothing.
        if base in ("cpu", "memory") and base not in bound:
            refusals.append(f"{line.quota}: must specify {line.resource}")
        elif line.used + charge > line.hard:
            refusals.append(
                f"{line.quota}: exceeded quota {line.resource}: requested "
                f"{amount(line.resource, charge)}, used {amount(line.resource, line.used)}, "
                f"limited {amount(line.resource, line.hard)}"
            )
    return refusals


def _limit_range_refusals(
    requests: Amounts, limits: Amounts, defaults: list[LimitDefault]
) -> list[str]:
    refusals = []
    for resource, value in sorted(requests.items()):
        if resource in limits and value > limits[resource]:
            refusals.append(
                f"the {resource} request {amount(resource, value)} is more than its limit "
                f"{amount(resource, limits[resource])} (a LimitRange default when not given)"
            )
    for d in defaults:
        if d.type != "Container":
            continue
        wanted = limits.get(d.resource, requests.get(d.resource))
        if d.max is not None and wanted is not None and wanted > d.max:
            refusals.append(
                f"{d.limit_range}: maximum {d.resource} per container is "
                f"{amount(d.resource, d.max)}, not {amount(d.resource, wanted)}"
            )
        low = requests.get(d.resource)
        if d.min is not None and low is not None and low < d.min:
            refusals.append(
                f"{d.limit_range}: minimum {d.resource} per container is "
                f"{amount(d.resource, d.min)}, not {amount(d.resource, low)}"
            )
    return refusals


def pod_size(text: str) -> Amounts:
    """`cpu=2,memory=4Gi,nvidia.com/gpu=1` as amounts; `BadInput` naming what is wrong."""
    size: Amounts = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise BadInput(f"{part!r} is not RESOURCE=QUANTITY (e.g. cpu=2,memory=4Gi)")
        size[key.strip()] = parse_quantity(value)
    if not size:
        raise BadInput("say the pod's size as RESOURCE=QUANTITY, e.g. cpu=2,memory=4Gi")
    return size


# -- GPUs ---------------------------------------------------------------------------------


def extended(resource: str) -> bool:
    """Whether a resource is an extended one (a device such as `nvidia.com/gpu`)."""
    return "/" in resource and not resource.startswith(("kubernetes.io/", "requests.", "limits."))


def _product(node: Obj) -> str | None:
    labels = (node.get("metadata") or {}).get("labels") or {}
    for label in PRODUCT_LABELS:
        if labels.get(label):
            return str(labels[label])
    return None


def gpus(cache: WatchCache, namespace: str | None = None) -> Gpus:
    """Extended resources requested by my pods, and per node allocatable minus the requests
    of every unfinished pod on it (nodes and all pods are readable by admins only)."""
    pods = cache.objects(find_kind("pods"), _namespace(cache, namespace))
    requested = [
        GpuUse(pod=p.name, resource=r, count=v)
        for p in (pod_resources(o) for o in pods)
        for r, v in sorted(p.requests.items())
        if extended(r) and v
    ]
    try:
        nodes = cache.objects(find_kind("nodes"), None)
        everyone = cache.objects(find_kind("pods"), None)
    except Forbidden:
        note = "nodes are not readable with this identity: free GPUs per node are unknown"
        return Gpus(requested=requested, nodes_readable=False, note=note)
    return Gpus(requested=requested, nodes_readable=True, nodes=_free_per_node(nodes, everyone))


def _free_per_node(nodes: Iterable[Obj], pods: Iterable[Obj]) -> list[GpuNode]:
    used: dict[str, Amounts] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and (pod.get("status") or {}).get("phase") not in FINISHED:
            _add(used.setdefault(node, {}), _effective(pod.get("spec") or {}, "requests"))
    shown = []
    for node in nodes:
        name = str(node["metadata"]["name"])
        allocatable = _amounts((node.get("status") or {}).get("allocatable"))
        for resource, total in sorted(allocatable.items()):
            if not extended(resource):
                continue
            taken = used.get(name, {}).get(resource, 0.0)
            shown.append(
                GpuNode(
                    node=name,
                    product=_product(node),
                    resource=resource,
                    allocatable=total,
                    requested=taken,
                    free=total - taken,
                )
            )
    return sorted(shown, key=lambda g: (g.resource, g.node))


def no_node_holds(cache: WatchCache, requests: Amounts) -> list[str] | None:
    """What no node could ever hold, even empty, of a pod asking `requests` (each resource
    beyond every node's allocatable); empty when some node could; None when nodes are not
    readable with this identity. Taints and selectors are not weighed here."""
    try:
        nodes = cache.objects(find_kind("nodes"), None)
    except Forbidden:
        return None
    largest: Amounts = {}
    for node in nodes:
        _at_least(largest, _amounts((node.get("status") or {}).get("allocatable")))
    fits_one = any(
        all(
            v <= _amounts((n.get("status") or {}).get("allocatable")).get(r, 0.0)
            for r, v in requests.items()
        )
        for n in nodes
    )
    if fits_one:
        return []
    return [
        f"{resource} {amount(resource, value)}: the largest node has "
        f"{amount(resource, largest.get(resource, 0.0))}"
        for resource, value in sorted(requests.items())
        if value > largest.get(resource, 0.0)
    ] or ["no single node has all of it at once"]


# -- volumes ------------------------------------------------------------------------------


def _claims_of(pod: Obj) -> list[str]:
    """The claims a pod mounts, generic ephemeral ones (named `<pod>-<volume>`) included."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("persistentVolumeClaim"):
            names.append(str(volume["persistentVolumeClaim"].get("claimName")))
        elif volume.get("ephemeral"):
            names.append(f"{pod['metadata']['name']}-{volume.get('name')}")
    return names


def _conflict(claim: str, modes: list[str], pods: list[VolumePod]) -> str | None:
    nodes = sorted({p.node for p in pods if p.node})
    if "ReadWriteOncePod" in modes and len(pods) > 1:
        names = ", ".join(p.name for p in pods)
        return f"{claim} is ReadWriteOncePod but {len(pods)} pods need it ({names})"
    # ReadOnlyMany beside ReadWriteOnce lets other nodes read, not write: still one writer.
    if "ReadWriteOnce" in modes and "ReadWriteMany" not in modes and len(nodes) > 1:
        return (
            f"{claim} is ReadWriteOnce but pods on {len(nodes)} nodes need it "
            f"({', '.join(nodes)}): it can be attached to one node at a time"
        )
    return None


def volumes(cache: WatchCache, namespace: str | None = None) -> list[Volume]:
    """Each claim with its size, access modes and the unfinished pods that mount it."""
    ns = _namespace(cache, namespace)
    mounts: dict[str, list[VolumePod]] = {}
    for pod in cache.objects(find_kind("pods"), ns):
        if (pod.get("status") or {}).get("phase") in FINISHED:
            continue
        for claim in _claims_of(pod):
            where = VolumePod(name=pod["metadata"]["name"], node=pod["spec"].get("nodeName"))
            mounts.setdefault(claim, []).append(where)
    shown = []
    for pvc in cache.objects(find_kind("persistentvolumeclaims"), ns):
        name, spec, status = pvc["metadata"]["name"], pvc.get("spec") or {}, pvc.get("status") or {}
        size = (status.get("capacity") or {}).get("storage") or (
            (spec.get("resources") or {}).get("requests") or {}
        ).get("storage")
        modes = list(status.get("accessModes") or spec.get("accessModes") or [])
        pods = sorted(mounts.get(name, []), key=lambda p: p.name)
        shown.append(
            Volume(
                claim=name,
                phase=str(status.get("phase", "")),
                size=parse_quantity(size) if size else None,
                access_modes=modes,
                storage_class=spec.get("storageClassName"),
                pods=pods,
                warning=_conflict(name, modes, pods),
            )
        )
    return sorted(shown, key=lambda v: v.claim)


# -- everything ---------------------------------------------------------------------------


def report(cache: WatchCache, namespace: str | None = None) -> ResourcesReport:
    """The whole picture of one namespace; the parts that could not be read raise."""
    pods, metrics = namespace_pods(cache, namespace)
    return ResourcesReport(
        namespace=_namespace(cache, namespace),
        pods=pods,
        metrics=metrics,
        quotas=quota_lines(cache, namespace),
        limit_ranges=limit_defaults(cache, namespace),
        gpus=gpus(cache, namespace),
        volumes=volumes(cache, namespace),
    )


__all__ = [
    "Gpus",
    "LimitDefault",
    "Metrics",
    "MyPod",
    "NextPodHits",
    "PodResources",
    "QuotaLine",
    "ResourcesReport",
    "Volume",
    "after_limit_range",
    "gpus",
    "limit_defaults",
    "my_pod",
    "namespace_pods",
    "next_pod_hits",
    "no_node_holds",
    "pod_resources",
    "pod_size",
    "quota_lines",
    "report",
    "volumes",
]
