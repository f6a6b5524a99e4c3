"""What a hostile or broken browser may send: the same bad values over REST and the WebSocket.

Each is answered 400 (or an error frame) naming what is wrong, and none of them costs the API
server a request: the emulator counts every request it serves.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.errors import BadInput
from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, cluster_for, pod

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db-creds", "namespace": NAMESPACE},
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
BAD_NAMESPACES = [
    f"{NAMESPACE}/secrets/db-creds?",
    f"{NAMESPACE}/secrets?",
    f"{NAMESPACE}/secrets?x=",
    "..",
    "a%2fb",
    "nul\x00",
    "n" * 64,
]


@pytest.fixture
def mlops_config(kube: KubeEmulator, tmp_path: Path) -> dict[str, Any]:
    kube.create(SECRET)
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    return {"kubeconfig": str(kubeconfig), "max_replicas": 50}


async def status_of(jp_fetch: Any, *parts: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", *parts, **kw)
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body


def secret_requests(kube: KubeEmulator) -> int:
    return kube.request_count(path_prefix=f"/api/v1/namespaces/{NAMESPACE}/secrets")


async def test_bad_names_in_every_route_field_answer_400_and_reach_no_secret(
    jp_fetch: Any, kube: KubeEmulator
) -> None:
    kube.reset_requests()
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
    for bad in BAD_NAMESPACES:
        for parts in (("kube", "pods"), ("kube", "pods", "web"), ("kube", "pods", "web", "log")):
            code, body = await status_of(jp_fetch, *parts, params={"namespace": bad})
            assert code == 400 and "not a namespace name" in body["message"], (parts, bad)
    assert secret_requests(kube) == 0


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
    kube: KubeEmulator, cluster: Cluster
) -> None:
    kube.reset_requests()
    for bad in BAD_NAMES:
        for call in (
            lambda bad=bad: cluster.get("pods", bad),
            lambda bad=bad: cluster.logs(bad),
            lambda bad=bad: cluster.logs("web", bad),
            lambda bad=bad: cluster.delete_pod(bad),
            lambda bad=bad: cluster.scale(bad, 1),
        ):
            with pytest.raises(BadInput):
                call()
    for bad in BAD_NAMESPACES:
        with pytest.raises(BadInput, match="not a namespace name"):
            cluster.list("pods", bad)
    with pytest.raises(BadInput, match="between 0 and 1000"):
        cluster.scale("web", 2**70)
    assert kube.request_count() == 0


async def frames(ws: Any, until: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Messages from the socket until `until` of them are errors (or other types) in all."""
    seen: list[dict[str, Any]] = []
    while len(seen) < until:
        seen.extend(json.loads(await asyncio.wait_for(ws.read_message(), timeout)))
    return seen


async def test_bad_websocket_messages_get_error_frames_and_cost_the_api_nothing(
    jp_ws_fetch: Any, kube: KubeEmulator
) -> None:
    kube.create(pod("web"))
    ws = await jp_ws_fetch("mlops", "api", "ws")
    kube.reset_requests()
    messages: list[str] = []
    for bad in BAD_NAMES:
        messages.append(json.dumps({"op": "follow", "id": f"p{len(messages)}", "pod": bad}))
        messages.append(
            json.dumps({"op": "follow", "id": f"c{len(messages)}", "pod": "web", "container": bad})
        )
    for bad in BAD_NAMESPACES:
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
    # The connection still works after all of that, with the browser's "" for its namespace.
    await ws.write_message(
        json.dumps({"op": "subscribe", "id": "ok", "kind": "pods", "namespace": ""})
    )
    [snapshot] = await frames(ws, 1)
    assert snapshot["type"] == "snapshot" and [r["name"] for r in snapshot["rows"]] == ["web"]
    ws.close()
    assert secret_requests(kube) == 0
    assert kube.request_count(path_prefix="/api/v1/namespaces/team/pods") <= 2


async def test_a_flood_of_made_up_namespaces_starts_no_watch(
    jp_ws_fetch: Any, kube: KubeEmulator
) -> None:
    ws = await jp_ws_fetch("mlops", "api", "ws")
    kube.reset_requests()
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
    assert kube.request_count(verb="watch") == 0
    assert kube.request_count(path_prefix="/api/v1/namespaces/ghost-0/pods") == 0
    first = kube.request_count()
    assert first <= 2 * count
    for i in range(count):
        await ws.write_message(
            json.dumps(
                {"op": "subscribe", "id": f"s{i}", "kind": "pods", "namespace": f"ghost-{i}"}
            )
        )
    await frames(ws, count)
    ws.close()
    await asyncio.sleep(1.5)
    assert kube.request_count() == first


def test_watches_are_bounded_and_one_that_keeps_failing_unheard_stops(
    kube: KubeEmulator, cluster: Cluster, tmp_path: Path
) -> None:
    from jupyter_mlops.errors import Forbidden, Unavailable
    from jupyter_mlops.kube.kinds import find_kind
    from jupyter_mlops.kube.watch import GIVE_UP_AFTER, WatchCache

    pods, services, claims = (find_kind(k) for k in ("pods", "services", "pvc"))
    cache = WatchCache(cluster, max_informers=2)
    try:
        for kind in (pods, services):
            cache.subscribe(kind, NAMESPACE, lambda *_: None)
        with pytest.raises(Unavailable, match="already watches 2 tables"):
            cache.informer(claims, NAMESPACE)
    finally:
        running = cache.informers()
        cache.close()
        for informer in running:
            informer._thread.join(10)

    kube.add_token("viewer", "system:serviceaccount:team:viewer", [])
    viewer = cluster_for(kube, tmp_path / "viewer", token="viewer")
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    kube.reset_requests()
    cache = WatchCache(viewer)
    try:
        with pytest.raises(Forbidden, match="not allowed to list pods in namespace 'other'"):
            cache.informer(pods, "other")
        assert kube.request_count(verb="watch") == 0

        # Its own namespace is watched without a check; every list is refused (403), and
        # with nobody listening the informer gives up after a few tries, with backoff.
        informer = cache.informer(pods, NAMESPACE)
        with pytest.raises(Forbidden):
            informer.wait_synced(5)
        informer._thread.join(10)
        assert not informer._thread.is_alive()
        assert informer not in cache.informers()
        assert kube.request_count(path_prefix=f"/api/v1/namespaces/{NAMESPACE}/pods") == (
            GIVE_UP_AFTER
        )
    finally:
        cache.close()
        viewer.close()
