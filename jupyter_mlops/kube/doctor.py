"""The doctor: what is wrong in a namespace, why, and what to do, from the cluster's own evidence.

`diagnose(cache, namespace)` returns a `Finding` for every unhealthy object of the namespace;
`diagnose_object(cache, kind, name)` those of one object (a workload's include its pods').
Both read the shared `WatchCache`, so a namespace of thousands of pods costs no request; the
rules themselves live in `doctor_pods` (pods and their containers) and `doctor_workloads`
(claims, quotas, Jobs, Deployments and the Kubeflow kinds). A kind this identity may not read
is named in the report with what that leaves out, and the rest goes on.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field

from ..errors import BadInput, Forbidden, MLOpsError, NotFound
from .cluster import Cluster, Obj, event_order, event_time
from .kinds import Kind
from .watch import WatchCache

if TYPE_CHECKING:
    from ..pipelines.models import Run, Task

__all__ = [
    "DoctorReport",
    "Evidence",
    "Examination",
    "Finding",
    "ObjectRef",
    "Reading",
    "Unreadable",
    "diagnose",
    "diagnose_object",
    "examine",
    "examine_object",
    "examine_pipeline",
    "examine_run_task",
    "examine_task",
]


class ObjectRef(BaseModel):
    """An object of the namespace, as `kubectl get KIND NAME` names it."""

    kind: str = Field(description="The object's Kind, e.g. 'Pod', 'Deployment'.")
    name: str = Field(description="The object's name.")


class Evidence(BaseModel):
    """One quoted fact a finding rests on."""

    source: Literal["condition", "event", "log", "status", "spec"] = Field(
        description="Where the text comes from."
    )
    text: str = Field(description="The text, quoted as the cluster wrote it.")
    time: str | None = Field(default=None, description="When it was written (RFC 3339), if known.")


class Finding(BaseModel):
    """One thing wrong with one object: the cause, the evidence and the fix."""

    severity: Literal["error", "warning"] = Field(
        description="error: the object does not work; warning: it works, badly or not for long."
    )
    object: ObjectRef = Field(description="The object the finding is about.")
    owners: list[ObjectRef] = Field(
        default_factory=list,
        description="Its owner chain, nearest first (ReplicaSet, then Deployment; StatefulSet, "
        "then Notebook; InferenceService, KFP run, Katib trial).",
    )
    cause: str = Field(description="A stable id of the cause, e.g. 'insufficient-cpu'.")
    summary: str = Field(description="The cause in plain words, with the numbers that matter.")
    evidence: list[Evidence] = Field(default_factory=list, description="What it rests on.")
    fix: str = Field(description="What to do, with the object's real names.")
    certainty: Literal["certain", "likely"] = Field(
        default="certain", description="'likely' where the cause is inferred."
    )


class Unreadable(BaseModel):
    """A kind the doctor could not read, and what that leaves out of the findings."""

    kind: str = Field(description="The resource, e.g. 'nodes', 'storageclasses'.")
    reason: str = Field(description="Why it could not be read.")
    limits: str = Field(description="How that limits the findings.")


class DoctorReport(BaseModel):
    """The answer of the doctor for a namespace or one object."""

    namespace: str = Field(description="The namespace examined.")
    findings: list[Finding] = Field(description="Most severe first, grouped by owner.")
    unreadable: list[Unreadable] = Field(
        default_factory=list, description="Kinds this identity could not read."
    )


#: What is read for a namespace, namespaced kinds first. Custom kinds are read where served.
NAMESPACED = (
    "pods",
    "events",
    "persistentvolumeclaims",
    "deployments",
    "replicasets",
    "statefulsets",
    "jobs",
    "resourcequotas",
    "limitranges",
    "configmaps",
    "secrets",
)
CLUSTER_WIDE = ("nodes", "storageclasses", "persistentvolumes")
ISVCS = "inferenceservices.serving.kserve.io"
NOTEBOOKS = "notebooks.kubeflow.org"
EXPERIMENTS = "experiments.kubeflow.org"
TRIALS = "trials.kubeflow.org"
CUSTOM = (ISVCS, NOTEBOOKS, EXPERIMENTS, TRIALS)

LIMITS = {
    "events": "scheduler, kubelet and controller events are not quoted; findings rest on the "
    "objects' own status and conditions",
    "nodes": "node allocatable, taints and labels are not compared with the pods' requests; "
    "the scheduler's own message is quoted instead",
    "storageclasses": "whether a StorageClass exists or is the default is inferred from the "
    "claims themselves",
    "persistentvolumes": "claims waiting for a pre-made volume are not matched against volumes",
    "resourcequotas": "quota findings quote the controller's message, not the quota's figures",
    "limitranges": "LimitRange defaults and bounds are not quoted",
    "configmaps": "a missing ConfigMap key is not checked against the keys it has",
    "secrets": "a missing Secret key is not checked against the keys it has",
    "pods": "no pod is examined: only workloads' and claims' own status",
}


class NotServed(MLOpsError):
    """The cluster does not serve this kind (a Kubeflow component is not installed)."""

    status = 404
    reason = "Not served"


class Source(Protocol):
    """Where a `Reading` gets objects: the watch cache, or the API for a one-off look."""

    namespace: str

    def start(self, plurals: Iterable[str], namespace: str) -> None: ...

    def objects(self, plural: str, namespace: str) -> tuple[int | None, list[Obj]]:
        """The objects, and the generation they are at (None where that is not known)."""
        ...

    def get(self, plural: str, name: str, namespace: str) -> Obj | None: ...

    def events_about(self, obj: Obj, namespace: str) -> list[Obj] | None: ...

    def logs(
        self, pod: str, container: str, namespace: str, previous: bool, run: str
    ) -> list[str]: ...


def _kind_of(cluster: Cluster, plural: str) -> Kind:
    try:
        return cluster.kind(plural)
    except BadInput:
        raise NotServed(f"{plural} are not served by this cluster") from None


#: Seconds a new informer may take for its first list (as `WatchCache.objects`).
WAIT_SYNCED = 10.0


class CacheSource:
    """Objects from the shared informers; logs through the API (only of failed containers)."""

    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache
        self.namespace = cache.cluster.namespace

    def _scope(self, kind: Kind, namespace: str) -> str | None:
        return namespace if kind.namespaced else None

    def start(self, plurals: Iterable[str], namespace: str) -> None:
        # Every informer starts its first list now, so they run at once, not one after another.
        for plural in plurals:
            try:
                kind = _kind_of(self.cache.cluster, plural)
                self.cache.informer(kind, self._scope(kind, namespace))
            except MLOpsError:
                continue  # the read itself reports it

    def objects(self, plural: str, namespace: str) -> tuple[int | None, list[Obj]]:
        kind = _kind_of(self.cache.cluster, plural)
        informer = self.cache.informer(kind, self._scope(kind, namespace))
        if not informer.synced:
            informer.wait_synced(WAIT_SYNCED)
        return informer.snapshot()

    def get(self, plural: str, name: str, namespace: str) -> Obj | None:
        return None  # a Reading finds it in the list it has

    def events_about(self, obj: Obj, namespace: str) -> list[Obj] | None:
        return None

    def logs(self, pod: str, container: str, namespace: str, previous: bool, run: str) -> list[str]:
        if not run:
            return _read_log(self.cache.cluster, pod, container, namespace, previous)
        return _cached_logs(
            self.cache, self.cache.cluster, pod, container, namespace, previous, run
        )


class RunningFirst:
    """The informers that views or the doctor already run, else targeted requests: describing
    one object starts no namespace-wide watch, and its events are asked for by field
    selector (`involvedObject`), not watched for the whole namespace."""

    def __init__(self, cache: WatchCache, known: dict[tuple[str, str], list[Obj]] | None = None):
        self.cache = cache
        self.cluster = cache.cluster
        self.namespace = cache.cluster.namespace
        self._cached = CacheSource(cache)
        self._direct = ClusterSource(cache.cluster, known)

    def _running(self, plural: str, namespace: str) -> bool:
        try:
            kind = _kind_of(self.cache.cluster, plural)
        except MLOpsError:
            return False
        informer = self.cache.running(kind, namespace if kind.namespaced else None)
        return informer is not None and informer.synced

    def start(self, plurals: Iterable[str], namespace: str) -> None:
        return None

    def objects(self, plural: str, namespace: str) -> tuple[int | None, list[Obj]]:
        source = self._cached if self._running(plural, namespace) else self._direct
        return source.objects(plural, namespace)

    def get(self, plural: str, name: str, namespace: str) -> Obj | None:
        if self._running(plural, namespace):
            return None  # the running informer's list has it
        return self._direct.get(plural, name, namespace)

    def events_about(self, obj: Obj, namespace: str) -> list[Obj] | None:
        if self._running("events", namespace):
            return None  # read from the running events informer
        return self._direct.events_about(obj, namespace)

    def logs(self, pod: str, container: str, namespace: str, previous: bool, run: str) -> list[str]:
        return self._cached.logs(pod, container, namespace, previous, run)


class ClusterSource:
    """Targeted requests, for one object when no watch cache is at hand (`describe`)."""

    def __init__(
        self, cluster: Cluster, known: dict[tuple[str, str], list[Obj]] | None = None
    ) -> None:
        self.cluster = cluster
        self.namespace = cluster.namespace
        self._known = dict(known or {})

    def start(self, plurals: Iterable[str], namespace: str) -> None:
        return None

    def objects(self, plural: str, namespace: str) -> tuple[int | None, list[Obj]]:
        kind = _kind_of(self.cluster, plural)
        return None, self.cluster.list_all(kind, namespace if kind.namespaced else None).items

    def get(self, plural: str, name: str, namespace: str) -> Obj | None:
        try:
            return self.cluster.get(_kind_of(self.cluster, plural), name, namespace)
        except NotFound:
            return None

    def events_about(self, obj: Obj, namespace: str) -> list[Obj] | None:
        key = (str(obj.get("kind")), name_of(obj))
        if key not in self._known:
            self._known[key] = self.cluster.events(namespace, involving=obj)
        return self._known[key]

    def logs(self, pod: str, container: str, namespace: str, previous: bool, run: str) -> list[str]:
        return _read_log(self.cluster, pod, container, namespace, previous)


LOG_TAIL = 20
_LOGS: weakref.WeakKeyDictionary[WatchCache, dict[tuple[str, ...], list[str]]] = (
    weakref.WeakKeyDictionary()
)
_LOGS_LOCK = threading.Lock()


def _read_log(
    cluster: Cluster, pod: str, container: str, namespace: str, previous: bool
) -> list[str]:
    try:
        lines = cluster.logs(pod, container, namespace=namespace, previous=previous, tail=LOG_TAIL)
        try:
            return [line for line in lines if line.strip()]
        finally:
            lines.close()
    except MLOpsError:
        return []  # no log (rotated, or not allowed): the finding stands on the status


def _cached_logs(
    cache: WatchCache,
    cluster: Cluster,
    pod: str,
    container: str,
    namespace: str,
    previous: bool,
    run: str,
) -> list[str]:
    """A container's last lines, read once per (pod, container, restart): a past run's log
    does not change, so diagnosing again costs no request."""
    key = (namespace, pod, container, str(previous), run)
    with _LOGS_LOCK:
        known = _LOGS.setdefault(cache, {})
        if key in known:
            return known[key]
    lines = _read_log(cluster, pod, container, namespace, previous)
    with _LOGS_LOCK:
        if len(known) > 2000:
            known.clear()
        known[key] = lines
    return lines


#: What a rule uses of an object it reads by name (see `Reading.by_name`).
Use = Callable[[Obj | None], object]


def version_of(obj: Obj | None) -> object:
    """All of it: any change matters."""
    return None if obj is None else str((obj.get("metadata") or {}).get("resourceVersion"))


def present(obj: Obj | None) -> object:
    """Only whether it exists (a node's heartbeats do not matter)."""
    return obj is not None


def owner_refs(obj: Obj | None) -> object:
    """Only whose it is (a ReplicaSet's status moves with every pod)."""
    return None if obj is None else repr((obj.get("metadata") or {}).get("ownerReferences"))


_FOREVER = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
#: The generation of a kind that could not be read (not served, or forbidden).
UNREAD = -1


@dataclass
class Hold:
    """What an answer rested on: the clock (it holds until `until`; a past instant: not beyond
    this examination), the events about `events`, the objects of `named` (what each rule used
    of them: its version, its owners, whether it exists), whole kinds (`listed`, at those
    generations) and whether kinds could be read."""

    until: dt.datetime = _FOREVER
    events: set[tuple[str, str]] = field(default_factory=set)
    named: dict[tuple[str, str, Use], object] = field(default_factory=dict)
    listed: dict[str, int | None] = field(default_factory=dict)
    readable: dict[str, bool] = field(default_factory=dict)


class Reading:
    """What the doctor read of one namespace, each kind read once and indexed by name."""

    def __init__(self, source: Source, namespace: str, now: dt.datetime | None = None) -> None:
        self.source = source
        self.namespace = namespace
        self._now = now or dt.datetime.now(dt.timezone.utc)
        # What is worked out inside `holding()`: until when it holds, whose events it read.
        self._hold: Hold | None = None
        self.unreadable: dict[str, Unreadable] = {}
        self._lists: dict[str, list[Obj]] = {}
        self._generations: dict[str, int | None] = {}
        self._names: dict[str, dict[str, Obj]] = {}
        #: The events by the object they are about, once built; an `Examination` passes it
        #: on to the next reading while no event has changed.
        self.events_index: dict[tuple[str, str], list[Obj]] | None = None
        self._lock = threading.Lock()

    def start(self, plurals: Iterable[str]) -> None:
        self.source.start(plurals, self.namespace)

    @property
    def now(self) -> dt.datetime:
        """The examination's clock; an answer that reads it holds for this instant only."""
        self._until(self._now)
        return self._now

    def before(self, moment: dt.datetime) -> bool:
        """Whether the clock is before `moment`: an answer that rests on it holds until then."""
        if self._now < moment:
            self._until(moment)
            return True
        return False

    def _until(self, moment: dt.datetime) -> None:
        if self._hold is not None:
            self._hold.until = min(self._hold.until, moment)

    @contextmanager
    def holding(self) -> Iterator[Hold]:
        """What the block works out, and what it rested on: see `Hold`."""
        self._hold = hold = Hold()
        try:
            yield hold
        finally:
            self._hold = None

    def objects(self, plural: str) -> list[Obj]:
        """Every object of the kind; [] (and the kind noted) when it cannot be read."""
        with self._lock:
            known = self._lists.get(plural)
        if known is None:
            known = self._list(plural)
        if self._hold is not None:
            self._hold.listed[plural] = self.generation(plural)
        return known

    def generation(self, plural: str) -> int | None:
        """The generation the kind was read at: None where the source cannot tell, and
        `UNREAD` for a kind that could not be read (until it can)."""
        if not self.listed(plural):
            self._list(plural)
        with self._lock:
            return self._generations.get(plural)

    def _list(self, plural: str) -> list[Obj]:
        generation: int | None = UNREAD
        items: list[Obj] = []
        try:
            generation, items = self.source.objects(plural, self.namespace)
        except NotServed:
            pass
        except Forbidden as exc:
            self._note(plural, exc.message)
        except MLOpsError as exc:
            self._note(plural, exc.message)
        with self._lock:
            self._lists[plural] = items
            self._generations[plural] = generation
            self._names[plural] = {str((o.get("metadata") or {}).get("name")): o for o in items}
        return items

    def readable(self, plural: str) -> bool:
        if not self.listed(plural):
            self._list(plural)
        answer = plural not in self.unreadable
        if self._hold is not None:
            self._hold.readable[plural] = answer
        return answer

    def listed(self, plural: str) -> bool:
        with self._lock:
            return plural in self._lists

    def by_name(self, plural: str, name: str, uses: Use = version_of) -> Obj | None:
        """The object of that name (None if there is none); `uses` says what the caller
        rests on, so that an answer worked out from it is kept while that stays the same."""
        found = self._by_name(plural, name)
        if self._hold is not None:
            self._hold.named[(plural, name, uses)] = uses(found)
        return found

    def _by_name(self, plural: str, name: str) -> Obj | None:
        if not self.listed(plural):
            try:
                got = self.source.get(plural, name, self.namespace)
            except NotServed:
                return None
            except MLOpsError as exc:
                self._note(plural, exc.message)
                return None
            if got is not None:
                return got
        if plural not in self._lists:
            self._list(plural)
        with self._lock:
            return self._names.get(plural, {}).get(name)

    def events_about(self, obj: Obj) -> list[Obj]:
        """Events about the object, oldest first (core/v1 and events.k8s.io/v1 shapes)."""
        meta = obj.get("metadata") or {}
        key = (str(obj.get("kind")), str(meta.get("name")))
        if self._hold is not None:
            self._hold.events.add(key)
        if not self.listed("events"):
            try:
                targeted = self.source.events_about(obj, self.namespace)
            except Forbidden as exc:
                self._note("events", exc.message)
                return []
            except MLOpsError:
                targeted = None
            if targeted is not None:
                return targeted
        with self._lock:
            index = self.events_index
        if index is None:
            index = {}
            if not self.listed("events"):
                self._list("events")
            for event in self._lists["events"]:
                about = event.get("involvedObject") or event.get("regarding") or {}
                index.setdefault((str(about.get("kind")), str(about.get("name"))), []).append(event)
            for events in index.values():
                events.sort(key=event_order)
            with self._lock:
                self.events_index = index
        return index.get(key, [])

    def logs(self, pod: str, container: str, *, previous: bool = True, run: str = "") -> list[str]:
        """The container's last lines; `run` names the run (uid, restarts, end) so that a past
        run's log, which never changes, is read once."""
        if not run:
            self._until(self._now)  # a log that may still grow: not kept
        return self.source.logs(pod, container, self.namespace, previous, run)

    def _note(self, plural: str, message: str) -> None:
        self.unreadable.setdefault(
            plural,
            Unreadable(
                kind=plural,
                reason=f"could not read {plural}: {message}",
                limits=LIMITS.get(plural, f"findings that need {plural} are left out"),
            ),
        )


# -- helpers the rules share ---------------------------------------------------------------


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def ref(obj: Obj, kind: str | None = None) -> ObjectRef:
    return ObjectRef(kind=kind or str(obj.get("kind") or ""), name=name_of(obj))


def conditions(obj: Obj) -> list[Obj]:
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    return [c for c in (status or {}).get("conditions") or [] if isinstance(c, dict)]


def condition(obj: Obj, type_: str) -> Obj | None:
    return next((c for c in conditions(obj) if c.get("type") == type_), None)


def condition_evidence(c: Obj) -> Evidence:
    text = f"{c.get('type')}={c.get('status')}"
    if c.get("reason"):
        text += f" {c.get('reason')}"
    if c.get("message"):
        text += f": {c.get('message')}"
    return Evidence(source="condition", text=text, time=c.get("lastTransitionTime"))


def event_message(event: Obj) -> str:
    return str(event.get("message") or event.get("note") or "")


def event_evidence(event: Obj) -> Evidence:
    count = event.get("count") or (event.get("series") or {}).get("count")
    times = f" (x{count})" if count and int(count) > 1 else ""
    return Evidence(
        source="event",
        text=f"{event.get('type')} {event.get('reason')}{times}: {event_message(event)}",
        time=event_time(event) or None,
    )


def parse_time(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# -- owners --------------------------------------------------------------------------------

_LABEL_OWNERS = (
    ("serving.kserve.io/inferenceservice", "InferenceService"),
    ("pipeline/runid", "PipelineRun"),
    ("katib.kubeflow.org/trial", "Trial"),
    ("notebook-name", "Notebook"),
)


def owner_chain(reading: Reading, obj: Obj) -> list[ObjectRef]:
    """The controllers above an object, nearest first, then what its labels say it belongs to."""
    chain: list[ObjectRef] = []
    current: Obj | None = obj
    for _ in range(4):
        refs = ((current or {}).get("metadata") or {}).get("ownerReferences") or []
        owner = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if not owner:
            break
        kind, name = str(owner.get("kind")), str(owner.get("name"))
        chain.append(ObjectRef(kind=kind, name=name))
        plural = {
            "ReplicaSet": "replicasets",
            "StatefulSet": "statefulsets",
            "Deployment": "deployments",
            "Job": "jobs",
        }.get(kind)
        current = reading.by_name(plural, name, owner_refs) if plural else None
        if current is None:
            break
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for label, kind in _LABEL_OWNERS:
        value = labels.get(label)
        if value and not any(r.kind == kind and r.name == value for r in chain):
            chain.append(ObjectRef(kind=kind, name=str(value)))
    return chain


def top_owner(owners: list[ObjectRef]) -> ObjectRef | None:
    """The object a user edits to change a pod: its Deployment, StatefulSet, Job, Notebook…"""
    editable = ("Notebook", "InferenceService", "Deployment", "StatefulSet", "Job", "ReplicaSet")
    for kind in editable:
        for owner in owners:
            if owner.kind == kind:
                return owner
    return None


# -- the entry points ----------------------------------------------------------------------

Rule = Callable[[Reading], list[Finding]]


Where = WatchCache | Cluster | ClusterSource | RunningFirst


def _source(where: Where) -> Source:
    if isinstance(where, WatchCache):
        return CacheSource(where)
    return ClusterSource(where) if isinstance(where, Cluster) else where


def _ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first; within them grouped by the top owner, then by object."""

    def key(f: Finding) -> tuple[int, str, str, str]:
        top = f.owners[-1] if f.owners else f.object
        return (0 if f.severity == "error" else 1, f"{top.kind}/{top.name}", f.object.name, f.cause)

    unique: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.object.kind, f.object.name, f.cause, f.summary), f)
    return sorted(unique.values(), key=key)


@dataclass
class _Worked:
    """One pod's findings and what they rested on."""

    version: str
    events: tuple[Any, ...]
    hold: Hold
    findings: list[Finding]


@dataclass
class Examination:
    """What one examination of a namespace worked out, kept for the next (`examine(...,
    examination=)`): a pod is diagnosed again only when it, or anything its rules read (events,
    its owners, its node, claims, a whole kind), has changed, or when its answer rested on the
    clock and no longer holds. The rules above pods (workloads, claims, Kubeflow kinds) are
    few and cheap, and run again each time.
    """

    pods: dict[str, _Worked] = field(default_factory=dict)
    #: The pods the last examination diagnosed; the others' findings were taken as they were.
    worked_out: list[str] = field(default_factory=list)
    #: The events index of the last reading, and the events' generation it was built at.
    events: tuple[int | None, dict[tuple[str, str], list[Obj]] | None] = (None, None)


def _events_of(reading: Reading, keys: Iterable[tuple[str, str]]) -> tuple[Any, ...]:
    """The versions of the events about each object, to tell whether any has changed."""
    return tuple(
        (kind, name, tuple(version_of(e) for e in reading.events_about(_named(kind, name))))
        for kind, name in sorted(keys)
    )


def _named(kind: str, name: str) -> Obj:
    return {"kind": kind, "metadata": {"name": name}}


def _still_holds(reading: Reading, worked: _Worked, version: str) -> bool:
    """Whether nothing the pod's last answer rested on has changed."""
    hold = worked.hold
    return (
        worked.version == version
        and reading.before(hold.until)
        and all(g is not None and reading.generation(p) == g for p, g in hold.listed.items())
        and all(reading.readable(p) == r for p, r in hold.readable.items())
        and all(use(reading.by_name(p, n)) == v for (p, n, use), v in hold.named.items())
        and _events_of(reading, hold.events) == worked.events
    )


def _pod_findings(reading: Reading, examination: Examination | None) -> list[Finding]:
    from .doctor_pods import diagnose_pod

    pods = reading.objects("pods")
    if examination is None:
        return [f for pod in pods for f in diagnose_pod(reading, pod)]
    generation = reading.generation("events")
    if generation is not None and generation == examination.events[0]:
        reading.events_index = examination.events[1]  # no event changed: no index to build
    kept: dict[str, _Worked] = {}
    worked_out: list[str] = []
    findings: list[Finding] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        uid, version = str(meta.get("uid") or meta.get("name")), str(meta.get("resourceVersion"))
        known = examination.pods.get(uid)
        if known is None or not _still_holds(reading, known, version):
            with reading.holding() as hold:
                found = diagnose_pod(reading, pod)
            known = _Worked(version, _events_of(reading, hold.events), hold, found)
            worked_out.append(str(meta.get("name")))
        kept[uid] = known
        findings += known.findings
    examination.pods, examination.worked_out = kept, worked_out
    examination.events = (generation, reading.events_index)
    return findings


def examine(
    where: Where,
    namespace: str | None = None,
    *,
    now: dt.datetime | None = None,
    examination: Examination | None = None,
) -> DoctorReport:
    """Findings for every unhealthy object of the namespace, and what could not be read.

    With `examination` (the one the last call filled), only what changed is worked out again.
    """
    from . import doctor_workloads

    source = _source(where)
    reading = Reading(source, namespace or source.namespace, now)
    reading.start(NAMESPACED + CLUSTER_WIDE + CUSTOM)
    findings = _pod_findings(reading, examination)
    findings += doctor_workloads.diagnose_workloads(reading, findings)
    for plural in CLUSTER_WIDE:
        reading.readable(plural)  # the answer says what could not be read, needed or not
    return DoctorReport(
        namespace=reading.namespace,
        findings=_ordered(findings),
        unreadable=_unreadable(reading),
    )


def _unreadable(reading: Reading) -> list[Unreadable]:
    return [reading.unreadable[k] for k in sorted(reading.unreadable)]


def examine_object(
    where: Where,
    kind: str | Kind,
    name: str,
    namespace: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> DoctorReport:
    """Findings for one object: its own, and those of the objects it owns (a Deployment's pods).

    `NotFound` when there is no such object.
    """
    from . import doctor_pods, doctor_workloads

    source = _source(where)
    cluster = where if isinstance(where, Cluster) else where.cluster
    k = kind if isinstance(kind, Kind) else cluster.kind(kind)
    reading = Reading(source, namespace or source.namespace, now)
    if k.plural == "pods":
        obj = reading.by_name("pods", name)
        if obj is None:
            raise NotFound(f'pods "{name}" not found in namespace {reading.namespace!r}')
        obj.setdefault("kind", "Pod")
        findings = doctor_pods.diagnose_pod(reading, obj)
    elif k.plural == "persistentvolumeclaims":
        obj = reading.by_name("persistentvolumeclaims", name)
        if obj is None:
            raise NotFound(f'persistentvolumeclaims "{name}" not found')
        obj.setdefault("kind", "PersistentVolumeClaim")
        findings = doctor_workloads.diagnose_claim(reading, obj)
    else:
        key = f"{k.plural}.{k.group}" if k.group else k.plural
        if reading.by_name(key, name) is None:
            raise NotFound(f'{k.plural} "{name}" not found in namespace {reading.namespace!r}')
        reading.start(NAMESPACED + CLUSTER_WIDE + CUSTOM)
        everything: list[Finding] = []
        for pod in reading.objects("pods"):
            everything += doctor_pods.diagnose_pod(reading, pod)
        everything += doctor_workloads.diagnose_workloads(reading, everything)
        findings = [
            f
            for f in everything
            if (f.object.kind == k.kind and f.object.name == name)
            or any(o.kind == k.kind and o.name == name for o in f.owners)
        ]
    return DoctorReport(
        namespace=reading.namespace, findings=_ordered(findings), unreadable=_unreadable(reading)
    )


def diagnose(where: WatchCache | Cluster, namespace: str | None = None) -> list[Finding]:
    """Every unhealthy object's findings in the namespace (the cache's own by default)."""
    return examine(where, namespace).findings


def diagnose_object(
    where: WatchCache | Cluster, kind: str | Kind, name: str, namespace: str | None = None
) -> list[Finding]:
    """One object's findings; a workload's include those of the pods it owns."""
    return examine_object(where, kind, name, namespace).findings


def examine_task(
    where: Where,
    run_id: str,
    task: str,
    namespace: str | None = None,
    *,
    last_state: str | None = None,
    finished_at: str | None = None,
    error: str | None = None,
    now: dt.datetime | None = None,
) -> DoctorReport:
    """Findings for one task of a KFP run: its executor pod's, or, when the pod is gone, the
    task's last known state (`last_state`, `finished_at`, `error`, as the KFP API reports it)."""
    from . import doctor_kfp

    source = _source(where)
    reading = Reading(source, namespace or source.namespace, now)
    findings = doctor_kfp.diagnose_task(reading, run_id, task, last_state, finished_at, error)
    return DoctorReport(
        namespace=reading.namespace, findings=_ordered(findings), unreadable=_unreadable(reading)
    )


def examine_run_task(
    where: Where, run: Run, task: Task, namespace: str | None = None
) -> DoctorReport:
    """`examine_task` for a task as the pipelines backend reports it (state, end)."""
    finished = task.finished_at
    return examine_task(
        where,
        run.id,
        task.name,
        namespace,
        last_state=task.state.value,
        finished_at=finished.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if finished
        else None,
    )


def examine_pipeline(
    cache: WatchCache, spec: object, name: str, namespace: str | None = None
) -> DoctorReport:
    """Before a submit: the pipeline's tasks whose pods, as the compiled spec sizes them, the
    namespace's quota or LimitRange would refuse, or no node could ever hold."""
    from ..pipelines.fit import pipeline_fit

    where = namespace or cache.cluster.namespace
    findings: list[Finding] = []
    unknown: list[str] = []
    for fit in pipeline_fit(cache, spec, namespace=where):
        for refusal in fit.refusals:
            findings.append(
                _fit_finding(
                    name,
                    fit,
                    "task-refused-at-admission",
                    f"{fit.task}: its pod would be refused: {refusal}",
                    "Lower the component's request or limit (set_cpu_request, "
                    "set_memory_limit…), or ask the namespace's owner for more quota.",
                )
            )
        if fit.no_node is None:
            if fit.requests or fit.limits:
                unknown.append(fit.task)
            continue
        for what in fit.no_node:
            findings.append(
                _fit_finding(
                    name,
                    fit,
                    "task-fits-no-node",
                    f"{fit.task}: no node could ever hold it: {what}",
                    "Ask for less than the largest node has, or for a node pool that has it.",
                )
            )
    unreadable = []
    if unknown:
        unreadable.append(
            Unreadable(
                kind="nodes",
                reason="nodes are not readable with this identity",
                limits=f"cannot tell whether a node could hold {', '.join(unknown)}",
            )
        )
    return DoctorReport(namespace=where, findings=_ordered(findings), unreadable=unreadable)


def _fit_finding(pipeline: str, fit: Any, cause: str, summary: str, fix: str) -> Finding:
    return Finding(
        severity="error",
        object=ObjectRef(kind="PipelineTask", name=fit.task),
        owners=[ObjectRef(kind="Pipeline", name=pipeline)],
        cause=cause,
        summary=summary,
        evidence=[Evidence(source="spec", text=f"requests {fit.requests}, limits {fit.limits}")],
        fix=fix,
        certainty="likely",
    )
