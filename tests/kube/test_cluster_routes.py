"""The cluster routes and the live WebSocket, through a real jupyter_server and the real plane."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.plane import Namespace

from .helpers import gone, pod, running, unreachable_kubeconfig

WAIT = 60.0


async def get_json(jp_fetch: Any, *parts: str, **params: str) -> Any:
    response = await jp_fetch("mlops", "api", *parts, params=params)
    return json.loads(response.body)


async def refused(jp_fetch: Any, *parts: str, method: str = "GET", **kw: Any) -> tuple[int, Any]:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", *parts, method=method, **kw)
    assert error.value.response is not None
    body = json.loads(error.value.response.body)
    assert set(body) == {"reason", "message"}, body
    return error.value.code, body


async def test_pods_are_listed_as_rows_paged_and_filtered(
    jp_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(*(pod(f"worker-{i}") for i in range(5)), pod("trainer"))
    page = await get_json(jp_fetch, "kube", "pods", limit="2")
    assert page["total"] == 6 and len(page["rows"]) == 2
    assert page["columns"][:3] == ["name", "ready", "status"]
    assert page["rows"][0]["name"] == "trainer"
    found = await get_json(jp_fetch, "kube", "pods", filter="worker", offset="3")
    assert [r["name"] for r in found["rows"]] == ["worker-3", "worker-4"]


async def test_kinds_include_the_namespace_in_use(jp_fetch: Any, namespace: Namespace) -> None:
    answer = await get_json(jp_fetch, "kube")
    assert answer["namespace"] == namespace.name
    assert {"pods", "deployments", "persistentvolumeclaims"} <= {
        k["plural"] for k in answer["kinds"]
    }


async def test_describe_explains_a_pod_that_asks_for_too_much_cpu(
    jp_fetch: Any, namespace: Namespace
) -> None:
    greedy = pod("greedy")
    greedy["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "64"}}
    namespace.apply(greedy)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        described = await get_json(jp_fetch, "kube", "pods", "greedy", "describe")
        if described["diagnosis"]:
            break
        await asyncio.sleep(0.1)
    assert (described["row"]["status"], described["row"]["health"]) == ("Pending", "error")
    assert "No node has enough cpu" in described["diagnosis"][0]
    assert "requests cpu 64" in described["diagnosis"][0]
    # The real scheduler's verdict, as the event it recorded.
    assert any(e["reason"] == "FailedScheduling" for e in described["events"])


async def test_log_snapshot_and_yaml(jp_fetch: Any, namespace: Namespace) -> None:
    namespace.plane.append_log(namespace.name, "chatty", "main", "<b>hello</b>", "world")
    namespace.apply(pod("chatty"))
    running(namespace, "chatty")
    log = await get_json(jp_fetch, "kube", "pods", "chatty", "log", tail="1")
    assert log["lines"] == ["world"]
    log = await get_json(jp_fetch, "kube", "pods", "chatty", "log")
    assert log["lines"] == namespace.kubectl("logs", "chatty").stdout.splitlines()
    as_yaml = await get_json(jp_fetch, "kube", "pods", "chatty", "yaml")
    assert "  name: chatty\n" in as_yaml["yaml"]
    assert f"  namespace: {namespace.name}\n" in as_yaml["yaml"]


async def test_bad_input_and_missing_objects_answer_clearly(jp_fetch: Any) -> None:
    assert (await refused(jp_fetch, "kube", "podz"))[0] == 400
    code, body = await refused(jp_fetch, "kube", "pods", "ghost")
    assert code == 404 and 'pods "ghost" not found' in body["message"]
    assert (await refused(jp_fetch, "kube", "pods", params={"limit": "lots"}))[0] == 400
    assert (await refused(jp_fetch, "kube", "pods", params={"namespace": "Bad_NS"}))[0] == 400
    code, body = await refused(
        jp_fetch, "kube", "deployments", "web", "scale", method="PATCH", body='{"replicas": -1}'
    )
    assert code == 400 and "replicas" in body["message"]


async def test_delete_answers_the_name_and_then_404(jp_fetch: Any, namespace: Namespace) -> None:
    namespace.apply(pod("doomed"))
    running(namespace, "doomed")
    response = await jp_fetch("mlops", "api", "kube", "pods", "doomed", method="DELETE")
    assert json.loads(response.body) == {"deleted": "doomed"}
    # A real delete is graceful: the pod is Terminating until its kubelet (kwok) removes it,
    # and deleting it again meanwhile is no error. Once it is gone, it is 404.
    gone(namespace, "pod", "doomed")
    code, _ = await refused(jp_fetch, "kube", "pods", "doomed", method="DELETE")
    assert code == 404


class TestUnreachable:
    @pytest.fixture
    def mlops_config(self, namespace: Namespace) -> dict[str, Any]:
        return {"kubeconfig": str(unreachable_kubeconfig(namespace))}

    async def test_a_stopped_api_server_answers_503_with_the_reason(self, jp_fetch: Any) -> None:
        code, body = await refused(jp_fetch, "kube", "pods", "anything")
        assert code == 503
        assert "cannot reach the Kubernetes API" in body["message"]


async def test_the_websocket_pushes_a_snapshot_then_changes(
    jp_ws_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(pod("first"))
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message(json.dumps({"op": "subscribe", "id": "p", "kind": "pods"}))
    seen: dict[str, str] = {}
    statuses: list[tuple[str, str]] = []

    async def until(predicate: Any) -> None:
        deadline = time.monotonic() + WAIT
        while not predicate():
            assert time.monotonic() < deadline, seen
            frame = await asyncio.wait_for(ws.read_message(), WAIT)
            for message in json.loads(frame):
                assert message["id"] == "p"
                if message["type"] == "snapshot":
                    seen.update({r["name"]: r["status"] for r in message["rows"]})
                elif message["type"] == "DELETED":
                    seen.pop(message["row"]["name"], None)
                elif "row" in message:
                    seen[message["row"]["name"]] = message["row"]["status"]
                    statuses.append((message["row"]["name"], message["row"]["status"]))

    await until(lambda: "first" in seen)
    namespace.apply(pod("second"))
    await until(lambda: seen.get("second") == "Running")
    namespace.kubectl("delete", "pod", "first", "--wait=false")
    await until(lambda: "first" not in seen)
    # A graceful delete: first Terminating (a deletionTimestamp), then gone once kwok removes it.
    assert ("first", "Terminating") in statuses
    ws.close()


async def test_the_websocket_follows_a_log(jp_ws_fetch: Any, namespace: Namespace) -> None:
    plane = namespace.plane
    plane.append_log(namespace.name, "talker", "main", "one", "two")
    namespace.apply(pod("talker"))
    running(namespace, "talker")
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message(json.dumps({"op": "follow", "id": "l", "pod": "talker"}))
    lines: list[str] = []
    deadline = time.monotonic() + WAIT
    while len(lines) < 3 and time.monotonic() < deadline:
        frame = await asyncio.wait_for(ws.read_message(), WAIT)
        for message in json.loads(frame):
            lines.extend(message.get("lines", []))
        if lines == ["one", "two"]:
            plane.append_log(namespace.name, "talker", "main", "three")
    assert lines == ["one", "two", "three"]
    ws.close()


async def test_the_websocket_answers_bad_messages_with_errors(jp_ws_fetch: Any) -> None:
    ws = await jp_ws_fetch("mlops", "api", "ws")
    ws.write_message("not json")
    ws.write_message(json.dumps({"op": "dance", "id": "x"}))
    ws.write_message(json.dumps({"op": "subscribe", "id": "y", "kind": "podz"}))
    messages: list[dict[str, Any]] = []
    while len(messages) < 3:
        messages.extend(json.loads(await asyncio.wait_for(ws.read_message(), 10)))
    assert all(m["type"] == "error" for m in messages)
    assert {m["id"] for m in messages} == {None, "x", "y"}
    ws.close()
