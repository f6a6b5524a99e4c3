"""The doctor's reading of one pod, and the rules it applies (in doctor_scheduling and
doctor_containers)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .cluster import Obj
from .doctor import (
    Evidence,
    Finding,
    ObjectRef,
    Reading,
    name_of,
    owner_chain,
)

_INSUFFICIENT = re.compile(r"Insufficient ([a-z0-9][-a-z0-9./]*[a-z0-9])")
_TAINT = re.compile(r"had untolerated taint(?:\(s\))?(?: \{([^}]*)\})?")
_CLAIM_MISSING = re.compile(r'persistentvolumeclaim "([^"]+)" not found')
_MISSING_OBJECT = re.compile(r'(configmap|secret) "([^"]+)" not found', re.IGNORECASE)
_MISSING_KEY = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/(\S+)")
_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
_NUMPY_ABI = (
    "numpy.dtype size changed",
    "compiled using NumPy 1.x cannot be run in",
    "numpy.core.multiarray failed to import",
    "_ARRAY_API not found",
)
_CUDA_OOM = ("CUDA out of memory", "OutOfMemoryError: CUDA", "CUDA error: out of memory")
_BAD_URI = (
    "No such file or directory",
    "does not exist",
    "NoSuchBucket",
    "NoSuchKey",
    "Cannot recognize storage type",
    "Failed to fetch model",
    "Could not find",
)
IMAGE_WAITING = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
#: Seconds past its deletionTimestamp (a pod's: the end of its grace period) after which
#: an object still there is stuck.
STUCK_AFTER = 30
#: How long a container runs before the kubelet forgets its crash back-off.
BACK_OFF_RESET = dt.timedelta(minutes=10)


@dataclass
class Pod:
    """One pod under examination, with what the rules share."""

    reading: Reading
    obj: Obj
    owners: list[ObjectRef]
    events: list[Obj]
    found: list[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return name_of(self.obj)

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or self.reading.namespace)

    @property
    def spec(self) -> Obj:
        return self.obj.get("spec") or {}

    @property
    def status(self) -> Obj:
        return self.obj.get("status") or {}

    def add(self, cause: str, summary: str, evidence: list[Evidence], fix: str, **kw: str) -> None:
        self.found.append(
            Finding(
                severity=kw.get("severity", "error"),  # type: ignore[arg-type]
                object=ObjectRef(kind="Pod", name=self.name),
                owners=self.owners,
                cause=cause,
                summary=summary,
                evidence=evidence,
                fix=fix,
                certainty=kw.get("certainty", "certain"),  # type: ignore[arg-type]
            )
        )

    def container_spec(self, name: str) -> Obj:
        for group in ("containers", "initContainers"):
            for c in self.spec.get(group) or []:
                if c.get("name") == name:
                    return dict(c)
        return {}

    def events_for(self, reason: str, container: str | None = None) -> list[Obj]:
        out = []
        for e in self.events:
            if e.get("reason") != reason:
                continue
            path = str((e.get("involvedObject") or e.get("regarding") or {}).get("fieldPath") or "")
            if container is not None and path and not path.endswith(f"{{{container}}}"):
                continue
            out.append(e)
        return out


def healthy(pod: Obj) -> bool:
    """A pod with nothing to say about: running and ready without restarts, or done."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return False
    phase = status.get("phase")
    if phase == "Succeeded":
        return True
    if phase != "Running":
        return False
    statuses = status.get("containerStatuses") or []
    return bool(statuses) and all(c.get("ready") and not c.get("restartCount") for c in statuses)


def diagnose_pod(reading: Reading, obj: Obj) -> list[Finding]:
    """Why the pod is not running well; [] for a healthy pod."""
    from .doctor_containers import (
        container,
        evicted,
        mounts,
        node_gone,
        probes,
        sidecar_keeps_running,
        terminating,
    )
    from .doctor_scheduling import scheduling

    if healthy(obj) and not node_gone(reading, obj):
        return []
    pod = Pod(reading, obj, owner_chain(reading, obj), reading.events_about(obj))
    terminating(pod)
    if pod.status.get("reason") == "Evicted":
        evicted(pod)
        return pod.found
    if pod.status.get("phase") == "Pending" and not pod.spec.get("nodeName"):
        scheduling(pod)
    for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
        for cs in pod.status.get(key) or []:
            if not init and _argo_wait_echo(pod.obj, cs):
                continue
            container(pod, cs, init)
    mounts(pod)
    probes(pod)
    sidecar_keeps_running(pod)
    return pod.found


def _argo_wait_echo(obj: Obj, cs: Obj) -> bool:
    """Argo's `wait` sidecar, which fails because the task's `main` did: told once, on main."""
    if cs.get("name") != "wait":
        return False
    if "workflows.argoproj.io/workflow" not in ((obj.get("metadata") or {}).get("labels") or {}):
        return False
    for other in (obj.get("status") or {}).get("containerStatuses") or []:
        ended = (other.get("state") or {}).get("terminated") or {}
        if other.get("name") == "main" and ended.get("exitCode"):
            return True
    return False


_UNITS = {
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def quantity(text: object) -> float:
    """A Kubernetes quantity (`500m`, `4`, `16Gi`) as a number."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text).strip())
    if not match:
        return 0.0
    return float(match.group(1)) * _UNITS.get(match.group(2), 1.0)
