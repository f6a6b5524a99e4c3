"""Tornado handlers that speak the Kubernetes API wire protocol, plus the `/_emulator` controls."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tornado.iostream
import tornado.web
import yaml

from . import tables
from .logs import ContainerLog, render, tail_chunks
from .patch import json_patch, merge_patch, strategic_merge_patch
from .rbac import Attributes, Identity, Rule, effective_rules, forbidden
from .resources import ResourceType
from .selectors import (
    parse_field_selector,
    parse_label_selector,
    selector_to_text,
)
from .status import (
    ApiError,
    bad_request,
    conflict,
    invalid,
    method_not_allowed,
    no_such_resource,
    not_found,
    unauthorized,
    unsupported_media_type,
)
from .store import Event, Stored, Watcher, dumps

if TYPE_CHECKING:
    from .emulator import KubeEmulator

Obj = dict[str, Any]
log = logging.getLogger(__name__)

# Writes of this size keep a million-line log moving without one huge buffer.
CHUNK_BYTES = 1 << 20
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
# Kinds whose DELETE answers with the object rather than a success Status, as real.
RETURNS_DELETED_OBJECT = {("", "pods"), ("", "namespaces"), ("", "services")}
PATCH_TYPES = {
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
}


@dataclass
class RequestInfo:
    """What an API path and method ask for."""

    group: str
    version: str
    rt: ResourceType
    namespace: str
    name: str
    subresource: str
    watch: bool
    verb: str


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "yes")


class Base(tornado.web.RequestHandler):
    """Shared plumbing: the emulator, JSON answers, Status errors."""

    def initialize(self, emulator: KubeEmulator) -> None:
        self.emu = emulator

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-cache, private")
        self.set_header("Audit-Id", "emulated")

    def check_xsrf_cookie(self) -> None:
        return None

    def send_json(self, body: Any, code: int = 200) -> None:
        self.set_status(code)
        self.finish(body if isinstance(body, bytes) else dumps(body))

    def send_error_status(self, error: ApiError) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        self.set_status(error.code)
        self.finish(dumps(error.status()))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Anything uncaught still answers as a Status, never as a traceback page.
        reason = {404: "NotFound", 405: "MethodNotAllowed", 400: "BadRequest"}.get(
            status_code, "InternalError"
        )
        message = (
            self._reason if status_code != 500 else "Internal error occurred: the emulator failed"
        )
        self.finish(dumps(ApiError(status_code, reason, message).status()))


class ApiHandler(Base):
    """Everything under /api and /apis: discovery, resources, watches, logs, reviews."""

    async def get(self, path: str) -> None:
        await self._serve()

    async def post(self, path: str) -> None:
        await self._serve()

    async def put(self, path: str) -> None:
        await self._serve()

    async def patch(self, path: str) -> None:
        await self._serve()

    async def delete(self, path: str) -> None:
        await self._serve()

    def on_connection_close(self) -> None:
        stream_end = getattr(self, "_stream_end", None)
        if stream_end is not None:
            stream_end()

    async def _serve(self) -> None:
        try:
            await self._dispatch()
        except ApiError as error:
            self.send_error_status(error)
        except tornado.iostream.StreamClosedError:
            return
        except Exception as exc:
            log.exception("emulated API request failed")
            self.send_error_status(
                ApiError(500, "InternalError", f"Internal error occurred: {exc}", {})
            )

    def _identity(self) -> Identity:
        header = self.request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            identity = self.emu.identity_for(header[7:].strip())
            if identity is None:
                raise unauthorized()
            return identity
        if self.emu.anonymous is not None:
            identity = self.emu.identity_for(self.emu.anonymous)
            if identity is not None:
                return identity
        raise unauthorized()

    def _authorize(self, identity: Identity, attrs: Attributes) -> None:
        if not self.emu.allowed(identity, attrs):
            raise forbidden(identity, attrs)

    def _parse(self) -> tuple[str, str, list[str]]:
        parts = [p for p in self.request.path.split("/") if p]
        if parts[0] == "api":
            if len(parts) == 1:
                return "", "", []
            return "", parts[1], parts[2:]
        if len(parts) == 1:
            return "*", "", []
        if len(parts) == 2:
            return parts[1], "", []
        return parts[1], parts[2], parts[3:]

    async def _dispatch(self) -> None:
        method = self.request.method or "GET"
        group, version, rest = self._parse()
        info = self._resource_info(group, version, rest, method) if rest else None
        verb = info.verb if info else "get"
        self.emu.record_request(verb, method, self.request.path)
        await self.emu.request_faults()
        identity = self._identity()
        if info is None:
            self._discovery(group, version, method)
            return
        rt = info.rt
        attrs_namespace = (
            info.name if rt.key == ("", "namespaces") and info.name else info.namespace
        )
        if info.verb not in rt.verbs and not info.subresource:
            raise method_not_allowed()
        if rt.group == "authorization.k8s.io":
            self._authorize(identity, Attributes("create", rt.group, rt.plural))
            self._review(identity, rt)
            return
        self._authorize(
            identity,
            Attributes(
                info.verb, rt.group, rt.plural, info.subresource, attrs_namespace, info.name
            ),
        )
        if info.subresource == "log":
            await self._logs(info)
        elif info.subresource == "scale":
            self._scale(info, method)
        elif info.verb in ("list", "watch"):
            if info.verb == "watch":
                await self._watch(info)
            else:
                self._list(info)
        elif info.verb == "get":
            stored = self.emu.store.get(rt, info.namespace, info.name)
            self._send_object(info, stored)
        elif info.verb == "create":
            body = self._body()
            stored = self.emu.store.create(
                rt, info.namespace, body, version=info.version, dry_run=self._dry_run()
            )
            self._send_object(info, stored, 201)
        elif info.verb == "update":
            body = self._body()
            stored = self.emu.store.update(
                rt,
                info.namespace,
                info.name,
                body,
                version=info.version,
                subresource=info.subresource,
                dry_run=self._dry_run(),
            )
            self._send_object(info, stored)
        elif info.verb == "patch":
            self._patch(info)
        elif info.verb == "delete":
            options = self._delete_options()
            stored = self.emu.store.delete(
                rt,
                info.namespace,
                info.name,
                propagation=str(options.get("propagationPolicy") or "Background"),
                preconditions=options.get("preconditions"),
                dry_run=self._dry_run() or bool(options.get("dryRun")),
            )
            still_there = self.emu.store.find(rt.key, stored.namespace, stored.name) is not None
            if still_there or rt.custom or rt.key in RETURNS_DELETED_OBJECT:
                self._send_object(info, stored)
            else:
                details: Obj = {"name": stored.name}
                if rt.group:
                    details["group"] = rt.group
                details.update(kind=rt.plural, uid=stored.obj["metadata"].get("uid"))
                self.send_json(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Success",
                        "details": details,
                    }
                )
        elif info.verb == "deletecollection":
            self._delete_collection(info)
        else:
            raise method_not_allowed()

    def _resource_info(self, group: str, version: str, rest: list[str], method: str) -> RequestInfo:
        watch = False
        if rest and rest[0] == "watch":
            watch = True
            rest = rest[1:]
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in NAMESPACE_SUBRESOURCES:
            namespace = rest[1]
            rest = rest[2:]
        if not rest or len(rest) > 3:
            raise no_such_resource()
        rt = self.emu.registry.lookup(group, version, rest[0])
        if rt is None:
            raise no_such_resource()
        if namespace and not rt.namespaced:
            raise no_such_resource()
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and subresource not in rt.subresources:
            raise no_such_resource()
        if watch or _truthy(self.get_query_argument("watch", None)):
            watch = True
        if method == "GET":
            verb = "get" if name and not watch else ("watch" if watch else "list")
            if watch and name:
                # A watch on one name is a watch filtered to it.
                verb = "watch"
        elif method == "POST":
            if name:
                raise method_not_allowed()
            verb = "create"
        elif method == "PUT":
            if not name:
                raise method_not_allowed()
            verb = "update"
        elif method == "PATCH":
            if not name:
                raise method_not_allowed()
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise method_not_allowed()
        if subresource == "log" and verb != "get":
            raise method_not_allowed()
        return RequestInfo(group, version, rt, namespace, name, subresource, watch, verb)

    # Discovery.

    def _discovery(self, group: str, version: str, method: str) -> None:
        if method != "GET":
            raise method_not_allowed()
        registry = self.emu.registry
        if group == "" and not version:
            self.send_json(registry.api_versions(f"{self.request.host}"))
            return
        if group == "*":
            self.send_json(registry.api_group_list())
            return
        doc = registry.api_resource_list(group, version) if version else registry.api_group(group)
        if doc is None:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_status(404)
            self.finish("404 page not found\n")
            return
        self.send_json(doc)

    # Bodies and answers.

    def _body(self) -> Obj:
        raw = self.request.body
        if not raw:
            raise bad_request("the request body is empty")
        content_type = (self.request.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            if content_type in ("application/yaml", "application/apply-patch+yaml"):
                body = yaml.safe_load(raw)
            else:
                body = json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
        if not isinstance(body, (dict, list)):
            raise bad_request("couldn't get version/kind; json parse error: expected an object")
        return body  # type: ignore[return-value]

    def _dry_run(self) -> bool:
        return bool(self.get_query_arguments("dryRun"))

    def _api_version_override(self, info: RequestInfo) -> str | None:
        if info.rt.custom and info.version != info.rt.versions[0]:
            return info.rt.api_version(info.version)
        return None

    def _wants_table(self) -> bool:
        return "as=Table" in (self.request.headers.get("Accept") or "")

    def _send_object(self, info: RequestInfo, stored: Stored, code: int = 200) -> None:
        if self._wants_table() and info.verb == "get":
            include = self.get_query_argument("includeObject", "Metadata") or "Metadata"
            self.send_json(
                tables.table(
                    info.rt,
                    [stored.obj],
                    include,
                    stored.obj["metadata"].get("resourceVersion", ""),
                ),
                code,
            )
            return
        self.send_json(stored.raw(self._api_version_override(info)), code)

    def _selectors(self, info: RequestInfo) -> tuple[Any, Any]:
        labels = parse_label_selector(self.get_query_argument("labelSelector", None))
        fields = parse_field_selector(info.rt.key, self.get_query_argument("fieldSelector", None))
        return labels, fields

    def _int_arg(self, name: str) -> int | None:
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return None
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f'invalid value for {name}: "{value}"') from None

    def _list(self, info: RequestInfo) -> None:
        labels, fields = self._selectors(info)
        limit = self._int_arg("limit") or 0
        items, list_rv, token, remaining = self.emu.store.list_page(
            info.rt,
            info.namespace,
            labels,
            fields,
            limit=max(0, limit),
            continue_token=self.get_query_argument("continue", "") or "",
            resource_version=self.get_query_argument("resourceVersion", "") or "",
            exact=self.get_query_argument("resourceVersionMatch", "") == "Exact",
        )
        if self._wants_table():
            include = self.get_query_argument("includeObject", "Metadata") or "Metadata"
            self.send_json(
                tables.table(info.rt, [s.obj for s in items], include, str(list_rv), token)
            )
            return
        metadata: Obj = {"resourceVersion": str(list_rv)}
        if token:
            metadata["continue"] = token
        if remaining is not None:
            metadata["remainingItemCount"] = remaining
        override = self._api_version_override(info)
        head = dumps(
            {
                "kind": info.rt.list_kind,
                "apiVersion": info.rt.api_version(info.version),
                "metadata": metadata,
            }
        )
        body = head[:-1] + b',"items":[' + b",".join(s.raw(override) for s in items) + b"]}"
        self.send_json(body)

    def _delete_options(self) -> Obj:
        options: Obj = {}
        if self.request.body:
            try:
                parsed = json.loads(self.request.body)
            except ValueError as exc:
                raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
            if isinstance(parsed, dict):
                options = parsed
        policy = self.get_query_argument("propagationPolicy", None)
        if policy:
            options["propagationPolicy"] = policy
        if options.get("propagationPolicy") not in (None, "Orphan", "Background", "Foreground"):
            raise bad_request(
                f'propagationPolicy: Unsupported value: "{options["propagationPolicy"]}"'
            )
        return options

    def _delete_collection(self, info: RequestInfo) -> None:
        labels, fields = self._selectors(info)
        items, _rv, _token, _remaining = self.emu.store.list_page(
            info.rt, info.namespace, labels, fields
        )
        for stored in items:
            try:
                self.emu.store.delete(info.rt, stored.namespace, stored.name)
            except ApiError as error:
                if error.code != 404:
                    raise
        self.send_json(
            {
                "kind": info.rt.list_kind,
                "apiVersion": info.rt.api_version(info.version),
                "metadata": {"resourceVersion": str(self.emu.store.rv)},
                "items": [s.obj for s in items],
            }
        )

    # PATCH in its four flavours.

    def _apply_patch(self, rt: ResourceType, target: Obj, content_type: str, patch: Any) -> Obj:
        if content_type == "application/json-patch+json":
            return json_patch(target, patch)
        if not isinstance(patch, dict):
            raise bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        if content_type == "application/strategic-merge-patch+json":
            if rt.custom:
                raise unsupported_media_type(
                    [
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                    ]
                )
            result = strategic_merge_patch(target, patch)
        else:
            result = merge_patch(target, patch)
        assert isinstance(result, dict)
        return result

    def _patch_content_type(self) -> str:
        content_type = (self.request.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type not in PATCH_TYPES:
            raise unsupported_media_type(sorted(PATCH_TYPES))
        return content_type

    def _patch(self, info: RequestInfo) -> None:
        content_type = self._patch_content_type()
        patch = self._body()
        store = self.emu.store
        rt = info.rt
        if content_type == "application/apply-patch+yaml":
            if not isinstance(patch, dict):
                raise bad_request("the apply body must be an object")
            # Server-side apply, simplified: create when absent, else merge what is given.
            try:
                existing = store.get(rt, info.namespace, info.name)
            except ApiError as error:
                if error.code != 404:
                    raise
                patch.setdefault("metadata", {}).setdefault("name", info.name)
                self._send_object(
                    info, store.create(rt, info.namespace, patch, version=info.version), 201
                )
                return
            # Named lists merge by key, as apply's field ownership would leave them.
            merged = self._apply_patch(
                rt,
                copy.deepcopy(existing.obj),
                "application/merge-patch+json"
                if rt.custom
                else "application/strategic-merge-patch+json",
                patch,
            )
        else:
            with store.lock:
                existing = store.get(rt, info.namespace, info.name)
                merged = self._apply_patch(rt, copy.deepcopy(existing.obj), content_type, patch)
                stored = store.update(
                    rt,
                    info.namespace,
                    info.name,
                    merged,
                    version=info.version,
                    subresource=info.subresource,
                    dry_run=self._dry_run(),
                )
            self._send_object(info, stored)
            return
        stored = store.update(
            rt,
            info.namespace,
            info.name,
            merged,
            version=info.version,
            subresource=info.subresource,
        )
        self._send_object(info, stored)

    # The scale subresource.

    def _scale_of(self, rt: ResourceType, obj: Obj) -> Obj:
        spec_path, status_path, selector_path = rt.scale_paths
        if rt.custom:
            replicas = _read_path(obj, spec_path) or 0
            status_replicas = _read_path(obj, status_path) or 0
            selector = str(_read_path(obj, selector_path) or "") if selector_path else ""
        else:
            replicas = (obj.get("spec") or {}).get("replicas", 0)
            status_replicas = (obj.get("status") or {}).get("replicas", 0)
            selector = selector_to_text((obj.get("spec") or {}).get("selector"))
        meta = obj["metadata"]
        status: Obj = {"replicas": status_replicas}
        if selector:
            status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
                "creationTimestamp": meta.get("creationTimestamp"),
            },
            "spec": {"replicas": replicas},
            "status": status,
        }

    def _scale(self, info: RequestInfo, method: str) -> None:
        store = self.emu.store
        rt = info.rt
        with store.lock:
            existing = store.get(rt, info.namespace, info.name)
            scale = self._scale_of(rt, existing.obj)
            if method == "GET":
                self.send_json(scale)
                return
            if method == "PATCH":
                wanted = self._apply_patch(
                    self.emu.registry.lookup("", "v1", "pods")
                    or rt,  # Scale patches as a built-in type.
                    copy.deepcopy(scale),
                    self._patch_content_type(),
                    self._body(),
                )
            elif method == "PUT":
                wanted = self._body()
            else:
                raise method_not_allowed()
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise invalid(
                    "Scale",
                    "autoscaling",
                    info.name,
                    [
                        (
                            "spec.replicas",
                            "FieldValueInvalid",
                            f"Invalid value: {replicas}: must be greater than or equal to 0",
                        )
                    ],
                )
            wanted_rv = (wanted.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != existing.obj["metadata"]["resourceVersion"]:
                raise conflict(rt.plural, rt.group, info.name)
            updated = copy.deepcopy(existing.obj)
            spec_path = rt.scale_paths[0] if rt.custom else ".spec.replicas"
            _write_path(updated, spec_path, replicas)
            stored = store.update(rt, info.namespace, info.name, updated, version=info.version)
        self.send_json(self._scale_of(rt, stored.obj))

    # SelfSubjectAccessReview and SelfSubjectRulesReview.

    def _review(self, identity: Identity, rt: ResourceType) -> None:
        body = self._body()
        if not isinstance(body, dict):
            raise bad_request("a review must be an object")
        spec = body.get("spec") or {}
        if rt.plural == "selfsubjectaccessreviews":
            attributes = spec.get("resourceAttributes")
            if attributes:
                attrs = Attributes(
                    str(attributes.get("verb", "")),
                    str(attributes.get("group", "")),
                    str(attributes.get("resource", "")),
                    str(attributes.get("subresource", "")),
                    str(attributes.get("namespace", "")),
                    str(attributes.get("name", "")),
                )
                allowed = self.emu.allowed(identity, attrs)
            else:
                allowed = identity.user == self.emu.admin_user
            status: Obj = {"allowed": allowed}
            if allowed:
                status["reason"] = f'RBAC: allowed by the rules granted to User "{identity.user}"'
        else:
            namespace = str(spec.get("namespace", ""))
            rules = [
                r
                for r in effective_rules(
                    identity, namespace, self.emu.list_for_rbac, self.emu.get_for_rbac
                )
                if r.in_namespace(namespace)
            ]
            status = {
                "resourceRules": [r.as_resource_rule() for r in rules],
                "nonResourceRules": [
                    {
                        "verbs": ["get"],
                        "nonResourceURLs": [
                            "/api",
                            "/api/*",
                            "/apis",
                            "/apis/*",
                            "/healthz",
                            "/livez",
                            "/openapi",
                            "/openapi/*",
                            "/readyz",
                            "/version",
                            "/version/",
                        ],
                    }
                ],
                "incomplete": False,
            }
        answer = {
            "kind": rt.kind,
            "apiVersion": rt.api_version(),
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        self.send_json(answer, 201)

    # Watches.

    async def _watch(self, info: RequestInfo) -> None:
        labels, fields = self._selectors(info)
        if info.name:
            fields = parse_field_selector(info.rt.key, f"metadata.name={info.name}")
        emu = self.emu
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        flags = {"scheduled": False, "stop": False, "abort": False}

        def set_woken() -> None:
            flags["scheduled"] = False
            woken.set()

        def wake() -> None:
            if not flags["scheduled"]:
                flags["scheduled"] = True
                loop.call_soon_threadsafe(set_woken)

        def end(abort: bool = False) -> None:
            flags["stop"] = True
            flags["abort"] = flags["abort"] or abort
            wake()

        self._stream_end = end
        watcher = Watcher(info.rt.key, info.namespace, labels, fields, wake)
        rv = self.get_query_argument("resourceVersion", "") or ""
        initial = _truthy(self.get_query_argument("sendInitialEvents", None))
        bookmarks = _truthy(self.get_query_argument("allowWatchBookmarks", None))
        timeout = self._int_arg("timeoutSeconds")
        table = self._wants_table()
        include = self.get_query_argument("includeObject", "Metadata") or "Metadata"
        override = self._api_version_override(info)
        api_version = info.rt.api_version(info.version)
        self.set_header("Content-Type", "application/json")
        try:
            emu.store.watch(info.rt, watcher, rv, initial)
        except ApiError as error:
            if error.code != 410:
                raise
            # The real server opens the stream, then sends the 410 as an ERROR event.
            self.set_status(200)
            self.finish(dumps({"type": "ERROR", "object": error.status()}) + b"\n")
            return
        emu.watch_streams.add(end)
        deadline = loop.time() + timeout if timeout else None
        interval = emu.bookmark_interval
        next_bookmark = loop.time() + min(0.1, interval) if bookmarks else None
        initial_end_due = initial
        columns_sent = False
        try:
            self.set_status(200)
            await self.flush()
            while not flags["stop"]:
                woken.clear()
                batch: list[bytes] = []
                while watcher.pending:
                    seen, event = watcher.pending.popleft()
                    if table:
                        batch.append(
                            self._table_event(info, seen, event, include, not columns_sent)
                        )
                        columns_sent = True
                    else:
                        batch.append(event.encoded(seen, override))
                if initial_end_due:
                    initial_end_due = False
                    batch.append(self._bookmark(watcher, api_version, initial_end=True))
                if next_bookmark is not None and loop.time() >= next_bookmark:
                    bookmark = self._bookmark(watcher, api_version)
                    if bookmark:
                        batch.append(bookmark)
                    next_bookmark = loop.time() + interval
                if batch:
                    self.write(b"".join(batch))
                    await self.flush()
                waits = [t for t in (deadline, next_bookmark) if t is not None]
                if deadline is not None and loop.time() >= deadline:
                    break
                if watcher.pending:
                    continue
                try:
                    if waits:
                        await asyncio.wait_for(woken.wait(), max(0.0, min(waits) - loop.time()))
                    else:
                        await woken.wait()
                except asyncio.TimeoutError:
                    continue
        except tornado.iostream.StreamClosedError:
            return
        finally:
            emu.store.unwatch(watcher)
            emu.watch_streams.discard(end)
        if flags["abort"]:
            self.request.connection.close()  # type: ignore[union-attr]
            return
        if not self._finished:
            self.finish()

    def _bookmark(self, watcher: Watcher, api_version: str, initial_end: bool = False) -> bytes:
        store = self.emu.store
        with store.lock:
            if watcher.pending and not initial_end:
                return b""
            rv = store.rv
        meta: Obj = {"resourceVersion": str(rv), "creationTimestamp": None}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        kind = next((rt.kind for rt in self.emu.registry.all_types() if rt.key == watcher.key), "")
        return (
            dumps(
                {
                    "type": "BOOKMARK",
                    "object": {"kind": kind, "apiVersion": api_version, "metadata": meta},
                }
            )
            + b"\n"
        )

    def _table_event(
        self, info: RequestInfo, seen: str, event: Event, include: str, columns: bool
    ) -> bytes:
        obj = event.new.obj
        table = tables.table(
            info.rt,
            [obj],
            include,
            obj["metadata"].get("resourceVersion", ""),
            with_columns=columns,
        )
        return dumps({"type": seen, "object": table}) + b"\n"

    # pods/log.

    async def _logs(self, info: RequestInfo) -> None:
        emu = self.emu
        pod = emu.store.get(info.rt, info.namespace, info.name).obj
        spec = pod.get("spec") or {}
        names = [str(c.get("name")) for c in spec.get("containers") or []]
        init_names = [str(c.get("name")) for c in spec.get("initContainers") or []]
        ephemeral = [str(c.get("name")) for c in spec.get("ephemeralContainers") or []]
        container = self.get_query_argument("container", None)
        if not container:
            if len(names) == 1:
                container = names[0]
            else:
                message = (
                    f"a container name must be specified for pod {info.name}, "
                    f"choose one of: [{' '.join(names)}]"
                )
                if init_names:
                    message += f" or one of the init containers: [{' '.join(init_names)}]"
                raise bad_request(message)
        elif container not in names + init_names + ephemeral:
            raise bad_request(f"container {container} is not valid for pod {info.name}")
        previous = _truthy(self.get_query_argument("previous", None))
        follow = _truthy(self.get_query_argument("follow", None))
        timestamps = _truthy(self.get_query_argument("timestamps", None))
        tail = self._int_arg("tailLines")
        since_seconds = self._int_arg("sinceSeconds")
        limit_bytes = self._int_arg("limitBytes")
        since_time = self.get_query_argument("sinceTime", None)
        cutoff: float | None = None
        if since_seconds is not None:
            if since_seconds < 1:
                raise invalid(
                    "PodLogOptions",
                    "",
                    "",
                    [
                        (
                            "sinceSeconds",
                            "FieldValueInvalid",
                            f"Invalid value: {since_seconds}: must be greater than 0",
                        )
                    ],
                )
            cutoff = time.time() - since_seconds
        elif since_time:
            try:
                cutoff = (
                    time.mktime(time.strptime(since_time[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                )
            except ValueError:
                raise bad_request(f'invalid sinceTime "{since_time}"') from None
        if previous:
            buffer = emu.logs.buffer(info.namespace, info.name, container, previous=True)
            if buffer is None:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{info.name}" not found'
                )
            follow = False
        else:
            waiting = _waiting_reason(pod, container)
            existing = emu.logs.buffer(info.namespace, info.name, container, previous=False)
            if waiting and (existing is None or not existing.lines):
                raise bad_request(
                    f'container "{container}" in pod "{info.name}" is waiting to start: {waiting}'
                )
            buffer = emu.logs.ensure(info.namespace, info.name, container)
        await self._stream_logs(
            info, container, buffer, follow, timestamps, tail, cutoff, limit_bytes
        )

    async def _stream_logs(
        self,
        info: RequestInfo,
        container: str,
        buffer: ContainerLog,
        follow: bool,
        timestamps: bool,
        tail: int | None,
        cutoff: float | None,
        limit_bytes: int | None,
    ) -> None:
        emu = self.emu
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        flags = {"scheduled": False, "stop": False}

        def set_woken() -> None:
            flags["scheduled"] = False
            woken.set()

        def wake() -> None:
            if not flags["scheduled"]:
                flags["scheduled"] = True
                loop.call_soon_threadsafe(set_woken)

        def end(abort: bool = False) -> None:
            flags["stop"] = True
            wake()

        self._stream_end = end
        if follow:
            emu.logs.follow(info.namespace, info.name, wake)
            emu.log_streams.add(end)
        self.set_header("Content-Type", "text/plain")
        self.set_status(200)
        sent = 0
        position = len(buffer.chunks)
        chunks = buffer.chunks[:position]
        if cutoff is not None:
            chunks = [c for c in chunks if c[0] >= cutoff]
        if tail is not None:
            chunks = tail_chunks(chunks, tail)
        try:
            sent = await self._write_chunks(chunks, timestamps, sent, limit_bytes)
            while follow and not flags["stop"] and (limit_bytes is None or sent < limit_bytes):
                woken.clear()
                if len(buffer.chunks) > position:
                    fresh = buffer.chunks[position:]
                    position += len(fresh)
                    if cutoff is not None:
                        fresh = [c for c in fresh if c[0] >= cutoff]
                    sent = await self._write_chunks(fresh, timestamps, sent, limit_bytes)
                    continue
                if self._log_source_ended(info, container, buffer):
                    break
                await woken.wait()
        except tornado.iostream.StreamClosedError:
            return
        finally:
            if follow:
                emu.logs.unfollow(info.namespace, info.name, wake)
                emu.log_streams.discard(end)
        if not self._finished:
            self.finish()

    def _log_source_ended(self, info: RequestInfo, container: str, buffer: ContainerLog) -> bool:
        pod = self.emu.store.find(("", "pods"), info.namespace, info.name)
        if pod is None:
            return True
        if self.emu.logs.buffer(info.namespace, info.name, container, previous=False) is not buffer:
            return True
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return True
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if cs.get("name") == container and "terminated" in (cs.get("state") or {}):
                return True
        return False

    async def _write_chunks(
        self, chunks: list[tuple[float, bytes, int]], timestamps: bool, sent: int, limit: int | None
    ) -> int:
        pending: list[bytes] = []
        size = 0
        for chunk in chunks:
            data = render(chunk, timestamps)
            if limit is not None and sent + size + len(data) > limit:
                data = data[: max(0, limit - sent - size)]
            pending.append(data)
            size += len(data)
            if size >= CHUNK_BYTES:
                self.write(b"".join(pending))
                await self.flush()
                sent += size
                pending, size = [], 0
            if limit is not None and sent + size >= limit:
                break
        if pending:
            self.write(b"".join(pending))
            await self.flush()
            sent += size
        return sent


def _waiting_reason(pod: Obj, container: str) -> str:
    status = pod.get("status") or {}
    for group in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(group) or []:
            if cs.get("name") == container:
                waiting = (cs.get("state") or {}).get("waiting")
                return (
                    str(waiting.get("reason", "ContainerCreating")) if waiting is not None else ""
                )
    if status.get("phase", "Pending") == "Pending" and (pod.get("spec") or {}).get("nodeName"):
        return "ContainerCreating"
    return ""


def _read_path(obj: Obj, path: str) -> Any:
    node: Any = obj
    for step in path.strip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(step)
    return node


def _write_path(obj: Obj, path: str, value: Any) -> None:
    steps = path.strip(".").split(".")
    node = obj
    for step in steps[:-1]:
        node = node.setdefault(step, {})
    node[steps[-1]] = value


class VersionHandler(Base):
    """GET /version: open to everyone, as on a real cluster."""

    def get(self) -> None:
        self.emu.record_request("get", "GET", self.request.path)
        self.send_json(self.emu.version_info())


class HealthHandler(Base):
    """GET /healthz, /livez, /readyz."""

    def get(self, _path: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("ok")


class OpenApiHandler(Base):
    """OpenAPI: v3 answers a schema-less index (kubectl checks it for server-side field
    validation); v2 is disabled and answers 404, as a server started without it."""

    def get(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        doc: Obj | None = None
        if parts[:2] == ["openapi", "v3"]:
            rest = parts[2:]
            if not rest:
                doc = self.emu.registry.openapi_index()
            elif rest[0] == "api" and len(rest) == 2:
                doc = self.emu.registry.openapi_document("", rest[1])
            elif rest[0] == "apis" and len(rest) == 3:
                doc = self.emu.registry.openapi_document(rest[1], rest[2])
        if doc is None:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_status(404)
            self.finish("404 page not found\n")
            return
        self.send_json(doc)


class NotFoundHandler(Base):
    """Paths outside the API."""

    def prepare(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_status(404)
        self.finish("404 page not found\n")


class ControlHandler(Base):
    """`/_emulator/...`: fault injection, logs and state for tests driving a separate process."""

    def _json(self) -> Obj:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError as exc:
            raise bad_request(f"invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad_request("expected a JSON object")
        return body

    def _run(self, action: Callable[[], Any]) -> None:
        try:
            self.send_json(action())
        except ApiError as error:
            self.send_error_status(error)

    def get(self, path: str) -> None:
        emu = self.emu
        if path == "requests":
            self._run(
                lambda: {
                    "count": emu.request_count(
                        verb=self.get_query_argument("verb", None),
                        path_prefix=self.get_query_argument("path_prefix", None),
                        method=self.get_query_argument("method", None),
                    )
                }
            )
        elif path == "state":
            self._run(
                lambda: {"resourceVersion": emu.store.rv, "watches": len(emu.store.watchers())}
            )
        else:
            self.send_error_status(no_such_resource())

    def post(self, path: str) -> None:
        emu = self.emu
        parts = path.split("/")
        if parts[0] == "logs" and len(parts) == 4:
            _, namespace, pod, container = parts
            previous = _truthy(self.get_query_argument("previous", None))
            self._run(
                lambda: {
                    "appended": emu.append_log(
                        namespace, pod, container, self.request.body, previous=previous
                    )
                }
            )
        elif parts[0] == "pods" and len(parts) == 4 and parts[3] == "finish":
            _, namespace, pod, _ = parts
            code = int(self.get_query_argument("exitCode", "0") or 0)
            self._run(lambda: emu.finish_pod(namespace, pod, code) or _missing_pod(pod))
        elif (
            parts[0] == "pods"
            and len(parts) == 6
            and parts[3] == "containers"
            and parts[5] == "restart"
        ):
            _, namespace, pod, _, container, _ = parts
            code = int(self.get_query_argument("exitCode", "1") or 1)
            self._run(
                lambda: emu.restart_container(namespace, pod, container, code) or _missing_pod(pod)
            )
        elif path == "watches/drop":
            self._run(
                lambda: {
                    "dropped": emu.drop_watches(
                        abort=_truthy(self.get_query_argument("abort", None))
                    )
                }
            )
        elif path == "fail-next":
            body = self._json()

            def fail() -> Obj:
                emu.fail_next(int(body.get("count", 1)), int(body.get("code", 500)))
                return {"count": int(body.get("count", 1)), "code": int(body.get("code", 500))}

            self._run(fail)
        elif path == "latency":
            body = self._json()

            def set_latency() -> Obj:
                emu.latency = float(body.get("seconds", 0.0))
                return {"seconds": emu.latency}

            self._run(set_latency)
        elif path == "requests/reset":

            def reset() -> Obj:
                emu.reset_requests()
                return {"count": 0}

            self._run(reset)
        elif path == "tokens":
            body = self._json()

            def add() -> Obj:
                rules = [
                    Rule(
                        tuple(r.get("verbs") or ()),
                        tuple(r.get("resources") or ()),
                        tuple(r.get("apiGroups") or ("",)),
                        tuple(r["namespaces"]) if r.get("namespaces") is not None else None,
                        tuple(r.get("resourceNames") or ()),
                    )
                    for r in body.get("rules") or []
                ]
                emu.add_token(
                    str(body["token"]),
                    str(body["user"]),
                    rules,
                    groups=tuple(body.get("groups") or ()),
                    namespaces=body.get("namespaces"),
                )
                return {"token": body["token"]}

            self._run(add)
        elif path == "objects":
            body = self._json()
            self._run(lambda: emu.apply(body))
        elif path == "save":
            self._run(lambda: {"saved": str(emu.save_state())})
        else:
            self.send_error_status(no_such_resource())


def _missing_pod(name: str) -> Obj:
    raise not_found("pods", "", name)


def make_app(emulator: KubeEmulator) -> tornado.web.Application:
    """The tornado application serving one emulator."""
    args = {"emulator": emulator}
    return tornado.web.Application(
        [
            (r"/version/?", VersionHandler, args),
            (r"/(healthz|livez|readyz)(?:/.*)?", HealthHandler, args),
            (r"/(openapi/.*)", OpenApiHandler, args),
            (r"/_emulator/(.*)", ControlHandler, args),
            (r"/(apis?(?:/.*)?)", ApiHandler, args),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=args,
        compress_response=False,
        log_function=_quiet,
    )


def _quiet(_handler: tornado.web.RequestHandler) -> None:
    # Tests count requests through `request_count`; an access log line each would drown them.
    return None


__all__ = ["make_app"]
