"""Many tabs on one table: one snapshot built and encoded for all, changes sent as they come."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_mlops.server.socket import FLUSH_SECONDS
from jupyter_mlops.server.state import ServerState
from tests.plane import Namespace, wait_for

from .helpers import deployment, pod

PODS = 30
BURST = 60
WAIT = 60.0


@pytest.fixture
def state(jp_serverapp: Any) -> ServerState:
    server_state: ServerState = jp_serverapp.web_app.settings["mlops"]
    return server_state


class Tab:
    """One browser tab's socket, subscribed to the pods as `sid`, keeping what it was sent."""

    def __init__(self, ws: Any, sid: str = "pods") -> None:
        self.ws, self.sid = ws, sid
        self.messages: list[dict[str, Any]] = []
        self.frames = 0
        ws.write_message(json.dumps({"op": "subscribe", "id": sid, "kind": "pods"}))

    async def until(self, done: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, self.messages[-3:]
            frame = await asyncio.wait_for(self.ws.read_message(), timeout)
            self.frames += 1
            self.messages.extend(json.loads(frame))

    def rows(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        for message in self.messages:
            if message["type"] == "snapshot":
                seen = {r["name"]: r["status"] for r in message["rows"]}
            elif message["type"] == "DELETED":
                seen.pop(message["row"]["name"], None)
            elif "row" in message:
                seen[message["row"]["name"]] = message["row"]["status"]
        return seen

    def has_snapshot(self) -> bool:
        return any(m["type"] == "snapshot" for m in self.messages)


async def settled(jp_fetch: Any, count: int) -> None:
    """Wait until the route lists `count` pods, all Running (scheduled, and run by kwok)."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = await jp_fetch("mlops", "api", "kube", "pods", params={"limit": "1000"})
        rows = json.loads(answer.body)["rows"]
        if len(rows) == count and all(r["status"] == "Running" for r in rows):
            return
        assert time.monotonic() < deadline, rows[:3]
        await asyncio.sleep(0.05)


async def test_tabs_on_one_table_share_one_encoded_snapshot_and_each_change_is_encoded_once(
    jp_fetch: Any, jp_ws_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    namespace.apply(*(pod(f"worker-{i:02d}") for i in range(PODS)))
    await settled(jp_fetch, PODS)
    made = state.row_counters.rows

    tabs = [Tab(await jp_ws_fetch("mlops", "api", "ws"), sid=f"t{n}") for n in range(5)]
    for tab in tabs:
        await tab.until(tab.has_snapshot)

    assert all(len(tab.rows()) == PODS for tab in tabs)
    assert all(m["id"] == tab.sid for tab in tabs for m in tab.messages)
    # The rows the route made are the ones the sockets send: none made again, one array.
    assert state.row_counters.rows == made
    assert state.row_counters.arrays == 1
    (table,) = state.live_tables.values()
    assert len(table.viewers) == 5 and table.informer.listener_count() == 1
    changes = table.encoded_changes
    # What the informer itself tells about the pod: each of those is one change to encode.
    told: list[str] = []

    def tell(type_: str, obj: dict[str, Any] | None) -> None:
        if obj is not None and obj["metadata"]["name"] == "worker-00":
            told.append(type_)

    table.informer.add_listener(tell)

    namespace.kubectl("delete", "pod", "worker-00")
    for tab in tabs:
        await tab.until(lambda tab=tab: "worker-00" not in tab.rows())
    wait_for("the informer to tell the deletion", lambda: "DELETED" in told)
    # A real delete is two events (MODIFIED with its deletionTimestamp, then DELETED), each
    # encoded once for the five tabs, and each tab got each one.
    assert told[-1] == "DELETED" and len(told) >= 2
    assert table.encoded_changes == changes + len(told)
    for tab in tabs:
        about = [m["type"] for m in tab.messages if m.get("row", {}).get("name") == "worker-00"]
        assert about == told
    table.informer.remove_listener(tell)

    for tab in tabs:
        tab.ws.close()
    deadline = time.monotonic() + WAIT
    while state.live_tables:
        assert time.monotonic() < deadline, "the table outlived its last tab"
        await asyncio.sleep(0.02)
    assert table.informer.listener_count() == 0


async def test_a_tab_joining_a_live_table_gets_its_snapshot_before_any_change(
    jp_ws_fetch: Any, namespace: Namespace
) -> None:
    namespace.apply(pod("first"))
    early = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await early.until(lambda: "first" in early.rows())

    namespace.apply(pod("second"))
    late = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await late.until(lambda: late.rows().get("second") == "Running")

    assert late.messages[0]["type"] == "snapshot"
    assert set(late.rows()) == {"first", "second"}
    early.ws.close()
    late.ws.close()


async def test_a_lone_change_goes_at_once_and_a_burst_in_few_frames(
    jp_fetch: Any, jp_ws_fetch: Any, namespace: Namespace, state: ServerState
) -> None:
    namespace.apply(pod("probe"))
    await settled(jp_fetch, 1)
    tab = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await tab.until(lambda: tab.rows().get("probe") == "Running")
    (socket,) = state.sockets
    # Quiet for longer than the batching window: the next change needs no wait.
    await asyncio.sleep(FLUSH_SECONDS * 3)
    at_once = socket.frames_at_once

    namespace.apply(pod("lone"))
    await tab.until(lambda: "lone" in tab.rows())
    assert socket.frames_at_once > at_once
    first = next(m for m in tab.messages if m.get("row", {}).get("name") == "lone")
    assert first["type"] == "ADDED"

    # A burst: the ReplicaSet controller makes the pods at once, the scheduler binds each and
    # kwok runs it, so each comes as an ADDED and two MODIFIED, as fast as they can.
    frames, messages, started = tab.frames, len(tab.messages), time.monotonic()
    namespace.apply(deployment("burst", BURST))

    def running() -> int:
        rows = tab.rows()
        return sum(1 for name in rows if name.startswith("burst-") and rows[name] == "Running")

    await tab.until(lambda: running() == BURST)
    sent, took = tab.frames - frames, time.monotonic() - started
    # At most one frame per batching window, however many changes came: far fewer frames than
    # changes (each frame holds the changes of its window).
    assert sent <= took / FLUSH_SECONDS + 1, (sent, took)
    assert len(tab.messages) - messages >= 3 * BURST > sent
    tab.ws.close()
