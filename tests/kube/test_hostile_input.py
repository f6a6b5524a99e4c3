"""What a hostile or broken browser may send: the same bad values over REST and the WebSocket.

Each is answered 400 (or an error frame) naming what is wrong, and none of them costs the API
server a request: the product acts as a ServiceAccount of its own here, and the real API
server counts that identity's requests (`Requests`: API Priority and Fairness FlowSchemas).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.errors import BadInput
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.control_plane import ControlPlane
from tests.plane import Namespace, fresh_namespace

from .helpers import Requests, counted, forget, identity, pod, rule, running

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db-creds"},
    "stringData": {"password": "hostile-input-secret-value"},
}
# Traversal, a query or a fragment smuggled in, an encoded slash, NUL, and a value too long.
BAD_NAMES = [
    "../secrets/db-creds?",
    "..",
    "db-creds?watch=1",
    "x#frag",
    "a%2fb",
    "nul\x00byte",
    "x" * 300,
    "UPPER",
]
# Filled in with the test's namespace: NS/secrets/... would reach its Secrets.
BAD_NAMESPACES = [
    "{ns}/secrets/db-creds?",
    "{ns}/secrets?",
    "{ns}/secrets?x=",
    "..",
    "a%2fb",
    "nul\x00",
    "n" * 64,
]
#: The identity the product acts as: the `admin` ClusterRole in every namespace.
ACCOUNT = "product"


def bad_namespaces(ns: Namespace) -> list[str]:
    return [bad.format(ns=ns.name) for bad in BAD_NAMESPACES]


@dataclass
class Hostile:
    """The module's namespace (with a Secret to reach for), the product's identity there, and
    its requests counted: set up once, as every test here only reads or is refused."""

    namespace: Namespace
    kubeconfig: Path
    product: Cluster
    requests: Requests


@pytest.fixture(scope="module")
def hostile(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hostile]:
    with fresh_namespace(control_plane, tmp_path_factory.mktemp("hostile")) as ns:
        ns.apply(SECRET)
        kubeconfig = identity(ns, ACCOUNT, "admin", cluster_wide=True)
        product = Cluster(resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=ns.tmp_path))
        try:
            with counted(
                ns,
                ACCOUNT,
                lambda: product.can_i("get", "pods"),
                secrets=rule(resources=("secrets",)),
                watch=rule(verbs=("watch",)),
                pods=rule(resources=("pods",), namespaces=(ns.name,)),
            ) as requests:
                yield Hostile(ns, kubeconfig, product, requests)
        finally:
            product.close()
            forget(ns, ACCOUNT)


@pytest.fixture
def mlops_config(hostile: Hostile) -> dict[str, Any]:
    return {"kubeconfig": str(hostile.kubeconfig), "max_replicas": 50}


@pytest.fixture
def namespace(hostile: Hostile) -> Namespace:
    return hostile.namespace


@pytest.fixture
def product(hostile: Hostile) -> Cluster:
    return hostile.product


@pytest.fixture
def requests(hostile: Hostile) -> Requests:
    """The product's requests to Secrets, its watches, and the rest, counted from `reset()`."""
    hostile.requests.reset()
    return hostile.requests


async def status_of(jp_fetch: Any, *parts: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", *parts, **kw)
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body


async def test_bad_names_in_every_route_field_answer_400_and_reach_no_secret(
    jp_fetch: Any, namespace: Namespace, requests: Requests
) -> None:
    requests.reset()
    for raw in BAD_NAMES:
        bad = quote(raw, safe="")  # as a browser sends it: one path segment
        for parts in (
            ("kube", "pods", bad),
            ("kube", "pods", bad, "describe"),
            ("kube", "pods", bad, "yaml"),
            ("kube", "pods", bad, "log"),
        ):
            code, body = await status_of(jp_fetch, *parts)
            assert code == 400 and "not an object name" in body["message"], (parts, body)
        code, _ = await status_of(jp_fetch, "kube", "pods", bad, method="DELETE")
        assert code == 400
        code, _ = await status_of(
            jp_fetch, "kube", "deployments", bad, "scale", method="PATCH", body='{"replicas": 1}'
        )
        assert code == 400
        code, body = await status_of(
            jp_fetch, "kube", "pods", "web", "log", params={"container": raw}
        )
        assert code == 400 and "container" in body["message"]
    for bad in bad_namespaces(namespace):
        for parts in (("kube", "pods"), ("kube", "pods", "web"), ("kube", "pods", "web", "log")):
            code, body = await status_of(jp_fetch, *parts, params={"namespace": bad})
            assert code == 400 and "not a namespace name" in body["message"], (parts, bad)
    assert requests.since()["secrets"] == 0
    assert requests.total() == 0


async def test_unknown_kinds_and_paths_answer_in_the_json_envelope(jp_fetch: Any) -> None:
    for raw in ("podz", "pods_x", "-", "a" * 300, "secrets/..", "ünïcode", "x\x00"):
        kind = quote(raw, safe="")
        code, body = await status_of(jp_fetch, "kube", kind)
        assert code == 400 and "unknown kind" in body["message"], kind
        code, _ = await status_of(jp_fetch, "kube", kind, "web", "describe")
        assert code == 400
    code, body = await status_of(jp_fetch, "nowhere", "at", "all")
    assert code == 404 and "no route" in body["message"]


async def test_the_websocket_answers_other_methods_and_plain_gets_in_json(jp_fetch: Any) -> None:
    for method in ("POST", "PATCH", "DELETE"):
        code, body = await status_of(
            jp_fetch, "ws", method=method, body=None if method == "DELETE" else "{}"
        )
        assert code == 405, method
    code, body = await status_of(jp_fetch, "ws")
    assert code == 400 and "WebSocket" in body["message"]


async def test_scale_bounds_replicas_and_bodies(jp_fetch: Any) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    cases = [
        ('{"replicas": 1180591620717411303424}', "between 0 and 50"),
        ('{"replicas": 51}', "between 0 and 50"),
        ('{"replicas": true}', "whole number"),
        ('{"replicas": "3"}', "whole number"),
        ("{}", "replicas"),
        ("[]", "replicas"),
        (deep, "nested"),
        ('{"replicas": ' + "[" * 20 + "]" * 20 + "}", "nested"),
        ('{"a": "' + "x" * 70_000 + '"}', "larger"),
        ("not json", "not JSON"),
    ]
    for body, words in cases:
        code, answer = await status_of(
            jp_fetch, "kube", "deployments", "web", "scale", method="PATCH", body=body
        )
        assert code == 400 and words in answer["message"], (body[:40], answer)


def test_the_python_api_refuses_bad_names_before_any_request(
    namespace: Namespace, product: Cluster, requests: Requests
) -> None:
    requests.reset()
    for bad in BAD_NAMES:
        for call in (
            lambda bad=bad: product.get("pods", bad),
            lambda bad=bad: product.logs(bad),
            lambda bad=bad: product.logs("web", bad),
            lambda bad=bad: product.delete_pod(bad),
            lambda bad=bad: product.scale(bad, 1),
        ):
            with pytest.raises(BadInput):
                call()
    for bad in bad_namespaces(namespace):
        with pytest.raises(BadInput, match="not a namespace name"):
            product.list("pods", bad)
    with pytest.raises(BadInput, match="between 0 and 1000"):
        product.scale("web", 2**70)
    assert requests.total() == 0


async def frames(ws: Any, until: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Messages from the socket until `until` of them are errors (or other types) in all."""
    seen: list[dict[str, Any]] = []
    while len(seen) < until:
        seen.extend(json.loads(await asyncio.wait_for(ws.read_message(), timeout)))
    return seen


async def test_bad_websocket_messages_get_error_frames_and_cost_the_api_nothing(
    jp_ws_fetch: Any, namespace: Namespace, requests: Requests
) -> None:
    namespace.apply(pod("web"))
    running(namespace, "web")
    ws = await jp_ws_fetch("mlops", "api", "ws")
    requests.reset()
    messages: list[str] = []
    for bad in BAD_NAMES:
        messages.append(json.dumps({"op": "follow", "id": f"p{len(messages)}", "pod": bad}))
        messages.append(
            json.dumps({"op": "follow", "id": f"c{len(messages)}", "pod": "web", "container": bad})
        )
    for bad in bad_namespaces(namespace):
        for op in ({"op": "subscribe", "kind": "pods"}, {"op": "follow", "pod": "web"}):
            messages.append(json.dumps({**op, "id": f"n{len(messages)}", "namespace": bad}))
    messages += [
        json.dumps({"op": "follow", "id": "t1", "pod": "web", "tail": 2**70}),
        json.dumps({"op": "follow", "id": "t2", "pod": "web", "tail": "all"}),
        json.dumps({"op": "subscribe", "id": "k1", "kind": ["pods"]}),
        json.dumps({"op": "subscribe", "id": "k2", "kind": "pods", "extra": 1}),
        json.dumps({"op": "nope", "id": "o1"}),
        json.dumps({"op": "subscribe", "id": "i" * 200, "kind": "pods"}),
        "[" * 100_000 + "]" * 100_000,
        '{"op": "subscribe", "id": "d1", "kind": ' + "[" * 50 + "]" * 50 + "}",
        "not json",
        json.dumps([1, 2, 3]),
    ]
    for message in messages:
        await ws.write_message(message)
    answers = await frames(ws, len(messages))
    assert [a["type"] for a in answers] == ["error"] * len(messages)
    assert {a["reason"] for a in answers} == {"Bad input"}
    assert requests.total() == 0
    # The connection still works after all of that, with the browser's "" for its namespace.
    await ws.write_message(
        json.dumps({"op": "subscribe", "id": "ok", "kind": "pods", "namespace": ""})
    )
    [snapshot] = await frames(ws, 1)
    assert snapshot["type"] == "snapshot" and [r["name"] for r in snapshot["rows"]] == ["web"]
    ws.close()
    # That subscription cost one list and one watch of the namespace's pods, nothing else.
    assert requests.since() == {"secrets": 0, "watch": 1, "pods": 1, "other": 0}


async def test_a_flood_of_made_up_namespaces_starts_no_watch(
    jp_ws_fetch: Any, requests: Requests
) -> None:
    ws = await jp_ws_fetch("mlops", "api", "ws")
    requests.reset()
    count = 30
    for i in range(count):
        await ws.write_message(
            json.dumps(
                {"op": "subscribe", "id": f"s{i}", "kind": "pods", "namespace": f"ghost-{i}"}
            )
        )
    answers = await frames(ws, count)
    assert {(a["type"], a["reason"]) for a in answers} == {("error", "Not found")}
    assert "does not exist" in answers[0]["message"]
    # Each made-up namespace cost one access review and one look at the namespace, and no
    # list or watch; asking again is answered from what the server remembers.
    first = requests.since()
    assert (first["watch"], first["pods"], first["secrets"]) == (0, 0, 0)
    assert first["other"] == 2 * count
    for i in range(count):
        await ws.write_message(
            json.dumps(
                {"op": "subscribe", "id": f"s{i}", "kind": "pods", "namespace": f"ghost-{i}"}
            )
        )
    await frames(ws, count)
    ws.close()
    # Nothing asked later either (no informer left behind to retry).
    await asyncio.sleep(1.5)
    assert requests.since() == first


def test_watches_are_bounded_and_one_that_keeps_failing_unheard_stops(
    namespace: Namespace, product: Cluster
) -> None:
    from jupyter_mlops.errors import Forbidden, Unavailable
    from jupyter_mlops.kube.kinds import find_kind
    from jupyter_mlops.kube.watch import GIVE_UP_AFTER, WatchCache

    pods, services, claims = (find_kind(k) for k in ("pods", "services", "pvc"))
    cache = WatchCache(product, max_informers=2)
    try:
        for kind in (pods, services):
            cache.subscribe(kind, namespace.name, lambda *_: None)
        with pytest.raises(Unavailable, match="already watches 2 tables"):
            cache.informer(claims, namespace.name)
    finally:
        informers = cache.informers()
        cache.close()
        for informer in informers:
            informer._thread.join(10)
    # Closed at once, while their watches were still being opened: they end all the same.
    assert not any(informer._thread.is_alive() for informer in informers)

    # A ServiceAccount with no rights at all: a real token, and RBAC refuses every list.
    settings = resolve(
        configure(kubeconfig=str(identity(namespace, "viewer"))), env={}, root=namespace.tmp_path
    )
    viewer = Cluster(settings)
    cache = WatchCache(viewer)
    try:
        with counted(
            namespace,
            "viewer",
            lambda: viewer.can_i("list", "pods"),
            watch=rule(verbs=("watch",)),
            pods=rule(resources=("pods",), namespaces=(namespace.name,)),
        ) as asked:
            with pytest.raises(Forbidden, match="not allowed to list pods in namespace 'default'"):
                cache.informer(pods, "default")
            assert asked.since()["watch"] == 0

            # Its own namespace is watched without a check; every list is refused (403), and
            # with nobody listening the informer gives up after a few tries, with backoff.
            informer = cache.informer(pods, namespace.name)
            with pytest.raises(Forbidden):
                informer.wait_synced(5)
            informer._thread.join(20)
            assert not informer._thread.is_alive()
            assert informer not in cache.informers()
            assert asked.since() == {"watch": 0, "pods": GIVE_UP_AFTER, "other": 1}
    finally:
        cache.close()
        viewer.close()
