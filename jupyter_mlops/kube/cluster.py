"""`Cluster`: the Kubernetes API as a data scientist uses it, over the official client.

Objects are plain dicts exactly as the API server sends them (no model classes: faster, and
custom resources look like built-in ones). Every failure becomes one of the typed errors of
`jupyter_mlops.errors`, worded for the user.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import (
    BadInput,
    Conflict,
    Forbidden,
    Invalid,
    MLOpsError,
    NotFound,
    Unavailable,
    root_cause,
)
from ..policy import refuse_writes
from .kinds import BUILTIN, BUILTIN_GROUPS, Kind, find_kind
from .names import check_container

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

Obj = dict[str, Any]

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 15.0
#: Seconds a request waits out the API server's 429 (flow control, or a new custom kind's
#: storage still initializing): it was not served, so it is sent again, as client-go does.
THROTTLED_PATIENCE = 15.0
CHUNK = 64 * 1024
_REDACTED = re.compile(r"\d+ bytes")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_NOT_VALID = re.compile(r"container \S+ is not valid for pod \S+")
_UNTYPED_APPLY = re.compile(r"failed to create typed patch object .*not declared in schema")
#: A kubelet sends a log follow's headers only with its first line: a quiet pod's follow is
#: asked again after this long without an answer, so it can be closed in between.
FOLLOW_ANSWER_WAIT = 2.0


class Expired(MLOpsError):
    """A watch or continue token is older than the server keeps (HTTP 410 Gone)."""

    status = 410
    reason = "Expired"


@dataclass(frozen=True)
class ObjectList:
    """One page of a list, with what is needed to ask for the next page or to watch from it."""

    kind: Kind
    items: list[Obj]
    resource_version: str
    continue_token: str | None


class Cluster:
    """A connection to one cluster, acting in one namespace by default.

    >>> cluster = Cluster.connect()          # in a Kubeflow notebook: nothing to configure
    >>> [p["metadata"]["name"] for p in cluster.list("pods").items]
    """

    def __init__(self, settings: Settings, api: ApiClient | None = None) -> None:
        from .connect import api_client

        self.settings = settings
        self.namespace = settings.namespace or "default"
        self.endpoint = settings.cluster_endpoint or "(none)"
        # No client-side retries: callers decide (the watch cache reconnects with backoff).
        self.api = api if api is not None else api_client(settings, retries=0)
        self._custom: tuple[Kind, ...] | None = None

    @classmethod
    def connect(cls, settings: Settings | None = None) -> Cluster:
        """A cluster from the resolved configuration; `Unavailable` when none is configured."""
        from ..config import resolve

        return cls(settings if settings is not None else resolve())

    def close(self) -> None:
        self.api.close()

    # -- transport -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float | None] | None = (CONNECT_TIMEOUT, READ_TIMEOUT),
        quiet: Exception | None = None,
    ) -> Any:
        """One request; returns the urllib3 response, unread. `quiet` is raised instead of
        Unavailable when the server sent nothing within the read timeout."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError

        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        deadline = time.monotonic() + THROTTLED_PATIENCE
        while True:
            try:
                return self.api.call_api(
                    path,
                    method,
                    query_params=params,
                    header_params={"Accept": "application/json", "Content-Type": content_type},
                    body=body,
                    auth_settings=["BearerToken"],
                    _return_http_data_only=True,
                    _preload_content=False,
                    _request_timeout=timeout,
                )
            except ApiException as exc:
                wait = _retry_after(exc)
                if exc.status != 429 or time.monotonic() + wait > deadline:
                    raise self._error(exc, method, path) from None
                time.sleep(wait)
            except HTTPError as exc:
                # The pool wraps a read timeout in MaxRetryError when its retries are spent.
                cause = exc.reason if isinstance(exc, MaxRetryError) else exc
                if isinstance(cause, ReadTimeoutError) and quiet is not None:
                    raise quiet from None
                raise Unavailable(
                    "cluster",
                    f"cannot reach the Kubernetes API at {self.endpoint}: {root_cause(exc)}",
                ) from None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request whose JSON answer is returned decoded, any Secret in it redacted."""
        response = self._call(method, path, **kwargs)
        try:
            return redact_answer(json.loads(response.data))
        finally:
            response.release_conn()

    def stream_lines(
        self, path: str, query: dict[str, Any], timeout: float | None
    ) -> Iterator[bytes]:
        """The answer of a streaming request (watch, follow), one line at a time, as it comes."""
        stream = Stream(self, path, query, timeout)
        try:
            yield from stream
        finally:
            stream.close()

    def watch(
        self,
        kind: str | Kind,
        namespace: str | None,
        resource_version: str,
        *,
        selector: str | None = None,
        timeout_seconds: int = 60,
    ) -> Stream:
        """A watch from `resource_version`: lines of `{"type", "object"}` JSON, with bookmarks.

        `Expired` is raised (by the iteration) when the version is older than the server keeps.
        """
        k = kind if isinstance(kind, Kind) else self.kind(kind)
        query = {
            "watch": True,
            "resourceVersion": resource_version,
            "allowWatchBookmarks": True,
            "timeoutSeconds": timeout_seconds,
            "labelSelector": selector,
        }
        return Stream(self, k.path(namespace), query, timeout_seconds + READ_TIMEOUT)

    def _error(self, exc: Any, method: str, path: str) -> MLOpsError:
        status_obj: Obj = {}
        with contextlib.suppress(TypeError, ValueError):
            status_obj = json.loads(exc.body or b"{}")
        message = str(status_obj.get("message") or exc.reason or "no message")
        code = int(exc.status or 0)
        if code == 400:
            return BadInput(message)
        if code == 401:
            return Forbidden(
                f"the Kubernetes API refused the credentials ({message}); the token may have "
                "expired or the kubeconfig may point at another cluster",
            )
        if code == 403:
            return _forbidden(message, method, path)
        if code == 404:
            return NotFound(message)
        if code == 409:
            return Conflict(message)
        if code == 410:
            return Expired(message)
        if code == 422 or (code == 500 and _UNTYPED_APPLY.search(message)):
            # A server-side apply naming a field the schema lacks is the user's mistake, though
            # the API server (1.35) answers it with 500.
            return Invalid(message)
        return Unavailable("cluster", f"the Kubernetes API answered HTTP {code}: {message}")

    # -- discovery -------------------------------------------------------------------------

    def kinds(self) -> tuple[Kind, ...]:
        """Built-in kinds the product knows, plus custom resources the server serves."""
        return BUILTIN + self.custom_kinds()

    def custom_kinds(self, *, refresh: bool = False) -> tuple[Kind, ...]:
        """Every other kind the server serves, as `kubectl api-resources` lists them.

        All versions of every group are read, the preferred one first, so a kind served only
        in an older version (Katib's `kubeflow.org/v1beta1` beside Notebooks' `v1`) is found
        too; each kind appears once, in the first version that serves it.
        """
        if self._custom is not None and not refresh:
            return self._custom
        known = {(k.group, k.plural) for k in BUILTIN}
        found: list[Kind] = []
        for group, version in self._group_versions():
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                listing = self.request("GET", path)
            except MLOpsError:
                continue  # one broken group must not hide the others
            for res in listing.get("resources", []):
                name = res.get("name", "")
                if "/" in name or "list" not in res.get("verbs", []):
                    continue
                if (group, name) in known:
                    continue
                known.add((group, name))
                found.append(
                    Kind(
                        plural=name,
                        kind=res.get("kind", name),
                        group=group,
                        version=version,
                        namespaced=bool(res.get("namespaced", True)),
                        short_names=tuple(res.get("shortNames") or ()),
                        custom=group not in BUILTIN_GROUPS,
                        singular_name=res.get("singularName") or "",
                    )
                )
        self._custom = tuple(sorted(found, key=lambda k: (k.group, k.plural)))
        return self._custom

    def _group_versions(self) -> list[tuple[str, str]]:
        """(group, version) of everything served: the core group, then each group's versions
        with the preferred one first."""
        pairs = [("", v) for v in self.request("GET", "/api").get("versions", []) or ["v1"]]
        for group in self.request("GET", "/apis").get("groups", []):
            name = group.get("name", "")
            preferred = (group.get("preferredVersion") or {}).get("version")
            versions = [v.get("version") for v in group.get("versions") or [] if v.get("version")]
            ordered = [preferred] if preferred else []
            ordered += [v for v in versions if v != preferred]
            pairs += [(name, v) for v in ordered]
        return pairs

    def kind(self, word: str) -> Kind:
        """The kind a user means (`po`, `pods`, `deploy`, `notebooks`, …)."""
        try:
            return find_kind(word)
        except BadInput:
            return find_kind(word, self.custom_kinds())

    # -- reading ---------------------------------------------------------------------------

    def list(
        self,
        kind: str | Kind,
        namespace: str | None = None,
        *,
        selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        all_namespaces: bool = False,
    ) -> ObjectList:
        """One page of objects (all of them when `limit` is None)."""
        k = kind if isinstance(kind, Kind) else self.kind(kind)
        ns = None if all_namespaces else (namespace or self.namespace)
        answer = self.request(
            "GET",
            k.path(ns),
            query={
                "labelSelector": selector,
                "fieldSelector": field_selector,
                "limit": limit,
                "continue": continue_token,
            },
        )
        items: list[Obj] = answer.get("items") or []
        for item in items:
            # Lists leave kind and apiVersion off the items; put them back for the user.
            item.setdefault("kind", k.kind)
            item.setdefault("apiVersion", k.api_version)
            redact(k, item)
        meta = answer.get("metadata") or {}
        return ObjectList(k, items, str(meta.get("resourceVersion", "")), meta.get("continue"))

    def list_all(self, kind: str | Kind, namespace: str | None = None, **kw: Any) -> ObjectList:
        """Every object, fetched in pages of 500 so that huge namespaces stay cheap."""
        page = self.list(kind, namespace, limit=500, **kw)
        items, first = list(page.items), page
        while page.continue_token:
            page = self.list(kind, namespace, limit=500, continue_token=page.continue_token, **kw)
            items.extend(page.items)
        return ObjectList(first.kind, items, first.resource_version, None)

    def get(self, kind: str | Kind, name: str, namespace: str | None = None) -> Obj:
        """One object; `NotFound` naming it when it does not exist."""
        k = kind if isinstance(kind, Kind) else self.kind(kind)
        obj: Obj = self.request("GET", k.path(namespace or self.namespace, name))
        return redact(k, obj)

    def events(
        self,
        namespace: str | None = None,
        *,
        warnings: bool = False,
        involving: Obj | None = None,
    ) -> builtins.list[Obj]:
        """Events, oldest first; only warnings, or only those about one object, if asked."""
        fields = []
        if warnings:
            fields.append("type=Warning")
        if involving is not None:
            meta = involving.get("metadata", {})
            fields.append(f"involvedObject.name={meta.get('name')}")
            if involving.get("kind"):
                fields.append(f"involvedObject.kind={involving['kind']}")
        items = self.list_all("events", namespace, field_selector=",".join(fields) or None).items
        return sorted(items, key=event_order)

    def logs(
        self,
        pod: str,
        container: str | None = None,
        *,
        namespace: str | None = None,
        follow: bool = False,
        tail: int | None = None,
        since: str | int | None = None,
        previous: bool = False,
        timestamps: bool = False,
    ) -> LogLines:
        """A pod's log, line by line; with `follow`, lines keep coming until the pod ends.

        `since` takes seconds or a duration such as `5m` or `1h30m`. The result can be closed
        from another thread to stop following.
        """
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
            raise BadInput("tail must be a whole number of lines, zero or more")
        query = {
            "container": check_container(container) if container is not None else None,
            "follow": follow or None,
            "tailLines": tail,
            "sinceSeconds": parse_duration(since) if since is not None else None,
            "previous": previous or None,
            "timestamps": timestamps or None,
        }
        path = find_kind("pods").path(namespace or self.namespace, pod, "log")
        try:
            stream = (
                FollowStream(self, path, query)
                if follow
                else Stream(self, path, query, READ_TIMEOUT)
            )
            return LogLines(stream)
        except BadInput as exc:
            if container is None or not _NOT_VALID.fullmatch(str(exc)):
                raise
            raise self._no_such_container(pod, container, namespace) from None

    def _no_such_container(self, pod: str, container: str, namespace: str | None) -> BadInput:
        """The API server says only "container X is not valid for pod P": name those it has."""
        try:
            spec = self.get("pods", pod, namespace).get("spec") or {}
        except MLOpsError:
            return BadInput(f"container {container} is not valid for pod {pod}")
        has = [f"its containers: {_names(spec.get('containers'))}"]
        for field, what in (("initContainers", "init"), ("ephemeralContainers", "ephemeral")):
            if spec.get(field):
                has.append(f"{what} containers: {_names(spec.get(field))}")
        return BadInput(f"pod {pod} has no container {container} ({'; '.join(has)})")

    # -- acting ----------------------------------------------------------------------------

    def delete(self, kind: str | Kind, name: str, namespace: str | None = None) -> Obj:
        """Delete an object of a kind this product lets people delete: only pods, whose owner
        (a Deployment, a StatefulSet) makes a new one; `BadInput` for any other kind."""
        k = kind if isinstance(kind, Kind) else self.kind(kind)
        if k.plural not in DELETABLE:
            raise BadInput(
                f"only pods can be deleted here, not {k.plural}: delete a pod to have its "
                "owner make a new one"
            )
        return self.delete_pod(name, namespace)

    def delete_pod(self, name: str, namespace: str | None = None) -> Obj:
        """Delete a pod; a Deployment or StatefulSet that owns it makes a new one."""
        refuse_writes(self.settings, "deleting pods")
        answer: Obj = self.request(
            "DELETE", find_kind("pods").path(namespace or self.namespace, name)
        )
        return answer

    def scale(self, deployment: str, replicas: int, namespace: str | None = None) -> Obj:
        """Set a Deployment's replicas through its scale subresource (0 to `max_replicas`)."""
        refuse_writes(self.settings, "scaling deployments")
        highest = self.settings.max_replicas
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            raise BadInput("replicas must be a whole number")
        if not 0 <= replicas <= highest:
            raise BadInput(f"replicas must be between 0 and {highest} (c.MLOpsConfig.max_replicas)")
        path = find_kind("deployments").path(namespace or self.namespace, deployment, "scale")
        answer: Obj = self.request(
            "PATCH",
            path,
            body={"spec": {"replicas": replicas}},
            content_type="application/merge-patch+json",
        )
        return answer

    def can_i(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """Whether this identity may `verb` the `resource` (`pods`, `pods/log`, …) here."""
        plural, _, sub = resource.partition("/")
        k = self.kind(plural)
        attributes: Obj = {"verb": verb, "resource": k.plural, "group": k.group}
        if sub:
            attributes["subresource"] = sub
        if k.namespaced:
            attributes["namespace"] = namespace or self.namespace
        review = self.request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes},
            },
        )
        return bool((review.get("status") or {}).get("allowed"))


class Stream:
    """An open streaming answer, read line by line; `close()` ends it from any thread."""

    def __init__(
        self, cluster: Cluster, path: str, query: dict[str, Any], timeout: float | None
    ) -> None:
        self._cluster = cluster
        self._response = cluster._call("GET", path, query, timeout=(CONNECT_TIMEOUT, timeout))
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        from urllib3.exceptions import HTTPError

        pending = b""
        try:
            for chunk in self._response.stream(CHUNK, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from lines
            if pending:
                yield pending
        except (HTTPError, OSError, AttributeError) as exc:
            # Closing the response from another thread surfaces here as a read error.
            if not self._closed:
                raise Unavailable(
                    "cluster",
                    f"the stream from {self._cluster.endpoint} broke: {root_cause(exc)}",
                ) from None

    def close(self) -> None:
        self._closed = True
        # Shut the socket down first: closing a response another thread is reading from
        # waits for that read, which may wait forever on a quiet follow or watch.
        shutdown = getattr(self._response, "shutdown", None)
        try:
            if shutdown is not None:
                shutdown()
            else:
                sock = getattr(self._response.connection, "sock", None)
                if sock is not None:
                    sock.shutdown(socket.SHUT_RD)
        except (ValueError, RuntimeError, OSError):
            pass  # already closed, or the answer was read to its end
        self._response.close()
        self._response.release_conn()


class _Quiet(Exception):
    """The server has not answered yet (a follow of a pod that printed nothing)."""


class FollowStream(Stream):
    """A log follow. The request is asked again while a quiet pod's kubelet holds back its
    answer, so `close()` ends the follow even before the pod prints its first line, and
    errors (no such pod or container) still come at once."""

    def __init__(self, cluster: Cluster, path: str, query: dict[str, Any]) -> None:
        self._cluster, self._path, self._query = cluster, path, query
        self._closed = False
        self._response = self._attempt()

    def _attempt(self) -> Any:
        try:
            response = self._cluster._call(
                "GET",
                self._path,
                self._query,
                timeout=(CONNECT_TIMEOUT, FOLLOW_ANSWER_WAIT),
                quiet=_Quiet(),
            )
        except _Quiet:
            return None
        # Answered: from now on the follow may stay quiet for as long as the pod does.
        sock = getattr(getattr(response, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(None)
        return response

    def __iter__(self) -> Iterator[bytes]:
        while self._response is None:
            if self._closed:
                return
            self._response = self._attempt()
            if self._closed and self._response is not None:
                super().close()
                return
        yield from super().__iter__()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            super().close()


class LogLines:
    """Lines of a log as text; `close()` from any thread ends a follow."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._lines = iter(stream)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._lines).decode("utf-8", "replace")

    def close(self) -> None:
        self._stream.close()


def _retry_after(exc: Any) -> float:
    """The seconds a 429 asks to wait (its Retry-After, 1 s without one, at most 5)."""
    try:
        return min(5.0, max(0.1, float((exc.headers or {}).get("Retry-After") or 1)))
    except (TypeError, ValueError):
        return 1.0


#: The kinds people may delete from the sidebar and `%k8s delete`.
DELETABLE = ("pods",)


def shown(obj: Obj) -> Obj:
    """An object as people are shown it: without the server's field bookkeeping
    (`metadata.managedFields`), which kubectl leaves out too."""
    (obj.get("metadata") or {}).pop("managedFields", None)
    return obj


def redact(kind: Kind, obj: Obj) -> Obj:
    """Drop a Secret's values (keys stay): they never leave the server, in any view."""
    if kind.plural == "secrets" and kind.group == "":
        _redact_secret(obj)
    return obj


def redact_answer(answer: Any) -> Any:
    """Any Secret or list of Secrets the API server sent, its values dropped.

    Every read of `Cluster` passes here, so no view or new code path can see a value.
    """
    if isinstance(answer, dict):
        kind, version = answer.get("kind"), answer.get("apiVersion")
        if version == "v1" and kind == "Secret":
            _redact_secret(answer)
        elif version == "v1" and kind == "SecretList":
            for item in answer.get("items") or []:
                if isinstance(item, dict):
                    _redact_secret(item)
    return answer


def _redact_secret(obj: Obj) -> None:
    """The value of each key becomes its size in bytes, as `kubectl describe` shows it."""
    for field_name in ("data", "stringData"):
        values = obj.get(field_name)
        if isinstance(values, dict):
            obj[field_name] = {key: _size(field_name, value) for key, value in values.items()}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)


def _size(field_name: str, value: Any) -> str:
    if not isinstance(value, str):
        return ""
    if _REDACTED.fullmatch(value):
        return value  # redacted already: base64 never holds a space
    if field_name == "data":
        # base64 of n bytes is 4 * ceil(n / 3) characters, less the padding.
        return f"{len(value) * 3 // 4 - value.count('=')} bytes"
    return f"{len(value.encode())} bytes"


def parse_duration(value: str | int) -> int:
    """Seconds from `300`, `"300"`, `"5m"`, `"1h30m"`; `BadInput` otherwise."""
    if isinstance(value, int):
        seconds = value
    elif value.isdigit():
        seconds = int(value)
    else:
        match = _DURATION.match(value.strip())
        if not value.strip() or match is None:
            raise BadInput(f"bad duration {value!r}: use seconds or forms like 30s, 5m, 1h30m")
        h, m, s = (int(g or 0) for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    if seconds <= 0:
        raise BadInput("a duration must be more than zero seconds")
    return seconds


def event_time(event: Obj) -> str:
    """When an event last happened, for sorting (the fields differ across API versions)."""
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("firstTimestamp")
        or event.get("metadata", {}).get("creationTimestamp")
        or ""
    )


def _names(containers: Any) -> str:
    return ", ".join(str(c.get("name")) for c in containers or [])


def event_order(event: Obj) -> str:
    """A sort key for events in time order: `event_time` with microseconds. Components that
    write core/v1 Events give seconds (`10:00:20Z`), those on events.k8s.io/v1 microseconds
    (`10:00:20.512Z`, the scheduler's), and as plain text the later one sorts first."""
    when = event_time(event)
    try:
        parsed = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return when
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_NAMESPACE_IN_PATH = re.compile(r"/namespaces/([^/]+)/")
_FORBIDDEN = re.compile(r'cannot (\w+) resource "([^"]+)" in API group "([^"]*)"')


def _forbidden(message: str, method: str, path: str) -> Forbidden:
    """A 403 worded with the verb, the resource and the RBAC rule that would allow it."""
    match = _FORBIDDEN.search(message)
    if match:
        verb, resource, group = match.groups()
    else:
        verb, resource, group = _VERBS.get(method, method.lower()), path.rsplit("/", 1)[-1], ""
    namespace = _NAMESPACE_IN_PATH.search(path)
    scope = f" in namespace {namespace.group(1)!r}" if namespace else " (cluster-wide)"
    rule = (
        f"a Role with apiGroups: [{group!r}], resources: [{resource!r}], verbs: [{verb!r}]"
        if namespace
        else f"a ClusterRole with apiGroups: [{group!r}], resources: [{resource!r}], "
        f"verbs: [{verb!r}]"
    )
    return Forbidden(
        f"not allowed to {verb} {resource}{scope}: {message}. It needs {rule}.",
        verb=verb,
        resource=resource,
    )
