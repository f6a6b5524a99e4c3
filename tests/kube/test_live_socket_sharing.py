"""Many tabs on one table: one snapshot built and encoded for all, changes sent as they come."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.server.socket import FLUSH_SECONDS
from jupyter_mlops.server.state import ServerState
from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import NAMESPACE, pod

PODS = 30


@pytest.fixture
def mlops_config(kube: KubeEmulator, tmp_path: Path) -> dict[str, Any]:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    return {"kubeconfig": str(kubeconfig)}


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

    async def until(self, done: Callable[[], bool], timeout: float = 10) -> None:
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
    """Wait until the route lists `count` pods, all Running (the emulator's controllers done)."""
    deadline = time.monotonic() + 10
    while True:
        answer = await jp_fetch("mlops", "api", "kube", "pods", params={"limit": "1000"})
        rows = json.loads(answer.body)["rows"]
        if len(rows) == count and all(r["status"] == "Running" for r in rows):
            return
        assert time.monotonic() < deadline, rows[:3]
        await asyncio.sleep(0.05)


async def test_tabs_on_one_table_share_one_encoded_snapshot_and_each_change_is_encoded_once(
    jp_fetch: Any, jp_ws_fetch: Any, kube: KubeEmulator, state: ServerState
) -> None:
    for i in range(PODS):
        kube.create(pod(f"worker-{i:02d}"))
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

    kube.delete("v1", "Pod", "worker-00", NAMESPACE)
    for tab in tabs:
        await tab.until(lambda tab=tab: "worker-00" not in tab.rows())
    assert table.encoded_changes == changes + 1

    for tab in tabs:
        tab.ws.close()
    deadline = time.monotonic() + 10
    while state.live_tables:
        assert time.monotonic() < deadline, "the table outlived its last tab"
        await asyncio.sleep(0.02)
    assert table.informer.listener_count() == 0


async def test_a_tab_joining_a_live_table_gets_its_snapshot_before_any_change(
    jp_ws_fetch: Any, kube: KubeEmulator
) -> None:
    kube.create(pod("first"))
    early = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await early.until(lambda: "first" in early.rows())

    kube.create(pod("second"))
    late = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await late.until(lambda: late.rows().get("second") == "Running")

    assert late.messages[0]["type"] == "snapshot"
    assert set(late.rows()) == {"first", "second"}
    early.ws.close()
    late.ws.close()


async def test_a_lone_change_goes_at_once_and_a_burst_in_few_frames(
    jp_fetch: Any, jp_ws_fetch: Any, kube: KubeEmulator, state: ServerState
) -> None:
    kube.create(pod("probe"))
    await settled(jp_fetch, 1)
    tab = Tab(await jp_ws_fetch("mlops", "api", "ws"))
    await tab.until(lambda: tab.rows().get("probe") == "Running")
    (socket,) = state.sockets
    # Quiet for longer than the batching window: the next change needs no wait.
    await asyncio.sleep(FLUSH_SECONDS * 3)
    at_once, frames = socket.frames_at_once, tab.frames

    kube.create(pod("lone"))
    await tab.until(lambda: "lone" in tab.rows())
    assert socket.frames_at_once > at_once
    first = next(m for m in tab.messages if m.get("row", {}).get("name") == "lone")
    assert first["type"] == "ADDED"

    burst = [f"burst-{i:03d}" for i in range(200)]
    frames = tab.frames
    for name in burst:
        kube.create(pod(name))
    await tab.until(lambda: all(name in tab.rows() for name in burst))
    # 200 additions, most with a later MODIFIED as the emulator runs them, in a few frames.
    assert tab.frames - frames <= 40, tab.frames - frames
    tab.ws.close()
