"""The resource API handler (CRUD, patch, scale, reviews) and the tornado application."""

from __future__ import annotations

import copy
import json
import logging
from typing import TYPE_CHECKING, Any

import tornado.iostream
import tornado.web
import yaml

from . import tables
from .base import RequestInfo, truthy
from .control import ControlHandler, HealthHandler, NotFoundHandler, OpenApiHandler, VersionHandler
from .patch import json_patch, merge_patch, strategic_merge_patch
from .rbac import Attributes, Identity, effective_rules, forbidden
from .resources import ResourceType
from .selectors import selector_to_text
from .status import (
    ApiError,
    bad_request,
    conflict,
    invalid,
    method_not_allowed,
    no_such_resource,
    unauthorized,
    unsupported_media_type,
)
from .store import Stored, dumps
from .streams import StreamingHandler

if TYPE_CHECKING:
    from .emulator import KubeEmulator

Obj = dict[str, Any]
log = logging.getLogger(__name__)

NAMESPACE_SUBRESOURCES = {"status", "finalize"}
# Kinds whose DELETE answers with the object rather than a success Status, as real.
RETURNS_DELETED_OBJECT = {("", "pods"), ("", "namespaces"), ("", "services")}
PATCH_TYPES = {
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
}


class ApiHandler(StreamingHandler):
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
                grace_seconds=options.get("gracePeriodSeconds"),
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
        if watch or truthy(self.get_query_argument("watch", None)):
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
            self.send_page_not_found()
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
        grace = self._int_arg("gracePeriodSeconds")
        if grace is not None:
            options["gracePeriodSeconds"] = grace
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
