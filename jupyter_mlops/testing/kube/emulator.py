"""`KubeEmulator`: the in-process (or standalone) Kubernetes API server on loopback."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import yaml

from .controllers import Controllers, finish_pod, restart_container
from .logs import LogStore
from .patch import merge_patch, strategic_merge_patch
from .rbac import Attributes, Identity, Rule, admin_rules, effective_rules
from .resources import Registry, ResourceType
from .server import make_app
from .status import ApiError, bad_request
from .store import DELETED, MODIFIED, Event, Store

Obj = dict[str, Any]
T = TypeVar("T")

KUBERNETES_VERSION = "v1.31.0"
_FAILURE_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _load_documents(source: str | os.PathLike[str] | Obj) -> list[Obj]:
    if isinstance(source, dict):
        documents: list[Any] = [source]
    else:
        with open(source, encoding="utf-8") as handle:
            documents = list(yaml.safe_load_all(handle))
    out: list[Obj] = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            out += [item for item in doc["items"] if isinstance(item, dict)]
        else:
            out.append(doc)
    return out


class KubeEmulator:
    """A Kubernetes API server on 127.0.0.1 that the official clients and kubectl accept.

    It serves from its own thread and event loop, so blocking clients in the calling thread
    and asyncio code on other loops can both use it. State survives `stop()`/`start()` in
    the same process, and across processes when `state_file` is given.

    `anonymous` names the token whose identity requests without credentials get: kubectl
    never sends a token over plain HTTP, so kubectl-driven tests set it (as the API server's
    old insecure port did); None answers such requests with 401. (HTTPS, and with it
    kubectl sending the kubeconfig's token, is the real control plane's: testing/README.md.)
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        controllers: bool = True,
        history: int = 1000,
        seed: Iterable[str | os.PathLike[str] | Obj] = (),
        state_file: str | os.PathLike[str] | None = None,
        save_interval: float = 5.0,
        anonymous: str | None = None,
        admin_token: str = "admin",
        bookmark_interval: float = 5.0,
        pod_start_delay: float = 0.05,
        pod_termination_delay: float = 0.0,
        node_capacity: dict[str, str] | None = None,
        nodes: int = 1,
    ) -> None:
        self.host = host
        self._port = port
        self.registry = Registry()
        self.store = Store(self.registry, history=history)
        self.logs = LogStore()
        self.anonymous = anonymous
        self.admin_token = admin_token
        self.admin_user = "kubernetes-admin"
        self.bookmark_interval = bookmark_interval
        self.latency = 0.0
        self.state_file = Path(state_file) if state_file else None
        self.save_interval = save_interval
        self.watch_streams: set[Callable[..., None]] = set()
        self.log_streams: set[Callable[..., None]] = set()
        self._tokens: dict[str, Identity] = {}
        self._requests: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._requests_lock = threading.Lock()
        self._fail: list[int] = []
        self._controllers = Controllers(
            self.store, self.registry, pod_start_delay, pod_termination_delay
        )
        self._controllers_on = controllers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._saved_rv = -1
        self.add_token(admin_token, self.admin_user, admin_rules(), groups=("system:masters",))
        self.store.add_listener(self._follow_pods)
        loaded = False
        if self.state_file is not None and self.state_file.exists():
            self.load_state(self.state_file)
            loaded = True
        if not loaded:
            self._bootstrap(node_capacity or {"cpu": "4", "memory": "16Gi", "pods": "110"}, nodes)
        for source in seed:
            for obj in _load_documents(source):
                self.apply(obj)

    # Lifecycle.

    @property
    def port(self) -> int:
        """The port served on (known once started; kept across restarts)."""
        return self._port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._thread is not None

    def start(self) -> KubeEmulator:
        """Serve from a new thread; returns self once connections are accepted."""
        if self._thread is not None:
            return self
        sockets = tornado.netutil.bind_sockets(self._port, self.host)
        self._port = int(sockets[0].getsockname()[1])
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop

            async def setup() -> None:
                server = tornado.httpserver.HTTPServer(make_app(self), idle_connection_timeout=3600)
                server.add_sockets(sockets)
                self._server = server
                if self._controllers_on:
                    self._controllers.attach(loop)
                if self.state_file is not None and self.save_interval > 0:
                    tornado.ioloop.PeriodicCallback(
                        self._save_if_changed, self.save_interval * 1000
                    ).start()

            try:
                loop.run_until_complete(setup())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(
            target=serve, name=f"kube-emulator-{self._port}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving: open watches and log streams end, state is kept (and saved)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return

        async def shutdown() -> None:
            server = self._server
            if server is not None:
                server.stop()
            for end in list(self.watch_streams) + list(self.log_streams):
                end()
            if server is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(server.close_all_connections(), 5)
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=15)
        self._controllers.detach()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        self._thread = None
        self._loop = None
        self._server = None
        if self.state_file is not None:
            self.save_state()

    def restart(self) -> KubeEmulator:
        """Stop and start again on the same port, keeping all state."""
        self.stop()
        return self.start()

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _in_loop(self, fn: Callable[[], T]) -> T:
        loop = self._loop
        if loop is None:
            return fn()
        if threading.current_thread() is self._thread:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=15)

    # Controllers.

    @property
    def controllers(self) -> bool:
        """Whether deployments, replica sets, scheduling and pod start are emulated."""
        return self._controllers_on

    @controllers.setter
    def controllers(self, enabled: bool) -> None:
        if enabled == self._controllers_on:
            return
        self._controllers_on = enabled
        loop = self._loop
        if loop is None:
            return
        if enabled:
            self._in_loop(lambda: self._controllers.attach(loop))
        else:
            self._in_loop(self._controllers.detach)

    @property
    def pod_start_delay(self) -> float:
        """Seconds between a pod being scheduled and it running."""
        return self._controllers.pod_start_delay

    @pod_start_delay.setter
    def pod_start_delay(self, seconds: float) -> None:
        self._controllers.pod_start_delay = seconds

    # Identity and RBAC.

    def add_token(
        self,
        token: str,
        user: str,
        rules: Sequence[Rule] = (),
        *,
        groups: Sequence[str] = (),
        namespaces: Sequence[str] | None = None,
    ) -> None:
        """Accept `token` as `user`; rules without namespaces are confined to `namespaces`."""
        confined = [
            Rule(r.verbs, r.resources, r.api_groups, tuple(namespaces), r.resource_names)
            if namespaces is not None and r.namespaces is None
            else r
            for r in rules
        ]
        all_groups = (*groups, "system:authenticated")
        if user.startswith("system:serviceaccount:"):
            namespace = user.split(":")[2]
            all_groups += ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
        self._tokens[token] = Identity(user, all_groups, confined)

    def remove_token(self, token: str) -> None:
        """Stop accepting a token (requests with it get 401)."""
        self._tokens.pop(token, None)

    def identity_for(self, token: str) -> Identity | None:
        """Who a bearer token is, or None."""
        return self._tokens.get(token)

    def list_for_rbac(self, key: tuple[str, str], namespace: str | None) -> list[Obj]:
        """Stored objects of a kind, for RBAC bindings."""
        return self.store.objects(key, namespace)

    def get_for_rbac(self, key: tuple[str, str], namespace: str, name: str) -> Obj | None:
        """One stored object, for RBAC roles."""
        return self.store.find(key, namespace, name)

    def allowed(self, identity: Identity, attrs: Attributes) -> bool:
        """Whether the identity may do what the attributes describe."""
        if any(rule.allows(attrs) for rule in identity.rules):
            return True
        rules = effective_rules(identity, attrs.namespace, self.list_for_rbac, self.get_for_rbac)
        return any(rule.allows(attrs) for rule in rules)

    # Requests and faults.

    def record_request(self, verb: str, method: str, path: str) -> None:
        """Count a request (called by the handlers)."""
        with self._requests_lock:
            self._requests[(verb, method, path)] += 1

    def request_count(
        self, verb: str | None = None, path_prefix: str | None = None, method: str | None = None
    ) -> int:
        """How many API requests arrived, by Kubernetes verb (get, list, watch, create, ...),
        HTTP method and path prefix."""
        with self._requests_lock:
            items = list(self._requests.items())
        return sum(
            count
            for (v, m, path), count in items
            if (verb is None or v == verb.lower())
            and (method is None or m == method.upper())
            and (path_prefix is None or path.startswith(path_prefix))
        )

    def reset_requests(self) -> None:
        """Forget counted requests."""
        with self._requests_lock:
            self._requests.clear()

    def fail_next(self, count: int = 1, code: int = 500) -> None:
        """Answer the next `count` API requests with a `code` Status instead of serving them."""
        with self._requests_lock:
            self._fail += [code] * count

    async def request_faults(self) -> None:
        """Apply the configured latency and injected failures (called by the handlers)."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        with self._requests_lock:
            code = self._fail.pop(0) if self._fail else None
        if code is not None:
            reason = _FAILURE_REASONS.get(code, "InternalError")
            message = {
                500: "Internal error occurred: injected failure",
                503: "the server is currently unable to handle the request",
                429: "the server has received too many requests and has asked us to try again "
                "later",
                504: "the server was unable to return a response in the time allotted",
            }.get(code, f"injected failure ({code})")
            raise ApiError(code, reason, message, {})

    def drop_watches(self, abort: bool = False) -> int:
        """End every open watch (abort=True cuts the connection instead); returns how many."""

        def drop() -> int:
            ends = list(self.watch_streams)
            for end in ends:
                end(abort)
            return len(ends)

        return self._in_loop(drop) if self._loop is not None else 0

    def version_info(self) -> Obj:
        """The /version document."""
        return {
            "major": "1",
            "minor": KUBERNETES_VERSION.split(".")[1],
            "gitVersion": KUBERNETES_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2024-08-13T07:28:49Z",
            "goVersion": "go1.22.5",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # Direct state manipulation, through the same write path as HTTP requests.

    def _type_for(self, obj: Obj) -> ResourceType:
        rt = self.registry.by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if rt is None or not rt.stored:
            raise bad_request(
                f'no kind "{obj.get("kind")}" is registered for version "{obj.get("apiVersion")}"'
            )
        return rt

    def _namespace_of(self, rt: ResourceType, obj: Obj) -> str:
        if not rt.namespaced:
            return ""
        return str((obj.get("metadata") or {}).get("namespace") or "default")

    def create(self, obj: Obj) -> Obj:
        """Create an object as given, status included; watches fire as for a POST."""
        rt = self._type_for(obj)
        return self.store.create(rt, self._namespace_of(rt, obj), obj, keep_status=True).obj

    def apply(self, obj: Obj) -> Obj:
        """Create, or merge into the existing object, as given, status included.

        Like `kubectl apply`, fields the server filled (nodeName, clusterIP, status when the
        body has none) stay; named lists merge by key. Watches fire as for a PATCH.
        """
        rt = self._type_for(obj)
        namespace = self._namespace_of(rt, obj)
        name = str((obj.get("metadata") or {}).get("name", ""))
        with self.store.lock:
            existing = self.store.find(rt.key, namespace, name) if name else None
            if existing is None:
                return self.store.create(rt, namespace, obj, keep_status=True).obj
            body = json.loads(json.dumps(obj))
            for field in ("resourceVersion", "uid", "creationTimestamp", "generation"):
                body["metadata"].pop(field, None)
            body["apiVersion"] = existing["apiVersion"]
            merge = merge_patch if rt.custom else strategic_merge_patch
            merged = merge(existing, body)
            return self.store.update(rt, namespace, name, merged, keep_status=True).obj

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Obj | None:
        """One object as stored, or None."""
        rt = self._type_for({"apiVersion": api_version, "kind": kind})
        return self.store.find(rt.key, namespace if rt.namespaced else "", name)

    def objects(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
        """Stored objects of a kind."""
        rt = self._type_for({"apiVersion": api_version, "kind": kind})
        return self.store.objects(rt.key, namespace)

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> Obj:
        """Delete as a DELETE request would (finalizers and dependents included)."""
        rt = self._type_for({"apiVersion": api_version, "kind": kind})
        return self.store.delete(rt, namespace, name).obj

    def record_event(
        self,
        about: Obj,
        reason: str,
        message: str,
        type_: str = "Normal",
        component: str = "emulator",
    ) -> None:
        """Record a v1 Event about an object (counted up when it repeats)."""
        self._controllers.events.record(about, reason, message, type_, component)

    def finish_pod(self, namespace: str, name: str, exit_code: int = 0) -> Obj | None:
        """Every container of the pod exits with `exit_code`: Succeeded on 0, else Failed."""
        return finish_pod(self.store, self.registry, namespace, name, exit_code)

    def restart_container(
        self, namespace: str, pod: str, container: str, exit_code: int = 1
    ) -> Obj | None:
        """The container exits and restarts: restartCount grows and its log becomes `previous`."""
        return restart_container(self.store, self.registry, namespace, pod, container, exit_code)

    def append_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        lines: str | bytes | Iterable[str],
        *,
        previous: bool = False,
    ) -> int:
        """Append lines to a container's log (previous=True: its last terminated run)."""
        return self.logs.append(namespace, pod, container, lines, previous=previous)

    def _follow_pods(self, event: Event) -> None:
        # Keep log followers in step with their pod: restarts rotate, deletion ends them.
        if event.key != ("", "pods"):
            return
        namespace, name = event.new.namespace, event.new.name
        if event.type == DELETED:
            self.logs.forget(namespace, name)
        elif event.type == MODIFIED and event.old is not None:
            before = {
                cs.get("name"): int(cs.get("restartCount", 0))
                for cs in (event.old.obj.get("status") or {}).get("containerStatuses") or []
            }
            for cs in (event.new.obj.get("status") or {}).get("containerStatuses") or []:
                if int(cs.get("restartCount", 0)) > before.get(cs.get("name"), 0):
                    self.logs.restart(namespace, name, str(cs.get("name")))
        self.logs.wake(namespace, name)

    # Kubeconfig.

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        token: str | None = None,
        namespace: str = "default",
        user: str = "emulator-user",
        context: str = "emulator",
    ) -> Path:
        """Write a kubeconfig for this server that the official client and kubectl accept."""
        cluster: Obj = {"server": self.url}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": token or self.admin_token}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": "emulator", "user": user, "namespace": namespace},
                }
            ],
            "current-context": context,
            "preferences": {},
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return target

    # State files.

    def save_state(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write objects, history, logs and tokens to the state file (atomically)."""
        target = Path(path) if path else self.state_file
        if target is None:
            raise bad_request("no state file configured")
        data = {
            "store": self.store.dump(),
            "logs": self.logs.dump(),
            "tokens": [
                [
                    token,
                    identity.user,
                    list(identity.groups),
                    [_rule_dict(r) for r in identity.rules],
                ]
                for token, identity in self._tokens.items()
            ],
        }
        temporary = target.with_name(target.name + ".tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, target)
        self._saved_rv = self.store.rv
        return target

    def load_state(self, path: str | os.PathLike[str]) -> None:
        """Restore what `save_state` wrote."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.store.load(data.get("store") or {})
        self.logs.load(data.get("logs") or [])
        for token, user, groups, rules in data.get("tokens") or []:
            self._tokens[token] = Identity(
                user,
                tuple(groups),
                [
                    Rule(
                        tuple(r["verbs"]),
                        tuple(r["resources"]),
                        tuple(r["apiGroups"]),
                        tuple(r["namespaces"]) if r.get("namespaces") is not None else None,
                        tuple(r.get("resourceNames") or ()),
                    )
                    for r in rules
                ],
            )
        self._saved_rv = self.store.rv

    def _save_if_changed(self) -> None:
        if self.store.rv != self._saved_rv:
            self.save_state()

    # The cluster a fresh emulator starts with.

    def _bootstrap(self, capacity: dict[str, str], nodes: int) -> None:
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            self.create(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": name},
                }
            )
        for index in range(nodes):
            name = "emulated-node" if nodes == 1 else f"emulated-node-{index}"
            self.create(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                        },
                    },
                    "spec": {},
                    "status": {
                        "capacity": dict(capacity),
                        "allocatable": dict(capacity),
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "True",
                                "reason": "KubeletReady",
                                "message": "kubelet is posting ready status",
                            }
                        ],
                        "addresses": [
                            {"type": "InternalIP", "address": f"10.0.0.{10 + index}"},
                            {"type": "Hostname", "address": name},
                        ],
                        "nodeInfo": {
                            "machineID": f"{index:032x}",
                            "systemUUID": f"00000000-0000-0000-0000-{index:012x}",
                            "bootID": f"10000000-0000-0000-0000-{index:012x}",
                            "kernelVersion": "6.1.0-emulated",
                            "osImage": "Debian GNU/Linux 12 (bookworm)",
                            "containerRuntimeVersion": "containerd://1.7.20",
                            "kubeletVersion": KUBERNETES_VERSION,
                            "kubeProxyVersion": KUBERNETES_VERSION,
                            "operatingSystem": "linux",
                            "architecture": "amd64",
                        },
                    },
                }
            )
        # The API's own Service, present in every real cluster's default namespace.
        self.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                },
            }
        )
        self.create(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "rancher.io/local-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            }
        )


def _rule_dict(rule: Rule) -> Obj:
    return {
        "verbs": list(rule.verbs),
        "resources": list(rule.resources),
        "apiGroups": list(rule.api_groups),
        "namespaces": list(rule.namespaces) if rule.namespaces is not None else None,
        "resourceNames": list(rule.resource_names),
    }
