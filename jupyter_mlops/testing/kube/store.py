"""Object storage with one growing resourceVersion, a bounded event history, and watchers."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from . import kinds
from .resources import Registry, ResourceType
from .selectors import FieldSelector, LabelSelector
from .status import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    invalid,
    not_found,
)

Obj = dict[str, Any]
Key = tuple[str, str]  # (group, plural)
ObjKey = tuple[str, str]  # (namespace, name)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
NAMESPACES: Key = ("", "namespaces")
PODS: Key = ("", "pods")
CRDS: Key = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_MISMATCH = (
    "the namespace of the provided object does not match the namespace sent on the request"
)
PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public"}


def now_rfc3339() -> str:
    """The current time as the API writes timestamps (second precision, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


class Stored:
    """An object as stored: never mutated once stored, serialized at most once."""

    __slots__ = ("_raw", "obj")

    def __init__(self, obj: Obj) -> None:
        self.obj = obj
        self._raw: bytes | None = None

    def raw(self, api_version: str | None = None) -> bytes:
        """The object's JSON, with its apiVersion rewritten when served at another version."""
        if api_version is not None and api_version != self.obj.get("apiVersion"):
            return dumps({**self.obj, "apiVersion": api_version})
        if self._raw is None:
            self._raw = dumps(self.obj)
        return self._raw

    @property
    def namespace(self) -> str:
        """The object's namespace, "" for cluster-scoped ones."""
        return str(self.obj["metadata"].get("namespace", ""))

    @property
    def name(self) -> str:
        """The object's name."""
        return str(self.obj["metadata"]["name"])


class Event:
    """One write as watchers see it: encoded once per (type, apiVersion), fanned out as bytes."""

    __slots__ = ("_encoded", "key", "new", "old", "rv", "type")

    def __init__(self, rv: int, key: Key, type_: str, new: Stored, old: Stored | None) -> None:
        self.rv = rv
        self.key = key
        self.type = type_
        self.new = new
        self.old = old
        self._encoded: dict[tuple[str, str | None], bytes] = {}

    def encoded(self, type_: str, api_version: str | None = None) -> bytes:
        """`{"type":..., "object":...}` plus newline, as sent on a watch stream."""
        cache_key = (type_, api_version)
        data = self._encoded.get(cache_key)
        if data is None:
            data = (
                b'{"type":"' + type_.encode() + b'","object":' + self.new.raw(api_version) + b"}\n"
            )
            self._encoded[cache_key] = data
        return data


class Watcher:
    """One open watch: filters events and queues them for the stream that serves it."""

    def __init__(
        self,
        key: Key,
        namespace: str,
        labels: LabelSelector,
        fields: FieldSelector,
        wake: Callable[[], None],
    ) -> None:
        self.key = key
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.pending: deque[tuple[str, Event]] = deque()
        self._wake = wake

    def matches(self, stored: Stored) -> bool:
        """Whether an object is in this watch's view."""
        obj = stored.obj
        if self.namespace and obj["metadata"].get("namespace") != self.namespace:
            return False
        if not self.labels.empty and not self.labels.matches(obj["metadata"].get("labels")):
            return False
        return self.fields.empty or self.fields.matches(obj)

    def seen_as(self, event: Event) -> str | None:
        """The event type this watcher sees: an object leaving the view is DELETED to it."""
        if event.key != self.key:
            return None
        if event.type == ADDED:
            return ADDED if self.matches(event.new) else None
        if event.type == DELETED:
            return DELETED if self.matches(event.new) else None
        now = self.matches(event.new)
        before = event.old is not None and self.matches(event.old)
        if now and before:
            return MODIFIED
        if now:
            return ADDED
        return DELETED if before else None

    def offer(self, event: Event) -> None:
        """Queue the event if it concerns this watcher (called under the store lock)."""
        seen = self.seen_as(event)
        if seen is not None:
            self.pending.append((seen, event))
            self._wake()


class Store:
    """Every object, the global resourceVersion, recent history, and who listens."""

    def __init__(self, registry: Registry, history: int = 1000) -> None:
        self.registry = registry
        self.lock = threading.RLock()
        self.rv = 1
        # The oldest resourceVersion a watch or a continue token may start from.
        self.oldest_rv = 1
        self._objects: dict[Key, dict[ObjKey, Stored]] = {}
        self._history: deque[Event] = deque(maxlen=max(1, history))
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Event], None]] = []
        # Set while a kubelet runs: called with (namespace, name, uid) of a pod to terminate.
        self.pod_termination: Callable[[str, str, str], None] | None = None

    # Listening.

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        """Call `callback(event)` after each write, under the store lock: it must not block."""
        with self.lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        """Stop calling `callback`."""
        with self.lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _commit(self, rt: ResourceType, type_: str, obj: Obj, old: Stored | None) -> Stored:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        stored = Stored(obj)
        table = self._objects.setdefault(rt.key, {})
        okey = (stored.namespace, stored.name)
        if type_ == DELETED:
            table.pop(okey, None)
        else:
            table[okey] = stored
        event = Event(self.rv, rt.key, type_, stored, old)
        if len(self._history) == self._history.maxlen:
            self.oldest_rv = self._history[0].rv
        self._history.append(event)
        for watcher in list(self._watchers):
            watcher.offer(event)
        for listener in list(self._listeners):
            listener(event)
        return stored

    # Reads.

    def get(self, rt: ResourceType, namespace: str, name: str) -> Stored:
        """The stored object; 404 if absent."""
        with self.lock:
            stored = self._objects.get(rt.key, {}).get((namespace if rt.namespaced else "", name))
        if stored is None:
            raise not_found(rt.plural, rt.group, name)
        return stored

    def find(self, key: Key, namespace: str, name: str) -> Obj | None:
        """The stored object by storage key, or None."""
        with self.lock:
            stored = self._objects.get(key, {}).get((namespace, name))
        return stored.obj if stored is not None else None

    def objects(self, key: Key, namespace: str | None = None) -> list[Obj]:
        """All stored objects of a kind (in a namespace when given)."""
        with self.lock:
            table = self._objects.get(key, {})
            return [s.obj for s in table.values() if namespace is None or s.namespace == namespace]

    def count(self, key: Key) -> int:
        """How many objects of a kind are stored."""
        with self.lock:
            return len(self._objects.get(key, {}))

    def _snapshot(self, key: Key, at_rv: int) -> dict[ObjKey, Stored]:
        # Undo, newest first, the writes made after `at_rv`: the state a paged list began with.
        state = dict(self._objects.get(key, {}))
        for event in reversed(self._history):
            if event.rv <= at_rv:
                break
            if event.key != key:
                continue
            okey = (event.new.namespace, event.new.name)
            if event.old is None:
                state.pop(okey, None)
            else:
                state[okey] = event.old
        return state

    def list_page(
        self,
        rt: ResourceType,
        namespace: str,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
        exact: bool = False,
    ) -> tuple[list[Stored], int, str, int | None]:
        """(items, list resourceVersion, continue token, remaining count) in key order."""
        start_after: ObjKey | None = None
        with self.lock:
            at_rv = self.rv
            if continue_token:
                at_rv, start_after = _decode_continue(continue_token)
                if at_rv < self.oldest_rv:
                    raise expired(
                        "The provided continue parameter is too old to display a consistent list "
                        "result. You can start a new list without the continue parameter, or use "
                        "the continue token in this response to retrieve the remainder of the "
                        "results. Continuing with the provided token results in an inconsistent "
                        "list - objects that were created, modified, or deleted between the time "
                        "the first chunk was returned and now may show up in the list.",
                        {"continue": _encode_continue(self.rv, start_after)},
                    )
            elif resource_version not in ("", "0"):
                wanted = _parse_rv(resource_version)
                if wanted > self.rv:
                    raise ApiError(
                        504,
                        "Timeout",
                        f"Timeout: Too large resource version: {wanted}, current: {self.rv}",
                        {
                            "causes": [
                                {
                                    "reason": "ResourceVersionTooLarge",
                                    "message": "Too large resource version",
                                }
                            ],
                            "retryAfterSeconds": 1,
                        },
                    )
                if exact:
                    if wanted < self.oldest_rv:
                        raise expired(f"too old resource version: {wanted} ({self.oldest_rv})")
                    at_rv = wanted
            if at_rv == self.rv:
                table: dict[ObjKey, Stored] = self._objects.get(rt.key, {})
                candidates = list(table.items())
            else:
                candidates = list(self._snapshot(rt.key, at_rv).items())
        candidates.sort(key=lambda item: item[0])
        items: list[Stored] = []
        remaining: int | None = None
        next_token = ""
        filtering = not labels.empty or not fields.empty
        for index, (okey, stored) in enumerate(candidates):
            if start_after is not None and okey <= start_after:
                continue
            if namespace and okey[0] != namespace:
                continue
            obj = stored.obj
            if filtering and not (
                labels.matches(obj["metadata"].get("labels")) and fields.matches(obj)
            ):
                continue
            if limit and len(items) == limit:
                next_token = _encode_continue(at_rv, (items[-1].namespace, items[-1].name))
                if not filtering and not namespace:
                    remaining = len(candidates) - index
                elif not filtering:
                    remaining = sum(1 for k, _ in candidates[index:] if k[0] == namespace)
                break
            items.append(stored)
        return items, at_rv, next_token, remaining

    # Watches.

    def watch(
        self, rt: ResourceType, watcher: Watcher, resource_version: str, initial: bool
    ) -> None:
        """Register a watcher and queue what it must see first; 410 for a too old version.

        `initial`: synthetic ADDED events for current objects (no version, "0", or
        sendInitialEvents); otherwise the history after `resource_version` is replayed.
        """
        with self.lock:
            if initial or resource_version in ("", "0"):
                items = sorted(self._objects.get(rt.key, {}).items(), key=lambda item: item[0])
                for _okey, stored in items:
                    if watcher.matches(stored):
                        watcher.pending.append((ADDED, Event(self.rv, rt.key, ADDED, stored, None)))
            else:
                since = _parse_rv(resource_version)
                if since < self.oldest_rv:
                    raise expired(f"too old resource version: {since} ({self.oldest_rv})")
                for event in self._history:
                    if event.rv > since:
                        seen = watcher.seen_as(event)
                        if seen is not None:
                            watcher.pending.append((seen, event))
            self._watchers.add(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        """Stop feeding a watcher."""
        with self.lock:
            self._watchers.discard(watcher)

    def watchers(self) -> list[Watcher]:
        """Open watchers."""
        with self.lock:
            return list(self._watchers)

    # Writes: the one path every HTTP request, helper and controller goes through.

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        body: Obj,
        *,
        version: str | None = None,
        keep_status: bool = False,
        dry_run: bool = False,
    ) -> Stored:
        """Store a new object; generateName, namespace defaulting, 404/409/422 as real."""
        obj = kinds.check_body_identity(rt, copy.deepcopy(body), version or rt.versions[0])
        # Stored at the storage version; reads at other versions rewrite apiVersion.
        obj["apiVersion"] = rt.api_version()
        obj["kind"] = rt.kind
        meta = obj["metadata"]
        with self.lock:
            if rt.namespaced:
                body_ns = meta.get("namespace")
                if body_ns and namespace and body_ns != namespace:
                    raise bad_request(NAMESPACE_MISMATCH)
                namespace = namespace or body_ns or ""
                if not namespace:
                    raise bad_request("an empty namespace may not be set during creation")
                meta["namespace"] = namespace
                ns_obj = self.find(NAMESPACES, "", namespace)
                if ns_obj is None:
                    raise not_found("namespaces", "", namespace)
                if ns_obj.get("metadata", {}).get("deletionTimestamp"):
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'{rt.plural} "{meta.get("name") or meta.get("generateName", "")}" is '
                        f"forbidden: unable to create new content in namespace {namespace} "
                        "because it is being terminated",
                        {"name": meta.get("name", ""), "kind": rt.plural},
                    )
            else:
                meta.pop("namespace", None)
                namespace = ""
            if not meta.get("name"):
                if meta.get("generateName"):
                    meta["name"] = f"{meta['generateName']}{kinds.random_suffix()}"
                else:
                    raise invalid(
                        rt.kind,
                        rt.group,
                        "",
                        [
                            (
                                "metadata.name",
                                "FieldValueRequired",
                                "Required value: name or generateName is required",
                            )
                        ],
                    )
            name = str(meta["name"])
            problem = kinds.name_problem(rt, name)
            if problem:
                raise invalid(
                    rt.kind, rt.group, name, [("metadata.name", "FieldValueInvalid", problem)]
                )
            if (namespace, name) in self._objects.get(rt.key, {}):
                raise already_exists(rt.plural, rt.group, name)
            kinds.prepare_create(rt, obj, keep_status)
            for field in (
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ):
                meta.pop(field, None)
            if not (keep_status and meta.get("uid")):
                meta["uid"] = str(uuid.uuid4())
            if not (keep_status and meta.get("creationTimestamp")):
                meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            if rt.key == CRDS:
                obj["status"] = kinds.crd_status(obj, meta["creationTimestamp"])
            if dry_run:
                return Stored(obj)
            stored = self._commit(rt, ADDED, obj, None)
            if rt.key == CRDS:
                self.registry.define(obj)
            return stored

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Obj,
        *,
        version: str | None = None,
        subresource: str = "",
        keep_status: bool = False,
        dry_run: bool = False,
    ) -> Stored:
        """Replace an object (PUT); 409 on a stale resourceVersion; status rules as real."""
        obj = kinds.check_body_identity(rt, copy.deepcopy(body), version or rt.versions[0])
        namespace = namespace if rt.namespaced else ""
        with self.lock:
            old = self.get(rt, namespace, name)
            meta = obj["metadata"]
            if meta.get("name") and meta["name"] != name:
                raise bad_request(
                    f"the name of the object ({meta['name']}) does not match "
                    f"the name on the URL ({name})"
                )
            if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(NAMESPACE_MISMATCH)
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old.obj["metadata"]["resourceVersion"]:
                raise conflict(rt.plural, rt.group, name)
            uid = meta.get("uid")
            if uid and uid != old.obj["metadata"].get("uid"):
                raise conflict(
                    rt.plural,
                    rt.group,
                    name,
                    _uid_mismatch(uid, old.obj["metadata"].get("uid")),
                )
            if subresource == "status":
                new = copy.deepcopy(old.obj)
                if "status" in obj:
                    new["status"] = obj["status"]
            else:
                new = obj
                new["apiVersion"] = old.obj["apiVersion"]
                new["kind"] = rt.kind
                if rt.has_status and (not keep_status or "status" not in new):
                    if "status" in old.obj:
                        new["status"] = copy.deepcopy(old.obj["status"])
                    else:
                        new.pop("status", None)
                old_meta = old.obj["metadata"]
                for field in (
                    "uid",
                    "creationTimestamp",
                    "namespace",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                ):
                    if field in old_meta:
                        meta[field] = old_meta[field]
                    else:
                        meta.pop(field, None)
                meta["name"] = name
                if old_meta.get("deletionTimestamp"):
                    added = set(meta.get("finalizers") or []) - set(
                        old_meta.get("finalizers") or []
                    )
                    if added:
                        raise invalid(
                            rt.kind,
                            rt.group,
                            name,
                            [
                                (
                                    "metadata.finalizers",
                                    "FieldValueForbidden",
                                    "Forbidden: no new finalizers can be added "
                                    "if the object is being deleted",
                                )
                            ],
                        )
                kinds.prepare_update(rt, new, old.obj)
            return self._write_update(rt, old, new, dry_run=dry_run)

    def _write_update(
        self,
        rt: ResourceType,
        old: Stored,
        new: Obj,
        *,
        dry_run: bool = False,
        bump_generation: bool = True,
    ) -> Stored:
        meta = new["metadata"]
        old_meta = old.obj["metadata"]
        meta["generation"] = old_meta.get("generation", 1)
        if bump_generation and _spec_part(new, rt) != _spec_part(old.obj, rt):
            meta["generation"] = int(meta["generation"]) + 1
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if rt.key == CRDS:
            new["status"] = kinds.crd_status(new, old_meta.get("creationTimestamp", now_rfc3339()))
        if new == old.obj:
            # A write that changes nothing keeps the version and wakes no watcher, as real.
            return old
        if dry_run:
            return Stored(new)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(rt, old, new)
        stored = self._commit(rt, MODIFIED, new, old)
        if rt.key == CRDS:
            self.registry.define(new)
        return stored

    def mutate(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        change: Callable[[Obj], None],
        uid: str = "",
        bump_generation: bool = True,
    ) -> Stored | None:
        """A controller's read-modify-write of its own fields, atomic, without user validation.

        bump_generation=False for writes that stand for a subresource (a pod's binding).
        """
        with self.lock:
            old = self._objects.get(rt.key, {}).get((namespace if rt.namespaced else "", name))
            if old is None or (uid and old.obj["metadata"].get("uid") != uid):
                return None
            new = copy.deepcopy(old.obj)
            change(new)
            return self._write_update(rt, old, new, bump_generation=bump_generation)

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation: str = "Background",
        preconditions: Obj | None = None,
        dry_run: bool = False,
        grace_seconds: int | None = None,
    ) -> Stored:
        """Delete, or only mark while finalizers remain; dependents are collected as real.

        Pods are marked Terminating first when a termination hook is set (the kubelet then
        removes them), unless `grace_seconds` is 0.
        """
        namespace = namespace if rt.namespaced else ""
        with self.lock:
            old = self.get(rt, namespace, name)
            meta = old.obj["metadata"]
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise conflict(
                    rt.plural,
                    rt.group,
                    name,
                    _uid_mismatch(pre["uid"], meta.get("uid")),
                )
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
                raise conflict(
                    rt.plural,
                    rt.group,
                    name,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
                )
            if dry_run:
                return old
            if rt.key == NAMESPACES:
                if name in PROTECTED_NAMESPACES:
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                        {"name": name, "kind": "namespaces"},
                    )
                return self._delete_namespace(rt, old)
            terminate = self.pod_termination
            if rt.key == PODS and terminate is not None and grace_seconds != 0:
                if meta.get("deletionTimestamp"):
                    return old
                grace = grace_seconds
                if grace is None:
                    grace = int(
                        (old.obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
                    )
                marked = copy.deepcopy(old.obj)
                marked["metadata"]["deletionTimestamp"] = now_rfc3339()
                marked["metadata"]["deletionGracePeriodSeconds"] = grace
                stored = self._commit(rt, MODIFIED, marked, old)
                terminate(namespace, name, str(meta.get("uid", "")))
                return stored
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return old
                marked = copy.deepcopy(old.obj)
                marked["metadata"]["deletionTimestamp"] = now_rfc3339()
                marked["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._commit(rt, MODIFIED, marked, old)
            gone = self._remove(rt, old, copy.deepcopy(old.obj), orphan=propagation == "Orphan")
            return gone

    def remove_terminated(self, rt: ResourceType, namespace: str, name: str, uid: str) -> None:
        """The kubelet is done with a Terminating pod: remove it (finalizers permitting)."""
        with self.lock:
            old = self._objects.get(rt.key, {}).get((namespace, name))
            if old is None or old.obj["metadata"].get("uid") != uid:
                return
            if not old.obj["metadata"].get("finalizers"):
                self._remove(rt, old, copy.deepcopy(old.obj))

    def _remove(self, rt: ResourceType, old: Stored, last: Obj, orphan: bool = False) -> Stored:
        stored = self._commit(rt, DELETED, last, old)
        uid = last["metadata"].get("uid")
        if rt.key == CRDS:
            gone = self.registry.forget(stored.name)
            for gone_rt in gone:
                for item in list(self._objects.get(gone_rt.key, {}).values()):
                    self._remove(gone_rt, item, copy.deepcopy(item.obj))
        if uid:
            self._collect_dependents(str(uid), orphan)
        return stored

    def _collect_dependents(self, owner_uid: str, orphan: bool) -> None:
        for key, table in list(self._objects.items()):
            for stored in list(table.values()):
                refs = stored.obj["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == owner_uid for r in refs):
                    continue
                rt = self._type_of(key, stored.obj)
                if rt is None:
                    continue
                if orphan:
                    freed = copy.deepcopy(stored.obj)
                    freed["metadata"]["ownerReferences"] = [
                        r for r in refs if r.get("uid") != owner_uid
                    ]
                    if not freed["metadata"]["ownerReferences"]:
                        del freed["metadata"]["ownerReferences"]
                    self._commit(rt, MODIFIED, freed, stored)
                elif stored.obj["metadata"].get("finalizers"):
                    if not stored.obj["metadata"].get("deletionTimestamp"):
                        marked = copy.deepcopy(stored.obj)
                        marked["metadata"]["deletionTimestamp"] = now_rfc3339()
                        self._commit(rt, MODIFIED, marked, stored)
                else:
                    self._remove(rt, stored, copy.deepcopy(stored.obj))

    def _type_of(self, key: Key, obj: Obj) -> ResourceType | None:
        rt = self.registry.by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if rt is not None and rt.key == key:
            return rt
        for candidate in self.registry.all_types():
            if candidate.key == key:
                return candidate
        return None

    def _delete_namespace(self, rt: ResourceType, old: Stored) -> Stored:
        # The namespace turns Terminating, its content is removed, then the namespace goes.
        name = old.name
        marked = copy.deepcopy(old.obj)
        marked["metadata"].setdefault("deletionTimestamp", now_rfc3339())
        marked["status"] = {"phase": "Terminating"}
        terminating = old if marked == old.obj else self._commit(rt, MODIFIED, marked, old)
        for key, table in list(self._objects.items()):
            for stored in [s for s in table.values() if s.namespace == name]:
                item_rt = self._type_of(key, stored.obj)
                if item_rt is not None and item_rt.namespaced and (name, stored.name) in table:
                    current = table[(name, stored.name)]
                    self._remove(item_rt, current, copy.deepcopy(current.obj))
        if not terminating.obj["metadata"].get("finalizers"):
            self._remove(rt, terminating, copy.deepcopy(terminating.obj))
        return terminating

    # Saving and loading.

    def dump(self) -> Obj:
        """All objects, the version counter and the history, as JSON-able data."""
        with self.lock:
            return {
                "resourceVersion": self.rv,
                "oldestResourceVersion": self.oldest_rv,
                "objects": [s.obj for table in self._objects.values() for s in table.values()],
                "history": [
                    [e.rv, list(e.key), e.type, e.new.obj, e.old.obj if e.old else None]
                    for e in self._history
                ],
            }

    def load(self, saved: Obj) -> None:
        """Restore what `dump` returned: CRDs first so their kinds are served."""
        with self.lock:
            objects: list[Obj] = list(saved.get("objects") or [])
            objects.sort(key=lambda o: o.get("kind") != "CustomResourceDefinition")
            self._objects.clear()
            for obj in objects:
                if obj.get("kind") == "CustomResourceDefinition":
                    self.registry.define(obj)
                rt = self.registry.by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
                if rt is None:
                    continue
                stored = Stored(obj)
                self._objects.setdefault(rt.key, {})[(stored.namespace, stored.name)] = stored
            self._history.clear()
            for rv, key, type_, new, old in saved.get("history") or []:
                self._history.append(
                    Event(
                        int(rv),
                        (str(key[0]), str(key[1])),
                        str(type_),
                        Stored(new),
                        Stored(old) if old else None,
                    )
                )
            self.rv = int(saved.get("resourceVersion", 1))
            self.oldest_rv = int(saved.get("oldestResourceVersion", self.rv))
            if not self._history:
                self.oldest_rv = self.rv


def _uid_mismatch(wanted: object, actual: object) -> str:
    return f"Precondition failed: UID in precondition: {wanted}, UID in object meta: {actual}"


def _spec_part(obj: Obj, rt: ResourceType) -> Obj:
    # What counts as "spec" for the generation: everything but metadata, status and type info.
    skip = {"metadata", "apiVersion", "kind"}
    if rt.has_status:
        skip.add("status")
    return {k: v for k, v in obj.items() if k not in skip}


def _parse_rv(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad_request(f'invalid resource version "{text}"') from None


def _encode_continue(rv: int, start_after: ObjKey) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": rv, "start": f"{start_after[0]}/{start_after[1]}\x00"}
    return base64.urlsafe_b64encode(dumps(token)).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, ObjKey]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        namespace, _, name = str(data["start"]).rstrip("\x00").partition("/")
        return int(data["rv"]), (namespace, name)
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request(f"continue key is not valid: {token}") from None


def sorted_items(items: Iterable[Stored]) -> list[Stored]:
    """Objects in the order the server lists them (namespace, then name)."""
    return sorted(items, key=lambda s: (s.namespace, s.name))
